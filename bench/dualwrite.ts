import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Connection, createConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { createInstance, type MariaDbInstance, SANDBOX_HOST } from '../src/sandbox/mariadb-instance.js';
import {
  type HotSpot,
  hotSpotsMarkdown,
  hotSpotsText,
  readProfile,
  summarise,
  tandemTotals,
} from './cpu-profile.js';
import { cpuTimes, machineBusySeconds, selfAndChildrenSeconds } from './processes.js';
import {
  type Cell,
  checkTag,
  type HostInfo,
  hostInfo,
  hostMarkdown,
  markdownTable,
  round,
  saveResults,
  textTable,
  today,
} from './report.js';
import { startTandem, type Tandem } from './tandem-process.js';
import { REPO } from './targets.js';

/**
 * Dual-write latency: single-row INSERT (autocommit), UPDATE by primary key and point SELECT,
 * one mysql2 connection per endpoint, one statement at a time, against the source server
 * directly, the target server directly, tandem in mode `source` and tandem in mode
 * `dual-source`; then the same INSERT from several connections at once, for throughput. Two
 * private MariaDB servers with the same settings, measured twice in the same run: with durable
 * commits (innodb_flush_log_at_trx_commit = 1, the default: a redo log sync per commit) and
 * with relaxed ones (= 2: written at commit, synced once a second), set with SET GLOBAL between
 * the two passes. After the runs that wrote to both servers, CHECKSUM TABLE must be equal on
 * both.
 *
 * Also measured, to tell the protocol's cost from the proxy's: `dual-floor`, the statements
 * tandem's dual writer sends to MariaDB servers under policy lenient ([BEGIN, LAST_INSERT_ID()
 * saved and zeroed, SET STATEMENT pins FOR statement, the id read, LAST_INSERT_ID() given back]
 * on the source; [BEGIN, SET STATEMENT pins FOR statement] on the target; then COMMIT on both
 * at once), and `dual-floor-serial`, the protocol before (and under policy strict): the
 * target's statement commits on its own, then the source commits. This client sends them
 * straight to the servers, each batch as one multi-statement round trip, as tandem pipelines it.
 *
 * Every endpoint is up at once and writes its own table (created with the same rows on both
 * servers), and the endpoints are measured in turns (blocks of operations, rotated), so that a
 * change in the machine's background load reaches all of them alike.
 *
 * node --import tsx bench/dualwrite.ts [--quick]   (after npm run build)
 */

const USAGE = `node --import tsx bench/dualwrite.ts [options]     (run npm run build first)
  --quick             500 operations per measurement, 5 s concurrent runs (results *-quick.*)
  --n N               measured operations per endpoint and statement kind (default 2000; quick 500)
  --warmup N          operations before each measurement, not counted (default 200)
  --rows N            rows in each table at the start (default 10000)
  --connections N     connections of the concurrent insert run (default 8)
  --seconds S         concurrent insert time per endpoint (default 10; quick 5)
  --profile           also run tandem dual-source under node --cpu-prof (done anyway when
                      the target is missed)
  --keep              keep the temporary folder (datadirs, tandem logs, profile)
  --tag NAME          label an experiment: results go to <date>-dualwrite-NAME.*, latest-* untouched
Environment: BENCH_TANDEM_NODE_FLAGS adds node flags to every tandem process.`;

/** Target: dual-source p50 at most this times (direct source p50 + direct target p50). */
const TARGET_RATIO = 1.1;
const DATABASE = 'bench';
const SEED = 20261125;
/** Sequential operations an endpoint runs before the next one takes its turn. */
const BLOCK = 50;
/** Seconds of a concurrent turn. */
const SLICE_S = 2;

/**
 * The same settings on both servers. innodb_flush_log_at_trx_commit starts at its default (1, a
 * log write and sync per commit, as a production server runs it); each pass sets it.
 */
const SERVER_ARGS = [
  '--innodb-buffer-pool-size=256M',
  '--long-query-time=100000',
  // A binary log, as a production server that feeds replicas has; synced only in its own pass.
  '--log-bin=mysql-bin',
];

/** The two passes of a run: commits synced (the default), then not. */
const DURABILITIES = [
  // The binary log synced at every commit too (MySQL 8's default): two syncs per commit.
  { name: 'binlog-synced', flushLogAtTrxCommit: 1, syncBinlog: 1 },
  { name: 'durable', flushLogAtTrxCommit: 1, syncBinlog: 0 },
  { name: 'relaxed', flushLogAtTrxCommit: 2, syncBinlog: 0 },
] as const;

/** How a pass's settings read in tables: `1` or `1, sync_binlog 1`. */
function settingLabel(p: { readonly flushLogAtTrxCommit: number; readonly syncBinlog: number }): string {
  return `${p.flushLogAtTrxCommit}${p.syncBinlog ? ', sync_binlog 1' : ''}`;
}
type Durability = (typeof DURABILITIES)[number]['name'];

const SERVER_VARIABLES = [
  'version',
  'innodb_flush_log_at_trx_commit',
  'sync_binlog',
  'log_bin',
  'innodb_doublewrite',
  'innodb_flush_method',
  'innodb_autoinc_lock_mode',
  'innodb_buffer_pool_size',
  'tx_isolation',
];

const OPS = ['insert', 'update', 'select'] as const;
type Op = (typeof OPS)[number];

const ENDPOINTS = [
  'direct-source',
  'direct-target',
  'tandem-source',
  'tandem-dual-source',
  'dual-floor',
  'dual-floor-serial',
] as const;
type EndpointName = (typeof ENDPOINTS)[number];

