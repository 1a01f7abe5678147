/**
 * What ordering upserts against inserts costs (src/dualwrite/insert-order.ts). Several
 * connections at once, each sending upserts and inserts in turn for a fixed time, into one of two
 * tables with the same work per statement:
 *
 * - `ordered`: an auto-increment key and a unique key `u`. An upsert there can try an id it
 *   gives back, so through tandem it holds the table from its source run to its target run, and
 *   inserts wait for it.
 * - `unordered`: the same columns, but the client gives the key (no auto-increment): nothing to
 *   order, tandem's usual path.
 *
 * Each through tandem `dual-source` and against the source directly. After the runs, CHECKSUM
 * TABLE must be equal on both servers for both tables.
 *
 *   npm run build && node --import tsx bench/upsert-order.ts [--seconds 10] [--conns 8] [--rounds 2] [--tag T]
 *
 * Two private MariaDB servers in a temporary folder (never the system server on 3306). Results
 * go to bench/results/<date>-upsert-order[-tag].md and .json.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Connection, createConnection } from 'mysql2/promise';
import { createInstance, type MariaDbInstance } from '../src/sandbox/mariadb-instance.js';
import {
  checkTag,
  hostInfo,
  hostMarkdown,
  markdownTable,
  round,
  saveResults,
  textTable,
  today,
} from './report.js';
import { BENCH_SERVER_ARGS } from './server.js';
import { startTandem } from './tandem-process.js';
import { REPO } from './targets.js';

/** Written through tandem, on both servers. */
const DB = 'bench_upsert';
/** Written by the direct runs, on the source only. */
const DB_DIRECT = 'bench_upsert_direct';
const TABLES = ['ordered', 'unordered'] as const;
type Table = (typeof TABLES)[number];
/** Values of `u` the upserts draw from: about half of them meet an existing row. */
const U_RANGE = 4000;

const DDL: Record<Table, string> = {
  ordered:
    'CREATE TABLE ordered (id BIGINT AUTO_INCREMENT PRIMARY KEY, u INT NULL UNIQUE, v VARCHAR(40) NOT NULL, n INT NOT NULL DEFAULT 0)',
  unordered:
    'CREATE TABLE unordered (id BIGINT PRIMARY KEY, u INT NULL UNIQUE, v VARCHAR(40) NOT NULL, n INT NOT NULL DEFAULT 0)',
};

interface Options {
  readonly seconds: number;
  readonly conns: number;
  readonly rounds: number;
  readonly tag: string | undefined;
}

