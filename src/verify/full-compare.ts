import type { Connection } from 'mysql2/promise';
import { RateLimiter } from './chunk-sizer.js';
import type { ServerName } from './connections.js';
import { chunkerFor } from './key-chunks.js';
import { type KeyValues, keyRange, type Predicate, quoteName } from './key-range.js';
import { Findings, type PassContext } from './pass-context.js';
import { checksumSelect } from './row-image.js';
import { type TableOutcome, TableTally } from './table-outcome.js';
import type { TableShape } from './table-shape.js';
import { bothBucketSums, LEAF_ROWS, narrowByValue, type Sum, totalRows } from './value-buckets.js';
import { copyWholeTable } from './whole-table.js';

/**
 * The full compare, after pt-table-checksum: the table is cut into key ranges ("chunks");
 * both servers compute COUNT(*) and a 64-bit checksum of each chunk themselves, at the same
 * time; only a chunk whose sums differ is looked at more closely, and rows cross the network
 * only for ranges of at most LEAF_ROWS rows. With a single integer key the sums come per slice
 * of the chunk (value-buckets.ts); with any other key a differing chunk is split at every n-th
 * key and summed again. Every chunk is a range on both servers (the first and last are
 * open-ended), so rows that exist on one server only are found wherever their keys fall. It
 * finds every difference, including changes that bypassed update_time.
 */

/** A differing range of any other key is split into this many parts. */
const FANOUT = 8;

async function checksum(
  conn: Connection,
  ctx: PassContext,
  shape: TableShape,
  server: ServerName,
  where: Predicate,
): Promise<Sum> {
  const [rows] = await conn.query(
    {
      sql: `SELECT ${checksumSelect(shape.sql[server].image, ctx.hash)} FROM ${shape.sql[server].table} WHERE ${where.sql}`,
      rowsAsArray: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    },
    where.params,
  );
  const r = (rows as unknown[][])[0] ?? [0, '0'];
  return { rows: Number(r[0]), sum: String(r[1]) };
}

async function both(ctx: PassContext, shape: TableShape, where: Predicate): Promise<[Sum, Sum]> {
  return Promise.all([
    checksum(ctx.pool.source, ctx, shape, 'source', where),
    checksum(ctx.pool.target, ctx, shape, 'target', where),
  ]);
}

function same(a: Sum, b: Sum): boolean {
  return a.rows === b.rows && a.sum === b.sum;
}

/** Any other key: every n-th key of the side with more rows. */
async function splitByRank(
  conn: Connection,
  shape: TableShape,
  server: ServerName,
  after: KeyValues | undefined,
  upto: KeyValues | undefined,
  rows: number,
): Promise<KeyValues[]> {
  const where = keyRange(shape.key, after, upto);
  const cols = shape.key.map(quoteName).join(', ');
  const step = Math.max(1, Math.ceil(rows / FANOUT));
  const [found] = await conn.query(
    {
      sql: `SELECT ${cols} FROM (SELECT ${cols}, ROW_NUMBER() OVER (ORDER BY ${cols}) AS tandem_rn
        FROM ${shape.sql[server].table} WHERE ${where.sql}) AS numbered
        WHERE tandem_rn % ${step} = 0 ORDER BY tandem_rn`,
      rowsAsArray: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    },
    where.params,
  );
  return found as unknown[][];
}

/** Narrows a differing range down to leaves and hands their differing rows to `findings`. */
async function locate(
  ctx: PassContext,
  shape: TableShape,
  findings: Findings,
  after: KeyValues | undefined,
  upto: KeyValues | undefined,
  sums: [Sum, Sum],
): Promise<void> {
  const rows = Math.max(sums[0].rows, sums[1].rows);
  const server: ServerName = sums[0].rows >= sums[1].rows ? 'source' : 'target';
  const points =
    rows <= LEAF_ROWS ? [] : await splitByRank(ctx.pool[server], shape, server, after, upto, rows);
  if (points.length === 0) {
    await findings.compareRange(keyRange(shape.key, after, upto));
    return;
  }
  // Parts (after, p1], (p1, p2], ..., (pk, upto]: together exactly the range.
  const bounds: (KeyValues | undefined)[] = [after, ...points, upto];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const where = keyRange(shape.key, bounds[i], bounds[i + 1]);
    const part = await both(ctx, shape, where);
    if (!same(part[0], part[1])) await locate(ctx, shape, findings, bounds[i], bounds[i + 1], part);
  }
}

export async function fullCompare(ctx: PassContext, shape: TableShape): Promise<TableOutcome> {
  const tally = new TableTally(shape.pair.label, 'full', shape.key);
  ctx.progress.start(shape.pair.label, shape.estimatedRows);
  try {
    if (shape.key.length === 0) await wholeTable(ctx, shape, tally);
    else await chunked(ctx, shape, tally);
  } finally {
    ctx.progress.done();
  }
  return tally.finish();
}

async function chunked(ctx: PassContext, shape: TableShape, tally: TableTally): Promise<void> {
  const findings = new Findings(ctx, shape, tally);
  const limiter = new RateLimiter(ctx.maxRowsPerSecond);
  const chunker = await chunkerFor(ctx, shape);
  for (let chunk = await chunker.next(); chunk; chunk = await chunker.next()) {
    const where = keyRange(shape.key, chunk.after, chunk.upto);
    const started = performance.now();
    let rows: number;
    if (chunk.span) {
      const sums = await bothBucketSums(ctx, shape, where, chunk.span);
      rows = totalRows(sums[0]);
      chunker.observe(Math.max(rows, totalRows(sums[1])), performance.now() - started);
      await narrowByValue(ctx, shape, findings, chunk.after, chunk.upto, chunk.span, sums);
    } else {
      const sums = await both(ctx, shape, where);
      rows = sums[0].rows;
      chunker.observe(Math.max(rows, sums[1].rows), performance.now() - started);
      if (!same(sums[0], sums[1])) await locate(ctx, shape, findings, chunk.after, chunk.upto, sums);
    }
    tally.rowsCompared += rows;
    ctx.progress.update(tally.rowsCompared);
    await limiter.take(rows);
  }
  await findings.flush();
}

/**
 * Without a unique key rows cannot be told apart: the table is summed as a whole, and a repair
 * copies it whole in one transaction (copyWholeTable).
 */
async function wholeTable(ctx: PassContext, shape: TableShape, tally: TableTally): Promise<void> {
  tally.note('no primary or NOT NULL unique key: compared as a whole');
  const [s, t] = await both(ctx, shape, { sql: '1', params: [] });
  tally.rowsCompared = s.rows;
  ctx.progress.update(s.rows);
  if (same(s, t)) return;
  const detail = { sourceRows: s.rows, targetRows: t.rows };
  if (!ctx.fix) {
    tally.tableDiffers(detail, false);
    return;
  }
  const to = ctx.from === 'source' ? 'target' : 'source';
  const src = shape.pair[ctx.from];
  await copyWholeTable(ctx.pool[ctx.from], ctx.pool[to], src.schema, src.table, shape.pair[to]);
  tally.tableDiffers(detail, true);
}
