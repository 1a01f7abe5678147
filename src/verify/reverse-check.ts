import type { Connection } from 'mysql2/promise';
import { ChunkSizer, RateLimiter } from './chunk-sizer.js';
import { type KeyValues, keyRange, keyString, quoteName } from './key-range.js';
import { Findings, type PassContext } from './pass-context.js';
import type { RowDifference } from './row-diff.js';
import { type TableOutcome, TableTally } from './table-outcome.js';
import type { TableShape } from './table-shape.js';

/**
 * The reverse check for hard deletes: rows on the target whose key the source no longer has.
 * The incremental method reads the source, so a delete that the target missed is invisible to
 * it. Key ranges of the target are read (keys only), the same range's keys on the source, and
 * the target's keys the source lacks are extra; --fix deletes them (under the source's gap lock,
 * see key-repair.ts, so a row inserted meanwhile is never deleted).
 */

const KEY_READ = {
  rowsAsArray: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: true,
} as const;

async function keysIn(
  conn: Connection,
  table: string,
  key: readonly string[],
  after: KeyValues | undefined,
  upto: KeyValues | undefined,
  limit?: number,
): Promise<KeyValues[]> {
  const where = keyRange(key, after, upto);
  const cols = key.map(quoteName).join(', ');
  const [rows] = await conn.query(
    {
      sql: `SELECT ${cols} FROM ${table} WHERE ${where.sql} ORDER BY ${cols}${limit ? ` LIMIT ${limit}` : ''}`,
      ...KEY_READ,
    },
    where.params,
  );
  return rows as unknown[][];
}

export async function reverseCheck(ctx: PassContext, shape: TableShape): Promise<TableOutcome> {
  const tally = new TableTally(shape.pair.label, 'reverse', shape.key);
  if (shape.key.length === 0) {
    tally.note('skipped: no primary or NOT NULL unique key: use --method full');
    return tally.finish();
  }
  const findings = new Findings(ctx, shape, tally);
  const sizer = new ChunkSizer(ctx.chunkTimeMs, 5000);
  const limiter = new RateLimiter(ctx.maxRowsPerSecond);
  ctx.progress.start(`${shape.pair.label} (target keys)`, shape.estimatedRows);
  try {
    let after: KeyValues | undefined;
    for (;;) {
      const started = performance.now();
      const onTarget = await keysIn(
        ctx.pool.target,
        shape.sql.target.table,
        shape.key,
        after,
        undefined,
        sizer.size,
      );
      if (onTarget.length === 0) break;
      const upto = onTarget[onTarget.length - 1]!;
      const onSource = new Set(
        (await keysIn(ctx.pool.source, shape.sql.source.table, shape.key, after, upto)).map(keyString),
      );
      const extra: RowDifference[] = onTarget
        .filter((k) => !onSource.has(keyString(k)))
        .map((key) => ({ kind: 'extra', key }));
      await findings.add(extra);
      sizer.observe(onTarget.length, performance.now() - started);
      tally.rowsCompared += onTarget.length;
      ctx.progress.update(tally.rowsCompared);
      await limiter.take(onTarget.length);
      after = upto;
    }
    await findings.flush();
  } finally {
    ctx.progress.done();
  }
  return tally.finish();
}
