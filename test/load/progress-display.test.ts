import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressDisplay } from '../../src/load/progress-display.js';

/** The numbers behind the progress lines, on a fake clock. */

function plainSink(): { write(text: string): void; lines: string[] } {
  const lines: string[] = [];
  return { write: (text: string) => lines.push(...text.trimEnd().split('\n')), lines };
}

describe('progress snapshot', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives rows, rows/s and ETA per table and overall, and counts tables waiting for a worker', () => {
    const display = new ProgressDisplay(plainSink());
    display.plan('shop.orders', 10_000);
    display.plan('shop.items', 4_000);
    display.start('shop.orders', 10_000);
    vi.advanceTimersByTime(2000);
    display.add('shop.orders', 4_000, 400_000);
    const s = display.snapshot();
    expect(s.unit).toBe('rows');
    expect(s.tables).toEqual([
      {
        table: 'shop.orders',
        rows: 4000,
        bytes: 400_000,
        estimate: 10_000,
        rowsPerSecond: 2000,
        bytesPerSecond: 200_000,
        etaSeconds: 3,
        started: true,
        done: false,
        seconds: 2,
      },
      {
        table: 'shop.items',
        rows: 0,
        bytes: 0,
        estimate: 4000,
        rowsPerSecond: 0,
        bytesPerSecond: 0,
        etaSeconds: null,
        started: false,
        done: false,
        seconds: 0,
      },
    ]);
    expect(s.overall).toMatchObject({
      rows: 4000,
      estimate: 14_000,
      rowsPerSecond: 2000,
      etaSeconds: 5,
      tablesDone: 0,
      tablesTotal: 2,
      elapsedSeconds: 2,
    });
    expect(s.overall.fraction).toBeCloseTo(4 / 14);
  });

  it('counts what a finished table really held, not its estimate, and says 100 % only when all are done', () => {
    const display = new ProgressDisplay(plainSink());
    display.start('a', 1000);
    display.start('b', 1000);
    vi.advanceTimersByTime(1000);
    display.add('a', 1500, 0);
    display.finish('a');
    let o = display.snapshot().overall;
    expect(o.estimate).toBe(2500);
    expect(o.tablesDone).toBe(1);
    expect(o.fraction).toBeCloseTo(0.6);
    display.add('b', 900, 0);
    display.finish('b');
    o = display.snapshot().overall;
    expect(o).toMatchObject({ rows: 2400, estimate: 2400, etaSeconds: 0, fraction: 1, tablesDone: 2 });
    expect(display.snapshot().tables.every((t) => t.done && t.etaSeconds === 0)).toBe(true);
  });

  it('leaves rows of an earlier run out of the rates of a resumed load', () => {
    const sink = plainSink();
    const display = new ProgressDisplay(sink);
    display.plan('done.before', 500, { rows: 500, done: true });
    display.start('half.way', 10_000, 6_000);
    vi.advanceTimersByTime(4000);
    display.add('half.way', 2_000, 0);
    const s = display.snapshot();
    expect(s.tables[1]).toMatchObject({ rows: 8000, rowsPerSecond: 500, etaSeconds: 4 });
    expect(s.overall).toMatchObject({ rows: 8500, rowsPerSecond: 500, tablesDone: 1, tablesTotal: 2 });
    display.finish('half.way');
    display.stop();
    // Plain lines: only the table this run finished, never the earlier run's.
    expect(sink.lines).toEqual(['100% half.way: 8,000 rows, 500 rows/s, done in 4.0s']);
    expect(display.overall()).toContain('100% overall: 8,500 rows, 500 rows/s, 2 of 2 tables done');
  });

  it('counts bytes for a display in bytes, as the mysqldump method reports', () => {
    const display = new ProgressDisplay(plainSink(), { unit: 'bytes' });
    display.start('dump', 1_000_000);
    vi.advanceTimersByTime(2000);
    display.add('dump', 0, 250_000);
    const s = display.snapshot();
    expect(s.unit).toBe('bytes');
    expect(s.overall).toMatchObject({ rows: 0, bytes: 250_000, bytesPerSecond: 125_000, etaSeconds: 6 });
  });
});
