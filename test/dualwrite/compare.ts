import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

/**
 * Helpers for the dual-write integration tests: direct connections to one server, and row-by-row
 * comparison of a database on the source and on the target.
 */

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Values as the server prints them: exact DATETIME(6), DECIMAL and BIGINT, no time zone shifts. */
export function connect(to: Endpoint, database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: to.host,
    port: to.port,
    user: 'root',
    password: '',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    ...(database === undefined ? {} : { database }),
  });
}

/** Runs one statement on a fresh direct connection. */
export async function query<T = unknown>(to: Endpoint, sql: string, params?: unknown[]): Promise<T> {
  const c = await connect(to);
  try {
    const [r] = await c.query(sql, params);
    return r as T;
  } finally {
    await c.end();
  }
}

/** The base tables of `db`, by name. */
export async function tablesOf(to: Endpoint, db: string): Promise<string[]> {
  const rows = await query<{ name: string }[]>(
    to,
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`,
    [db],
  );
  return rows.map((r) => r.name);
}

/** Every row of a table, as arrays, ordered by all columns (so tables without a key compare too). */
export async function tableRows(to: Endpoint, db: string, table: string): Promise<unknown[][]> {
  const c = await connect(to);
  try {
    const [cols] = await c.query(
      'SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [db, table],
    );
    const n = Number((cols as { n: number }[])[0]!.n);
    const order = Array.from({ length: n }, (_, i) => i + 1).join(', ');
    const [rows] = await c.query({
      sql: `SELECT * FROM \`${db}\`.\`${table}\` ORDER BY ${order}`,
      rowsAsArray: true,
    });
    return rows as unknown[][];
  } finally {
    await c.end();
  }
}

export interface TableDiff {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  /** Rows on one server only, a few of each, printed. */
  readonly onlyOnSource: string[];
  readonly onlyOnTarget: string[];
}

/**
 * Compares every base table of `db` on both servers, row by row. Returns the tables that differ
 * (empty when equal) and the total row count on the source.
 */
export async function compareDatabases(
  source: Endpoint,
  target: Endpoint,
  db: string,
): Promise<{ diffs: TableDiff[]; tables: string[]; rows: number }> {
  const tables = await tablesOf(source, db);
  const targetTables = await tablesOf(target, db);
  const diffs: TableDiff[] = [];
  let rows = 0;
  for (const table of new Set([...tables, ...targetTables])) {
    const s = tables.includes(table) ? await tableRows(source, db, table) : [];
    const t = targetTables.includes(table) ? await tableRows(target, db, table) : [];
    rows += s.length;
    const sj = s.map((r) => JSON.stringify(r));
    const tj = t.map((r) => JSON.stringify(r));
    if (sj.length === tj.length && sj.every((r, i) => r === tj[i])) continue;
    const tset = new Set(tj);
    const sset = new Set(sj);
    diffs.push({
      table,
      sourceRows: s.length,
      targetRows: t.length,
      onlyOnSource: sj.filter((r) => !tset.has(r)).slice(0, 5),
      onlyOnTarget: tj.filter((r) => !sset.has(r)).slice(0, 5),
    });
  }
  return { diffs, tables, rows };
}

/** A fresh state directory for one proxy (its repair journal lives there). */
export function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'tandem-state-'));
}

/** The server error number of a mysql2 error, or undefined for anything else. */
export function errnoOf(err: unknown): number | undefined {
  const e = err as { errno?: unknown } | undefined;
  return typeof e?.errno === 'number' ? e.errno : undefined;
}

export const ER_DUP_ENTRY = 1062;
export const ER_LOCK_WAIT_TIMEOUT = 1205;
export const ER_LOCK_DEADLOCK = 1213;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
