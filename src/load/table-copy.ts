import type { Connection as CoreConnection } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import { errnoOf } from './connect.js';
import { LoadError } from './load-error.js';
import { literalExpression, qualified, quoteName, rowExpression } from './render-values.js';
import type { SourceTable } from './source-catalog.js';

/**
 * Copies one table from a snapshot reader to a target loading session, chunk by chunk in key
 * order. The source renders each chunk as the VALUES text of an INSERT (render-values.ts); the
 * next chunk is read while the current one is written, so both servers work at once.
 *
 * Rows are inserted if absent (INSERT IGNORE): a row that dual writes put on the target during
 * the load is newer than the snapshot's and stays. IGNORE also turns a value the target
 * cannot hold into a warning; every ignored duplicate raises exactly one warning and is not
 * counted as affected, so a statement with more warnings than duplicates changed a value, and
 * its warnings are read (ON DUPLICATE KEY UPDATE k = k says the same without the arithmetic,
 * but costs the target about a third more per row, measured on MariaDB 10.11).
 */

export interface CopyHooks {
  readonly signal: AbortSignal;
  /**
   * A statement raised warnings (a value converted): SHOW WARNINGS' messages. Throws to fail
   * the table, or records them; copy-load.ts fails when the target table was not its own.
   */
  warned(messages: string[]): void;
  /** After each chunk has committed on the target: the checkpoint is saved here. */
  committed(chunk: ChunkResult): Promise<void>;
}

export interface ChunkResult {
  readonly rows: number;
  /** Rows the target did not have; rows - inserted were already there and left alone. */
  readonly inserted: number;
  readonly bytes: number;
  /** SQL literals of the chunk's last key (null for a keyless table). */
  readonly lastKey: string[] | null;
}

export interface CopySizes {
  /** Largest INSERT, in characters (a few MB, well under the target's max_allowed_packet). */
  readonly statementChars: number;
}

const FIRST_CHUNK_ROWS = 1000;
const INTEGER = /^-?\d+$/;
/** Integer types: a key of one of them can be split into ranges by arithmetic. */
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
/** Tables smaller than this per part are not worth splitting (estimated rows). */
export const SPLIT_MIN_ROWS_PER_PART = 100_000;

/** One part of a split table: the rows after `lastKey` (all when null), up to `upTo` (the end when null). */
export interface KeyRangePart {
  lastKey: string[] | null;
  readonly upTo: string | null;
  done: boolean;
}

/**
 * Splits a table with a one-column integer key into up to `parts` key ranges of equal width
 * between the snapshot's MIN and MAX, read on `reader` (in the load's snapshot, so every part
 * sees the same rows). Returns undefined when the table cannot or need not be split.
 */
export async function splitByKey(
  reader: Connection,
  table: SourceTable,
  parts: number,
): Promise<KeyRangePart[] | undefined> {
  const n = Math.min(parts, Math.floor(table.rowsEstimate / SPLIT_MIN_ROWS_PER_PART));
  if (n < 2 || table.key.length !== 1) return undefined;
  const column = table.columns.find((c) => c.name === table.key[0]);
  if (!column || !INTEGER_TYPES.has(column.dataType)) return undefined;
  const k = quoteName(column.name);
  const [result] = await reader.query({
    sql: `SELECT CAST(MIN(${k}) AS CHAR), CAST(MAX(${k}) AS CHAR) FROM ${qualified(table.source.schema, table.source.table)}`,
    rowsAsArray: true,
  });
  const [min, max] = ((result as unknown as (string | null)[][])[0] ?? []).map((v) =>
    v === null || v === undefined ? undefined : String(v),
  );
  if (min === undefined || max === undefined || !INTEGER.test(min) || !INTEGER.test(max)) return undefined;
  const lo = BigInt(min);
  const width = BigInt(max) - lo + 1n;
  if (width < BigInt(n)) return undefined;
  const out: KeyRangePart[] = [];
  let lastKey: string[] | null = null;
  for (let i = 1; i <= n; i++) {
    const upTo = i === n ? null : (lo + (width * BigInt(i)) / BigInt(n) - 1n).toString();
    out.push({ lastKey, upTo, done: false });
    if (upTo !== null) lastKey = [upTo];
  }
  return out;
}
/** Well under 65,535: the OK packet's warning count is 16 bits, and the arithmetic needs it whole. */
const MAX_CHUNK_ROWS = 50_000;
/** ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK: a chunk racing dual writes is simply run again. */
const RETRYABLE = new Set([1205, 1213]);
const RETRIES = 5;

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new LoadError('LOAD_ABORTED', 'load interrupted');
}

