/**
 * Errors the load reports to the operator as a sentence, with the exit code the CLI uses:
 * 2 when nothing was done because something is missing or refused (usage, prerequisites),
 * 1 when the load failed part-way (the checkpoint allows --resume).
 */

export type LoadErrorCode =
  | 'LOAD_UNFINISHED_RUN'
  | 'LOAD_RESUME_MISMATCH'
  | 'LOAD_NOTHING_TO_RESUME'
  | 'LOAD_NO_TABLES'
  | 'LOAD_SNAPSHOT_PRIVILEGE'
  | 'LOAD_ROW_TOO_LARGE'
  | 'LOAD_VALUE_CONVERTED'
  | 'LOAD_ABORTED'
  | 'LOAD_TOOL_MISSING'
  | 'LOAD_TOOL_FAILED'
  | 'LOAD_UNSUPPORTED';

export class LoadError extends Error {
  override readonly name = 'LoadError';
  constructor(
    readonly code: LoadErrorCode,
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export function isAbort(err: unknown): boolean {
  return err instanceof LoadError && err.code === 'LOAD_ABORTED';
}
