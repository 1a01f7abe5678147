import type { Writable } from 'node:stream';
import { parseServerUrl } from '../config.js';
import { readSnapshotRecord } from '../load/snapshot-record.js';
import type { RenameMap } from '../sql/rename.js';
import { CheckpointStore } from './checkpoint-store.js';
import { openPool, type ServerName, type ServerPool } from './connections.js';
import { fullCompare } from './full-compare.js';
import { incrementalCheck } from './incremental-compare.js';
import { journalPass } from './journal-check.js';
import type { PassContext, TableCheck } from './pass-context.js';
import { createProgress } from './progress.js';
import { reverseCheck } from './reverse-check.js';
import { hashKindOf } from './row-image.js';
import { listTables } from './table-list.js';
import { type TableOutcome, TableTally, type VerifyMethod } from './table-outcome.js';
import { describeTable } from './table-shape.js';
import { saveVerification } from './verification-record.js';
import { formatSummary, type PassSummary, summarize, writeReport } from './verify-report.js';

/** Exit codes of `tandem verify`. */
export const VERIFY_EXIT = {
  /** Nothing differs (or everything that differed was repaired). */
  clean: 0,
  /** Differences remain: found by a dry run, or not all repaired. */
  differences: 1,
  /** The comparison could not be made: a server, a table, a file, an option. */
  error: 2,
} as const;

export interface VerifyRunOptions {
  readonly source: string;
  readonly target: string;
  readonly method: VerifyMethod;
  /** `schema.table` patterns; default the source URL's database, else every table in scope. */
  readonly tables?: readonly string[] | undefined;
  readonly fix: boolean;
  readonly follow: boolean;
  readonly report?: string | undefined;
  readonly stateDir: string;
  /** The authoritative server (default source; target after the switch to dual-target). */
  readonly from: ServerName;
  readonly scope: {
    readonly include: readonly string[];
    readonly exclude: readonly string[];
    readonly rename: RenameMap;
  };
  readonly controlSchema?: string | undefined;
  readonly chunkTimeMs: number;
  readonly maxRowsPerSecond: number;
  readonly overlapSeconds: number;
  readonly intervalSeconds: number;
  readonly updateColumns: Readonly<Record<string, string>>;
  /** A dry run's pause before it confirms a difference (writes in flight settle meanwhile). */
  readonly recheckMs?: number | undefined;
  /** --method binlog: how long after a change its row is compared. */
  readonly delayMs?: number | undefined;
  /** The summary table. */
  readonly out: Writable;
  /** Progress and warnings. */
  readonly err: Writable;
  readonly tty: boolean;
  /** Ends --follow after the pass under way (SIGINT). */
  readonly signal?: AbortSignal | undefined;
  /** Ends --follow after this many passes (tests, benchmarks). */
  readonly passes?: number | undefined;
  /** Called after each pass (tests, benchmarks). */
  readonly onPass?: ((summary: PassSummary) => void) | undefined;
  /** --method binlog: called once the binary log is being followed (tests, benchmarks). */
  readonly onReady?: (() => void) | undefined;
}

function exitCodeOf(summary: PassSummary): number {
  if (summary.record.errors > 0) return VERIFY_EXIT.error;
  return summary.record.clean ? VERIFY_EXIT.clean : VERIFY_EXIT.differences;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

/** Prints, stores and reports a pass; returns its exit code. */
async function emitPass(opts: VerifyRunOptions, summary: PassSummary): Promise<number> {
  opts.out.write(formatSummary(summary));
  await saveVerification(opts.stateDir, summary.record);
  if (opts.report) await writeReport(opts.report, summary);
  opts.onPass?.(summary);
  return exitCodeOf(summary);
}

/** Runs one pass, or passes every interval with --follow; resolves to the last pass's exit code. */
export async function runVerify(opts: VerifyRunOptions): Promise<number> {
  if (opts.method === 'binlog') {
    // The binary log is a stream: the method always follows it.
    const { followBinlog } = await import('./binlog-follow.js');
    return followBinlog(opts, (summary) => emitPass(opts, summary));
  }
  const incremental = {
    updateColumns: opts.updateColumns,
    overlapSeconds: opts.overlapSeconds,
    store: new CheckpointStore(opts.stateDir),
    memory: new Map<string, string>(),
    // After `tandem load`: a table with no checkpoint yet starts where the load's snapshot did.
    loadStart:
      opts.method === 'incremental'
        ? (await readSnapshotRecord(opts.stateDir))?.snapshot.reconcileFrom.serverLocal
        : undefined,
  };
  let code: number = VERIFY_EXIT.error;
  for (let pass = 1; ; pass++) {
    code = await emitPass(opts, await onePass(opts, incremental));
    if (!opts.follow || opts.signal?.aborted || (opts.passes !== undefined && pass >= opts.passes))
      return code;
    await sleep(opts.intervalSeconds * 1000, opts.signal);
    if (opts.signal?.aborted) return code;
  }
}

async function onePass(
  opts: VerifyRunOptions,
  incremental: Parameters<typeof incrementalCheck>[0],
): Promise<PassSummary> {
  const started = new Date();
  let pool: ServerPool;
  try {
    pool = await openPool({ source: opts.source, target: opts.target });
  } catch (err) {
    // With --follow a server that is down for a while is waited out; the pass counts as an error.
    return passError(opts, started, (err as Error).message);
  }
  try {
    const ctx: PassContext = {
      pool,
      hash: await hashKindOf(pool.source, pool.target),
      fix: opts.fix,
      from: opts.from,
      chunkTimeMs: opts.chunkTimeMs,
      maxRowsPerSecond: opts.maxRowsPerSecond,
      recheckMs: opts.recheckMs ?? 500,
      progress: createProgress(opts.err, opts.tty),
    };
    if (opts.method === 'journal') {
      const r = await journalPass(ctx, opts.stateDir, opts.scope.rename);
      const what = opts.fix ? `${r.resolved} resolved and removed` : `${r.resolved} resolved (dry run: kept)`;
      return summarize('journal', opts.fix, started, r.outcomes, [
        `journal: ${r.entries} entries, ${what}, ${r.remaining} remaining`,
      ]);
    }
    const check: TableCheck =
      opts.method === 'incremental'
        ? incrementalCheck(incremental)
        : opts.method === 'reverse'
          ? reverseCheck
          : fullCompare;
    const pairs = await listTables(pool.source, {
      patterns: opts.tables,
      database: parseServerUrl(opts.source).database,
      scope: opts.scope,
      rename: opts.scope.rename,
      controlSchema: opts.controlSchema,
    });
    if (pairs.length === 0) {
      return passError(
        opts,
        started,
        `no table on the source matches ${opts.tables?.length ? `--tables ${opts.tables.join(' ')}` : 'the selection'} within the scope`,
      );
    }
    const outcomes: TableOutcome[] = [];
    for (const pair of pairs) {
      try {
        outcomes.push(await check(ctx, await describeTable(pool, pair)));
      } catch (err) {
        outcomes.push(new TableTally(pair.label, opts.method, []).finish((err as Error).message));
      }
    }
    return summarize(opts.method, opts.fix, started, outcomes);
  } catch (err) {
    // A server gone mid-pass, a journal that cannot be read: the pass failed, --follow goes on.
    return passError(opts, started, (err as Error).message);
  } finally {
    await pool.close();
  }
}

function passError(opts: VerifyRunOptions, started: Date, message: string): PassSummary {
  return summarize(opts.method, opts.fix, started, [
    new TableTally('(pass)', opts.method, []).finish(message),
  ]);
}