/** `(k1, k2) > (v1, v2)` written so that the range optimizer uses the key for it. */
export function afterKey(key: readonly string[], values: readonly string[]): string {
  const k = key.map(quoteName);
  const disjuncts = k.map((col, i) => {
    const equal = k.slice(0, i).map((c, j) => `${c} = ${values[j]}`);
    return [...equal, `${col} > ${values[i]}`].join(' AND ');
  });
  if (k.length === 1) return disjuncts[0]!;
  return `${k[0]} >= ${values[0]} AND (${disjuncts.map((d) => `(${d})`).join(' OR ')})`;
}

interface Chunk {
  readonly rows: string[];
  readonly lastKey: string[] | null;
  readonly chars: number;
}

function insertPrefix(table: SourceTable, ignore: boolean): string {
  const cols = table.columns.map((c) => quoteName(c.name)).join(', ');
  return `INSERT ${ignore ? 'IGNORE ' : ''}INTO ${qualified(table.target.schema, table.target.table)} (${cols}) VALUES `;
}

interface Statement {
  readonly sql: string;
  readonly rows: number;
}

/** Splits rows into INSERT statements of at most `limit` characters (at least one row each). */
function statements(prefix: string, rows: readonly string[], limit: number): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let size = prefix.length;
  for (let i = 0; i < rows.length; i++) {
    const len = rows[i]!.length + 1;
    if (i > start && size + len > limit) {
      out.push({ sql: prefix + rows.slice(start, i).join(','), rows: i - start });
      start = i;
      size = prefix.length;
    }
    size += len;
  }
  if (start < rows.length) out.push({ sql: prefix + rows.slice(start).join(','), rows: rows.length - start });
  return out;
}

interface Written {
  readonly affectedRows: number;
  readonly warningStatus: number;
}

/** ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME: the duplicates that IGNORE skips on purpose. */
const DUPLICATE = new Set([1062, 1586]);

async function run(
  writer: Connection,
  sql: string,
  rows: number,
  warned: CopyHooks['warned'],
): Promise<number> {
  const [r] = await writer.query(sql);
  const w = r as Written;
  if (w.warningStatus > rows - w.affectedRows) {
    const [list] = await writer.query({ sql: 'SHOW WARNINGS LIMIT 1000', rowsAsArray: true });
    const other = (list as unknown as unknown[][]).filter((x) => !DUPLICATE.has(Number(x[1])));
    if (other.length > 0) warned(other.slice(0, 5).map((x) => `${String(x[1])}: ${String(x[2])}`));
  }
  return w.affectedRows;
}

