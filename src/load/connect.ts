import mysql, { type Connection, type ConnectionOptions } from 'mysql2/promise';
import { parseServerUrl } from '../config.js';

/** host:port of a server URL, without credentials, for messages and the state files. */
export function serverLabel(url: string): string {
  const a = parseServerUrl(url);
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** A control-plane connection; utf8mb4 so that every character the source holds passes. */
export function connectTo(url: string, extra: ConnectionOptions = {}): Promise<Connection> {
  const a = parseServerUrl(url);
  return mysql.createConnection({
    host: a.host,
    port: a.port,
    user: a.user,
    password: a.password,
    charset: 'utf8mb4_general_ci',
    connectTimeout: 10_000,
    ...extra,
  });
}

export async function scalar(conn: Connection, sql: string): Promise<string | null> {
  const [rows] = await conn.query({ sql, rowsAsArray: true });
  const v = (rows as unknown as unknown[][])[0]?.[0];
  return v === null || v === undefined ? null : String(v);
}

export function errnoOf(err: unknown): number | undefined {
  const n = (err as { errno?: unknown } | undefined)?.errno;
  return typeof n === 'number' ? n : undefined;
}

/** ER_SPECIFIC_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR, ER_ACCESS_DENIED_ERROR. */
export function isAccessDenied(err: unknown): boolean {
  const n = errnoOf(err);
  return n === 1227 || n === 1044 || n === 1045 || n === 1142;
}