/** Each endpoint's table, on both servers. */
const TABLES: Record<EndpointName, string> = {
  'direct-source': 't_direct_source',
  'direct-target': 't_direct_target',
  'tandem-source': 't_tandem_source',
  'tandem-dual-source': 't_tandem_dual',
  'dual-floor': 't_dual_floor',
  'dual-floor-serial': 't_dual_floor_serial',
};
const PROFILE_TABLE = 't_profile';

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive whole number, got ${text}`);
  return n;
}

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      n: { type: 'string' },
      warmup: { type: 'string' },
      rows: { type: 'string' },
      connections: { type: 'string' },
      seconds: { type: 'string' },
      profile: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      tag: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const q = values.quick;
  return {
    help: values.help,
    quick: q,
    n: positive('n', values.n, q ? 500 : 2000),
    warmup: positive('warmup', values.warmup, 200),
    rows: positive('rows', values.rows, 10_000),
    connections: positive('connections', values.connections, 8),
    seconds: positive('seconds', values.seconds, q ? 5 : 10),
    profile: values.profile,
    keep: values.keep,
    tag: checkTag(values.tag ?? process.env['BENCH_TAG']),
  };
}

type Options = ReturnType<typeof options>;

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

// --- data ------------------------------------------------------------------------------------

function createTable(table: string): string {
  return `CREATE TABLE ${DATABASE}.${table} (
  id INT AUTO_INCREMENT PRIMARY KEY,
  k INT,
  v VARCHAR(64),
  updated DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB`;
}

/** The same rows on both servers (explicit `updated`, so that the checksums start equal). */
async function resetTables(servers: readonly MariaDbInstance[], tables: readonly string[], rows: number) {
  const sql = tables
    .map(
      (t) => `DROP TABLE IF EXISTS ${DATABASE}.${t};
        ${createTable(t)};
        INSERT INTO ${DATABASE}.${t} (id, k, v, updated)
          SELECT seq, seq * 7919 % 100003, CONCAT('row-', seq, '-', REPEAT('x', 24)),
                 TIMESTAMP'2026-01-01 00:00:00' + INTERVAL seq SECOND
          FROM mysql.seq_1_to_${rows};`,
    )
    .join('\n');
  await Promise.all(servers.map((s) => s.query(`CREATE DATABASE IF NOT EXISTS ${DATABASE};\n${sql}`)));
  // Let the background flush of the fill settle before anything is timed.
  await new Promise((r) => setTimeout(r, 2000));
}

interface ChecksumCheck {
  readonly table: string;
  readonly after: string;
  readonly source: string;
  readonly target: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly equal: boolean;
  /** Up to ten primary keys whose rows differ, when the checksums do. */
  readonly differingIds: readonly number[];
  /** Lines in tandem's repair journal (writes the target missed), when tandem wrote the table. */
  readonly journalEntries?: number | undefined;
}

async function checksums(
  source: MariaDbInstance,
  target: MariaDbInstance,
  table: string,
  after: string,
  stateDir?: string,
): Promise<ChecksumCheck> {
  const sum = async (s: MariaDbInstance) => {
    const rows = await s.query<RowDataPacket[]>(
      `CHECKSUM TABLE ${DATABASE}.${table}; SELECT COUNT(*) AS n FROM ${DATABASE}.${table}`,
    );
    const [check, count] = rows as unknown as [RowDataPacket[], RowDataPacket[]];
    return { checksum: String(check[0]?.['Checksum']), rows: Number(count[0]?.['n']) };
  };
  const [s, t] = await Promise.all([sum(source), sum(target)]);
  const equal = s.checksum === t.checksum && s.rows === t.rows;
  const differingIds = equal ? [] : await differences(source, target, table);
  let journalEntries: number | undefined;
  if (stateDir !== undefined) {
    const text = await readFile(join(stateDir, 'repair-journal.jsonl'), 'utf8').catch(() => '');
    journalEntries = text.split('\n').filter(Boolean).length;
  }
  return {
    table,
    after,
    source: s.checksum,
    target: t.checksum,
    sourceRows: s.rows,
    targetRows: t.rows,
    equal,
    differingIds,
    journalEntries,
  };
}

async function differences(source: MariaDbInstance, target: MariaDbInstance, table: string) {
  const sql = `SELECT id, k, v, CAST(updated AS CHAR) AS u FROM ${DATABASE}.${table} ORDER BY id`;
  const [a, b] = await Promise.all([source.query<RowDataPacket[]>(sql), target.query<RowDataPacket[]>(sql)]);
  const key = (r: RowDataPacket) => `${r['k']}\0${r['v']}\0${r['u']}`;
  const mine = new Map(a.map((r) => [Number(r['id']), key(r)]));
  const other = new Map(b.map((r) => [Number(r['id']), key(r)]));
  return [...new Set([...mine.keys(), ...other.keys()])]
    .filter((id) => mine.get(id) !== other.get(id))
    .sort((x, y) => x - y)
    .slice(0, 10);
}

// --- the workload ----------------------------------------------------------------------------

/** mulberry32: the same ids and values for every endpoint. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One operation of a kind; the i-th call makes the same statement for every endpoint. */
type Runner = (i: number) => Promise<void>;

/** An endpoint's connection(s), ready to run operations on its table. */
interface Session {
  runner(op: Op, rnd: () => number): Runner;
  close(): Promise<void>;
}

function connectTo(port: number): Promise<Connection> {
  return createConnection({
    host: SANDBOX_HOST,
    port,
    user: 'root',
    password: '',
    database: DATABASE,
    multipleStatements: true,
  });
}

async function end(conn: Connection): Promise<void> {
  await conn.end().catch(() => conn.destroy());
}

/** Plain statements on one connection (mysql2 text protocol, values escaped by the client). */
async function sqlSession(port: number, table: string, rows: number): Promise<Session> {
  const conn = await connectTo(port);
  return {
    runner(op, rnd) {
      const id = () => 1 + Math.floor(rnd() * rows);
      switch (op) {
        case 'insert':
          return async (i) => {
            await conn.query(`INSERT INTO ${table} (k, v) VALUES (?, ?)`, [
              Math.floor(rnd() * 100_000),
              `ins-${i}`,
            ]);
          };
        case 'update':
          return async (i) => {
            await conn.query(`UPDATE ${table} SET k = k + 1, v = ? WHERE id = ?`, [`upd-${i}`, id()]);
          };
        case 'select':
          return async () => {
            await conn.query(`SELECT id, k, v, updated FROM ${table} WHERE id = ?`, [id()]);
          };
      }
    },
    close: () => end(conn),
  };
}

/** Wall-clock with microseconds, as tandem pins it (`SET timestamp = s.us`). */
function timestampNow(): string {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}

type Statement = { readonly kind: 'insert' | 'update'; readonly sql: string };

/**
 * tandem's ordered dual write without tandem, as it runs on MariaDB servers under policy
 * lenient: the same statements, in the same order, each server's batch as one multi-statement
 * round trip (tandem pipelines the batch), and the two COMMITs at once.
 */
async function floorWrite(src: Connection, tgt: Connection, { kind, sql }: Statement): Promise<void> {
  const ts = timestampNow();
  let insertId = '';
  if (kind === 'insert') {
    const [results] = await src.query(
      'BEGIN; SET @tandem_last_insert_id = LAST_INSERT_ID(), last_insert_id = 0; ' +
        `SET STATEMENT timestamp = ${ts} FOR ${sql}; SELECT LAST_INSERT_ID() AS id; ` +
        'SET last_insert_id = IF(LAST_INSERT_ID() = 0, @tandem_last_insert_id, LAST_INSERT_ID())',
    );
    const id = String(((results as RowDataPacket[][])[3]?.[0] as RowDataPacket | undefined)?.['id'] ?? 0);
    if (id !== '0') insertId = `insert_id = ${id}, `;
  } else await src.query(`BEGIN; SET STATEMENT timestamp = ${ts} FOR ${sql}`);
  await tgt.query(
    `BEGIN; SET STATEMENT ${insertId}timestamp = ${ts}, innodb_lock_wait_timeout = 1 FOR ${sql}`,
  );
  await Promise.all([src.query('COMMIT'), tgt.query('COMMIT')]);
}

/**
 * The protocol before (and tandem's under policy strict): plain SETs around the statement, the
 * target's statement committing on its own, then COMMIT on the source.
 */
async function serialFloorWrite(src: Connection, tgt: Connection, { sql }: Statement): Promise<void> {
  const ts = timestampNow();
  const [primary] = await src.query(
    `SET timestamp = ${ts}; BEGIN; ${sql}; SET insert_id = 0, timestamp = DEFAULT`,
  );
  const ok = (primary as ResultSetHeader[])[2];
  const insertId = ok && ok.insertId > 0 ? `insert_id = ${ok.insertId}, ` : '';
  await tgt.query(
    `SET ${insertId}timestamp = ${ts}, innodb_lock_wait_timeout = 1; ${sql}; ` +
      'SET insert_id = 0, timestamp = DEFAULT, innodb_lock_wait_timeout = DEFAULT',
  );
  await src.query('COMMIT');
}

async function floorSession(
  source: MariaDbInstance,
  target: MariaDbInstance,
  table: string,
  rows: number,
  write: (src: Connection, tgt: Connection, statement: Statement) => Promise<void>,
): Promise<Session> {
  const [src, tgt] = await Promise.all([connectTo(source.port), connectTo(target.port)]);
  return {
    runner(op, rnd) {
      const id = () => 1 + Math.floor(rnd() * rows);
      switch (op) {
        case 'insert':
          return (i) =>
            write(src, tgt, {
              kind: 'insert',
              sql: `INSERT INTO ${table} (k, v) VALUES (${Math.floor(rnd() * 100_000)}, 'ins-${i}')`,
            });
        case 'update':
          return (i) =>
            write(src, tgt, {
              kind: 'update',
              sql: `UPDATE ${table} SET k = k + 1, v = 'upd-${i}' WHERE id = ${id()}`,
            });
        case 'select':
          return async () => {
            await src.query(`SELECT id, k, v, updated FROM ${table} WHERE id = ${id()}`);
          };
      }
    },
    close: async () => {
      await Promise.all([end(src), end(tgt)]);
    },
  };
}

interface Latency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentiles of latencies in nanoseconds. */
function latency(samplesNs: ArrayLike<number>): Latency {
  const ms = Float64Array.from(samplesNs, (x) => x / 1e6).sort();
  const rank = (q: number) => ms[Math.max(0, Math.ceil(q * ms.length) - 1)] ?? 0;
  const mean = ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length);
  return {
    count: ms.length,
    p50Ms: round(rank(0.5), 3),
    p95Ms: round(rank(0.95), 3),
    p99Ms: round(rank(0.99), 3),
    meanMs: round(mean, 3),
    maxMs: round(ms[ms.length - 1] ?? 0, 3),
  };
}

function total(t: { user: number; system: number }): number {
  return t.user + t.system;
}

async function cpuSeconds(pid: number | undefined): Promise<number> {
  return pid === undefined ? 0 : total(await cpuTimes(pid));
}

/** CPU that processes outside the benchmark (servers, tandem, this process) use meanwhile. */
class OtherLoad {
  private constructor(
    private readonly pids: readonly number[],
    private readonly started: number,
    private readonly busy: number,
    private readonly ours: number,
  ) {}

  static async start(pids: readonly number[]): Promise<OtherLoad> {
    return new OtherLoad(pids, performance.now(), await machineBusySeconds(), await oursSeconds(pids));
  }

  /** As % of one core. */
  async stop(): Promise<number> {
    const elapsed = (performance.now() - this.started) / 1000;
    const ours = (await oursSeconds(this.pids)) - this.ours;
    const others = (await machineBusySeconds()) - this.busy - ours;
    return Math.max(0, round((100 * others) / elapsed, 0));
  }
}

async function oursSeconds(pids: readonly number[]): Promise<number> {
  let s = await selfAndChildrenSeconds();
  for (const pid of pids) s += await cpuSeconds(pid);
  return s;
}

interface Endpoint {
  readonly name: EndpointName;
  readonly table: string;
  /** tandem's process, for the tandem endpoints. */
  readonly tandemPid: number | undefined;
  open(): Promise<Session>;
}

export interface SequentialRow extends Latency {
  readonly endpoint: EndpointName;
  readonly op: Op;
  /** tandem's CPU (user + system) per operation, in microseconds. */
  readonly tandemCpuUsPerOp: number | undefined;
  /** Over the whole interleaved measurement of this statement kind. */
  readonly otherCpuPercent: number;
}

/** For each statement kind: every endpoint warms up, then they take turns of BLOCK operations. */
async function measureSequential(
  endpoints: readonly Endpoint[],
  sessions: readonly Session[],
  o: Options,
  pids: readonly number[],
): Promise<SequentialRow[]> {
  const out: SequentialRow[] = [];
  for (const [k, op] of OPS.entries()) {
    // The same seed everywhere: every endpoint runs the same statements.
    const runs = sessions.map((s) => s.runner(op, random(SEED + k)));
    for (const run of runs) for (let i = 0; i < o.warmup; i++) await run(-1 - i);
    const samples = endpoints.map(() => new Float64Array(o.n));
    const cpu = endpoints.map(() => 0);
    const load = await OtherLoad.start(pids);
    for (let b = 0, from = 0; from < o.n; b++, from += BLOCK) {
      const to = Math.min(o.n, from + BLOCK);
      for (let r = 0; r < endpoints.length; r++) {
        const j = (b + r) % endpoints.length;
        const run = runs[j]!;
        const lat = samples[j]!;
        const pid = endpoints[j]!.tandemPid;
        const before = await cpuSeconds(pid);
        for (let i = from; i < to; i++) {
          const t0 = process.hrtime.bigint();
          await run(i);
          lat[i] = Number(process.hrtime.bigint() - t0);
        }
        cpu[j]! += (await cpuSeconds(pid)) - before;
      }
    }
    const otherCpuPercent = await load.stop();
    for (const [j, e] of endpoints.entries()) {
      const row: SequentialRow = {
        endpoint: e.name,
        op,
        ...latency(samples[j]!),
        tandemCpuUsPerOp: e.tandemPid === undefined ? undefined : round((cpu[j]! / o.n) * 1e6, 0),
        otherCpuPercent,
      };
      log(
        `  ${op.padEnd(6)} ${e.name.padEnd(18)} p50 ${row.p50Ms.toFixed(3)}  p95 ${row.p95Ms.toFixed(3)}  ` +
          `p99 ${row.p99Ms.toFixed(3)} ms` +
          (row.tandemCpuUsPerOp === undefined ? '' : `  tandem cpu ${row.tandemCpuUsPerOp} µs/op`),
      );
      out.push(row);
    }
    log(`  ${op}: other load ${otherCpuPercent}%`);
  }
  return out;
}

export interface ConcurrentRow extends Latency {
  readonly endpoint: EndpointName;
  readonly connections: number;
  readonly seconds: number;
  readonly insertsPerSecond: number;
  readonly errors: number;
  readonly tandemCpuUsPerOp: number | undefined;
  readonly otherCpuPercent: number;
}

/** Runs INSERTs on every connection, as fast as each can, for `ms`; returns the errors. */
async function drive(runs: readonly Runner[], ms: number, samples: number[] | undefined): Promise<number> {
  const until = performance.now() + ms;
  let errors = 0;
  await Promise.all(
    runs.map(async (run) => {
      for (let i = 0; performance.now() < until; i++) {
        const t0 = process.hrtime.bigint();
        try {
          await run(i);
        } catch {
          errors++;
          continue;
        }
        samples?.push(Number(process.hrtime.bigint() - t0));
      }
    }),
  );
  return errors;
}

/** INSERTs from several connections at once; the endpoints take turns of SLICE_S seconds. */
async function measureConcurrent(
  endpoints: readonly Endpoint[],
  o: Options,
  pids: readonly number[],
): Promise<ConcurrentRow[]> {
  const pools = await Promise.all(
    endpoints.map((e) => Promise.all(Array.from({ length: o.connections }, () => e.open()))),
  );
  try {
    const runs = pools.map((pool) => pool.map((s, c) => s.runner('insert', random(SEED + 100 + c))));
    for (const r of runs) await drive(r, 1000, undefined);
    const slices = Math.max(1, Math.round(o.seconds / SLICE_S));
    const sliceMs = (o.seconds * 1000) / slices;
    const samples = endpoints.map((): number[] => []);
    const elapsed = endpoints.map(() => 0);
    const errors = endpoints.map(() => 0);
    const cpu = endpoints.map(() => 0);
    const load = await OtherLoad.start(pids);
    for (let s = 0; s < slices; s++) {
      for (let r = 0; r < endpoints.length; r++) {
        const j = (s + r) % endpoints.length;
        const pid = endpoints[j]!.tandemPid;
        const before = await cpuSeconds(pid);
        const t0 = performance.now();
        errors[j]! += await drive(runs[j]!, sliceMs, samples[j]);
        elapsed[j]! += (performance.now() - t0) / 1000;
        cpu[j]! += (await cpuSeconds(pid)) - before;
      }
    }
    const otherCpuPercent = await load.stop();
    return endpoints.map((e, j) => {
      const n = samples[j]!.length;
      const row: ConcurrentRow = {
        endpoint: e.name,
        connections: o.connections,
        seconds: round(elapsed[j]!, 1),
        ...latency(samples[j]!),
        insertsPerSecond: round(n / elapsed[j]!, 0),
        errors: errors[j]!,
        tandemCpuUsPerOp: e.tandemPid === undefined ? undefined : round((cpu[j]! / Math.max(1, n)) * 1e6, 0),
        otherCpuPercent,
      };
      log(
        `  ${e.name.padEnd(18)} ${o.connections} conns  ${row.insertsPerSecond} inserts/s  ` +
          `p50 ${row.p50Ms.toFixed(3)}  p95 ${row.p95Ms.toFixed(3)} ms` +
          (row.errors ? `  ${row.errors} errors` : ''),
      );
      return row;
    });
  } finally {
    await Promise.all(pools.flat().map((s) => s.close()));
  }
}

// --- profile ---------------------------------------------------------------------------------

export interface ProfileReport {
  readonly ops: number;
  readonly sampledMs: number;
  /** Share of the sampled time tandem's thread was busy at all (the rest: waiting for servers). */
  readonly busyPercent: number;
  readonly areas: Readonly<Record<string, number>>;
  readonly hotSpots: readonly HotSpot[];
  readonly tandemTotals: readonly HotSpot[];
}

/** tandem dual-source under node --cpu-prof, for the same sequential inserts and updates. */
async function profileDualSource(
  source: MariaDbInstance,
  target: MariaDbInstance,
  dir: string,
  o: Options,
): Promise<ProfileReport> {
  const profDir = join(dir, 'profile');
  await mkdir(profDir, { recursive: true });
  const t = await startTandem('dual-source', source, target, join(dir, 'tandem-profiled'), [
    '--cpu-prof',
    `--cpu-prof-dir=${profDir}`,
    '--cpu-prof-interval=200',
  ]);
  try {
    const session = await sqlSession(t.port, PROFILE_TABLE, o.rows);
    try {
      for (const [k, op] of (['insert', 'update'] as const).entries()) {
        const run = session.runner(op, random(SEED + k));
        for (let i = 0; i < o.warmup + o.n; i++) await run(i);
      }
    } finally {
      await session.close();
    }
  } finally {
    await t.child.stop();
  }
  const file = (await readdir(profDir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`tandem wrote no .cpuprofile into ${profDir}`);
  const prof = workloadOnly(await readProfile(join(profDir, file)));
  const summary = summarise(prof, 15);
  const idle = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const idleMs = prof.samples.reduce(
    (ms, id, i) => (idle.has(id) ? ms + (prof.timeDeltas[i] ?? 0) / 1000 : ms),
    0,
  );
  return {
    ops: 2 * (o.warmup + o.n),
    sampledMs: summary.sampledMs,
    busyPercent: round(100 * (1 - idleMs / Math.max(1, summary.sampledMs)), 1),
    areas: summary.areas,
    hotSpots: summary.hotSpots,
    tandemTotals: tandemTotals(prof, 12),
  };
}

type Profile = Awaited<ReturnType<typeof readProfile>>;

/**
 * The samples from the first to the last statement tandem routed (a stack through the session
 * router's handle()), without start-up (module loading) and shutdown.
 */
function workloadOnly(prof: Profile): Profile {
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const routing = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)?.callFrame;
      if (f?.functionName === 'handle' && f.url.includes('/dist/routing/session-router')) return true;
    }
    return false;
  };
  const first = prof.samples.findIndex(routing);
  if (first < 0) return prof;
  let last = prof.samples.length - 1;
  while (last > first && !routing(prof.samples[last]!)) last--;
  return {
    nodes: prof.nodes,
    samples: prof.samples.slice(first, last + 1),
    timeDeltas: prof.timeDeltas.slice(first, last + 1),
  };
}

// --- report ----------------------------------------------------------------------------------

export interface TargetCheck {
  readonly op: 'insert' | 'update';
  readonly directSourceP50Ms: number;
  readonly directTargetP50Ms: number;
  readonly limitMs: number;
  readonly dualSourceP50Ms: number;
  /** dual-source p50 over (direct source p50 + direct target p50). */
  readonly ratio: number;
  readonly met: boolean;
  readonly dualFloorP50Ms: number | undefined;
  readonly dualFloorSerialP50Ms: number | undefined;
  readonly tandemSourceP50Ms: number | undefined;
}

/** Everything measured with one setting of innodb_flush_log_at_trx_commit. */
export interface Pass {
  readonly durability: Durability;
  readonly flushLogAtTrxCommit: number;
  readonly syncBinlog: number;
  readonly sequential: readonly SequentialRow[];
  readonly concurrent: readonly ConcurrentRow[];
  readonly checks: readonly TargetCheck[];
}

export interface DualWriteReport {
  readonly kind: 'dualwrite-latency';
  readonly date: string;
  readonly host: HostInfo;
  readonly settings: Omit<Options, 'help' | 'keep'> & { readonly serverArgs: readonly string[] };
  readonly servers: { readonly source: Record<string, string>; readonly target: Record<string, string> };
  readonly passes: readonly Pass[];
  readonly checksums: readonly ChecksumCheck[];
  readonly profile: ProfileReport | undefined;
}

function p50Of(rows: readonly SequentialRow[], endpoint: EndpointName, op: Op): number | undefined {
  return rows.find((r) => r.endpoint === endpoint && r.op === op)?.p50Ms;
}

function targetChecks(rows: readonly SequentialRow[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const op of ['insert', 'update'] as const) {
    const s = p50Of(rows, 'direct-source', op);
    const t = p50Of(rows, 'direct-target', op);
    const d = p50Of(rows, 'tandem-dual-source', op);
    if (s === undefined || t === undefined || d === undefined) continue;
    const limit = TARGET_RATIO * (s + t);
    out.push({
      op,
      directSourceP50Ms: s,
      directTargetP50Ms: t,
      limitMs: round(limit, 3),
      dualSourceP50Ms: d,
      ratio: round(d / (s + t), 3),
      met: d <= limit,
      dualFloorP50Ms: p50Of(rows, 'dual-floor', op),
      dualFloorSerialP50Ms: p50Of(rows, 'dual-floor-serial', op),
      tandemSourceP50Ms: p50Of(rows, 'tandem-source', op),
    });
  }
  return out;
}

const SEQ_HEADER = [
  'endpoint',
  'op',
  'n',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'mean ms',
  'tandem µs/op',
  'other load %',
];

function seqCells(rows: readonly SequentialRow[]): Cell[][] {
  return rows.map((r) => [
    r.endpoint,
    r.op,
    r.count,
    r.p50Ms.toFixed(3),
    r.p95Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    r.meanMs.toFixed(3),
    r.tandemCpuUsPerOp ?? '-',
    r.otherCpuPercent,
  ]);
}

const CONC_HEADER = [
  'endpoint',
  'conns',
  'inserts/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'errors',
  'tandem µs/op',
  'other load %',
];

function concCells(rows: readonly ConcurrentRow[]): Cell[][] {
  return rows.map((r) => [
    r.endpoint,
    r.connections,
    r.insertsPerSecond,
    r.p50Ms.toFixed(3),
    r.p95Ms.toFixed(3),
    r.p99Ms.toFixed(3),
    r.errors,
    r.tandemCpuUsPerOp ?? '-',
    r.otherCpuPercent,
  ]);
}

const CHECK_HEADER = [
  'commits',
  'op',
  'direct source p50',
  'direct target p50',
  `limit (${TARGET_RATIO} x sum)`,
  'dual-source p50',
  'ratio to sum',
  'dual-floor ratio',
  'target',
];

function checkCells(passes: readonly Pass[]): Cell[][] {
  return passes.flatMap((p) =>
    p.checks.map((c) => [
      `${p.durability} (${settingLabel(p)})`,
      c.op,
      c.directSourceP50Ms.toFixed(3),
      c.directTargetP50Ms.toFixed(3),
      c.limitMs.toFixed(3),
      c.dualSourceP50Ms.toFixed(3),
      c.ratio.toFixed(3),
      c.dualFloorP50Ms === undefined
        ? '-'
        : (c.dualFloorP50Ms / (c.directSourceP50Ms + c.directTargetP50Ms)).toFixed(3),
      c.met ? 'met' : 'MISSED',
    ]),
  );
}

const BREAKDOWN_HEADER = [
  'op',
  'sum of directs',
  'dual-floor-serial',
  'dual-floor',
  'protocol cost',
  'dual-source',
  'proxy cost',
  'source-mode hop',
];

/** Where dual-source's time goes beyond the two servers' own latency, in p50 ms. */
function breakdownCells(checks: readonly TargetCheck[]): Cell[][] {
  const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));
  return checks.map((c) => {
    const sum = c.directSourceP50Ms + c.directTargetP50Ms;
    const floor = c.dualFloorP50Ms;
    return [
      c.op,
      sum.toFixed(3),
      ms(c.dualFloorSerialP50Ms),
      ms(floor),
      ms(floor === undefined ? undefined : floor - sum),
      c.dualSourceP50Ms.toFixed(3),
      ms(floor === undefined ? undefined : c.dualSourceP50Ms - floor),
      ms(c.tandemSourceP50Ms === undefined ? undefined : c.tandemSourceP50Ms - c.directSourceP50Ms),
    ];
  });
}

/** What one pass's breakdown says, in sentences. */
function reading(checks: readonly TargetCheck[]): string {
  return checks
    .map((c) => {
      const sum = c.directSourceP50Ms + c.directTargetP50Ms;
      const d = c.dualSourceP50Ms;
      const pct = (ms: number) => `${Math.round((100 * ms) / d)} %`;
      if (c.dualFloorP50Ms === undefined) return '';
      const floor = c.dualFloorP50Ms;
      const floorRatio = floor / sum;
      const protocol =
        floor >= sum
          ? pct(floor - sum)
          : `-${pct(sum - floor)} (its overlapping commits save more than its extra round trip costs)`;
      const serial =
        c.dualFloorSerialP50Ms === undefined
          ? ''
          : ` (the serial protocol of before: ${(c.dualFloorSerialP50Ms / sum).toFixed(2)} x)`;
      return (
        `- ${c.op}: ${c.ratio.toFixed(2)} x the sum of the directs. Of dual-source's p50, the two servers' own ` +
        `latency is ${pct(sum)}, the protocol ${protocol}, tandem ${pct(d - floor)}. Without a proxy the ` +
        `same statements take ${floorRatio.toFixed(2)} x the sum${serial}` +
        (floorRatio > TARGET_RATIO
          ? `: with this setting the ${TARGET_RATIO} x target cannot be met however fast tandem is.`
          : `; tandem's own hop and work leave ${(TARGET_RATIO * sum - floor).toFixed(3)} ms of room under the target, ` +
            `and take ${(d - floor).toFixed(3)} ms.`)
      );
    })
    .filter(Boolean)
    .join('\n');
}

