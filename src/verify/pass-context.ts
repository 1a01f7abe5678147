import type { ServerName, ServerPool } from './connections.js';
import type { Predicate } from './key-range.js';
import { confirmDifferences, repairKeys } from './key-repair.js';
import type { Progress } from './progress.js';
import { diffRows, type RowDifference, readImages } from './row-diff.js';
import type { HashKind } from './row-image.js';
import type { TableOutcome, TableTally } from './table-outcome.js';
import type { TableShape } from './table-shape.js';

/** What every method needs for one pass over the tables. */
export interface PassContext {
  readonly pool: ServerPool;
  readonly hash: HashKind;
  /** Repair what differs (`--fix`); otherwise only report. */
  readonly fix: boolean;
  /** The authoritative server: repairs copy from it to the other. */
  readonly from: ServerName;
  readonly chunkTimeMs: number;
  readonly maxRowsPerSecond: number;
  /** A dry run reports a difference only if it is still there this long after it was seen. */
  readonly recheckMs: number;
  readonly progress: Progress;
}

export type TableCheck = (ctx: PassContext, shape: TableShape) => Promise<TableOutcome>;

/** Pending differences held for a dry run's recheck before they are confirmed. */
const PENDING_LIMIT = 10_000;

/**
 * Where a method hands the differences it sees. With --fix they are repaired at once (the
 * repair compares again under lock, and counts only what it found still different). Without,
 * they are rechecked after a pause, in batches, and only those still there are counted.
 */
export class Findings {
  private pending: RowDifference[] = [];
  private firstSeen = 0;

  constructor(
    private readonly ctx: PassContext,
    private readonly shape: TableShape,
    private readonly tally: TableTally,
  ) {}

  async add(diffs: readonly RowDifference[]): Promise<void> {
    if (diffs.length === 0) return;
    if (this.ctx.fix) {
      const keys = diffs.map((d) => d.key);
      this.tally.found(await repairKeys(this.ctx.pool, this.shape, keys, this.ctx.from), true);
      return;
    }
    if (this.pending.length === 0) this.firstSeen = Date.now();
    this.pending.push(...diffs);
    if (this.pending.length >= PENDING_LIMIT) await this.flush();
  }

  /** Reads a small range's rows on both servers and takes the ones that differ. */
  async compareRange(where: Predicate): Promise<void> {
    const [a, b] = await Promise.all([
      readImages(this.ctx.pool.source, this.shape, 'source', where),
      readImages(this.ctx.pool.target, this.shape, 'target', where),
    ]);
    await this.add(diffRows(a, b));
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const wait = Math.max(0, this.firstSeen + this.ctx.recheckMs - Date.now());
    const found = this.pending;
    this.pending = [];
    this.tally.found(await confirmDifferences(this.ctx.pool, this.shape, found, wait), false);
  }
}
