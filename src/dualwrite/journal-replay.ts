import type { Writable } from 'node:stream';
import type { Logger } from '../log.js';
import type { RenameMap } from '../sql/rename.js';
import { openPool } from '../verify/connections.js';
import { journalPass } from '../verify/journal-check.js';
import type { PassContext } from '../verify/pass-context.js';
import { createProgress, silentProgress } from '../verify/progress.js';
import { hashKindOf } from '../verify/row-image.js';
import type { TableOutcome } from '../verify/table-outcome.js';

export interface ReplayResult {
  readonly entries: number;
  readonly fixed: number;
  readonly remaining: number;
  readonly tables: readonly TableOutcome[];
}

const NO_RENAMES: RenameMap = { schemas: {}, tables: {} };

/**
 * `tandem journal replay`: re-applies the repair journal from the current rows of the server
 * that has them, and removes the entries it fixed (lines appended meanwhile are kept).
 *
 * It is the reconciler's journal pass with repairs on: an entry with keys has just those rows
 * repaired, one without has its tables compared chunk by chunk and the differing rows repaired.
 * Every repair locks the rows on both servers in the dual writer's order and compares again
 * under the locks (verify/key-repair.ts), so a replay can run while tandem keeps mirroring
 * writes: it never puts back an older value over a write that landed meanwhile.
 */
export async function replayJournal(opts: {
  source: string;
  target: string;
  stateDir: string;
  logger: Logger;
  rename?: RenameMap;
  /** The reconciler's pacing (config `verify`), for tables compared whole; its defaults otherwise. */
  pacing?: { chunkTimeMs: number; maxRowsPerSecond: number };
  /** Progress lines go here (stderr from the CLI); none when undefined. */
  progress?: { out: Writable; tty: boolean };
}): Promise<ReplayResult> {
  const pool = await openPool({ source: opts.source, target: opts.target });
  try {
    const ctx: PassContext = {
      pool,
      hash: await hashKindOf(pool.source, pool.target),
      fix: true,
      // Each entry repairs from the server that did not miss it; journalPass sets this per table.
      from: 'source',
      chunkTimeMs: opts.pacing?.chunkTimeMs ?? 500,
      maxRowsPerSecond: opts.pacing?.maxRowsPerSecond ?? 0,
      recheckMs: 0,
      progress: opts.progress ? createProgress(opts.progress.out, opts.progress.tty) : silentProgress,
    };
    const r = await journalPass(ctx, opts.stateDir, opts.rename ?? NO_RENAMES);
    for (const t of r.outcomes) {
      if (t.error !== undefined) opts.logger.warn({ table: t.table, err: t.error }, 'could not repair table');
    }
    return { entries: r.entries, fixed: r.resolved, remaining: r.remaining, tables: r.outcomes };
  } finally {
    await pool.close();
  }
}
