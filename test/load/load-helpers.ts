import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { type CopyLoadOptions, copyLoad, type LoadSummary } from '../../src/load/copy-load.js';
import { Scope } from '../../src/routing/scope.js';
import { exactRead } from '../../src/verify/connections.js';

/** Helpers for the load tests: a copy with test defaults, and exact comparisons of both sides. */

export function url(port: number): string {
  return `mysql://root@127.0.0.1:${port}/`;
}

export function freshStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'tandem-load-'));
}

export async function sql<T = unknown>(port: number, text: string, values?: unknown[]): Promise<T> {
  const c = await mysql.createConnection({
    host: '127.0.0.1',
    port,
    user: 'root',
    multipleStatements: true,
    dateStrings: true,
  });
  try {
    const [r] = await c.query(text, values);
    return r as T;
  } finally {
    c.destroy();
  }
}

export function load(
  source: number,
  target: number,
  over: Partial<CopyLoadOptions> & { tables: string[] },
): Promise<LoadSummary> {
  const { tables, ...rest } = over;
  return copyLoad({
    source: url(source),
    target: url(target),
    stateDir: freshStateDir(),
    scope: new Scope(tables, []),
    only: undefined,
    rename: { schemas: {}, tables: {} },
    controlSchema: 'tandem_control',
    parallel: 2,
    resume: false,
    fastDurability: false,
    deferIndexes: false,
    signal: new AbortController().signal,
    say: () => undefined,
    progress: { write: () => undefined },
    ...rest,
  });
}

/** CHECKSUM TABLE on each side: InnoDB's checksum of the stored rows, so every byte counts. */
export async function checksum(port: number, table: string): Promise<string> {
  const rows = await sql<{ Checksum: string | number | null }[]>(port, `CHECKSUM TABLE ${table} EXTENDED`);
  return String(rows[0]?.Checksum);
}

/** Every row, ordered by its key, values as the server's own text or bytes (exactRead). */
export async function exactRows(port: number, table: string, order: string): Promise<unknown[][]> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
  try {
    await c.query("SET time_zone = '+00:00'");
    const [rows] = await c.query({ sql: `SELECT * FROM ${table} ORDER BY ${order}`, ...exactRead });
    return rows as unknown as unknown[][];
  } finally {
    c.destroy();
  }
}

export async function count(port: number, table: string): Promise<number> {
  const rows = await sql<{ n: number }[]>(port, `SELECT COUNT(*) AS n FROM ${table}`);
  return Number(rows[0]?.n);
}
