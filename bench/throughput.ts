import { join } from 'node:path';
import { cpuTimes, machineBusySeconds, selfAndChildrenSeconds } from './processes.js';
import { type Cell, type HostInfo, hostMarkdown, markdownTable, round, textTable } from './report.js';
import { type DataSet, run, type SysbenchResult, type Workload } from './sysbench.js';
import { startTarget, type TargetName, type Upstream } from './targets.js';

/**
 * Throughput through each target, one at a time: for every workload and target, start the
 * target, warm up, measure, stop it. Rounds repeat the whole sweep, each in a rotated target
 * order, and the median round is kept, which evens out a noisy machine.
 */

export interface ThroughputSettings {
  readonly data: DataSet;
  readonly database: string;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly threads: Readonly<Record<Workload, number>>;
  readonly workloads: readonly Workload[];
  readonly targets: readonly TargetName[];
  readonly rounds: number;
  readonly haproxyThreads: number;
  readonly quick: boolean;
}

export interface Measurement extends SysbenchResult {
  readonly target: TargetName;
  readonly workload: Workload;
  readonly threads: number;
  /** CPU used by the proxy process during the measured run, as % of one core. */
  readonly proxyCpuPercent: number | undefined;
  /** The proxy's CPU time per query, in microseconds: in its own code (user) and in the kernel (sys). */
  readonly proxyUserUsPerQuery: number | undefined;
  readonly proxySysUsPerQuery: number | undefined;
  /**
   * CPU used meanwhile by processes outside the benchmark (other jobs on the machine), as % of
   * one core: high values mean the figures are disturbed and the run should be repeated.
   */
  readonly otherCpuPercent: number;
}

export interface Row extends Measurement {
  readonly ratioToDirect: number | undefined;
  readonly ratioToHaproxy: number | undefined;
  /** QPS of every round, for a sense of the spread. */
  readonly roundsQps: readonly number[];
}

export interface ThroughputReport {
  readonly kind: 'proxy-throughput';
  readonly date: string;
  readonly host: HostInfo;
  readonly settings: ThroughputSettings & { readonly skipped: readonly string[] };
  readonly rows: readonly Row[];
}

type Log = (line: string) => void;

async function measureOne(
  name: TargetName,
  workload: Workload,
  upstream: Upstream,
  s: ThroughputSettings,
  dir: string,
  log: Log,
): Promise<Measurement> {
  const target = await startTarget(name, upstream, {
    dir: join(dir, name),
    haproxyThreads: s.haproxyThreads,
  });
  try {
    const endpoint = { host: target.host, port: target.port, user: 'root', database: s.database };
    const threads = s.threads[workload];
    if (s.warmupSeconds > 0) await run(endpoint, s.data, { workload, threads, seconds: s.warmupSeconds });
    const ours = async () =>
      (await selfAndChildrenSeconds()) +
      (upstream.pid === undefined ? 0 : sum(await cpuTimes(upstream.pid))) +
      (target.pid === undefined ? 0 : sum(await cpuTimes(target.pid)));
    const busyBefore = await machineBusySeconds();
    const oursBefore = await ours();
    const before = target.pid === undefined ? undefined : await cpuTimes(target.pid);
    const started = performance.now();
    const result = await run(endpoint, s.data, { workload, threads, seconds: s.seconds });
    const elapsed = (performance.now() - started) / 1000;
    const after = target.pid === undefined ? undefined : await cpuTimes(target.pid);
    const others = (await machineBusySeconds()) - busyBefore - ((await ours()) - oursBefore);
    const otherCpuPercent = Math.max(0, round((100 * others) / elapsed, 0));
    const queries = result.qps * result.seconds;
    const cpu =
      before && after
        ? {
            proxyCpuPercent: round(
              (100 * (after.user + after.system - before.user - before.system)) / elapsed,
              1,
            ),
            proxyUserUsPerQuery: round(((after.user - before.user) / queries) * 1e6, 1),
            proxySysUsPerQuery: round(((after.system - before.system) / queries) * 1e6, 1),
          }
        : { proxyCpuPercent: undefined, proxyUserUsPerQuery: undefined, proxySysUsPerQuery: undefined };
    log(
      `  ${workload.padEnd(17)} ${name.padEnd(9)} ${result.qps.toFixed(0).padStart(8)} qps  ` +
        `p95 ${result.p95Ms.toFixed(2)} ms` +
        (cpu.proxyCpuPercent === undefined
          ? ''
          : `  proxy cpu ${cpu.proxyCpuPercent}% (${cpu.proxyUserUsPerQuery} + ${cpu.proxySysUsPerQuery} µs/query)`) +
        `  other load ${otherCpuPercent}%` +
        (result.errors > 0 ? `  (${result.errors} ignored errors)` : ''),
    );
    return { ...result, target: name, workload, threads, ...cpu, otherCpuPercent };
  } finally {
    await target.stop();
  }
}

