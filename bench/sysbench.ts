import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

/** Runs sysbench's OLTP Lua scripts against one MySQL endpoint and reads its final report. */

const execFileAsync = promisify(execFile);

export const SYSBENCH = process.env['SYSBENCH'] ?? '/usr/bin/sysbench';

export type Workload = 'oltp_point_select' | 'oltp_read_write';

export interface SysbenchTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

export interface DataSet {
  readonly tables: number;
  readonly tableSize: number;
}

export interface SysbenchResult {
  readonly qps: number;
  readonly tps: number;
  readonly p95Ms: number;
  readonly avgMs: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly reconnects: number;
  readonly seconds: number;
}

export function sysbenchAvailable(): boolean {
  return existsSync(SYSBENCH);
}

function commonArgs(target: SysbenchTarget, data: DataSet): string[] {
  return [
    '--db-driver=mysql',
    `--mysql-host=${target.host}`,
    `--mysql-port=${target.port}`,
    `--mysql-user=${target.user}`,
    '--mysql-password=',
    `--mysql-db=${target.database}`,
    `--tables=${data.tables}`,
    `--table-size=${data.tableSize}`,
  ];
}

async function sysbench(args: readonly string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await execFileAsync(SYSBENCH, [...args], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const out = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`sysbench ${args.join(' ')} failed: ${e.message}\n${out}`);
  }
}

/** Creates and fills the sbtest tables (oltp_common's prepare, one table per thread). */
export async function prepare(target: SysbenchTarget, data: DataSet, threads: number): Promise<void> {
  await sysbench(
    [
      'oltp_read_write',
      ...commonArgs(target, data),
      `--threads=${Math.min(threads, data.tables)}`,
      'prepare',
    ],
    60 * 60_000,
  );
}

/** Reads every table and index into the buffer pool, so that the first target measured is not penalised. */
export async function prewarm(target: SysbenchTarget, data: DataSet): Promise<void> {
  await sysbench(
    ['oltp_read_write', ...commonArgs(target, data), `--threads=${Math.min(4, data.tables)}`, 'prewarm'],
    30 * 60_000,
  );
}

export interface RunOptions {
  readonly workload: Workload;
  readonly threads: number;
  readonly seconds: number;
}

export async function run(target: SysbenchTarget, data: DataSet, opts: RunOptions): Promise<SysbenchResult> {
  const stdout = await sysbench(
    [
      opts.workload,
      ...commonArgs(target, data),
      `--threads=${opts.threads}`,
      `--time=${opts.seconds}`,
      '--db-ps-mode=auto',
      '--report-interval=0',
      '--percentile=95',
      // A deadlock in read_write is counted and retried, as real apps do, not fatal.
      '--mysql-ignore-errors=1213,1020,1205',
      'run',
    ],
    (opts.seconds + 120) * 1000,
  );
  return parseReport(stdout);
}

function number(text: string, re: RegExp, what: string): number {
  const m = re.exec(text);
  if (!m?.[1]) throw new Error(`sysbench report has no ${what}:\n${text}`);
  return Number(m[1]);
}

/**
 * sysbench 1.0's report, e.g.
 *     queries:                             1234 (4567.89 per sec.)
 *     ignored errors:                      0      (0.00 per sec.)
 *          95th percentile:                        0.80
 */
export function parseReport(text: string): SysbenchResult {
  return {
    qps: number(text, /^\s*queries:\s+\d+\s+\(([\d.]+) per sec/m, 'queries per second'),
    tps: number(text, /^\s*transactions:\s+\d+\s+\(([\d.]+) per sec/m, 'transactions per second'),
    p95Ms: number(text, /^\s*95th percentile:\s+([\d.]+)/m, '95th percentile'),
    avgMs: number(text, /^\s*avg:\s+([\d.]+)/m, 'average latency'),
    maxMs: number(text, /^\s*max:\s+([\d.]+)/m, 'maximum latency'),
    errors: number(text, /^\s*ignored errors:\s+(\d+)/m, 'ignored errors'),
    reconnects: number(text, /^\s*reconnects:\s+(\d+)/m, 'reconnects'),
    seconds: number(text, /^\s*total time:\s+([\d.]+)s/m, 'total time'),
  };
}

export async function sysbenchVersion(): Promise<string> {
  const { stdout } = await execFileAsync(SYSBENCH, ['--version']);
  return stdout.trim();
}
