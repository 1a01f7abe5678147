import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { MariaDbInstance } from '../src/sandbox/mariadb-instance.js';
import { hotSpotsMarkdown, hotSpotsText, readProfile, summarise, tandemTotals } from './cpu-profile.js';
import { FULL_MEMORY, measureMemory, memoryMarkdown, memoryText, QUICK_MEMORY } from './memory.js';
import { checkTag, hostInfo, saveResults, today } from './report.js';
import { serverVersion, startBenchServer } from './server.js';
import {
  type DataSet,
  prepare,
  prewarm,
  run,
  sysbenchAvailable,
  sysbenchVersion,
  type Workload,
} from './sysbench.js';
import {
  haproxyAvailable,
  haproxyVersion,
  REPO,
  startTarget,
  TARGET_NAMES,
  type TargetName,
} from './targets.js';
import {
  measureThroughput,
  type ThroughputReport,
  throughputMarkdown,
  throughputText,
} from './throughput.js';

/**
 * `npm run bench`: starts a private MariaDB server, fills sysbench's tables, then measures in
 * one run, one target after another, the server directly, a bare node TCP relay, HAProxy and
 * tandem (mode `source`), and then tandem's memory. Flags: see USAGE.
 */

const USAGE = `npm run bench -- [options]
  --quick               small data set, 10 s runs, smaller memory scenarios (results *-quick.*)
  --proxy               throughput               --memory    tandem's memory
  --profile             tandem under node --cpu-prof with oltp_point_select
                        (none of the three: throughput and memory; else exactly those named)
  --tables N            sysbench tables (BENCH_TABLES, default 4; quick 2)
  --table-size N        rows per table (BENCH_TABLE_SIZE, default 100000; quick 10000)
  --time S              seconds per measured run (BENCH_TIME, default 30; quick 10)
  --warmup S            seconds of warm-up before each run (BENCH_WARMUP, default 5; quick 2)
  --threads-point N     oltp_point_select threads (BENCH_THREADS_POINT, default 16)
  --threads-rw N        oltp_read_write threads (BENCH_THREADS_RW, default 8)
  --targets LIST        ${TARGET_NAMES.join(',')} (default: all)
  --workloads LIST      oltp_point_select,oltp_read_write (default: both)
  --rounds N            repeat the sweep, keep the median (BENCH_ROUNDS, default 1)
  --haproxy-threads N   HAProxy nbthread (default 1, like tandem's one event loop)
  --keep                keep the temporary folder (server datadir, proxy logs, profiles)
  --tag NAME            label an experiment: results go to <date>-<stem>-NAME.*, latest-* untouched
Environment: BENCH_TANDEM_NODE_FLAGS adds node flags to every tandem process
  (e.g. '--max-semi-space-size=1'); SYSBENCH and HAPROXY name the binaries.`;

const WORKLOADS: readonly Workload[] = ['oltp_point_select', 'oltp_read_write'];
const DATABASE = 'sbtest';

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