/** Why the two settings differ: round trips against syncs, from the measured p50s. */
function roundTripsAgainstSyncs(passes: readonly Pass[]): string {
  const durable = passes.find((p) => p.durability === 'durable');
  const relaxed = passes.find((p) => p.durability === 'relaxed');
  if (!durable || !relaxed) return '';
  const mean = (rows: readonly SequentialRow[], op: Op) => {
    const s = p50Of(rows, 'direct-source', op);
    const t = p50Of(rows, 'direct-target', op);
    return s === undefined || t === undefined ? undefined : (s + t) / 2;
  };
  const select = mean(relaxed.sequential, 'select');
  const lines: string[] = [];
  for (const op of ['insert', 'update'] as const) {
    const dw = mean(durable.sequential, op);
    const rw = mean(relaxed.sequential, op);
    const dc = durable.checks.find((c) => c.op === op);
    const rc = relaxed.checks.find((c) => c.op === op);
    if (dw === undefined || rw === undefined || !dc || !rc || select === undefined) continue;
    lines.push(
      `- ${op}: one direct write takes ${dw.toFixed(3)} ms (p50, mean of the two servers) with durable commits and ` +
        `${rw.toFixed(3)} ms with relaxed ones, so its commit's sync costs about ${(dw - rw).toFixed(3)} ms; a point ` +
        `select, about one round trip, ${select.toFixed(3)} ms. dual-source: ${dc.ratio.toFixed(2)} x durable ` +
        `(${dc.met ? 'met' : 'missed'}), ${rc.ratio.toFixed(2)} x relaxed (${rc.met ? 'met' : 'missed'}).`,
    );
  }
  return `${lines.join('\n')}

dual-source waits for three server round trips one after another (the source's statement, the
target's statement, then both COMMITs at once) plus tandem's hop to the client, where the two
direct writes together wait for two round trips. But the two COMMITs overlap, so only one
commit's sync is on dual-source's path, where the sum of the directs contains two. With durable
commits the sync it saves pays for much of the extra round trip and the hop; with relaxed ones
a commit costs next to nothing, there is nothing to save, and the extra round trip and the hop
remain whole: then the ratio is set by round trips, which no proxy can remove while the target
runs only after the source has taken its locks.`;
}

