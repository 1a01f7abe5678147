import type { Writable } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import { parseServerUrl } from '../config.js';
import { openPool } from './connections.js';
import { type KeyValues, keyString } from './key-range.js';
import { compareKeys } from './key-repair.js';
import { Findings, type PassContext } from './pass-context.js';
import { createProgress } from './progress.js';
import { hashKindOf } from './row-image.js';
import { listTables, type TablePair } from './table-list.js';
import { TableTally } from './table-outcome.js';
import { describeTable, type TableShape } from './table-shape.js';
import { VerifyError } from './verify-error.js';
import { type PassSummary, summarize } from './verify-report.js';

/**
 * `--method binlog`: follows the source's row-based binary log (with @vlasky/zongji, as a
 * replica would) and re-checks on the target each row that a change touched, after a short
 * delay that lets the dual write's second half land. It starts at the end of the log: rows
 * changed before it started are the full compare's business. Every `intervalSeconds` the rows
 * checked in that period make one pass (summary, record, report), as with --follow.
 *
 * Needs on the source: log_bin=ON, binlog_format=ROW, and an account with REPLICATION SLAVE
 * and REPLICATION CLIENT. Statements that change rows without row events (TRUNCATE, DDL) are
 * not seen; nor are keys of types that the log decodes to something else than their text
 * (keys are compared by the text the servers print).
 */

export interface BinlogRun {
  readonly source: string;
  readonly target: string;
  readonly tables?: readonly string[] | undefined;
  readonly fix: boolean;
  readonly from: 'source' | 'target';
  readonly scope: Parameters<typeof listTables>[1]['scope'] & {
    readonly rename: Parameters<typeof listTables>[1]['rename'];
  };
  readonly controlSchema?: string | undefined;
  readonly chunkTimeMs: number;
  readonly intervalSeconds: number;
  /** How long after a change its row is compared (default 1000 ms). */
  readonly delayMs?: number | undefined;
  readonly err: Writable;
  readonly tty: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly passes?: number | undefined;
  readonly onReady?: (() => void) | undefined;
}

interface Pending {
  readonly key: KeyValues;
  readonly at: number;
}

type RowImage = Record<string, unknown>;

