/**
 * Progress per table and overall: rows, rows/s and ETA. On a terminal, a block of bars redrawn
 * in place (at most 5 times a second); otherwise one plain line per table every few seconds
 * and when it finishes, so that a log file stays readable. Totals are information_schema's
 * estimates, so the ETA is marked approximate and a bar never passes 100 %. `snapshot()` gives
 * the same numbers as data, for the admin API and the metrics of a load run inside the proxy.
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
  /** Rows and bytes an earlier run copied: not part of this run's rates. */
  readonly baseRows: number;
  readonly baseBytes: number;
  /** undefined while the table waits for a worker (plan()). */
  startedAt: number | undefined;
  finishedAt: number | undefined;
  lastPlainAt: number;
}

/** One table's numbers; `estimate` counts the display's unit (rows, or bytes for mysqldump). */
export interface TableProgressSnapshot {
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly estimate: number;
  readonly rowsPerSecond: number;
  readonly bytesPerSecond: number;
  /** Approximate (the estimate is information_schema's); 0 once done, null before a rate is known. */
  readonly etaSeconds: number | null;
  readonly started: boolean;
  readonly done: boolean;
  /** Time spent on the table in this run. */
  readonly seconds: number;
}

export interface ProgressSnapshot {
  /** What `estimate` and the ETAs count: rows (copy) or bytes of SQL (mysqldump). */
  readonly unit: 'rows' | 'bytes';
  readonly tables: readonly TableProgressSnapshot[];
  readonly overall: {
    readonly rows: number;
    readonly bytes: number;
    /** Estimates of the tables not done, and what the finished ones really held. */
    readonly estimate: number;
    readonly rowsPerSecond: number;
    readonly bytesPerSecond: number;
    readonly etaSeconds: number | null;
    readonly tablesDone: number;
    readonly tablesTotal: number;
    readonly elapsedSeconds: number;
    /** 0 to 1; 1 only once every table is done. */
    readonly fraction: number;
  };
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

  /**
   * Names a table before a worker takes it, so that the overall total and the snapshot count it;
   * `done` for a table an earlier run finished (counted, never drawn nor printed).
   */
  plan(name: string, estimate: number, opts: { rows?: number; done?: boolean } = {}): void {
    const rows = opts.rows ?? 0;
    const at = opts.done ? Date.now() : undefined;
    this.#tables.set(name, {
      name,
      estimate,
      rows,
      bytes: 0,
      baseRows: rows,
      baseBytes: 0,
      startedAt: at,
      finishedAt: at,
      lastPlainAt: Date.now(),
    });
  }

  start(name: string, estimate: number, alreadyRows = 0): void {
    this.#tables.set(name, {
      name,
      estimate,
      rows: alreadyRows,
      bytes: 0,
      baseRows: alreadyRows,
      baseBytes: 0,
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
    t.startedAt ??= Date.now();
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

  #amount(t: TableLine): number {
    return this.#unit === 'rows' ? t.rows : t.bytes;
  }

  #table(t: TableLine, now: number): TableProgressSnapshot {
    const seconds = t.startedAt === undefined ? 0 : ((t.finishedAt ?? now) - t.startedAt) / 1000;
    const rowsPerSecond = seconds > 0 ? (t.rows - t.baseRows) / seconds : 0;
    const bytesPerSecond = seconds > 0 ? (t.bytes - t.baseBytes) / seconds : 0;
    const rate = this.#unit === 'rows' ? rowsPerSecond : bytesPerSecond;
    const eta = t.finishedAt ? 0 : rate > 0 ? Math.max(0, t.estimate - this.#amount(t)) / rate : null;
    return {
      table: t.name,
      rows: t.rows,
      bytes: t.bytes,
      estimate: t.estimate,
      rowsPerSecond,
      bytesPerSecond,
      etaSeconds: eta,
      started: t.startedAt !== undefined,
      done: t.finishedAt !== undefined,
      seconds,
    };
  }

  /** Every table's numbers and the overall ones, as of now. */
  snapshot(): ProgressSnapshot {
    const now = Date.now();
    const tables = [...this.#tables.values()];
    const elapsedSeconds = (now - this.#startedAt) / 1000;
    let rows = 0;
    let bytes = 0;
    let newRows = 0;
    let newBytes = 0;
    let estimate = 0;
    let remaining = 0;
    let tablesDone = 0;
    for (const t of tables) {
      rows += t.rows;
      bytes += t.bytes;
      newRows += t.rows - t.baseRows;
      newBytes += t.bytes - t.baseBytes;
      const amount = this.#amount(t);
      if (t.finishedAt) {
        tablesDone++;
        estimate += amount;
      } else {
        estimate += Math.max(t.estimate, amount);
        remaining += Math.max(0, t.estimate - amount);
      }
    }
    const rowsPerSecond = elapsedSeconds > 0 ? newRows / elapsedSeconds : 0;
    const bytesPerSecond = elapsedSeconds > 0 ? newBytes / elapsedSeconds : 0;
    const rate = this.#unit === 'rows' ? rowsPerSecond : bytesPerSecond;
    const allDone = tables.length > 0 && tablesDone === tables.length;
    const done = this.#unit === 'rows' ? rows : bytes;
    return {
      unit: this.#unit,
      tables: tables.map((t) => this.#table(t, now)),
      overall: {
        rows,
        bytes,
        estimate,
        rowsPerSecond,
        bytesPerSecond,
        etaSeconds: allDone ? 0 : rate > 0 ? remaining / rate : null,
        tablesDone,
        tablesTotal: tables.length,
        elapsedSeconds,
        fraction: allDone ? 1 : estimate > 0 ? Math.min(0.99, done / estimate) : 0,
      },
    };
  }

  #line(t: TableLine, withBar: boolean): string {
    const s = this.#table(t, Date.now());
    const amount = this.#amount(t);
    const fraction = s.done ? 1 : t.estimate > 0 ? Math.min(0.99, amount / t.estimate) : 0;
    const what =
      this.#unit === 'rows'
        ? `${formatCount(t.rows)} rows, ${formatCount(s.rowsPerSecond)} rows/s`
        : `${formatBytes(t.bytes)}, ${formatBytes(s.bytesPerSecond)}/s`;
    const tail = s.done
      ? `done in ${formatDuration(s.seconds)}`
      : `ETA ~${formatDuration(s.etaSeconds ?? Number.NaN)}`;
    const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    return `${withBar ? `${bar(fraction, 20)} ` : ''}${pct} ${t.name}: ${what}, ${tail}`;
  }

  overall(withBar = true): string {
    const o = this.snapshot().overall;
    // Before stop() the block still shows tables in flight: 100 % only in the last frame.
    const fraction = this.#stopped ? o.fraction : Math.min(0.99, o.fraction);
    const what =
      this.#unit === 'rows'
        ? `${formatCount(o.rows)} rows, ${formatCount(o.rowsPerSecond)} rows/s`
        : `${formatBytes(o.bytes)}, ${formatBytes(o.bytesPerSecond)}/s`;
    return `${withBar ? `${bar(fraction, 20)} ` : ''}${String(Math.floor(fraction * 100)).padStart(3)}% overall: ${what}, ${o.tablesDone} of ${o.tablesTotal} tables done, elapsed ${formatDuration(o.elapsedSeconds)}, ETA ~${formatDuration(o.etaSeconds ?? Number.NaN)}`;
  }

  #draw(): void {
    const width = (this.sink.columns ?? 100) - 1;
    const active = [...this.#tables.values()].filter((t) => t.startedAt !== undefined && !t.finishedAt);
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
