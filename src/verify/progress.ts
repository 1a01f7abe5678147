import type { Writable } from 'node:stream';

/**
 * Progress of a pass, table by table. On a terminal, one line redrawn in place with a bar,
 * rows/s and the time left; otherwise (a log, CI) a plain line every few seconds, so that the
 * output stays readable when it is not a terminal.
 */
export interface Progress {
  start(table: string, estimatedRows: number): void;
  /** Rows done so far in the current table. */
  update(rows: number): void;
  /** The table is done: a terminal's line is finished with a newline. */
  done(): void;
}

const BAR = 24;
const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 5000;

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

export function createProgress(out: Writable, tty: boolean): Progress {
  let table = '';
  let total = 0;
  let rows = 0;
  let started = 0;
  let last = 0;

  const line = (): string => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? rows / seconds : 0;
    // information_schema's estimate can be low: never show more than 99% before the end.
    const expected = Math.max(total, rows);
    const share = expected > 0 ? Math.min(rows / expected, 0.99) : 0;
    const eta = rate > 0 ? (expected - rows) / rate : Number.POSITIVE_INFINITY;
    const counts = `${formatCount(rows)}/~${formatCount(expected)} rows, ${formatCount(rate)} rows/s, ETA ${formatDuration(eta)}`;
    if (!tty) return `${table}: ${counts}`;
    const filled = Math.round(share * BAR);
    return `${table} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${Math.floor(share * 100)}% ${counts}`;
  };

  return {
    start(name, estimatedRows) {
      table = name;
      total = estimatedRows;
      rows = 0;
      started = Date.now();
      last = started;
    },
    update(n) {
      rows = n;
      const now = Date.now();
      if (tty && now - last >= REDRAW_MS) {
        out.write(`\r\x1b[K${line()}`);
        last = now;
      } else if (!tty && now - last >= PLAIN_EVERY_MS) {
        out.write(`${line()}\n`);
        last = now;
      }
    },
    done() {
      if (tty) out.write('\r\x1b[K');
    },
  };
}

/** For library use and tests: no output. */
export const silentProgress: Progress = { start() {}, update() {}, done() {} };
