import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO, tandemNodeFlagsFromEnv } from './targets.js';

/** Tables for the terminal and Markdown, and the files under bench/results/. */

const execFileAsync = promisify(execFile);

export const RESULTS_DIR = join(REPO, 'bench', 'results');

export interface HostInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly commit: string;
  readonly [tool: string]: string | number;
}

export async function hostInfo(tools: Record<string, string> = {}): Promise<HostInfo> {
  const commit = await execFileAsync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])
    .then(({ stdout }) => stdout.trim())
    .catch(() => 'unknown');
  const dirty = await execFileAsync('git', ['-C', REPO, 'status', '--porcelain', '--', 'src'])
    .then(({ stdout }) => stdout.trim().length > 0)
    .catch(() => false);
  const nodeFlags = tandemNodeFlagsFromEnv().join(' ');
  return {
    ...(nodeFlags ? { tandemNodeFlags: nodeFlags } : {}),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit: dirty ? `${commit} (src/ modified)` : commit,
    ...tools,
  };
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export type Cell = string | number;

/** Columns of numbers (or '-' for none), to be right-aligned. */
function numericColumns(header: readonly string[], rows: readonly (readonly Cell[])[]): boolean[] {
  return header.map((_, i) =>
    rows.every((r) => typeof r[i] === 'number' || /^(-|-?\d+(\.\d+)?)$/.test(String(r[i]))),
  );
}

/** A fixed-width table for the terminal: numbers right-aligned, text left-aligned. */
export function textTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = numericColumns(header, rows);
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const numeric = numericColumns(header, rows);
  return [
    `| ${header.join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(String).join(' | ')} |`),
  ].join('\n');
}

export function hostMarkdown(host: HostInfo): string {
  return Object.entries(host)
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n');
}

export interface ResultsLabel {
  /** A quick run: files get `-quick` and latest-* is left alone. */
  readonly quick: boolean;
  /** A labelled experiment (--tag, BENCH_TAG): files get `-<tag>` and latest-* is left alone. */
  readonly tag?: string | undefined;
}

/** Writes `<date>-<stem>[-quick][-<tag>].json` and `.md`, and `latest-<stem>.md` for a plain full run. */
export async function saveResults(
  stem: string,
  json: unknown,
  markdown: string,
  label: ResultsLabel,
): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const suffix = `${label.quick ? '-quick' : ''}${label.tag ? `-${label.tag}` : ''}`;
  const base = join(RESULTS_DIR, `${today()}-${stem}${suffix}`);
  const files = [`${base}.json`, `${base}.md`];
  await writeFile(files[0]!, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(files[1]!, markdown);
  if (!suffix) {
    const latest = join(RESULTS_DIR, `latest-${stem}.md`);
    await writeFile(latest, markdown);
    files.push(latest);
  }
  return files;
}

export function checkTag(tag: string | undefined): string | undefined {
  if (tag !== undefined && !/^[\w.-]+$/.test(tag))
    throw new Error(`--tag must be letters, digits, . _ or -, got ${tag}`);
  return tag || undefined;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function mib(bytes: number): number {
  return round(bytes / 2 ** 20, 1);
}
