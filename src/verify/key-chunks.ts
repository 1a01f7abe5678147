import type { Connection } from 'mysql2/promise';
import { ChunkSizer } from './chunk-sizer.js';
import { type KeyValues, keyRange, type Predicate, quoteName, TRUE } from './key-range.js';
import type { PassContext } from './pass-context.js';
import type { TableShape } from './table-shape.js';
import type { Span } from './value-buckets.js';

/**
 * Cutting a table into key ranges for the full compare. The first range has no lower end and
 * the last no upper end, so rows beyond the source's keys (extra on the target, or inserted
 * during the pass) fall into some range.
 */
export interface Chunk {
  readonly after: KeyValues | undefined;
  readonly upto: KeyValues | undefined;
  /** Integer keys: the key values the range is meant to cover, for slicing (value-buckets.ts). */
  readonly span?: Span;
}

export interface Chunker {
  /** The next range, or undefined after the last. */
  next(): Promise<Chunk | undefined>;
  /** The range just summed held `rows` rows and took `ms`. */
  observe(rows: number, ms: number): void;
}

export const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

export async function chunkerFor(ctx: PassContext, shape: TableShape): Promise<Chunker> {
  const sizer = new ChunkSizer(ctx.chunkTimeMs);
  if (integerKey(shape)) {
    const range = await keySpan(ctx, shape, TRUE);
    if (range) return new ValueChunker(sizer, range.min - 1n, range.max);
  }
  return new RankChunker(sizer, ctx.pool.sourceAhead, shape);
}

/** A key of one integer column: ranges can be cut by arithmetic. */
export function integerKey(shape: TableShape): boolean {
  const keyType = shape.sql.source.columnInfo.find((c) => c.name === shape.key[0])?.dataType ?? '';
  return shape.key.length === 1 && INTEGER_TYPES.has(keyType);
}

/** The smallest and largest key in `where` over both servers (an index lookup each), if any row. */
export async function keySpan(
  ctx: PassContext,
  shape: TableShape,
  where: Predicate,
): Promise<{ min: bigint; max: bigint } | undefined> {
  const k = quoteName(shape.key[0]!);
  const ends = async (server: 'source' | 'target') => {
    const [rows] = await ctx.pool[server].query(
      {
        sql: `SELECT CAST(MIN(${k}) AS CHAR), CAST(MAX(${k}) AS CHAR) FROM ${shape.sql[server].table} WHERE ${where.sql}`,
        rowsAsArray: true,
      },
      where.params,
    );
    return ((rows as (string | null)[][])[0] ?? []).filter((v): v is string => typeof v === 'string');
  };
  const all = (await Promise.all([ends('source'), ends('target')]))
    .flat()
    .map(BigInt)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return all.length === 0 ? undefined : { min: all[0]!, max: all[all.length - 1]! };
}

/**
 * A single integer key: ranges of key values, so no query is needed to find where a range
 * ends. The width follows the density seen: a range is aimed at the sizer's row count.
 */
class ValueChunker implements Chunker {
  private position: bigint;
  private width: bigint;
  private first = true;
  private finished = false;

  constructor(
    private readonly sizer: ChunkSizer,
    start: bigint,
    private readonly max: bigint,
  ) {
    this.position = start;
    this.width = BigInt(sizer.size);
  }

  async next(): Promise<Chunk | undefined> {
    if (this.finished) return undefined;
    const after = this.first ? undefined : [this.position.toString()];
    this.first = false;
    const start = this.position;
    const end = this.position + this.width;
    if (end >= this.max) {
      this.finished = true;
      return { after, upto: undefined, span: { lo: start, hi: this.max } };
    }
    this.position = end;
    return { after, upto: [end.toString()], span: { lo: start, hi: end } };
  }

  observe(rows: number, ms: number): void {
    this.sizer.observe(rows, ms);
    // Aim the next range at the sizer's row count; at most 4x wider or narrower per step.
    const factor = rows === 0 ? 4 : Math.min(Math.max(this.sizer.size / rows, 0.25), 4);
    const next = BigInt(Math.max(1, Math.round(Number(this.width) * factor)));
    this.width = next;
  }
}

/** Any other key: the key `size` rows on (pt-table-checksum's nibbling), found ahead of time. */
class RankChunker implements Chunker {
  private ahead: Promise<KeyValues | undefined> | undefined;
  private after: KeyValues | undefined;
  private finished = false;

  constructor(
    private readonly sizer: ChunkSizer,
    private readonly conn: Connection,
    private readonly shape: TableShape,
  ) {}

  async next(): Promise<Chunk | undefined> {
    if (this.finished) return undefined;
    const upto = await (this.ahead ?? this.boundary(undefined));
    const chunk = { after: this.after, upto };
    // The next boundary is found on a second connection while this range is summed.
    if (upto) this.ahead = this.boundary(upto);
    else this.finished = true;
    this.after = upto;
    return chunk;
  }

  observe(rows: number, ms: number): void {
    this.sizer.observe(rows, ms);
  }

  private async boundary(after: KeyValues | undefined): Promise<KeyValues | undefined> {
    const where = keyRange(this.shape.key, after);
    const cols = this.shape.key.map(quoteName).join(', ');
    const [rows] = await this.conn.query(
      {
        sql: `SELECT ${cols} FROM ${this.shape.sql.source.table} WHERE ${where.sql}
          ORDER BY ${cols} LIMIT ${this.sizer.size - 1}, 1`,
        rowsAsArray: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
      },
      where.params,
    );
    return (rows as unknown[][])[0];
  }
}
