import type { Connection } from 'mysql2/promise';
import { journalPath, rewriteJournal, snapshotJournal } from '../dualwrite/repair-journal.js';
import type { RenameMap } from '../sql/rename.js';
import type { ServerName } from './connections.js';
import { fullCompare } from './full-compare.js';
import { type KeyValues, keyIn, keyString } from './key-range.js';
import { Findings, type PassContext } from './pass-context.js';
import { diffRows, readImages } from './row-diff.js';
import { pairFor, type TablePair } from './table-list.js';
import { type TableOutcome, TableTally } from './table-outcome.js';
import { describeTable, type TableShape } from './table-shape.js';

/**
 * `--method journal`: re-checks what the dual-write repair journal says a server missed. An
 * entry with keys has just those rows compared (and repaired from the server that has them);
 * an entry without keys has its tables compared in full (its whole schema when it names no
 * table). With --fix, the entries whose rows are now equal are removed from the journal; lines
 * appended while the pass ran are kept, as `tandem journal replay` does.
 */

export interface JournalPassResult {
  readonly outcomes: readonly TableOutcome[];
  readonly entries: number;
  readonly resolved: number;
  readonly remaining: number;
}

interface Work {
  readonly pair: TablePair;
  /** The server the entry says missed the write: repairs go to it. */
  readonly missed: ServerName;
  /** Keys to check, or undefined for the whole table. */
  keys: Map<string, KeyValues> | undefined;
  /** The key columns the entries' keys are given in. */
  keyColumns: readonly string[] | undefined;
  readonly entries: Set<number>;
}

function split(name: string, schema: string | undefined): { schema: string; table: string } | undefined {
  const dot = name.indexOf('.');
  if (dot > 0) return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
  return schema ? { schema, table: name } : undefined;
}

async function tablesOf(conn: Connection, schema: string): Promise<string[]> {
  const [rows] = await conn.query({
    rowsAsArray: true,
    sql: "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
    values: [schema],
  });
  return (rows as unknown[][]).map((r) => String(r[0]));
}

function sameColumns(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return (
    a !== undefined && a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i]!.toLowerCase())
  );
}

export async function journalPass(
  ctx: PassContext,
  stateDir: string,
  rename: RenameMap,
): Promise<JournalPassResult> {
  const file = journalPath(stateDir);
  const { entries, readUpTo } = await snapshotJournal(file);
  if (entries.length === 0) return { outcomes: [], entries: 0, resolved: 0, remaining: 0 };

  // Journal entries name tables as the application wrote them: the source's names.
  const work = new Map<string, Work>();
  const unusable = new Set<number>();
  for (const [index, entry] of entries.entries()) {
    let names = entry.tables.map((t) => split(t, entry.schema));
    if (names.length === 0 && entry.schema) {
      names = (await tablesOf(ctx.pool.source, entry.schema)).map((table) => ({
        schema: entry.schema!,
        table,
      }));
    }
    if (names.length === 0 || names.some((n) => n === undefined)) {
      unusable.add(index);
      continue;
    }
    for (const n of names as { schema: string; table: string }[]) {
      const id = `${entry.server}:${n.schema}.${n.table}`;
      let w = work.get(id);
      if (!w) {
        w = {
          pair: pairFor(n.schema, n.table, rename),
          missed: entry.server,
          keys: new Map(),
          keyColumns: entry.keyColumns,
          entries: new Set(),
        };
        work.set(id, w);
      }
      w.entries.add(index);
      // Keys only help while every entry for the table has them; one without means the whole table.
      if (w.keys && entry.keys && names.length === 1 && sameColumns(entry.keyColumns, w.keyColumns ?? [])) {
        for (const k of entry.keys) w.keys.set(keyString(k), k);
      } else w.keys = undefined;
    }
  }

  const outcomes: TableOutcome[] = [];
  const failed = new Set<number>(unusable);
  for (const w of work.values()) {
    const from: ServerName = w.missed === 'target' ? 'source' : 'target';
    const local: PassContext = { ...ctx, from };
    let outcome: TableOutcome;
    try {
      const shape = await describeTable(ctx.pool, w.pair);
      outcome =
        w.keys && shape.key.length > 0 && sameColumns(w.keyColumns, shape.key)
          ? await checkKeys(local, shape, [...w.keys.values()])
          : { ...(await fullCompare(local, shape)), method: 'journal' };
    } catch (err) {
      outcome = new TableTally(w.pair.label, 'journal', []).finish((err as Error).message);
    }
    outcomes.push(outcome);
    if (outcome.error !== undefined || outcome.differing > outcome.fixed)
      for (const i of w.entries) failed.add(i);
  }

  const remaining = entries.filter((_, i) => failed.has(i));
  if (ctx.fix && remaining.length < entries.length) await rewriteJournal(file, readUpTo, remaining);
  return {
    outcomes,
    entries: entries.length,
    resolved: entries.length - remaining.length,
    remaining: remaining.length,
  };
}

async function checkKeys(ctx: PassContext, shape: TableShape, keys: KeyValues[]): Promise<TableOutcome> {
  const tally = new TableTally(shape.pair.label, 'journal', shape.key);
  const findings = new Findings(ctx, shape, tally);
  ctx.progress.start(`${shape.pair.label} (journaled keys)`, keys.length);
  try {
    for (let i = 0; i < keys.length; i += 500) {
      const where = keyIn(shape.key, keys.slice(i, i + 500));
      const [s, t] = await Promise.all([
        readImages(ctx.pool.source, shape, 'source', where),
        readImages(ctx.pool.target, shape, 'target', where),
      ]);
      await findings.add(diffRows(s, t));
      tally.rowsCompared += Math.min(500, keys.length - i);
      ctx.progress.update(tally.rowsCompared);
    }
    await findings.flush();
  } finally {
    ctx.progress.done();
  }
  return tally.finish();
}
