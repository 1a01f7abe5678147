import type { CheckpointStore } from './checkpoint-store.js';
import { exactRead } from './connections.js';
import { and, compareKey, type KeyValues, keyIn, type Predicate, quoteName } from './key-range.js';
import { Findings, type PassContext, type TableCheck } from './pass-context.js';
import { diffRows, type ImageRow, readImages, toBuffer } from './row-diff.js';
import { type TableOutcome, TableTally } from './table-outcome.js';
import type { TableShape } from './table-shape.js';

/**
 * The update-time loop of the migration plan: read the source's rows whose update column is at or
 * after the checkpoint minus an overlap, look each one up on the target by key, compare, repair,
 * and keep the largest value seen as the next checkpoint.
 *
 * Why nothing is missed:
 * - `>=`, not `>`: rows changed in the same second (or microsecond) as the checkpoint are read
 *   again, not skipped.
 * - The overlap: a transaction stamps its rows when its statement runs but they become visible
 *   when it commits, possibly after a later-stamped row that set the checkpoint; and the clocks
 *   that stamp rows (the source's, or application servers') may disagree. Rows up to `overlap`
 *   seconds older than the checkpoint are read again on every pass.
 * - Paging is by (update column, key), so ties on the update column never end a page early.
 *
 * It cannot see rows deleted on the source (see reverse-check.ts) nor changes that leave the
 * update column alone (see full-compare.ts). A soft delete is an update like any other.
 */

const PAGE = 1000;
const DEFAULT_COLUMNS = ['updated_at', 'update_time'];
const TEMPORAL = new Set(['datetime', 'timestamp', 'date']);
const INTEGER = new Set(['int', 'integer', 'bigint', 'mediumint']);

export interface IncrementalOptions {
  /** `schema.table` (source names) to column, from the config's verify.updateColumns. */
  readonly updateColumns: Readonly<Record<string, string>>;
  readonly overlapSeconds: number;
  /** Durable checkpoints, advanced by --fix passes. */
  readonly store: CheckpointStore;
  /** Checkpoints of this process: a dry run with --follow advances these only. */
  readonly memory: Map<string, string>;
  /**
   * The load snapshot's reconcile point (source server time, DATETIME text) from
   * load-snapshot.json: where a DATETIME/TIMESTAMP table with no checkpoint yet starts.
   */
  readonly loadStart?: string | undefined;
}

export function incrementalCheck(opts: IncrementalOptions): TableCheck {
  return (ctx, shape) => compareIncremental(ctx, shape, opts);
}

function updateColumnOf(shape: TableShape, opts: IncrementalOptions) {
  const name = `${shape.pair.source.schema}.${shape.pair.source.table}`;
  const configured = opts.updateColumns[name];
  const cols = shape.sql.source.columnInfo;
  if (configured !== undefined) {
    const c = cols.find((x) => x.name.toLowerCase() === configured.toLowerCase());
    return c ?? `the configured update column ${configured} is not in the table`;
  }
  return cols.find((c) => DEFAULT_COLUMNS.includes(c.name.toLowerCase()));
}

async function compareIncremental(
  ctx: PassContext,
  shape: TableShape,
  opts: IncrementalOptions,
): Promise<TableOutcome> {
  const tally = new TableTally(shape.pair.label, 'incremental', shape.key);
  const column = updateColumnOf(shape, opts);
  if (typeof column === 'string') return tally.finish(column);
  if (column === undefined) {
    tally.note(
      `skipped: no update column (${DEFAULT_COLUMNS.join(' or ')}; set verify.updateColumns): use --method full`,
    );
    return tally.finish();
  }
  if (shape.key.length === 0) {
    tally.note('skipped: no primary or NOT NULL unique key to look rows up by: use --method full');
    return tally.finish();
  }
  const temporal = TEMPORAL.has(column.dataType);
  if (!temporal && !INTEGER.has(column.dataType)) {
    return tally.finish(
      `update column ${column.name} is ${column.dataType}: expected DATETIME, TIMESTAMP or an integer`,
    );
  }
  const name = `${shape.pair.source.schema}.${shape.pair.source.table}`;
  const stored = await opts.store.get(name);
  const fromLoad = stored === undefined && temporal ? opts.loadStart : undefined;
  const start = opts.memory.get(name) ?? (stored?.column === column.name ? stored.value : fromLoad);
  if (start !== undefined && start === fromLoad) tally.note(`starting at the load snapshot, ${fromLoad}`);
  const upd = quoteName(column.name);
  // Rows whose update column is NULL have no time: the incremental method cannot see them.
  let lower: Predicate = { sql: `${upd} IS NOT NULL`, params: [] };
  if (start !== undefined) {
    const overlap = temporal
      ? Math.round(opts.overlapSeconds * 1e6)
      : overlapInUnits(start, opts.overlapSeconds);
    lower = temporal
      ? { sql: `${upd} >= ? - INTERVAL ? MICROSECOND`, params: [start, overlap] }
      : { sql: `${upd} >= ? - ?`, params: [start, overlap] };
  }
  const findings = new Findings(ctx, shape, tally);
  const n = shape.key.length;
  const pageCols = [column.name, ...shape.key];
  const select = `${pageCols.map(quoteName).join(', ')}, ${shape.sql.source.image}`;
  let last: KeyValues | undefined;
  let largest = start;
  ctx.progress.start(`${shape.pair.label} (${column.name} >= ${start ?? 'the start'})`, 0);
  try {
    for (;;) {
      const where = and(lower, ...(last ? [compareKey(pageCols, '>', last)] : []));
      const [rows] = await ctx.pool.source.query(
        {
          sql: `SELECT ${select} FROM ${shape.sql.source.table} WHERE ${where.sql}
            ORDER BY ${pageCols.map(quoteName).join(', ')} LIMIT ${PAGE}`,
          ...exactRead,
        },
        where.params,
      );
      const page = rows as unknown[][];
      if (page.length === 0) break;
      const source: ImageRow[] = page.map((r) => ({
        key: r.slice(1, 1 + n),
        image: toBuffer(r[1 + n]),
      }));
      const target = await readImages(
        ctx.pool.target,
        shape,
        'target',
        keyIn(
          shape.key,
          source.map((r) => r.key),
        ),
      );
      await findings.add(diffRows(source, target));
      last = page[page.length - 1]!.slice(0, 1 + n);
      const value = last[0];
      if (value !== null && value !== undefined) largest = String(value);
      tally.rowsCompared += page.length;
      ctx.progress.update(tally.rowsCompared);
      if (page.length < PAGE) break;
    }
    await findings.flush();
  } finally {
    ctx.progress.done();
  }
  if (largest !== undefined) {
    opts.memory.set(name, largest);
    if (ctx.fix)
      await opts.store.set(name, { column: column.name, value: largest, at: new Date().toISOString() });
  }
  tally.note(`checkpoint ${column.name} = ${largest ?? 'none (empty table)'}`);
  return tally.finish();
}

/** Integer update columns: epoch seconds, or milliseconds when the values are that large. */
function overlapInUnits(checkpoint: string, seconds: number): number {
  return Math.abs(Number(checkpoint)) > 1e11 ? Math.round(seconds * 1000) : Math.ceil(seconds);
}
