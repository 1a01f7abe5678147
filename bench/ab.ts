import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuTimes } from './processes.js';
import { checkTag, hostInfo, markdownTable, round, saveResults, textTable, today } from './report.js';
import { serverVersion, startBenchServer } from './server.js';
import { prepare, prewarm, run, type SysbenchResult, sysbenchVersion } from './sysbench.js';
import { REPO, startTarget, type Target } from './targets.js';

/**
 * Two tandem builds measured at the same time: this checkout and another one (`--base DIR`,
 * built), each in mode `source` in front of one server, each under its own sysbench
 * oltp_point_select run, both runs side by side. On this shared 2-vCPU machine the point-select
 * QPS of one build moves by ±20 % from minute to minute, far more than a hot-path change;
 * run at once, both builds meet the same machine, and the ratio of their CPU per query is
 * steady enough to judge a change. Rounds alternate which build starts first.
 */

const USAGE = `node --import tsx bench/ab.ts --base DIR [options]
  --base DIR       another checkout of tandem, built (npm run build), to compare this one with
  --rounds N       side-by-side runs (default 5)
  --time S         seconds per run (default 20)
  --threads N      sysbench threads per build (default 8)
  --base-flags F   node flags added for the base build only (e.g. --max-semi-space-size=4)
  --flags F        node flags added for this checkout's build only
  --tag NAME       results go to bench/results/<date>-ab-NAME.json|md
Both builds get BENCH_TANDEM_NODE_FLAGS (default --max-semi-space-size=1) before those.`;

const DATABASE = 'sbtest';
const DATA = { tables: 2, tableSize: 10_000 };

interface Side {
  readonly qps: number;
  readonly userUsPerQuery: number;
  readonly sysUsPerQuery: number;
}

interface Round {
  readonly base: Side;
  readonly candidate: Side;
}

async function measure(target: Target, seconds: number, threads: number): Promise<() => Promise<Side>> {
  const before = await cpuTimes(target.pid!);
  const endpoint = { host: target.host, port: target.port, user: 'root', database: DATABASE };
  const result: Promise<SysbenchResult> = run(endpoint, DATA, {
    workload: 'oltp_point_select',
    threads,
    seconds,
  });
  return async () => {
    const r = await result;
    const after = await cpuTimes(target.pid!);
    const queries = r.qps * r.seconds;
    return {
      qps: r.qps,
      userUsPerQuery: ((after.user - before.user) * 1e6) / queries,
      sysUsPerQuery: ((after.system - before.system) * 1e6) / queries,
    };
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      time: { type: 'string', default: '20' },
      threads: { type: 'string', default: '8' },
      'base-flags': { type: 'string', default: '' },
      flags: { type: 'string', default: '' },
      tag: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.base) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(values.help ? 0 : 2);
  }
  const baseRoot = resolve(values.base);
  if (!existsSync(join(baseRoot, 'dist', 'cli.js'))) {
    throw new Error(`${baseRoot} has no dist/cli.js: run npm run build there first`);
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.time);
  const threads = Number(values.threads);
  const tag = checkTag(values.tag);

  const server = await startBenchServer();
  const results: Round[] = [];
  try {
    const { instance } = server;
    await instance.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE}`);
    const direct = { host: instance.host, port: instance.port, user: 'root', database: DATABASE };
    await prepare(direct, DATA, 2);
    await prewarm(direct, DATA);
    const upstream = { host: instance.host, port: instance.port, pid: undefined };
    for (let i = 0; i < rounds; i++) {
      const dir = join(server.dir, `round-${i}`);
      const roots = { base: baseRoot, candidate: REPO };
      const flags = { base: values['base-flags'], candidate: values.flags };
      const order = i % 2 === 0 ? (['base', 'candidate'] as const) : (['candidate', 'base'] as const);
      const targets: Partial<Record<'base' | 'candidate', Target>> = {};
      for (const side of order) {
        targets[side] = await startTarget('tandem', upstream, {
          dir: join(dir, side),
          haproxyThreads: 1,
          tandemRoot: roots[side],
          tandemNodeFlags: flags[side].split(/\s+/).filter(Boolean),
        });
      }
      try {
        // Warm-up of both at once, then the measured runs, also at once.
        await Promise.all(
          order.map((side) =>
            run(
              { host: targets[side]!.host, port: targets[side]!.port, user: 'root', database: DATABASE },
              DATA,
              { workload: 'oltp_point_select', threads, seconds: 3 },
            ),
          ),
        );
        const pending = await Promise.all(order.map((side) => measure(targets[side]!, seconds, threads)));
        const [first, second] = await Promise.all(pending.map((p) => p()));
        const bySide = { [order[0]]: first!, [order[1]]: second! } as Record<'base' | 'candidate', Side>;
        results.push({ base: bySide.base, candidate: bySide.candidate });
        process.stderr.write(
          `round ${i + 1}: base ${round(bySide.base.userUsPerQuery, 1)} µs/q user, ${Math.round(bySide.base.qps)} qps; ` +
            `candidate ${round(bySide.candidate.userUsPerQuery, 1)} µs/q user, ${Math.round(bySide.candidate.qps)} qps\n`,
        );
      } finally {
        for (const side of order) await targets[side]!.stop();
      }
    }
    const header = [
      'round',
      'base QPS',
      'base user µs/q',
      'base sys µs/q',
      'cand. QPS',
      'cand. user µs/q',
      'cand. sys µs/q',
      'user ratio',
    ];
    const rows = results.map((r, i) => [
      i + 1,
      Math.round(r.base.qps),
      round(r.base.userUsPerQuery, 1),
      round(r.base.sysUsPerQuery, 1),
      Math.round(r.candidate.qps),
      round(r.candidate.userUsPerQuery, 1),
      round(r.candidate.sysUsPerQuery, 1),
      round(r.candidate.userUsPerQuery / r.base.userUsPerQuery, 3),
    ]);
    const ratio = median(results.map((r) => r.candidate.userUsPerQuery / r.base.userUsPerQuery));
    const qpsRatio = median(results.map((r) => r.candidate.qps / r.base.qps));
    const summary = `median user-CPU ratio candidate/base ${round(ratio, 3)}, median QPS ratio ${round(qpsRatio, 3)}`;
    process.stdout.write(`${textTable(header, rows)}\n${summary}\n`);
    const host = await hostInfo({
      mariadb: await serverVersion(instance),
      sysbench: await sysbenchVersion(),
    });
    const md = [
      `# tandem A/B, ${today()}`,
      '',
      `Base: \`${baseRoot}\` ${values['base-flags']}; candidate: this checkout ${values.flags}. sysbench oltp_point_select, ${threads} threads against each, both at once, ${seconds} s, ${rounds} rounds; ${DATA.tables} tables x ${DATA.tableSize} rows.`,
      '',
      markdownTable(header, rows),
      '',
      `${summary}.`,
      '',
      `Machine: ${JSON.stringify(host)}`,
      '',
    ].join('\n');
    const files = await saveResults('ab', { date: today(), host, baseRoot, threads, seconds, results }, md, {
      quick: false,
      tag: tag ?? 'run',
    });
    process.stderr.write(`saved ${files.join(', ')}\n`);
  } finally {
    await server.stop({ keep: false });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
