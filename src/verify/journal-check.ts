import type { Connection } from 'mysql2/promise';
import {
  type JournalEntry,
  journalPath,
  rewriteJournal,
  snapshotJournal,
} from '../dualwrite/repair-journal.js';
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
  /** The entries that name the table, by index. */
  readonly entries: Set<number>;
  /** Some entry names several tables, or none of its rows: the whole table is compared. */
  whole: boolean;
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

/** What decides whether an entry's rows are the table's keys. */
interface KeyFacts {
  /** Every key column is of an integer type, so integer literals name rows exactly. */
  readonly integerKey: boolean;
  /** The key is the table's auto-increment column (then a generated id is a key). */
  readonly autoIncrementKey: boolean;
  /** Another unique key than the key: REPLACE and upserts may reach rows through it. */
  readonly otherUnique: boolean;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/**
 * From the columns describeTable() read (the source's), plus whether the table has a unique key
 * besides its key.
 */
async function keyFacts(conn: Connection, shape: TableShape): Promise<KeyFacts> {
  const info = new Map(shape.sql.source.columnInfo.map((c) => [c.name.toLowerCase(), c]));
  const keyCols = shape.key.map((k) => info.get(k.toLowerCase()));
  const [unique] = await conn.query({
    rowsAsArray: true,
    sql: 'SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0',
    values: [shape.pair.source.schema, shape.pair.source.table],
  });
  return {
    integerKey: keyCols.every((c) => c !== undefined && INTEGER_TYPES.has(c.dataType)),
    autoIncrementKey: keyCols.length === 1 && keyCols[0]?.autoIncrement === true,
    otherUnique: Number((unique as unknown[][])[0]?.[0] ?? 0) > 1,
  };
}

/**
 * The keys an entry's rows name, in the order of `key`; undefined when they do not name every
 * row the statement may have changed (see missed-keys.ts), and the table is compared whole.
 */
function entryKeys(entry: JournalEntry, key: readonly string[], facts: KeyFacts): KeyValues[] | undefined {
  if (key.length === 0 || !facts.integerKey) return undefined;
  const lower = (c: string) => c.toLowerCase();
  const keyLower = key.map(lower);
  if (entry.assigned?.some((c) => keyLower.includes(lower(c)))) return undefined;
  if (entry.otherUniqueKeys && facts.otherUnique) return undefined;
  const out: KeyValues[] = [];
  const at = keyLower.map((k) => (entry.keyColumns ?? []).map(lower).indexOf(k));
  if (entry.keys && at.every((i) => i >= 0)) {
    for (const row of entry.keys) out.push(at.map((i) => BigInt(String(row[i]))));
  }
  if (entry.insertId !== undefined && facts.autoIncrementKey) out.push([BigInt(entry.insertId)]);
  return out.length > 0 ? out : undefined;
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
          entries: new Set(),
          whole: false,
        };
        work.set(id, w);
      }
      w.entries.add(index);
      if (names.length !== 1 || (!entry.keys && entry.insertId === undefined)) w.whole = true;
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
      const keys = w.whole ? undefined : await keysOf(ctx, w, shape, entries);
      outcome = keys
        ? await checkKeys(local, shape, keys)
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

/** Every entry's keys for one table, or undefined when one of them needs the whole table. */
async function keysOf(
  ctx: PassContext,
  w: Work,
  shape: TableShape,
  entries: readonly JournalEntry[],
): Promise<KeyValues[] | undefined> {
  if (shape.key.length === 0) return undefined;
  const facts = await keyFacts(ctx.pool.source, shape);
  const keys = new Map<string, KeyValues>();
  for (const i of w.entries) {
    const found = entryKeys(entries[i]!, shape.key, facts);
    if (!found) return undefined;
    for (const k of found) keys.set(keyString(k), k);
  }
  return [...keys.values()];
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
