import mysql, { type Connection } from 'mysql2/promise';
import { parseServerUrl } from '../config.js';
import type { Logger } from '../log.js';
import { type SyncResult, syncTable } from '../verify/table-sync.js';
import { type JournalEntry, journalPath, rewriteJournal, snapshotJournal } from './repair-journal.js';

export interface ReplayResult {
  readonly entries: number;
  readonly fixed: number;
  readonly remaining: number;
  readonly tables: readonly SyncResult[];
}

async function connect(url: string): Promise<Connection> {
  const a = parseServerUrl(url);
  const conn = await mysql.createConnection({
    host: a.host,
    port: a.port,
    user: a.user,
    password: a.password,
    timezone: 'Z',
    charset: 'utf8mb4',
  });
  // Rows are copied as the other server has them; its checks already passed there.
  await conn.query("SET SESSION time_zone = '+00:00', foreign_key_checks = 0, unique_checks = 0");
  return conn;
}

function split(name: string, schema: string | undefined): { schema: string; table: string } | undefined {
  const dot = name.indexOf('.');
  if (dot > 0) return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
  return schema ? { schema, table: name } : undefined;
}

async function baseTables(conn: Connection, schema: string): Promise<string[]> {
  const [rows] = await conn.query(
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
    [schema],
  );
  return (rows as { TABLE_NAME: string }[]).map((r) => r.TABLE_NAME);
}

/**
 * Re-applies the repair journal from the primary's current rows: every table an entry names is
 * brought level on the server that missed the write (whole schema when the entry has no table),
 * and the entries fixed are removed. Entries appended while this runs are kept.
 */
export async function replayJournal(opts: {
  source: string;
  target: string;
  stateDir: string;
  logger: Logger;
}): Promise<ReplayResult> {
  const file = journalPath(opts.stateDir);
  const { entries, readUpTo } = await snapshotJournal(file);
  if (entries.length === 0) return { entries: 0, fixed: 0, remaining: 0, tables: [] };
  const conns = { source: await connect(opts.source), target: await connect(opts.target) };
  const results: SyncResult[] = [];
  const done = new Map<string, boolean>();
  const remaining: JournalEntry[] = [];
  try {
    for (const entry of entries) {
      const missed = entry.server;
      const from = conns[missed === 'target' ? 'source' : 'target'];
      const to = conns[missed];
      let names = entry.tables.map((t) => split(t, entry.schema));
      if (names.length === 0 && entry.schema) {
        names = (await baseTables(from, entry.schema)).map((table) => ({ schema: entry.schema!, table }));
      }
      if (names.length === 0 || names.some((n) => n === undefined)) {
        opts.logger.warn({ entry }, 'journal entry names no table or schema; left for tandem verify');
        remaining.push(entry);
        continue;
      }
      let ok = true;
      for (const n of names as { schema: string; table: string }[]) {
        const key = `${missed}:${n.schema}.${n.table}`;
        if (!done.has(key)) {
          try {
            results.push(await syncTable(from, to, n.schema, n.table));
            done.set(key, true);
          } catch (err) {
            opts.logger.warn({ table: key, err: (err as Error).message }, 'could not repair table');
            done.set(key, false);
          }
        }
        ok &&= done.get(key) === true;
      }
      if (!ok) remaining.push(entry);
    }
  } finally {
    await Promise.all([conns.source.end(), conns.target.end()]);
  }
  await rewriteJournal(file, readUpTo, remaining);
  return {
    entries: entries.length,
    fixed: entries.length - remaining.length,
    remaining: remaining.length,
    tables: results,
  };
}
