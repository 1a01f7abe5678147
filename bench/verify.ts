/**
 * The reconciler's benchmark: how fast `tandem verify` compares a 1,000,000-row table in full,
 * beside what the servers alone need for the same scan (the floor) and pt-table-checksum when it
 * is installed; and how long `--follow` takes to catch up with a change made behind tandem's back.
 *
 *   node --import tsx bench/verify.ts [--rows 1000000] [--rounds 3] [--changes 10] [--interval 1]
 *
 * Two private MariaDB servers in a temporary folder (never the system server on 3306), with a
 * buffer pool that holds the table, as a warmed-up production server would (--buffer-pool 64M
 * for one that does not). Results go to bench/results/verify-<date>[-bp<size>].md and .json.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { createInstance, type MariaDbInstance } from '../src/sandbox/mariadb-instance.js';
import { hashKindOf, imageSql, readColumns, rowHashSql } from '../src/verify/row-image.js';
import { runVerify, type VerifyRunOptions } from '../src/verify/run-verify.js';
import type { PassSummary } from '../src/verify/verify-report.js';
import { hostInfo, markdownTable, RESULTS_DIR, round, textTable, today } from './report.js';

const execFileAsync = promisify(execFile);

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function textFlag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const ROWS = flag('rows', 1_000_000);
/** 1G holds the table (a warm server); 64M, the test servers' size, makes every scan read pages in. */
const BUFFER_POOL = textFlag('buffer-pool', '1G');
const ROUNDS = flag('rounds', 3);
const CHANGES = flag('changes', 10);
const INTERVAL = flag('interval', 1);
const DB = 'bench_verify';

