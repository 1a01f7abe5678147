import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatCount } from './progress.js';
import type { TableOutcome } from './table-outcome.js';
import type { VerificationRecord } from './verification-record.js';

/** The outcome of a pass: what the operator reads, what the state directory keeps. */
export interface PassSummary {
  readonly record: VerificationRecord;
  readonly outcomes: readonly TableOutcome[];
  /** Lines about the pass as a whole (the journal's entries, for instance). */
  readonly notes: readonly string[];
}

export function summarize(
  method: string,
  fix: boolean,
  startedAt: Date,
  outcomes: readonly TableOutcome[],
  notes: readonly string[] = [],
): PassSummary {
  const sum = (f: (o: TableOutcome) => number) => outcomes.reduce((n, o) => n + f(o), 0);
  const differing = sum((o) => o.differing);
  const fixed = sum((o) => o.fixed);
  const errors = outcomes.filter((o) => o.error !== undefined).length;
  return {
    record: {
      method,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      clean: errors === 0 && differing === fixed,
      fix,
      tables: outcomes.length,
      rowsCompared: sum((o) => o.rowsCompared),
      differing,
      fixed,
      errors,
    },
    outcomes,
    notes,
  };
}

/** One line per table, then the total; notes and errors below. */
export function formatSummary(summary: PassSummary): string {
  const header = ['table', 'rows compared', 'differing', 'fixed', 'seconds', 'rows/s'];
  const row = (o: {
    table: string;
    rowsCompared: number;
    differing: number;
    fixed: number;
    seconds: number;
  }) => [
    o.table,
    formatCount(o.rowsCompared),
    formatCount(o.differing),
    formatCount(o.fixed),
    o.seconds.toFixed(2),
    o.seconds > 0 ? formatCount(o.rowsCompared / o.seconds) : '-',
  ];
  const r = summary.record;
  const seconds = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
  const rows = [
    header,
    ...summary.outcomes.map(row),
    row({ table: 'total', rowsCompared: r.rowsCompared, differing: r.differing, fixed: r.fixed, seconds }),
  ];
  const widths = header.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = rows.map(line);
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  for (const o of summary.outcomes) {
    for (const n of o.notes) out.push(`${o.table}: ${n}`);
    if (o.error !== undefined) out.push(`${o.table}: ERROR ${o.error}`);
  }
  out.push(...summary.notes);
  const verdict = r.clean
    ? r.differing > 0
      ? `clean: ${r.fixed} differing rows repaired`
      : 'clean: no differences'
    : r.errors > 0
      ? `not clean: ${r.errors} tables could not be compared`
      : `not clean: ${r.differing - r.fixed} differing rows${r.fix ? ' not repaired' : ' (dry run: --fix repairs them)'}`;
  out.push(`${r.method}: ${verdict}`);
  return `${out.join('\n')}\n`;
}

/** `--report FILE`: every differing key, as JSON. */
export async function writeReport(file: string, summary: PassSummary): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const doc = {
    ...summary.record,
    notes: summary.notes,
    tables: summary.outcomes.map((o) => ({
      table: o.table,
      method: o.method,
      rowsCompared: o.rowsCompared,
      differing: o.differing,
      fixed: o.fixed,
      seconds: o.seconds,
      notes: o.notes,
      ...(o.error === undefined ? {} : { error: o.error }),
      truncated: o.truncated,
      differences: o.differences,
    })),
  };
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
}
