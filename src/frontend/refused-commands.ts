import { COM } from '../protocol/constants.js';

/**
 * Commands that tandem answers with ER_UNKNOWN_COM_ERROR instead of relaying, and why.
 * Replication streams would need the proxy to follow a binlog stream, not a request and a
 * response; the server-internal commands are never sent by clients; COM_STMT_BULK_EXECUTE
 * is only sent when MARIADB_CLIENT_STMT_BULK_OPERATIONS was granted, which tandem does not grant.
 */
const REFUSED: ReadonlyMap<number, string> = new Map([
  [
    COM.BINLOG_DUMP,
    'COM_BINLOG_DUMP: replication streams cannot go through tandem; connect to the server directly',
  ],
  [
    COM.BINLOG_DUMP_GTID,
    'COM_BINLOG_DUMP_GTID: replication streams cannot go through tandem; connect to the server directly',
  ],
  [
    COM.REGISTER_SLAVE,
    'COM_REGISTER_SLAVE: replication cannot go through tandem; connect to the server directly',
  ],
  [COM.TABLE_DUMP, 'COM_TABLE_DUMP is not supported through tandem'],
  [COM.CONNECT_OUT, 'COM_CONNECT_OUT is not supported through tandem'],
  [COM.SLEEP, 'COM_SLEEP is server-internal'],
  [COM.CONNECT, 'COM_CONNECT is server-internal'],
  [COM.TIME, 'COM_TIME is server-internal'],
  [COM.DELAYED_INSERT, 'COM_DELAYED_INSERT is server-internal'],
  [COM.DAEMON, 'COM_DAEMON is server-internal'],
  [COM.STMT_BULK_EXECUTE, 'COM_STMT_BULK_EXECUTE was not negotiated; execute the statement once per row'],
]);

const KNOWN = new Set<number>(Object.values(COM));

/**
 * Per command byte: undefined to relay it, else the client's message. An array read, not map
 * lookups: this runs for every command.
 */
const MESSAGES: readonly (string | undefined)[] = Array.from({ length: 256 }, (_, command) => {
  const reason = REFUSED.get(command);
  if (reason) return `Unknown command: ${reason}`;
  if (!KNOWN.has(command)) return `Unknown command 0x${command.toString(16).padStart(2, '0')}`;
  return undefined;
});

export function refusedCommandMessage(command: number): string | undefined {
  return MESSAGES[command & 0xff];
}
