import type { Connection } from 'mysql2/promise';
import type { ServerName } from './connections.js';
import { keySpan } from './key-chunks.js';
import { type KeyValues, keyRange, type Predicate, quoteName } from './key-range.js';
import type { Findings, PassContext } from './pass-context.js';
import { rowHashSql } from './row-image.js';
import type { TableShape } from './table-shape.js';

/**
 * Sums per slice of a chunk, for a single integer key. Each server returns COUNT and SUM for 64
 * equal slices of the key's values in the same scan that sums the chunk (GROUP BY costs a few
 * percent), so a chunk that differs needs no second scan to know where: only its differing
 * slices are summed again, narrower, until a slice is small enough to compare row by row.
 * Without this a differing chunk would cost a rescan per level, and a few differences spread
 * over a table would double the time of the whole compare.
 */

export const BUCKETS = 64;
/** Ranges at most this big are compared row by row. */
export const LEAF_ROWS = 2000;

/** Key values (lo, hi] cut into BUCKETS slices; keys outside fall into bucket -1 or BUCKETS. */
export interface Span {
  readonly lo: bigint;
  readonly hi: bigint;
}

export interface Sum {
  readonly rows: number;
  /** The SUM of row hashes as decimal text (it exceeds 64 bits). */
  readonly sum: string;
}

export type BucketSums = Map<number, Sum>;

function widthOf(span: Span): bigint {
  const w = (span.hi - span.lo + BigInt(BUCKETS) - 1n) / BigInt(BUCKETS);
  return w > 0n ? w : 1n;
}

export async function bucketSums(
  conn: Connection,
  ctx: PassContext,
  shape: TableShape,
  server: ServerName,
  where: Predicate,
  span: Span,
): Promise<BucketSums> {
  const k = quoteName(shape.key[0]!);
  const base = (span.lo + 1n).toString();
  const bucket = `CASE WHEN ${k} < ${base} THEN -1 WHEN ${k} > ${span.hi.toString()} THEN ${BUCKETS}
    ELSE (${k} - ${base}) DIV ${widthOf(span).toString()} END`;
  const [rows] = await conn.query(
    {
      sql: `SELECT ${bucket} AS tandem_bucket, COUNT(*), CAST(SUM(${rowHashSql(shape.sql[server].image, ctx.hash)}) AS CHAR)
        FROM ${shape.sql[server].table} WHERE ${where.sql} GROUP BY tandem_bucket`,
      rowsAsArray: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    },
    where.params,
  );
  const out: BucketSums = new Map();
  for (const r of rows as unknown[][]) out.set(Number(r[0]), { rows: Number(r[1]), sum: String(r[2]) });
  return out;
}

export function bothBucketSums(
  ctx: PassContext,
  shape: TableShape,
  where: Predicate,
  span: Span,
): Promise<[BucketSums, BucketSums]> {
  return Promise.all([
    bucketSums(ctx.pool.source, ctx, shape, 'source', where, span),
    bucketSums(ctx.pool.target, ctx, shape, 'target', where, span),
  ]);
}

export function totalRows(sums: BucketSums): number {
  let n = 0;
  for (const s of sums.values()) n += s.rows;
  return n;
}

function differing(a: BucketSums, b: BucketSums): number[] {
  const out: number[] = [];
  for (const bucket of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(bucket);
    const y = b.get(bucket);
    if (x?.rows !== y?.rows || x?.sum !== y?.sum) out.push(bucket);
  }
  return out.sort((p, q) => p - q);
}

/**
 * Finds the differing rows of (after, upto], whose slices over `span` have been summed on both
 * servers as `sums`: each differing slice is compared row by row when small, else sliced again.
 */
export async function narrowByValue(
  ctx: PassContext,
  shape: TableShape,
  findings: Findings,
  after: KeyValues | undefined,
  upto: KeyValues | undefined,
  span: Span,
  sums: [BucketSums, BucketSums],
): Promise<void> {
  const width = widthOf(span);
  for (const b of differing(sums[0], sums[1])) {
    const key = (v: bigint): KeyValues => [v.toString()];
    // Slices -1 and BUCKETS hold keys outside the span, up to the range's own ends.
    const lo = b === -1 ? undefined : b === BUCKETS ? span.hi : span.lo + BigInt(b) * width;
    const hi =
      b === -1 ? span.lo : b === BUCKETS ? undefined : minBig(span.lo + BigInt(b + 1) * width, span.hi);
    const from = lo === undefined ? after : key(lo);
    const to = hi === undefined ? upto : key(hi);
    const where = keyRange(shape.key, from, to);
    const rows = Math.max(sums[0].get(b)?.rows ?? 0, sums[1].get(b)?.rows ?? 0);
    if (rows <= LEAF_ROWS) {
      await findings.compareRange(where);
      continue;
    }
    const inner = lo !== undefined && hi !== undefined ? { lo, hi } : await spanOf(ctx, shape, where);
    if (!inner) continue;
    await narrowByValue(
      ctx,
      shape,
      findings,
      from,
      to,
      inner,
      await bothBucketSums(ctx, shape, where, inner),
    );
  }
}

async function spanOf(ctx: PassContext, shape: TableShape, where: Predicate): Promise<Span | undefined> {
  const s = await keySpan(ctx, shape, where);
  return s ? { lo: s.min - 1n, hi: s.max } : undefined;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
