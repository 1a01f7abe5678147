/**
 * Errors that a client sees: {errno, sqlState, message}, sent as an ERR packet.
 * Codes are the server's (ER_*) or the client library's (CR_*) so that drivers map them
 * as they would for a direct connection. https://mariadb.com/kb/en/mariadb-error-code-reference/
 */
export const ER = {
  ER_UNKNOWN_ERROR: { errno: 1105, sqlState: 'HY000' },
  ER_CON_COUNT_ERROR: { errno: 1040, sqlState: '08004' },
  ER_HANDSHAKE_ERROR: { errno: 1043, sqlState: '08S01' },
  ER_ACCESS_DENIED_ERROR: { errno: 1045, sqlState: '28000' },
  ER_UNKNOWN_COM_ERROR: { errno: 1047, sqlState: '08S01' },
  ER_SERVER_SHUTDOWN: { errno: 1053, sqlState: '08S01' },
  ER_LOCK_WAIT_TIMEOUT: { errno: 1205, sqlState: 'HY000' },
  ER_LOCK_DEADLOCK: { errno: 1213, sqlState: '40001' },
  ER_NOT_ALLOWED_COMMAND: { errno: 1148, sqlState: '42000' },
  ER_NET_PACKET_TOO_LARGE: { errno: 1153, sqlState: '08S01' },
  ER_NET_READ_ERROR: { errno: 1158, sqlState: '08S01' },
  ER_NET_PACKETS_OUT_OF_ORDER: { errno: 1156, sqlState: '08S01' },
  ER_NET_READ_INTERRUPTED: { errno: 1159, sqlState: '08S01' },
  ER_UNKNOWN_STMT_HANDLER: { errno: 1243, sqlState: 'HY000' },
  ER_NOT_SUPPORTED_AUTH_MODE: { errno: 1251, sqlState: '08004' },
  ER_MALFORMED_PACKET: { errno: 1835, sqlState: 'HY000' },
  CR_CONN_HOST_ERROR: { errno: 2003, sqlState: 'HY000' },
  CR_SERVER_LOST: { errno: 2013, sqlState: 'HY000' },
} as const;

export type ErrorCodeName = keyof typeof ER;

export class MysqlError extends Error {
  override readonly name = 'MysqlError';
  readonly errno: number;
  readonly sqlState: string;
  /** Fatal errors end the client's connection after the ERR packet is sent. */
  readonly fatal: boolean;

  constructor(code: ErrorCodeName | { errno: number; sqlState: string }, message: string, fatal = false) {
    super(message);
    const c = typeof code === 'string' ? ER[code] : code;
    this.errno = c.errno;
    this.sqlState = c.sqlState;
    this.fatal = fatal;
  }
}
