import { keyObject } from './key-range.js';
import type { DifferenceKind, RowDifference } from './row-diff.js';

export const METHODS = ['full', 'incremental', 'reverse', 'binlog', 'journal'] as const;
export type VerifyMethod = (typeof METHODS)[number];

/** One differing row in the report: its key by column name, and whether it was repaired. */
export interface ReportedDifference {
  /** `missing`: on the source only; `extra`: on the target only; `changed`; `table`: a table without a unique key differs. */
  readonly kind: DifferenceKind | 'table';
  readonly key: Readonly<Record<string, unknown>>;
  readonly fixed: boolean;
}

export interface TableOutcome {
  readonly table: string;
  readonly method: VerifyMethod;
  readonly rowsCompared: number;
  readonly differing: number;
  readonly fixed: number;
  readonly seconds: number;
  readonly differences: readonly ReportedDifference[];
  /** More differences than the report keeps in memory: counts stay exact, keys stop. */
  readonly truncated: boolean;
  readonly notes: readonly string[];
  /** The table could not be compared (exit code 2). */
  readonly error?: string;
}

/** Keys kept per table for the report. */
const REPORT_LIMIT = 1_000_000;

/** Counts for one table as a pass goes. */
export class TableTally {
  private readonly started = Date.now();
  rowsCompared = 0;
  private differing = 0;
  private fixed = 0;
  private readonly differences: ReportedDifference[] = [];
  private readonly notes: string[] = [];

  constructor(
    readonly table: string,
    readonly method: VerifyMethod,
    private readonly keyColumns: readonly string[],
  ) {}

  /** Differences confirmed (still there after a recheck, or found under lock by a repair). */
  found(diffs: readonly RowDifference[], fixed: boolean): void {
    this.differing += diffs.length;
    if (fixed) this.fixed += diffs.length;
    for (const d of diffs) {
      if (this.differences.length >= REPORT_LIMIT) break;
      this.differences.push({ kind: d.kind, key: keyObject(this.keyColumns, d.key), fixed });
    }
  }

  /** A table compared as a whole (no unique key): one difference without a key. */
  tableDiffers(detail: Record<string, unknown>, fixed: boolean): void {
    this.differing += 1;
    if (fixed) this.fixed += 1;
    this.differences.push({ kind: 'table', key: detail, fixed });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  finish(error?: string): TableOutcome {
    return Object.freeze({
      table: this.table,
      method: this.method,
      rowsCompared: this.rowsCompared,
      differing: this.differing,
      fixed: this.fixed,
      seconds: (Date.now() - this.started) / 1000,
      differences: this.differences,
      truncated: this.differing > this.differences.length,
      notes: this.notes,
      ...(error === undefined ? {} : { error }),
    });
  }
}