function list<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T[] {
  if (!text) return [...allowed];
  const items = text.split(',').map((s) => s.trim());
  for (const i of items) {
    if (!allowed.includes(i as T))
      throw new Error(`--${name}: unknown ${JSON.stringify(i)}; one of ${allowed.join(', ')}`);
  }
  return items as T[];
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      proxy: { type: 'boolean', default: false },
      memory: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      tables: { type: 'string' },
      'table-size': { type: 'string' },
      time: { type: 'string' },
      warmup: { type: 'string' },
      'threads-point': { type: 'string' },
      'threads-rw': { type: 'string' },
      targets: { type: 'string' },
      workloads: { type: 'string' },
      rounds: { type: 'string' },
      'haproxy-threads': { type: 'string' },
      keep: { type: 'boolean', default: false },
      tag: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const env = process.env;
  const q = values.quick;
  const data: DataSet = {
    tables: positive('tables', values.tables ?? env['BENCH_TABLES'], q ? 2 : 4),
    tableSize: positive('table-size', values['table-size'] ?? env['BENCH_TABLE_SIZE'], q ? 10_000 : 100_000),
  };
  // No selection runs throughput and memory; a selection runs exactly what it names.
  const all = !values.proxy && !values.memory && !values.profile;
  return {
    help: values.help,
    quick: q,
    keep: values.keep,
    tag: checkTag(values.tag ?? process.env['BENCH_TAG']),
    throughput: all || values.proxy,
    memory: all || values.memory,
    profile: values.profile,
    data,
    seconds: positive('time', values.time ?? env['BENCH_TIME'], q ? 10 : 30),
    warmupSeconds: positive('warmup', values.warmup ?? env['BENCH_WARMUP'], q ? 2 : 5),
    threads: {
      oltp_point_select: positive('threads-point', values['threads-point'] ?? env['BENCH_THREADS_POINT'], 16),
      oltp_read_write: positive('threads-rw', values['threads-rw'] ?? env['BENCH_THREADS_RW'], 8),
    },
    targets: list<TargetName>('targets', values.targets, TARGET_NAMES),
    workloads: list<Workload>('workloads', values.workloads, WORKLOADS),
    rounds: Math.max(1, positive('rounds', values.rounds ?? env['BENCH_ROUNDS'], 1)),
    haproxyThreads: Math.max(1, positive('haproxy-threads', values['haproxy-threads'], 1)),
  };
}

type Options = ReturnType<typeof options>;

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function throughput(o: Options, instance: MariaDbInstance, dir: string, tools: Record<string, string>) {
  const skipped: string[] = [];
  let targets = o.targets;
  if (targets.includes('haproxy') && !haproxyAvailable()) {
    skipped.push('haproxy (not installed: apt-get install haproxy, or set HAPROXY=/path/to/haproxy)');
    targets = targets.filter((t) => t !== 'haproxy');
  }
  const settings = { ...o, targets, database: DATABASE };
  log(`throughput: ${targets.join(', ')} x ${o.workloads.join(', ')}, ${o.seconds} s each`);
  const rows = await measureThroughput(instance, settings, dir, log);
  const report: ThroughputReport = {
    kind: 'proxy-throughput',
    date: today(),
    host: await hostInfo(tools),
    settings: {
      data: o.data,
      database: DATABASE,
      seconds: o.seconds,
      warmupSeconds: o.warmupSeconds,
      threads: o.threads,
      workloads: o.workloads,
      targets,
      rounds: o.rounds,
      haproxyThreads: o.haproxyThreads,
      quick: o.quick,
      skipped,
    },
    rows,
  };
  log(`\n${throughputText(rows)}\n`);
  for (const s of skipped) log(`skipped: ${s}`);
  const files = await saveResults('proxy', report, throughputMarkdown(report), o);
  log(`saved ${files.join(', ')}\n`);
}