interface RowsEventLike {
  getEventName(): string;
  tableId?: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string }>;
  rows?: (RowImage | { before: RowImage; after: RowImage })[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function requireRowBinlog(conn: Connection): Promise<void> {
  const [rows] = await conn.query({ sql: 'SELECT @@log_bin, @@binlog_format', rowsAsArray: true });
  const [logBin, format] = (rows as unknown[][])[0] ?? [];
  if (Number(logBin) !== 1) {
    throw new VerifyError(
      'VERIFY_UNSUPPORTED',
      'the source writes no binary log (log_bin is OFF): start it with --log-bin --binlog-format=ROW, ' +
        'or use --method incremental --follow',
    );
  }
  if (String(format).toUpperCase() !== 'ROW') {
    throw new VerifyError(
      'VERIFY_UNSUPPORTED',
      `the source's binlog_format is ${String(format)}: row events are needed (SET GLOBAL binlog_format = 'ROW', ` +
        'then reconnect the applications)',
    );
  }
}

/** Runs until the signal (or `passes` periods); calls `emit` once per period that checked rows. */
export async function followBinlog(
  run: BinlogRun,
  emit: (s: PassSummary) => Promise<number>,
): Promise<number> {
  const pool = await openPool({ source: run.source, target: run.target });
  let zongji: { stop(): void } | undefined;
  try {
    await requireRowBinlog(pool.source);
    const ctx: PassContext = {
      pool,
      hash: await hashKindOf(pool.source, pool.target),
      fix: run.fix,
      from: run.from,
      chunkTimeMs: run.chunkTimeMs,
      maxRowsPerSecond: 0,
      recheckMs: 100,
      progress: createProgress(run.err, run.tty),
    };
    const pairs = new Map<string, TablePair>();
    for (const p of await listTables(pool.source, {
      patterns: run.tables,
      database: parseServerUrl(run.source).database,
      scope: run.scope,
      rename: run.scope.rename,
      controlSchema: run.controlSchema,
    })) {
      pairs.set(`${p.source.schema}.${p.source.table}`, p);
    }
    if (pairs.size === 0)
      throw new VerifyError('VERIFY_USAGE', 'no table on the source matches the selection');
    const shapes = new Map<string, TableShape>();

    const pending = new Map<string, Map<string, Pending>>();
    let seen = 0;
    let failure: Error | undefined;
    const note = (table: string, key: KeyValues) => {
      let keys = pending.get(table);
      if (!keys) {
        keys = new Map();
        pending.set(table, keys);
      }
      // A later change to the same row pushes its check back: it is compared once it has settled.
      keys.set(keyString(key), { key, at: Date.now() });
      seen++;
    };

    // Shapes (and so key columns) are needed to read keys out of row images: described up front.
    for (const [name, pair] of pairs) {
      const shape = await describeTable(pool, pair);
      if (shape.key.length > 0) shapes.set(name, shape);
      else {
        pairs.delete(name);
        run.err.write(`${pair.label}: no primary or NOT NULL unique key: not followed (use --method full)\n`);
      }
    }

    // Loaded only here: nothing else in tandem needs a binlog client.
    const { default: ZongJi } = await import('@vlasky/zongji');
    const a = parseServerUrl(run.source);
    const z = new ZongJi({
      host: a.host,
      port: a.port,
      user: a.user,
      password: a.password,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      jsonStrings: true,
    });
    zongji = z;
    const ready = new Promise<void>((resolve, reject) => {
      z.on('ready', () => resolve());
      z.on('error', (err: Error) => {
        failure = err;
        reject(err);
      });
    });
    z.on('binlog', (raw: unknown) => {
      const evt = raw as RowsEventLike;
      const name = evt.getEventName();
      if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') return;
      const t = evt.tableMap?.[evt.tableId ?? -1];
      if (!t) return;
      const table = `${t.parentSchema}.${t.tableName}`;
      if (!pairs.has(table)) return;
      const key = shapes.get(table)?.key;
      if (!key) return;
      for (const row of evt.rows ?? []) {
        const images =
          'before' in row && 'after' in row
            ? [row.before as RowImage, row.after as RowImage]
            : [row as RowImage];
        for (const image of images)
          note(
            table,
            key.map((k) => image[k] ?? null),
          );
      }
    });
    // Unique among the source's replicas: a clash would disconnect one of them.
    const serverId = 0x7a000000 + (process.pid & 0xffffff);
    z.start({
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
      startAtEnd: true,
      serverId,
    });
    await ready.catch((err: Error) => {
      throw new VerifyError('VERIFY_CONNECT', `cannot follow the source's binary log: ${err.message}`);
    });
    run.onReady?.();
    const delayMs = run.delayMs ?? 1000;
    let code = 0;
    for (let period = 1; ; period++) {
      const started = new Date();
      const ends = Date.now() + run.intervalSeconds * 1000;
      const tallies = new Map<string, TableTally>();
      while (Date.now() < ends && !run.signal?.aborted && !failure) {
        await sleep(Math.min(100, delayMs));
        const due = Date.now() - delayMs;
        for (const [table, keys] of pending) {
          const shape = shapes.get(table);
          if (!shape) continue;
          const ready = [...keys.entries()].filter(([, p]) => p.at <= due);
          if (ready.length === 0) continue;
          for (const [k] of ready) keys.delete(k);
          const rowKeys = ready.map(([, p]) => p.key);
          const tally = tallies.get(table) ?? new TableTally(shape.pair.label, 'binlog', shape.key);
          tallies.set(table, tally);
          const findings = new Findings(ctx, shape, tally);
          await findings.add(await compareKeys(pool, shape, rowKeys));
          await findings.flush();
          tally.rowsCompared += rowKeys.length;
        }
      }
      if (failure)
        throw new VerifyError('VERIFY_CONNECT', `the binary log stream failed: ${failure.message}`);
      if (tallies.size > 0) {
        const waiting = [...pending.values()].reduce((n, m) => n + m.size, 0);
        code = await emit(
          summarize(
            'binlog',
            run.fix,
            started,
            [...tallies.values()].map((t) => t.finish()),
            [`binlog: ${seen} row changes seen so far, ${waiting} waiting for their delay`],
          ),
        );
      }
      if (run.signal?.aborted || (run.passes !== undefined && period >= run.passes)) return code;
    }
  } finally {
    zongji?.stop();
    await pool.close();
  }
}