function sum(t: { user: number; system: number }): number {
  return t.user + t.system;
}

function median<T>(items: readonly T[], key: (t: T) => number): T {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export async function measureThroughput(
  upstream: Upstream,
  s: ThroughputSettings,
  dir: string,
  log: Log,
): Promise<Row[]> {
  const all: Measurement[] = [];
  for (let r = 0; r < s.rounds; r++) {
    if (s.rounds > 1) log(`round ${r + 1} of ${s.rounds}`);
    const order = s.targets.map((_, i) => s.targets[(i + r) % s.targets.length]!);
    for (const workload of s.workloads) {
      for (const name of order) all.push(await measureOne(name, workload, upstream, s, dir, log));
    }
  }
  const rows: Row[] = [];
  for (const workload of s.workloads) {
    const chosen = new Map<TargetName, Measurement>();
    for (const name of s.targets) {
      const runs = all.filter((m) => m.workload === workload && m.target === name);
      if (runs.length > 0)
        chosen.set(
          name,
          median(runs, (m) => m.qps),
        );
    }
    const direct = chosen.get('direct')?.qps;
    const haproxy = chosen.get('haproxy')?.qps;
    for (const name of s.targets) {
      const m = chosen.get(name);
      if (!m) continue;
      rows.push({
        ...m,
        ratioToDirect: direct ? round(m.qps / direct, 3) : undefined,
        ratioToHaproxy: haproxy ? round(m.qps / haproxy, 3) : undefined,
        roundsQps: all
          .filter((x) => x.workload === workload && x.target === name)
          .map((x) => round(x.qps, 0)),
      });
    }
  }
  return rows;
}

const HEADER = [
  'target',
  'workload',
  'threads',
  'QPS',
  'p95 ms',
  'x direct',
  'x haproxy',
  'proxy CPU %',
  'proxy user µs/q',
  'proxy sys µs/q',
  'other load %',
];

function cells(rows: readonly Row[]): Cell[][] {
  const opt = (n: number | undefined, digits: number): Cell => (n === undefined ? '-' : n.toFixed(digits));
  return rows.map((r) => [
    r.target,
    r.workload,
    r.threads,
    Math.round(r.qps),
    r.p95Ms.toFixed(2),
    opt(r.ratioToDirect, 2),
    opt(r.ratioToHaproxy, 2),
    opt(r.proxyCpuPercent, 0),
    opt(r.proxyUserUsPerQuery, 1),
    opt(r.proxySysUsPerQuery, 1),
    r.otherCpuPercent,
  ]);
}

export function throughputText(rows: readonly Row[]): string {
  return textTable(HEADER, cells(rows));
}

export function throughputMarkdown(report: ThroughputReport): string {
  const s = report.settings;
  const point = report.rows.find((r) => r.target === 'tandem' && r.workload === 'oltp_point_select');
  const verdict =
    point?.ratioToHaproxy === undefined
      ? ''
      : `\nTarget: tandem point-select QPS >= 0.85 x HAProxy's. Measured: ${point.ratioToHaproxy.toFixed(2)} x ` +
        `(${point.ratioToHaproxy >= 0.85 ? 'met' : 'NOT met'}).\n`;
  return `# Proxy throughput, ${report.date}${s.quick ? ' (quick)' : ''}

${markdownTable(HEADER, cells(report.rows))}
${verdict}
sysbench ${s.workloads.join(', ')}; ${s.data.tables} tables x ${s.data.tableSize} rows; ${s.seconds} s per run after a
${s.warmupSeconds} s warm-up; threads ${Object.entries(s.threads)
    .map(([w, t]) => `${w}=${t}`)
    .join(', ')}; --db-ps-mode=auto; HAProxy nbthread ${s.haproxyThreads}; ${s.rounds} round(s), median kept.
Targets run one after another against one MariaDB server; proxy CPU % is the proxy process's
user+system time over the run (100 = one core); user and sys µs/q split that time per query
into the proxy's own work (user: JavaScript, V8, libuv; HAProxy's C) and the kernel's (sys:
mostly loopback TCP, the same for every proxy). Other load % is the CPU that processes outside
the benchmark used meanwhile (100 = one core); well above 10, the machine was shared and the
figures are disturbed.${s.skipped.length ? `\nSkipped: ${s.skipped.join('; ')}.` : ''}

Machine:
${hostMarkdown(report.host)}
`;
}