/** Runs a chunk's statements in one transaction, again after a deadlock; returns rows inserted. */
async function writeChunk(
  writer: Connection,
  sqls: readonly Statement[],
  warned: CopyHooks['warned'],
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (sqls.length === 1) return await run(writer, sqls[0]!.sql, sqls[0]!.rows, warned);
      await writer.query('BEGIN');
      let inserted = 0;
      for (const s of sqls) inserted += await run(writer, s.sql, s.rows, warned);
      await writer.query('COMMIT');
      return inserted;
    } catch (err) {
      if (sqls.length > 1) await writer.query('ROLLBACK').catch(() => undefined);
      if (!RETRYABLE.has(errnoOf(err) ?? 0) || attempt >= RETRIES) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

function tooLarge(table: SourceTable): LoadError {
  return new LoadError(
    'LOAD_ROW_TOO_LARGE',
    `${table.source.schema}.${table.source.table}: a row is larger than the source's max_allowed_packet ` +
      'once written as SQL (the source returned NULL for it); raise max_allowed_packet on the source',
  );
}

/**
 * Copies the rows after `after` (from the start when null) and, when `upTo` is given, up to and
 * including that value of the table's single integer key: one part of a table split by key
 * range (see splitByKey), so that several workers copy one large table.
 */
export async function copyKeyedTable(
  reader: Connection,
  writer: Connection,
  table: SourceTable,
  after: string[] | null,
  sizes: CopySizes,
  hooks: CopyHooks,
  upTo?: string,
): Promise<void> {
  const keyExprs = table.key.map((k) => {
    const col = table.columns.find((c) => c.name === k);
    if (!col) throw new Error(`key column ${k} of ${table.source.table} is not a stored column`);
    return literalExpression(col);
  });
  const select = `SELECT ${rowExpression(table.columns)}, ${keyExprs.join(', ')} FROM ${qualified(
    table.source.schema,
    table.source.table,
  )}`;
  const order = ` ORDER BY ${table.key.map(quoteName).join(', ')}`;
  const prefix = insertPrefix(table, true);

  const bounds: string[] = [];
  if (upTo !== undefined) {
    if (table.key.length !== 1 || !INTEGER.test(upTo)) throw new Error(`bad key bound ${upTo}`);
    bounds.push(`${quoteName(table.key[0]!)} <= ${upTo}`);
  }
  const read = async (from: string[] | null, limit: number): Promise<Chunk> => {
    const conditions = from ? [afterKey(table.key, from), ...bounds] : bounds;
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    const [result] = await reader.query({
      sql: `${select}${where}${order} LIMIT ${limit}`,
      rowsAsArray: true,
    });
    const rows = result as unknown as (string | null)[][];
    const texts: string[] = new Array(rows.length);
    let chars = 0;
    for (let i = 0; i < rows.length; i++) {
      const text = rows[i]![0];
      if (text === null || text === undefined) throw tooLarge(table);
      texts[i] = text;
      chars += text.length;
    }
    const last = rows[rows.length - 1];
    return { rows: texts, chars, lastKey: last ? last.slice(1).map((v) => String(v)) : null };
  };

  let limit = FIRST_CHUNK_ROWS;
  let pending: Promise<Chunk> | undefined = read(after, limit);
  while (pending) {
    const chunk: Chunk = await pending;
    pending = undefined;
    if (chunk.rows.length === 0) break;
    checkAbort(hooks.signal);
    const full = chunk.rows.length === limit;
    // Sized so that one chunk is about one statement of a few MB.
    const average = chunk.chars / chunk.rows.length;
    limit = Math.max(1, Math.min(MAX_CHUNK_ROWS, Math.floor(sizes.statementChars / Math.max(average, 1))));
    if (full) {
      pending = read(chunk.lastKey, limit);
      // Awaited on the next turn; a write failure meanwhile must not leave it unhandled.
      pending.catch(() => undefined);
    }
    const inserted = await writeChunk(
      writer,
      statements(prefix, chunk.rows, sizes.statementChars),
      hooks.warned,
    );
    await hooks.committed({ rows: chunk.rows.length, inserted, bytes: chunk.chars, lastKey: chunk.lastKey });
  }
}

/**
 * A table with neither a primary key nor a NOT NULL unique key cannot be chunked or resumed by
 * key, and no row of it can be told from another. It is read in one scan (InnoDB's hidden
 * row-id order) and replaces the target's rows in one transaction: a kill rolls the whole
 * table back, and a rerun starts it again without duplicating a row.
 */
export async function copyKeylessTable(
  reader: Connection,
  writer: Connection,
  table: SourceTable,
  sizes: CopySizes,
  hooks: CopyHooks,
): Promise<void> {
  const sql = `SELECT ${rowExpression(table.columns)} FROM ${qualified(table.source.schema, table.source.table)}`;
  const prefix = insertPrefix(table, false);
  // The promise API has no streaming query; its callback connection (untyped) does.
  const core = (reader as unknown as { connection: CoreConnection }).connection;
  const stream = core.query({ sql, rowsAsArray: true }).stream({ highWaterMark: 1000 });
  let rows = 0;
  let inserted = 0;
  let chars = 0;
  let batch: string[] = [];
  let batchChars = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    checkAbort(hooks.signal);
    inserted += await run(writer, prefix + batch.join(','), batch.length, hooks.warned);
    rows += batch.length;
    chars += batchChars;
    batch = [];
    batchChars = 0;
  };
  await writer.query('BEGIN');
  try {
    await writer.query(`DELETE FROM ${qualified(table.target.schema, table.target.table)}`);
    for await (const row of stream as AsyncIterable<(string | null)[]>) {
      const text = row[0];
      if (text === null || text === undefined) throw tooLarge(table);
      if (batch.length > 0 && batchChars + text.length + prefix.length > sizes.statementChars) await flush();
      batch.push(text);
      batchChars += text.length + 1;
    }
    await flush();
    await writer.query('COMMIT');
  } catch (err) {
    stream.destroy();
    await writer.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await hooks.committed({ rows, inserted, bytes: chars, lastKey: null });
}
