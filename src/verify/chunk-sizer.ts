/**
 * Chunk sizes that follow the servers' speed, as pt-table-checksum's --chunk-time does: each
 * chunk should take about `targetMs` on the slower server, so a busy server gets smaller chunks
 * (shorter queries, less buffer pool churn) and an idle one bigger chunks (fewer round trips).
 */
export class ChunkSizer {
  private current: number;

  constructor(
    private readonly targetMs: number,
    initial = 1000,
    private readonly min = 100,
    private readonly max = 1_000_000,
  ) {
    this.current = Math.min(Math.max(initial, min), max);
  }

  get size(): number {
    return this.current;
  }

  /** After a chunk of `rows` rows that took `ms`: aim the next one at the target time. */
  observe(rows: number, ms: number): void {
    // A chunk with few rows (the table's end, a sparse range) says little about the speed.
    if (rows < this.current / 2) return;
    const rate = rows / Math.max(ms, 1);
    const wanted = rate * this.targetMs;
    // At most doubling or halving per chunk: one slow query (a lock, a cold page) is no trend.
    const next = Math.min(Math.max(wanted, this.current / 2), this.current * 2);
    this.current = Math.round(Math.min(Math.max(next, this.min), this.max));
  }
}

/** Keeps a pass under `perSecond` rows per second (0: no limit) by sleeping between chunks. */
export class RateLimiter {
  private readonly started = Date.now();
  private rows = 0;

  constructor(private readonly perSecond: number) {}

  async take(rows: number): Promise<void> {
    this.rows += rows;
    if (this.perSecond <= 0) return;
    const due = this.started + (this.rows / this.perSecond) * 1000;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
