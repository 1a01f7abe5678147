import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { markdownTable, round, textTable } from './report.js';
import { REPO } from './targets.js';

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): time spent in each function itself (self)
 * and with its callees (total), grouped by function and location.
 *
 * As a program: node --import tsx bench/cpu-profile.ts FILE.cpuprofile [--top 30]
 */

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Percentages are of the busy time outside socket calls. */
export interface HotSpot {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  readonly selfPercent: number;
  readonly totalMs: number;
  readonly totalPercent: number;
}

export interface ProfileSummary {
  readonly sampledMs: number;
  /** Share of the busy (non-idle) time per area: socket calls, tandem's code, node/V8 internals, GC. */
  readonly areas: Readonly<Record<string, number>>;
  readonly hotSpots: readonly HotSpot[];
}

function where(frame: CallFrame): string {
  if (!frame.url) return '';
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const shown = path.startsWith(REPO) ? relative(REPO, path) : path;
  return `${shown}:${frame.lineNumber + 1}`;
}

/**
 * Native socket calls. V8 samples on a wall-clock timer, so a write() on loopback is charged with
 * the kernel's TCP work and with any time the thread waits to be scheduled again after waking
 * the reader: on a busy machine it dwarfs everything else. It is reported apart, and the hot
 * spots are shares of the rest (JavaScript, V8, GC).
 */
const SOCKET_NATIVES = new Set([
  'writeBuffer',
  'writev',
  'writeUtf8String',
  'writeLatin1String',
  'readStart',
]);

function area(frame: CallFrame): string {
  const name = frame.functionName;
  if (!frame.url && SOCKET_NATIVES.has(name)) return 'socket calls';
  if (name === '(garbage collector)') return 'gc';
  if (name === '(program)') return 'program';
  if (name === '(idle)') return 'idle';
  if (frame.url.includes('/dist/') || frame.url.includes('/src/')) return 'tandem';
  if (frame.url.includes('node_modules')) return 'dependencies';
  return 'node and V8';
}

export function summarise(profile: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\0${where(n.callFrame)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let sampledMs = 0;
  let busyMs = 0;
  let socketMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    sampledMs += ms;
    const a = area(node.callFrame);
    if (a === 'idle') return;
    busyMs += ms;
    areas.set(a, (areas.get(a) ?? 0) + ms);
    if (a === 'socket calls') {
      socketMs += ms;
      return;
    }
    self.set(key(node), (self.get(key(node)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  });
  const restMs = busyMs - socketMs;
  const hotSpots = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, ms]) => {
      const [fn = '', at = ''] = k.split('\0');
      const t = total.get(k) ?? ms;
      return {
        fn,
        where: at,
        selfMs: round(ms, 0),
        selfPercent: round((100 * ms) / restMs, 1),
        totalMs: round(t, 0),
        totalPercent: round((100 * t) / restMs, 1),
      };
    });
  return {
    sampledMs: round(sampledMs, 0),
    areas: Object.fromEntries([...areas.entries()].map(([a, ms]) => [a, round((100 * ms) / busyMs, 1)])),
    hotSpots,
  };
}

/** The heaviest functions by total time among tandem's own code, where a change would pay. */
export function tandemTotals(profile: CpuProfile, top = 20): HotSpot[] {
  const all = summarise(profile, Number.MAX_SAFE_INTEGER).hotSpots;
  return [...all]
    .filter((h) => h.where.startsWith('dist/') || h.where.startsWith('src/'))
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, top);
}

export async function readProfile(file: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
}

const HEADER = ['function', 'where', 'self ms', 'self %', 'total ms', 'total %'];

function cells(spots: readonly HotSpot[]): (string | number)[][] {
  return spots.map((h) => [h.fn, h.where || '-', h.selfMs, h.selfPercent, h.totalMs, h.totalPercent]);
}

export function hotSpotsText(spots: readonly HotSpot[]): string {
  return textTable(HEADER, cells(spots));
}

export function hotSpotsMarkdown(spots: readonly HotSpot[]): string {
  return markdownTable(
    HEADER,
    cells(spots).map((r) => r.map((c, i) => (i < 2 ? `\`${c}\`` : c))),
  );
}

async function main(argv: string[]): Promise<void> {
  const file = argv.find((a) => !a.startsWith('--'));
  if (!file) throw new Error('usage: bench/cpu-profile.ts FILE.cpuprofile [--top N]');
  const i = argv.indexOf('--top');
  const top = i >= 0 ? Number(argv[i + 1]) : 30;
  const profile = await readProfile(file);
  const summary = summarise(profile, top);
  process.stdout.write(
    `sampled ${summary.sampledMs} ms; busy time by area (%): ${JSON.stringify(summary.areas)}\n\n`,
  );
  process.stdout.write(`By self time:\n${hotSpotsText(summary.hotSpots)}\n\n`);
  process.stdout.write(`tandem's functions by total time:\n${hotSpotsText(tandemTotals(profile, top))}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
