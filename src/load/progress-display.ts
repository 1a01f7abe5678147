/**
 * Progress per table and overall: rows, rows/s and ETA. On a terminal, a block of bars redrawn
 * in place (at most 5 times a second); otherwise one plain line per table every few seconds
 * and when it finishes, so that a log file stays readable. Totals are information_schema's
 * estimates, so the ETA is marked approximate and a bar never passes 100 %.
 */

export interface ProgressSink {
  write(text: string): void;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

interface TableLine {
  readonly name: string;
  readonly estimate: number;
  rows: number;
  bytes: number;
  readonly startedAt: number;
  finishedAt: number | undefined;
  lastPlainAt: number;
}

const REDRAW_MS = 200;
const PLAIN_EVERY_MS = 5000;

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export class ProgressDisplay {
  readonly #tables = new Map<string, TableLine>();
  readonly #startedAt = Date.now();
  #totalEstimate = 0;
  /** The last frame says 100 % once every table is done, whatever the estimates were. */
  #stopped = false;
  #drawnLines = 0;
  /** Finished tables' last lines, printed once above the redrawn block. */
  #settled: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #unit: 'rows' | 'bytes';

  constructor(
    private readonly sink: ProgressSink,
    opts: { unit?: 'rows' | 'bytes' } = {},
  ) {
    this.#unit = opts.unit ?? 'rows';
    if (sink.isTTY) {
      this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
      this.#timer.unref();
    }
  }

  /** The overall total (estimated rows or bytes), for the overall bar and ETA. */
  setTotal(estimate: number): void {
    this.#totalEstimate = estimate;
  }

  start(name: string, estimate: number, alreadyRows = 0): void {
    this.#tables.set(name, {
      name,
      estimate,
      rows: alreadyRows,
      bytes: 0,
      startedAt: Date.now(),
      finishedAt: undefined,
      lastPlainAt: Date.now(),
    });
  }

  add(name: string, rows: number, bytes: number): void {
    const t = this.#tables.get(name);
    if (!t) return;
    t.rows += rows;
    t.bytes += bytes;
    if (!this.sink.isTTY && Date.now() - t.lastPlainAt >= PLAIN_EVERY_MS) {
      t.lastPlainAt = Date.now();
      this.sink.write(`${this.#line(t, false)}\n`);
    }
  }

  finish(name: string): void {
    const t = this.#tables.get(name);
    if (!t) return;
    t.finishedAt = Date.now();
    if (this.sink.isTTY) this.#settled.push(this.#line(t, false));
    else this.sink.write(`${this.#line(t, false)}\n`);
  }

  /** Stops redrawing and leaves the last frame on screen. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stopped = true;
    if (this.sink.isTTY) this.#draw();
  }

  #done(): number {
    let n = 0;
    for (const t of this.#tables.values()) n += this.#unit === 'rows' ? t.rows : t.bytes;
    return n;
  }

  #line(t: TableLine, withBar: boolean): string {
    const seconds = ((t.finishedAt ?? Date.now()) - t.startedAt) / 1000;
    const amount = this.#unit === 'rows' ? t.rows : t.bytes;
    const rate = seconds > 0 ? amount / seconds : 0;
    const fraction = t.finishedAt ? 1 : t.estimate > 0 ? Math.min(0.99, amount / t.estimate) : 0;
    const what =
      this.#unit === 'rows'
        ? `${formatCount(t.rows)} rows, ${formatCount(rate)} rows/s`
        : `${formatBytes(t.bytes)}, ${formatBytes(rate)}/s`;
    const tail = t.finishedAt
      ? `done in ${formatDuration(seconds)}`
      : `ETA ~${formatDuration(rate > 0 ? Math.max(0, t.estimate - amount) / rate : Number.NaN)}`;
    const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    return `${withBar ? `${bar(fraction, 20)} ` : ''}${pct} ${t.name}: ${what}, ${tail}`;
  }

  overall(): string {
    const seconds = (Date.now() - this.#startedAt) / 1000;
    const done = this.#done();
    const rate = seconds > 0 ? done / seconds : 0;
    const allDone = this.#stopped && [...this.#tables.values()].every((t) => t.finishedAt);
    const fraction = allDone ? 1 : this.#totalEstimate > 0 ? Math.min(0.99, done / this.#totalEstimate) : 0;
    const eta = rate > 0 ? Math.max(0, this.#totalEstimate - done) / rate : Number.NaN;
    const finished = [...this.#tables.values()].filter((t) => t.finishedAt).length;
    const what =
      this.#unit === 'rows'
        ? `${formatCount(done)} rows, ${formatCount(rate)} rows/s`
        : `${formatBytes(done)}, ${formatBytes(rate)}/s`;
    return `${bar(fraction, 20)} ${String(Math.floor(fraction * 100)).padStart(3)}% overall: ${what}, ${finished} tables done, elapsed ${formatDuration(seconds)}, ETA ~${formatDuration(eta)}`;
  }

  #draw(): void {
    const width = (this.sink.columns ?? 100) - 1;
    const active = [...this.#tables.values()].filter((t) => !t.finishedAt);
    const lines = [...this.#settled, ...active.map((t) => this.#line(t, true)), this.overall()].map((l) =>
      l.slice(0, width),
    );
    // Up to the first line of the previous frame, then each line cleared as it is rewritten.
    let out = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F` : '';
    for (const l of lines) out += `\x1b[2K${l}\n`;
    for (let i = lines.length; i < this.#drawnLines; i++) out += '\x1b[2K\n';
    const extra = Math.max(0, this.#drawnLines - lines.length);
    if (extra > 0) out += `\x1b[${extra}F`;
    this.#drawnLines = lines.length - this.#settled.length;
    this.#settled = [];
    this.sink.write(out);
  }
}