const SUM_HEADER = [
  'table',
  'after',
  'source checksum',
  'target checksum',
  'source rows',
  'target rows',
  'journal',
  'equal',
];

function sumCells(sums: readonly ChecksumCheck[]): Cell[][] {
  return sums.map((c) => [
    c.table,
    c.after,
    c.source,
    c.target,
    c.sourceRows,
    c.targetRows,
    c.journalEntries ?? '-',
    c.equal ? 'yes' : `NO (ids ${c.differingIds.join(', ')})`,
  ]);
}

function serverMarkdown(r: DualWriteReport): string {
  const names = Object.keys(r.servers.source);
  return markdownTable(
    ['variable', 'source', 'target'],
    names.map((n) => [n, r.servers.source[n] ?? '-', r.servers.target[n] ?? '-']),
  );
}

function passMarkdown(p: Pass, s: DualWriteReport['settings']): string {
  const title = {
    'binlog-synced':
      'Durable commits with the binary log synced (innodb_flush_log_at_trx_commit = 1, sync_binlog = 1: two syncs per commit)',
    durable: 'Durable commits (innodb_flush_log_at_trx_commit = 1: the redo log synced at every commit)',
    relaxed: 'Relaxed commits (innodb_flush_log_at_trx_commit = 2: written at commit, synced once a second)',
  }[p.durability];
  return `## ${title}

### One connection, one statement at a time

${markdownTable(SEQ_HEADER, seqCells(p.sequential))}

Where the time goes (p50, ms): protocol cost = dual-floor - (direct source + direct target);
proxy cost = dual-source - dual-floor, tandem's own hop and work; source-mode hop =
tandem-source - direct-source.

${markdownTable(BREAKDOWN_HEADER, breakdownCells(p.checks))}

${reading(p.checks)}

### ${s.connections} connections at once, INSERT only

${markdownTable(CONC_HEADER, concCells(p.concurrent))}
`;
}

