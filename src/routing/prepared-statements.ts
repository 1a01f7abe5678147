import type { StatementInfo } from './statement-info.js';

/**
 * Prepared statements as the client sees them. tandem hands out its own statement ids, so that
 * a statement keeps its id when the primary changes with the mode; each server's own id is
 * kept beside it, and a statement is prepared on a server the first time it runs there.
 */
export interface PreparedStatement {
  readonly clientId: number;
  readonly sql: Buffer;
  readonly info: StatementInfo;
  readonly params: number;
  readonly serverIds: { source?: number; target?: number };
  /** Parameter types from the last execute that sent them (int<2> each). */
  types: Buffer | undefined;
  /** Servers that have received types for this statement since it was prepared there. */
  readonly typesSent: { source?: boolean; target?: boolean };
}

/**
 * A statement id of -1 names the statement prepared last on the connection (MariaDB 10.2+), so
 * that a client can pipeline COM_STMT_PREPARE and COM_STMT_EXECUTE without waiting for the id;
 * the mariadb connector does. https://mariadb.com/kb/en/com_stmt_execute/
 */
export const LAST_PREPARED_STATEMENT = 0xffffffff;

/**
 * COM_STMT_EXECUTE: int<1> 0x17, int<4> statement id, int<1> flags, int<4> iteration count,
 * then, when there are parameters: null bitmap of (n + 7) / 8 bytes, int<1> new params bound
 * flag, and when that flag is 1, n types of int<2>, then the values.
 * https://mariadb.com/kb/en/com_stmt_execute/
 */
const EXECUTE_HEAD = 10;

/** The parameter types an execute carries, when its new-params-bound flag is set. */
export function executeTypes(payload: Buffer, params: number): Buffer | undefined {
  if (params === 0) return undefined;
  const flagAt = EXECUTE_HEAD + ((params + 7) >> 3);
  if (payload[flagAt] !== 1) return undefined;
  return Buffer.from(payload.subarray(flagAt + 1, flagAt + 1 + params * 2));
}

/**
 * The execute payload for one server: its own statement id and, when that server has not yet
 * seen the types (a statement prepared there later), the types added with the flag set.
 */
export function executeFor(
  payload: Buffer,
  serverId: number,
  params: number,
  addTypes: Buffer | undefined,
): Buffer {
  const flagAt = EXECUTE_HEAD + ((params + 7) >> 3);
  let out: Buffer;
  if (addTypes && params > 0 && payload[flagAt] === 0) {
    out = Buffer.concat([
      payload.subarray(0, flagAt),
      Buffer.from([1]),
      addTypes,
      payload.subarray(flagAt + 1),
    ]);
  } else if (payload.readUInt32LE(1) === serverId) {
    // Often the server numbered the statement as tandem did: nothing to rewrite, nothing to copy.
    return payload;
  } else out = Buffer.from(payload);
  out.writeUInt32LE(serverId, 1);
  return out;
}

/** A command that names a statement (execute, fetch, close, reset, send long data) for one server. */
export function withStatementId(payload: Buffer, serverId: number): Buffer {
  const out = Buffer.from(payload);
  out.writeUInt32LE(serverId, 1);
  return out;
}

/** COM_STMT_PREPARE_OK: int<1> 0x00, int<4> statement id, int<2> columns, int<2> params. */
export function prepareOkParams(response: Buffer): number {
  return response.readUInt16LE(4 + 7);
}

/** The collected prepare response with tandem's statement id in place of the server's. */
export function withClientStatementId(response: Buffer, clientId: number): Buffer {
  const out = Buffer.from(response);
  out.writeUInt32LE(clientId, 4 + 1);
  return out;
}