/** tandem under node --cpu-prof for one oltp_point_select run; the profile is written on exit. */
async function profile(o: Options, instance: MariaDbInstance, dir: string, tools: Record<string, string>) {
  const profDir = join(dir, 'profile');
  await mkdir(profDir, { recursive: true });
  const threads = o.threads.oltp_point_select;
  log(`profile: tandem under --cpu-prof, oltp_point_select, ${threads} threads, ${o.seconds} s`);
  const target = await startTarget('tandem', instance, {
    dir: join(dir, 'tandem-profiled'),
    haproxyThreads: 1,
    tandemNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=200'],
  });
  let qps: number;
  try {
    const endpoint = { host: target.host, port: target.port, user: 'root', database: DATABASE };
    const workload = 'oltp_point_select';
    if (o.warmupSeconds > 0) await run(endpoint, o.data, { workload, threads, seconds: o.warmupSeconds });
    qps = (await run(endpoint, o.data, { workload, threads, seconds: o.seconds })).qps;
  } finally {
    await target.stop();
  }
  const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`tandem wrote no .cpuprofile into ${profDir}`);
  const prof = await readProfile(join(profDir, file));
  const summary = summarise(prof, 25);
  const own = tandemTotals(prof, 15);
  log(`QPS under the profiler: ${qps.toFixed(0)}; busy time by area (%): ${JSON.stringify(summary.areas)}`);
  log(
    `\nBy self time:\n${hotSpotsText(summary.hotSpots)}\n\ntandem's functions by total time:\n${hotSpotsText(own)}\n`,
  );
  const markdown = `# tandem CPU profile, ${today()}

tandem (mode \`source\`) under \`node --cpu-prof --cpu-prof-interval=200\`, sysbench oltp_point_select,
${threads} threads, ${o.seconds} s; ${qps.toFixed(0)} QPS under the profiler (which slows it).
Busy time by area (%): ${Object.entries(summary.areas)
    .map(([a, p]) => `${a} ${p}`)
    .join(', ')}. "program" is native code outside JavaScript (libuv, syscalls);
"socket calls" are node's native socket writes, which V8's wall-clock sampler charges with the
kernel's loopback TCP work and with time spent descheduled after waking the reader. The tables
below leave socket calls out: their percentages are shares of the remaining busy time, and a
function's total is its JavaScript-side work, not the writes it triggers. For on-CPU figures
with the kernel apart, see the perf recipe in bench/README.md.

## By self time

${hotSpotsMarkdown(summary.hotSpots)}

## tandem's own functions by total time (self + callees)

${hotSpotsMarkdown(own)}

Machine: ${JSON.stringify(await hostInfo(tools))}
`;
  const files = await saveResults('tandem-profile', { qps, summary, own }, markdown, o);
  log(
    `saved ${files.join(', ')} (raw profile: ${join(profDir, file)}${o.keep ? '' : ', removed at the end; --keep keeps it'})\n`,
  );
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o.help) {
    log(USAGE);
    return;
  }
  if (!existsSync(join(REPO, 'dist', 'cli.js')))
    throw new Error('tandem is not built: run `npm run build` first');
  const needsSysbench = o.throughput || o.profile;
  if (needsSysbench && !sysbenchAvailable()) {
    throw new Error(
      'sysbench is not installed: apt-get install sysbench (or set SYSBENCH=/path/to/sysbench)',
    );
  }
  // A Ctrl-C ends the run through process.exit, whose hooks kill the server and every proxy.
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
  const server = await startBenchServer();
  try {
    const instance = server.instance;
    const tools: Record<string, string> = { mariadb: await serverVersion(instance) };
    if (needsSysbench) tools['sysbench'] = await sysbenchVersion();
    if (haproxyAvailable()) tools['haproxy'] = await haproxyVersion();
    log(`MariaDB ${tools['mariadb']} on port ${instance.port} under ${server.dir}`);
    if (needsSysbench) {
      const started = performance.now();
      await instance.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`);
      const endpoint = { host: instance.host, port: instance.port, user: 'root', database: DATABASE };
      await prepare(endpoint, o.data, 4);
      await prewarm(endpoint, o.data);
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      log(`prepared and prewarmed ${o.data.tables} tables x ${o.data.tableSize} rows in ${seconds} s\n`);
    }
    if (o.throughput) await throughput(o, instance, server.dir, tools);
    if (o.profile) await profile(o, instance, server.dir, tools);
    if (o.memory) {
      const report = await measureMemory(
        instance,
        server.dir,
        o.quick ? QUICK_MEMORY : FULL_MEMORY,
        await hostInfo({ mariadb: tools['mariadb'] ?? 'unknown' }),
        log,
      );
      log(`\n${memoryText(report)}\n`);
      const files = await saveResults('memory', report, memoryMarkdown(report), o);
      log(`saved ${files.join(', ')}`);
    }
  } finally {
    await server.stop({ keep: o.keep });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