function reportMarkdown(r: DualWriteReport): string {
  const s = r.settings;
  const verdict = r.passes
    .map((p) => `${p.checks.every((c) => c.met) ? 'met' : 'NOT met'} with ${p.durability} commits`)
    .join(', ');
  const diverged = r.checksums.filter((c) => !c.equal || (c.journalEntries ?? 0) > 0);
  const prof = r.profile;
  return `# Dual-write latency, ${r.date}${s.quick ? ' (quick)' : ''}

Target: tandem \`dual-source\` p50 <= ${TARGET_RATIO} x (direct source p50 + direct target p50),
for single-row INSERT and UPDATE by primary key. Measured in one run, on servers with a binary
log, with the binary log synced at every commit as well (\`sync_binlog = 1\`, MySQL 8's default),
with durable commits (\`innodb_flush_log_at_trx_commit = 1\`, the default) and with relaxed ones
(\`= 2\`). **${verdict}.**

${markdownTable(CHECK_HEADER, checkCells(r.passes))}

## Round trips against syncs

${roundTripsAgainstSyncs(r.passes)}

## How it is measured

${s.n} measured operations per row, after ${s.warmup} not counted. Every endpoint is up at once
and writes its own table (${s.rows} rows at the start, the same on both servers); the endpoints
take turns of ${BLOCK} operations in a rotating order, so that the machine's background load
falls on all of them alike. mysql2 text protocol (COM_QUERY), values escaped by the client. The
concurrent runs: INSERT as fast as each connection can, ${s.seconds} s per endpoint (in turns of
${SLICE_S} s, rotated) after 1 s of warm-up; each connection waits for its answer before the
next INSERT. The same servers and tandem processes serve both passes; between them
\`SET GLOBAL innodb_flush_log_at_trx_commit\` changes the setting on both servers.

- **direct-source**, **direct-target**: the client straight to each server.
- **tandem-source**: tandem in mode \`source\` (one server, one extra hop).
- **tandem-dual-source**: tandem in mode \`dual-source\` (policy lenient): an autocommit write
  runs on the source in a transaction, then on the target in a transaction while the source
  holds the row locks, then both COMMIT at once; reads go to the source.
- **dual-floor**: the statements tandem's dual writer sends, sent by the client straight to
  the servers with no proxy, each server's batch as one multi-statement round trip: on the
  source \`BEGIN; SET @tandem_last_insert_id = LAST_INSERT_ID(), last_insert_id = 0; SET
  STATEMENT timestamp = ... FOR stmt; SELECT LAST_INSERT_ID(); SET last_insert_id = ...\` (an
  UPDATE: \`BEGIN; SET STATEMENT timestamp = ... FOR stmt\`), on the target \`BEGIN; SET
  STATEMENT insert_id = ..., timestamp = ..., innodb_lock_wait_timeout = 1 FOR stmt\`, then
  \`COMMIT\` on both at once. The least that ordered dual writing costs with these round trips.
- **dual-floor-serial**: the protocol before this change (and tandem's under policy strict):
  \`SET timestamp; BEGIN; stmt; SET ... DEFAULT\` on the source, \`SET insert_id, timestamp,
  innodb_lock_wait_timeout; stmt; SET ... DEFAULT\` on the target (committing on its own), then
  \`COMMIT\` on the source.
- **tandem µs/op**: tandem's CPU (user + system) per operation. **other load %**: CPU used
  meanwhile by processes outside the benchmark (100 = one core); well above 10, the figures
  are disturbed.

${r.passes.map((p) => passMarkdown(p, s)).join('\n')}
## Consistency

\`CHECKSUM TABLE\` and row count of each table written to both servers, on both servers
(journal: lines in tandem's repair journal, i.e. writes the target missed).
${diverged.length ? `\n**DIVERGED after: ${diverged.map((c) => `${c.table} after ${c.after}`).join(', ')}: a bug to report.**\n` : ''}
${markdownTable(SUM_HEADER, sumCells(r.checksums))}
${
  prof
    ? `
## CPU profile of tandem in dual-source

${prof.ops} sequential single-connection writes (insert then update) under
\`node --cpu-prof --cpu-prof-interval=200\`, relaxed commits: ${prof.sampledMs} ms sampled,
tandem's thread busy ${prof.busyPercent} % of it (the rest it waits for the servers). Busy time
by area (%):
${Object.entries(prof.areas)
  .map(([a, p]) => `${a} ${p}`)
  .join(', ')}.

Heaviest functions by self time (% of busy time outside socket calls):

${hotSpotsMarkdown(prof.hotSpots)}

Heaviest of tandem's own functions by total time:

${hotSpotsMarkdown(prof.tandemTotals)}
`
    : ''
}
## Servers