const SERVER_ARGS = [
  `--innodb-buffer-pool-size=${BUFFER_POOL}`,
  '--innodb-flush-log-at-trx-commit=2',
  '--max-connections=500',
];
/** The source writes a row binary log, for --method binlog (the fill itself is kept out of it). */
const SOURCE_ARGS = [...SERVER_ARGS, '--log-bin=binlog', '--server-id=1', '--binlog-format=ROW'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Sink extends Writable {
  override _write(_c: Buffer, _e: string, done: () => void): void {
    done();
  }
}

async function connect(server: MariaDbInstance) {
  return mysql.createConnection({
    host: server.host,
    port: server.port,
    user: 'root',
    multipleStatements: true,
  });
}

function options(source: MariaDbInstance, target: MariaDbInstance, stateDir: string): VerifyRunOptions {
  return {
    source: `${source.url}${DB}`,
    target: target.url,
    method: 'full',
    tables: [`${DB}.sbtest1`],
    fix: false,
    follow: false,
    stateDir,
    from: 'source',
    scope: { include: ['*'], exclude: [], rename: { schemas: {}, tables: {} } },
    chunkTimeMs: 500,
    maxRowsPerSecond: 0,
    overlapSeconds: 60,
    intervalSeconds: INTERVAL,
    updateColumns: {},
    out: new Sink(),
    err: new Sink(),
    tty: false,
  };
}

async function pass(opts: VerifyRunOptions): Promise<PassSummary> {
  let summary: PassSummary | undefined;
  await runVerify({ ...opts, onPass: (s) => (summary = s) });
  return summary!;
}

/** The same scan and hash, one query per server, both at once: what any in-server checksum pays. */
async function floorSeconds(source: MariaDbInstance, target: MariaDbInstance): Promise<number> {
  const conns = await Promise.all([connect(source), connect(target)]);
  try {
    const hash = await hashKindOf(conns[0]);
    const image = imageSql(await readColumns(conns[0], DB, 'sbtest1'));
    const started = performance.now();
    await Promise.all(
      conns.map((c) => c.query(`SELECT COUNT(*), SUM(${rowHashSql(image, hash)}) FROM ${DB}.sbtest1`)),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
}

/** MariaDB's CHECKSUM TABLE on both at once: whole table, no chunks, no row-level location. */
async function checksumTableSeconds(source: MariaDbInstance, target: MariaDbInstance): Promise<number> {
  const conns = await Promise.all([connect(source), connect(target)]);
  try {
    const started = performance.now();
    await Promise.all(conns.map((c) => c.query(`CHECKSUM TABLE ${DB}.sbtest1 EXTENDED`)));
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(conns.map((c) => c.end()));
  }
}

/**
 * pt-table-checksum checksums a master and lets replication carry the same queries to its
 * replicas; with two independent servers it can only be timed on one of them.
 */
async function ptTableChecksum(source: MariaDbInstance): Promise<{ seconds: number } | string> {
  if (spawnSync('pt-table-checksum', ['--version']).status !== 0) return 'not installed';
  const started = performance.now();
  try {
    await execFileAsync('pt-table-checksum', [
      `h=${source.host},P=${source.port},u=root`,
      `--databases=${DB}`,
      '--recursion-method=none',
      '--no-check-binlog-format',
      '--no-check-replication-filters',
      '--chunk-time=0.5',
    ]);
  } catch (err) {
    // Exit codes flag differences and warnings as bits; only a missing result is a failure.
    if ((err as { code?: number }).code === undefined) return `failed: ${(err as Error).message}`;
  }
  return { seconds: (performance.now() - started) / 1000 };
}

/**
 * `--follow` (incremental) or the binlog method: the time from a change committed on the source
 * only to the same row on the target.
 */
async function followDelays(
  source: MariaDbInstance,
  target: MariaDbInstance,
  stateDir: string,
  method: 'incremental' | 'binlog',
): Promise<number[]> {
  const [src, tgt] = await Promise.all([connect(source), connect(target)]);
  const abort = new AbortController();
  let started = false;
  const follower = runVerify({
    ...options(source, target, stateDir),
    method,
    tables: [`${DB}.orders`],
    fix: true,
    follow: true,
    delayMs: 200,
    signal: abort.signal,
    onPass: () => {
      started = true;
    },
    onReady: () => {
      started = true;
    },
  });
  const delays: number[] = [];
  try {
    while (!started) await sleep(20);
    for (let i = 0; i < CHANGES; i++) {
      // Spread over the interval, so that some changes land just after a pass and some before.
      await sleep(((i * 0.37) % 1) * INTERVAL * 1000);
      const id = 1 + ((i * 7919) % 100_000);
      const value = `${method} ${i}`;
      await src.query(`UPDATE ${DB}.orders SET state = ?, updated_at = NOW(6) WHERE id = ?`, [value, id]);
      const changed = performance.now();
      for (;;) {
        const [rows] = await tgt.query(`SELECT state FROM ${DB}.orders WHERE id = ?`, [id]);
        if ((rows as { state: string }[])[0]?.state === value) break;
        await sleep(5);
      }
      delays.push((performance.now() - changed) / 1000);
    }
  } finally {
    abort.abort();
    await follower;
    await Promise.all([src.end(), tgt.end()]);
  }
  return delays;
}

function delayRow(label: string, delays: number[]): (string | number)[] {
  return [
    label,
    delays.length,
    round(median(delays)),
    round(delays.reduce((a, b) => a + b, 0) / delays.length),
    round(Math.max(...delays)),
  ];
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-verify-'));
  const [source, target] = await Promise.all([
    createInstance({ baseDir: dir, name: 'source', serverArgs: SOURCE_ARGS }),
    createInstance({ baseDir: dir, name: 'target', serverArgs: SERVER_ARGS }),
  ]);
  try {
    await Promise.all([source.start(), target.start()]);
    process.stderr.write(`bench: filling ${ROWS.toLocaleString('en-US')} rows on both servers\n`);
    const fill = performance.now();
    await Promise.all(
      [source, target].map(async (server) => {
        const c = await connect(server);
        // sysbench's table shape, filled by the server itself from its sequence engine.
        await c.query(`SET SESSION sql_log_bin = 0; CREATE DATABASE ${DB}; USE ${DB};
          CREATE TABLE sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY (k));
          INSERT INTO sbtest1 SELECT seq, seq * 7919 % ${ROWS}, CONCAT(MD5(seq), '-', MD5(seq + 1), '-', MD5(seq + 2)),
            MD5(seq * 3) FROM seq_1_to_${ROWS};
          CREATE TABLE orders (id INT PRIMARY KEY, state VARCHAR(20) NOT NULL, updated_at DATETIME(6) NOT NULL,
            KEY (updated_at));
          INSERT INTO orders SELECT seq, 'new', '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_100000`);
        await c.end();
      }),
    );
    process.stderr.write(`bench: filled in ${round((performance.now() - fill) / 1000, 1)} s\n`);
    const stateDir = join(dir, 'state');

    // Warm both buffer pools, as a running server's would be.
    await floorSeconds(source, target);
    const clean: PassSummary[] = [];
    const floors: number[] = [];
    const checksumTables: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      clean.push(await pass(options(source, target, stateDir)));
      floors.push(await floorSeconds(source, target));
      checksumTables.push(await checksumTableSeconds(source, target));
    }
    const seconds = (s: PassSummary) => s.outcomes[0]!.seconds;
    const cleanSeconds = median(clean.map(seconds));

    // Ten rows differ, spread over the table: the chunks that hold them are narrowed down.
    const t = await connect(target);
    const step = Math.floor(ROWS / 10);
    await t.query(`UPDATE ${DB}.sbtest1 SET c = 'changed behind tandem' WHERE id % ${step} = 17`);
    await t.end();
    const dirty = await pass(options(source, target, stateDir));
    const repaired = await pass({ ...options(source, target, stateDir), fix: true });

    const pt = await ptTableChecksum(source);
    const delays = await followDelays(source, target, stateDir, 'incremental');
    const binlogDelays = await followDelays(source, target, stateDir, 'binlog');

    const { tandemNodeFlags: _proxyOnly, ...host } = await hostInfo({
      mariadb: (await source.query<{ v: string }[]>('SELECT VERSION() AS v'))[0]!.v,
    });
    const rate = (secs: number) => Math.round(ROWS / secs);
    const rows: (string | number)[][] = [
      ['tandem verify, full, tables equal (median)', round(cleanSeconds), rate(cleanSeconds)],
      [
        `tandem verify, full, ${dirty.record.differing} rows differ`,
        round(seconds(dirty)),
        rate(seconds(dirty)),
      ],
      [
        `tandem verify --fix, ${repaired.record.fixed} rows repaired`,
        round(seconds(repaired)),
        rate(seconds(repaired)),
      ],
      ['floor: one SUM(hash) query per server, both at once', round(median(floors)), rate(median(floors))],
      [
        'CHECKSUM TABLE EXTENDED, both at once (no chunks, no keys)',
        round(median(checksumTables)),
        rate(median(checksumTables)),
      ],
      typeof pt === 'string'
        ? [`pt-table-checksum: ${pt}`, '-', '-']
        : ['pt-table-checksum, source only', round(pt.seconds), rate(pt.seconds)],
    ];
    const header = ['run', 'seconds', 'rows/s'];
    const followRows = [
      delayRow(`incremental --follow --interval ${INTERVAL}`, delays),
      delayRow('binlog --delay 200 (ms)', binlogDelays),
    ];
    const followHeader = ['method', 'changes', 'p50 (s)', 'mean (s)', 'max (s)'];
    const verdict = rate(cleanSeconds) >= 200_000 ? 'meets' : 'misses';
    const markdown = `# tandem verify: full compare and --follow (${today()})

${ROWS.toLocaleString('en-US')}-row sysbench-shaped table (\`id INT\` key, \`k INT\`, \`c CHAR(120)\`,
\`pad CHAR(60)\`) on two private MariaDB servers on this machine, buffer pools of ${BUFFER_POOL}
(the table is about 250 MB on each), after a warm-up scan.
\`node --import tsx bench/verify.ts --rows ${ROWS} --rounds ${ROUNDS} --buffer-pool ${BUFFER_POOL}\`.

${markdownTable(header, rows)}

The full compare ${verdict} the 200,000 rows/s target: ${rate(cleanSeconds).toLocaleString('en-US')} rows/s.
The floor is the servers' own cost for the same scan and hash in one query each; the full
compare adds chunking (so that no query runs long) and the round trips. CHECKSUM TABLE is
cheaper but says only "equal or not" for the whole table, and compares storage bytes.
${typeof pt === 'string' ? `pt-table-checksum is ${pt} here (percona-toolkit); it also needs the second server to be a replica of the first.` : ''}

## Catch-up delay

A change committed on the source only (behind tandem's back), on a 100,000-row table, until
the same row is on the target: \`tandem verify --method incremental --follow --interval ${INTERVAL} --fix\`
(the changes are spread over the interval) and \`tandem verify --method binlog --fix\`, which
re-checks a changed row 200 ms after the binary log shows it.

${markdownTable(followHeader, followRows)}

## Machine

${Object.entries(host)
  .map(([k, v]) => `- ${k}: ${v}`)
  .join('\n')}
`;
    process.stdout.write(`${textTable(header, rows)}\n\n${textTable(followHeader, followRows)}\n`);
    const base = join(RESULTS_DIR, `verify-${today()}${BUFFER_POOL === '1G' ? '' : `-bp${BUFFER_POOL}`}`);
    await writeFile(`${base}.md`, markdown);
    await writeFile(
      `${base}.json`,
      `${JSON.stringify({ rows: ROWS, rounds: ROUNDS, results: rows, clean: clean.map(seconds), floors, checksumTables, followRows, delays, binlogDelays, host }, null, 2)}\n`,
    );
    process.stderr.write(`bench: wrote ${base}.md and .json\n`);
  } finally {
    await Promise.all([source.stop(), target.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
