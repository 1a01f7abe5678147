/**
 * Errors of `tandem verify`, with stable codes. Any of them ends the run with exit code 2: the
 * comparison could not be made, which is different from differences found (exit code 1).
 */
export const VERIFY_ERRORS = {
  /** A server could not be reached or refused the account. */
  VERIFY_CONNECT: 'cannot connect',
  /** --source or --target (or the config's) is missing, or an option is out of range. */
  VERIFY_USAGE: 'bad usage',
  /** A table is missing or unreadable on a server, or its key cannot be used. */
  VERIFY_TABLE: 'table cannot be compared',
  /** The method asked for is not available here. */
  VERIFY_UNSUPPORTED: 'not supported',
  /** A file under the state directory could not be read or written. */
  VERIFY_STATE: 'state directory',
} as const;

export type VerifyErrorCode = keyof typeof VERIFY_ERRORS;

export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  constructor(
    readonly code: VerifyErrorCode,
    message: string,
  ) {
    super(message);
  }
}