Two private MariaDB servers started by the benchmark with the same options
(\`${s.serverArgs.join(' ')}\` on top of the sandbox defaults); the table shows them at the
start, before the passes set \`innodb_flush_log_at_trx_commit\`.

${serverMarkdown(r)}

## Machine

${hostMarkdown(r.host)}
`;
}

// --- main ------------------------------------------------------------------------------------

async function variables(s: MariaDbInstance): Promise<Record<string, string>> {
  const rows = await s.query<RowDataPacket[]>(
    `SELECT LOWER(VARIABLE_NAME) AS name, VARIABLE_VALUE AS value FROM information_schema.GLOBAL_VARIABLES
     WHERE LOWER(VARIABLE_NAME) IN (${SERVER_VARIABLES.map((v) => `'${v}'`).join(', ')})`,
  );
  const found = new Map(rows.map((r) => [String(r['name']), String(r['value'])]));
  return Object.fromEntries(SERVER_VARIABLES.map((v) => [v, found.get(v) ?? '-']));
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  if (o.help) {
    log(USAGE);
    return;
  }
  if (!existsSync(join(REPO, 'dist', 'cli.js')))
    throw new Error('tandem is not built: run `npm run build` first');
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-dualwrite-'));
  const source = await createInstance({ baseDir: dir, name: 'source', serverArgs: SERVER_ARGS });
  const target = await createInstance({ baseDir: dir, name: 'target', serverArgs: SERVER_ARGS });
  const tandems: Tandem[] = [];
  const sessions: Session[] = [];
  const sums: ChecksumCheck[] = [];
  let profile: ProfileReport | undefined;
  try {
    await Promise.all([source.start(), target.start()]);
    const servers = { source: await variables(source), target: await variables(target) };
    log(
      `dualwrite: servers ${servers.source['version']} on ports ${source.port} (source) and ${target.port} ` +
        `(target); ${o.n} ops per kind after ${o.warmup} warm-up; ${o.connections} connections x ${o.seconds} s; ` +
        `passes ${DURABILITIES.map((d) => `${d.name} (innodb_flush_log_at_trx_commit=${settingLabel(d)})`).join(', ')}`,
    );
    await resetTables([source, target], Object.values(TABLES), o.rows);
    const inSource = await startTandem('source', source, target, join(dir, 'tandem-source'));
    tandems.push(inSource);
    const dual = await startTandem('dual-source', source, target, join(dir, 'tandem-dual-source'));
    tandems.push(dual);
    const sql = (name: EndpointName, port: number, tandemPid?: number): Endpoint => ({
      name,
      table: TABLES[name],
      tandemPid,
      open: () => sqlSession(port, TABLES[name], o.rows),
    });
    const floor = (name: 'dual-floor' | 'dual-floor-serial', write: typeof floorWrite): Endpoint => ({
      name,
      table: TABLES[name],
      tandemPid: undefined,
      open: () => floorSession(source, target, TABLES[name], o.rows, write),
    });
    const endpoints: Endpoint[] = [
      sql('direct-source', source.port),
      sql('direct-target', target.port),
      sql('tandem-source', inSource.port, inSource.pid),
      sql('tandem-dual-source', dual.port, dual.pid),
      floor('dual-floor', floorWrite),
      floor('dual-floor-serial', serialFloorWrite),
    ];
    const pids = [source.pid, target.pid, inSource.pid, dual.pid].filter((p): p is number => p !== undefined);
    const verify = async (after: string) => {
      sums.push(await checksums(source, target, TABLES['tandem-dual-source'], after, dual.stateDir));
      sums.push(await checksums(source, target, TABLES['dual-floor'], after));
      sums.push(await checksums(source, target, TABLES['dual-floor-serial'], after));
    };

    const passes: Pass[] = [];
    for (const d of DURABILITIES) {
      const set = `SET GLOBAL innodb_flush_log_at_trx_commit = ${d.flushLogAtTrxCommit}, sync_binlog = ${d.syncBinlog}`;
      await Promise.all([source.query(set), target.query(set)]);
      log(`${d.name} commits (innodb_flush_log_at_trx_commit=${settingLabel(d)}):`);
      log('one connection each, one statement at a time:');
      for (const e of endpoints) sessions.push(await e.open());
      const sequential = await measureSequential(endpoints, sessions, o, pids);
      await Promise.all(sessions.splice(0).map((s) => s.close()));
      await verify(`${d.name} sequential`);

      log(`${o.connections} connections each, INSERT:`);
      const concurrent = await measureConcurrent(endpoints, o, pids);
      await verify(`${d.name} concurrent`);
      passes.push({
        durability: d.name,
        flushLogAtTrxCommit: d.flushLogAtTrxCommit,
        syncBinlog: d.syncBinlog,
        sequential,
        concurrent,
        checks: targetChecks(sequential),
      });
    }
    for (const t of tandems.splice(0)) await t.child.stop();

    if (o.profile || passes.some((p) => p.checks.some((c) => !c.met))) {
      // Under the last pass's setting (relaxed), where tandem's own share is the largest.
      log('profile: tandem dual-source under --cpu-prof');
      await resetTables([source, target], [PROFILE_TABLE], o.rows);
      profile = await profileDualSource(source, target, dir, o);
      sums.push(await checksums(source, target, PROFILE_TABLE, 'profiled run'));
    }

    const report: DualWriteReport = {
      kind: 'dualwrite-latency',
      date: today(),
      host: await hostInfo(),
      settings: {
        quick: o.quick,
        n: o.n,
        warmup: o.warmup,
        rows: o.rows,
        connections: o.connections,
        seconds: o.seconds,
        profile: o.profile,
        tag: o.tag,
        serverArgs: SERVER_ARGS,
      },
      servers,
      passes,
      checksums: sums,
      profile,
    };
    for (const p of passes) {
      log(`\n${p.durability} commits (innodb_flush_log_at_trx_commit=${settingLabel(p)})`);
      log(`${textTable(SEQ_HEADER, seqCells(p.sequential))}\n`);
      log(`${textTable(CONC_HEADER, concCells(p.concurrent))}\n`);
      log(`${textTable(BREAKDOWN_HEADER, breakdownCells(p.checks))}\n`);
    }
    log(`${textTable(CHECK_HEADER, checkCells(passes))}\n`);
    log(`${textTable(SUM_HEADER, sumCells(sums))}\n`);
    if (profile) {
      log(
        `profile: tandem busy ${profile.busyPercent}% of ${profile.sampledMs} ms; ` +
          `areas ${JSON.stringify(profile.areas)}\n${hotSpotsText(profile.hotSpots)}\n`,
      );
    }
    for (const p of passes) {
      const met = p.checks.length === 2 && p.checks.every((c) => c.met);
      log(
        `target (dual-source p50 <= ${TARGET_RATIO} x sum of direct p50s, insert and update), ` +
          `${p.durability} commits: ${met ? 'met' : 'NOT met'} (${p.checks.map((c) => `${c.op} ${c.ratio.toFixed(3)}`).join(', ')})`,
      );
    }
    const diverged = sums.filter((c) => !c.equal || (c.journalEntries ?? 0) > 0);
    if (diverged.length) {
      log(`DIVERGED: ${diverged.map((c) => `${c.table} after ${c.after}`).join('; ')}: a bug`);
      process.exitCode = 1;
    }
    const files = await saveResults('dualwrite', report, reportMarkdown(report), o);
    log(`saved ${files.join(', ')}`);
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    for (const t of tandems) await t.child.stop();
    await Promise.all([source.stop(), target.stop()]);
    if (o.keep) process.stderr.write(`bench: kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
