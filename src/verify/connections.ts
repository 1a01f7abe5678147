import mysql, { type Connection } from 'mysql2/promise';
import { parseServerUrl } from '../config.js';
import { VerifyError } from './verify-error.js';

export type ServerName = 'source' | 'target';

/**
 * Read options that keep every value exact: dates, decimals and big integers as the server's
 * text, JSON as its text (mysql2 would parse it, and re-serialising changes it), binary strings
 * and BIT as bytes, GEOMETRY as the server's own bytes (mysql2 would decode it to points).
 * DOUBLE arrives as the shortest text that reads back to the same value, so parseFloat and
 * JavaScript's number-to-string keep it exact on the way back.
 */
export const exactRead = {
  rowsAsArray: true,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  typeCast: (field: { type: string; buffer(): Buffer | null }, next: () => unknown) =>
    field.type === 'GEOMETRY' ? field.buffer() : next(),
} as const;

/**
 * A control-plane connection for the reconciler. The session reads TIMESTAMP in UTC on both
 * servers, writes rows as the other server has them (its checks already passed there; id 0 stays
 * 0), and waits little for row locks so that the application never waits long for a repair.
 */
export async function openConnection(url: string, server: ServerName): Promise<Connection> {
  const a = parseServerUrl(url);
  let conn: Connection;
  try {
    conn = await mysql.createConnection({
      host: a.host,
      port: a.port,
      user: a.user,
      password: a.password,
      charset: 'utf8mb4',
      timezone: 'Z',
      // A connection option only: mysql2 reads it from the connection, not from a query's options.
      jsonStrings: true,
      connectTimeout: 10_000,
    });
  } catch (err) {
    throw new VerifyError(
      'VERIFY_CONNECT',
      `cannot connect to the ${server} server ${a.host}:${a.port}: ${(err as Error).message}`,
    );
  }
  // MariaDB's named session variables; a MySQL target lacks some, which changes nothing essential.
  await conn.query(
    "SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', " +
      'foreign_key_checks = 0, innodb_lock_wait_timeout = 5',
  );
  // Repairs lock the gaps of keys they find absent, so that no insert slips in between.
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  return conn;
}

export interface ServerPool {
  readonly source: Connection;
  readonly target: Connection;
  /** A second source connection: the next chunk's boundary is found while the current one is summed. */
  readonly sourceAhead: Connection;
  close(): Promise<void>;
}

export async function openPool(urls: { source: string; target: string }): Promise<ServerPool> {
  const opened = await Promise.allSettled([
    openConnection(urls.source, 'source'),
    openConnection(urls.target, 'target'),
    openConnection(urls.source, 'source'),
  ]);
  const failed = opened.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(opened.map((r) => (r.status === 'fulfilled' ? r.value.end() : undefined)));
    throw failed.reason;
  }
  const [source, target, sourceAhead] = opened.map(
    (r) => (r as PromiseFulfilledResult<Connection>).value,
  ) as [Connection, Connection, Connection];
  return {
    source,
    target,
    sourceAhead,
    close: async () => {
      await Promise.allSettled([source.end(), target.end(), sourceAhead.end()]);
    },
  };
}