function options(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string', default: '10' },
      conns: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '2' },
      tag: { type: 'string' },
    },
  });
  const n = (s: string, name: string) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} takes a positive integer, not ${s}`);
    return v;
  };
  return {
    seconds: n(values.seconds, 'seconds'),
    conns: n(values.conns, 'conns'),
    rounds: n(values.rounds, 'rounds'),
    tag: checkTag(values.tag),
  };
}

type Endpoint = 'direct-source' | 'tandem-dual-source';

interface Run {
  readonly endpoint: Endpoint;
  readonly table: Table;
  readonly round: number;
  readonly opsPerSecond: number;
  readonly upsertP50Ms: number;
  readonly upsertP95Ms: number;
  readonly insertP50Ms: number;
  readonly insertP95Ms: number;
  readonly errors: number;
}

const percentile = (xs: number[], p: number) =>
  xs.length === 0
    ? Number.NaN
    : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** The client's keys for `unordered`: unique across connections, rounds and endpoints. */
let nextKey = 1;

/** One connection's loop: upsert, insert, upsert, ... until `until`; latencies in ms. */
async function drive(c: Connection, table: Table, until: number, upserts: number[], inserts: number[]) {
  let errors = 0;
  for (let i = 0; performance.now() < until; i++) {
    const u = 1 + Math.floor(Math.random() * U_RANGE);
    const upsert = i % 2 === 0;
    const sql =
      table === 'ordered'
        ? upsert
          ? `INSERT INTO ordered (u, v) VALUES (${u}, 'u${u}') ON DUPLICATE KEY UPDATE n = n + 1`
          : `INSERT INTO ordered (u, v) VALUES (NULL, 'i${i}')`
        : upsert
          ? `INSERT INTO unordered (id, u, v) VALUES (${nextKey++}, ${u}, 'u${u}') ON DUPLICATE KEY UPDATE n = n + 1`
          : `INSERT INTO unordered (id, u, v) VALUES (${nextKey++}, NULL, 'i${i}')`;
    const t0 = performance.now();
    try {
      await c.query(sql);
      (upsert ? upserts : inserts).push(performance.now() - t0);
    } catch {
      // Deadlocks between the connections (both statements lock `u`'s index): counted, retried by the next turn.
      errors++;
    }
  }
  return errors;
}

async function measure(
  port: number,
  endpoint: Endpoint,
  table: Table,
  round_: number,
  o: Options,
): Promise<Run> {
  const conns = await Promise.all(
    Array.from({ length: o.conns }, () =>
      createConnection({
        host: '127.0.0.1',
        port,
        user: 'root',
        database: endpoint === 'direct-source' ? DB_DIRECT : DB,
      }),
    ),
  );
  try {
    // Warm-up: one second, not counted.
    const warm = performance.now() + 1000;
    await Promise.all(conns.map((c) => drive(c, table, warm, [], [])));
    const upserts: number[] = [];
    const inserts: number[] = [];
    const started = performance.now();
    const until = started + o.seconds * 1000;
    const errors = await Promise.all(conns.map((c) => drive(c, table, until, upserts, inserts)));
    const elapsed = (performance.now() - started) / 1000;
    return {
      endpoint,
      table,
      round: round_,
      opsPerSecond: round((upserts.length + inserts.length) / elapsed, 0),
      upsertP50Ms: round(percentile(upserts, 0.5), 3),
      upsertP95Ms: round(percentile(upserts, 0.95), 3),
      insertP50Ms: round(percentile(inserts, 0.5), 3),
      insertP95Ms: round(percentile(inserts, 0.95), 3),
      errors: errors.reduce((a, b) => a + b, 0),
    };
  } finally {
    await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
  }
}

async function checksum(server: MariaDbInstance, table: Table): Promise<string> {
  const c = await createConnection({ host: server.host, port: server.port, user: 'root' });
  try {
    const [rows] = await c.query(`CHECKSUM TABLE ${DB}.${table}`);
    return String((rows as { Checksum: unknown }[])[0]?.Checksum);
  } finally {
    await c.end();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function summary(runs: readonly Run[]): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const endpoint of ['direct-source', 'tandem-dual-source'] as const) {
    for (const table of TABLES) {
      const mine = runs.filter((r) => r.endpoint === endpoint && r.table === table);
      const pick = (f: (r: Run) => number) => median(mine.map(f));
      rows.push([
        endpoint,
        table,
        pick((r) => r.opsPerSecond),
        pick((r) => r.upsertP50Ms),
        pick((r) => r.upsertP95Ms),
        pick((r) => r.insertP50Ms),
        pick((r) => r.insertP95Ms),
        mine.reduce((a, r) => a + r.errors, 0),
      ]);
    }
  }
  return rows;
}

const HEADER = [
  'endpoint',
  'table',
  'ops/s',
  'upsert p50 ms',
  'upsert p95 ms',
  'insert p50 ms',
  'insert p95 ms',
  'errors',
];

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  if (!existsSync(join(REPO, 'dist', 'cli.js')))
    throw new Error('tandem is not built: run `npm run build` first');
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-upsert-'));
  const source = await createInstance({ baseDir: dir, name: 'source', serverArgs: BENCH_SERVER_ARGS });
  const target = await createInstance({ baseDir: dir, name: 'target', serverArgs: BENCH_SERVER_ARGS });
  try {
    await Promise.all([source.start(), target.start()]);
    for (const [server, db] of [
      [source, DB],
      [target, DB],
      [source, DB_DIRECT],
    ] as const) {
      const c = await createConnection({ host: server.host, port: server.port, user: 'root' });
      await c.query(`CREATE DATABASE ${db}`);
      await c.query(`USE ${db}`);
      for (const t of TABLES) await c.query(DDL[t]);
      await c.end();
    }
    const tandem = await startTandem('dual-source', source, target, join(dir, 'tandem'));
    const runs: Run[] = [];
    try {
      for (let r = 0; r < o.rounds; r++) {
        // Rotated each round, so that a slow stretch of the machine falls on each alike.
        const order = (['tandem-dual-source', 'direct-source'] as const).flatMap((e) =>
          TABLES.map((t) => [e, t] as const),
        );
        for (let k = 0; k < order.length; k++) {
          const [endpoint, table] = order[(k + r) % order.length]!;
          const port = endpoint === 'direct-source' ? source.port : tandem.port;
          const run = await measure(port, endpoint, table, r + 1, o);
          process.stderr.write(
            `round ${r + 1} ${endpoint} ${table}: ${run.opsPerSecond} ops/s, upsert p50 ${run.upsertP50Ms} ms, insert p50 ${run.insertP50Ms} ms, errors ${run.errors}\n`,
          );
          runs.push(run);
        }
      }
    } finally {
      await tandem.child.stop();
    }
    const sums = await Promise.all(
      TABLES.map(async (t) => ({
        table: t,
        source: await checksum(source, t),
        target: await checksum(target, t),
      })),
    );
    const equal = sums.every((s) => s.source === s.target);
    const rows = summary(runs);
    const ops = (e: Endpoint, t: Table) => Number(rows.find((r) => r[0] === e && r[1] === t)?.[2]);
    const cost = round(ops('tandem-dual-source', 'ordered') / ops('tandem-dual-source', 'unordered'), 2);
    process.stdout.write(`${textTable(HEADER, rows)}\n`);
    const host = await hostInfo();
    const markdown = [
      `# Upserts ordered against inserts, ${today()}`,
      '',
      `${o.conns} connections at once, each alternating an upsert (\`INSERT ... ON DUPLICATE KEY UPDATE\`, \`u\` drawn from 1..${U_RANGE}) and an insert (\`u\` NULL), ${o.seconds} s per run after 1 s of warm-up, ${o.rounds} rounds in a rotated order; medians of the rounds. \`ordered\`: an auto-increment key and a unique \`u\` (tandem orders its upserts against its inserts); \`unordered\`: the same columns with the key given by the client.`,
      '',
      markdownTable(HEADER, rows),
      '',
      `Through tandem, the ordered table takes **${cost} x** the unordered one's statements per second.`,
      '',
      '## Checks',
      '',
      `What tandem wrote (database \`${DB}\`; the direct runs wrote \`${DB_DIRECT}\` on the source only):`,
      '',
      ...sums.map(
        (s) =>
          `- CHECKSUM TABLE ${s.table}: source ${s.source}, target ${s.target}: ${s.source === s.target ? 'equal' : '**DIFFERENT**'}`,
      ),
      '',
      '## Machine',
      '',
      hostMarkdown(host),
      '',
    ].join('\n');
    const files = await saveResults('upsert-order', { options: o, runs, sums, cost, host }, markdown, {
      quick: false,
      tag: o.tag,
    });
    process.stderr.write(`saved ${files.join(', ')}\n`);
    if (!equal) process.exitCode = 1;
  } finally {
    await Promise.all([source.stop(), target.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
