import { COM } from '../protocol/constants.js';

/**
 * The fixed part of each statement command, which tandem reads before relaying (it maps the
 * statement id): int<1> command, int<4> statement id, then
 * - COM_STMT_EXECUTE: int<1> flags, int<4> iteration count (https://mariadb.com/kb/en/com_stmt_execute/)
 * - COM_STMT_FETCH: int<4> number of rows (https://mariadb.com/kb/en/com_stmt_fetch/)
 * - COM_STMT_SEND_LONG_DATA: int<2> parameter number (https://mariadb.com/kb/en/com_stmt_send_long_data/)
 * - COM_STMT_CLOSE, COM_STMT_RESET: nothing more.
 */
const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [COM.STMT_EXECUTE, 10],
  [COM.STMT_FETCH, 9],
  [COM.STMT_SEND_LONG_DATA, 7],
  [COM.STMT_CLOSE, 5],
  [COM.STMT_RESET, 5],
]);

/** Per command byte, its fixed length (0: none to check); an array read on every command. */
const FIXED_BY_COMMAND = Array.from({ length: 256 }, (_, command) => FIXED_LENGTH.get(command) ?? 0);

/** True when a command payload is shorter than its command's fixed fields. */
export function isTruncatedCommand(payload: Buffer): boolean {
  return payload.length < FIXED_BY_COMMAND[payload[0]!]!;
}
