import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { backupLoad } from '../src/load/backup-load.js';
import { copyLoad } from '../src/load/copy-load.js';
import { dumpLoad } from '../src/load/dump-load.js';
import { DurabilityGuard } from '../src/load/durability-guard.js';
import { findTool } from '../src/load/tool-path.js';
import { Scope } from '../src/routing/scope.js';
import { createInstance, type MariaDbInstance } from '../src/sandbox/mariadb-instance.js';
import { checkTag, hostInfo, hostMarkdown, markdownTable, RESULTS_DIR, textTable, today } from './report.js';

/**
 * `node --import tsx bench/load.ts`: the initial load's methods on the same data, in one run.
 * Two private servers (never the system one): the source, and a target with a binary log, as a
 * production target that feeds replicas or point-in-time recovery has. Each method starts from
 * an empty target database; rows and MB/s count the source's tables (data + indexes); every run
 * is checked afterwards with CHECKSUM TABLE on both servers.
 */

const execFileAsync = promisify(execFile);

const USAGE = `node --import tsx bench/load.ts [--tables N] [--rows N] [--parallel N] [--quick] [--keep]
  --tables N    sysbench-like tables (default 4; quick 2)
  --rows N      rows per table (default 250000; quick 50000)
  --parallel N  the "N parallel" copy (default 4)
  --rounds N    run every method N times in rotated orders, keep the median (default 1)
  --quick       small data set, results to load-<date>-quick.*
  --tag NAME    an experiment: results to load-<date>-NAME.*
  --keep        keep the servers' folder`;

/** Same settings on both servers; the buffer pool holds the data set, the redo log is large enough not to stall. */
const SERVER_ARGS = [
  '--innodb-buffer-pool-size=1G',
  '--innodb-log-file-size=512M',
  '--max-allowed-packet=256M',
];
const DB = 'loadbench';

interface Run {
  readonly method: string;
  readonly command: string;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly mbPerSecond: number;
  readonly equal: boolean;
  /** Every round's seconds; `seconds` is their median. */
  readonly rounds: readonly number[];
}

async function q<T = unknown>(server: MariaDbInstance, sql: string): Promise<T> {
  return server.query<T>(sql);
}

async function fill(source: MariaDbInstance, tables: number, rows: number): Promise<void> {
  await q(source, `CREATE DATABASE ${DB}`);
  for (let t = 1; t <= tables; t++) {
    // sysbench's table: a random secondary key, and two CHAR columns of digits and dashes.
    await q(
      source,
      `CREATE TABLE ${DB}.sbtest${t} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL DEFAULT 0,
        c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', KEY k_${t} (k)) ENGINE=InnoDB`,
    );
    await q(
      source,
      `INSERT INTO ${DB}.sbtest${t} (k, c, pad)
        SELECT FLOOR(RAND(${t}) * ${rows}), LEFT(REPEAT(CONCAT(LPAD(FLOOR(RAND() * 1e11), 11, '0'), '-'), 10), 119),
          LEFT(REPEAT(CONCAT(LPAD(FLOOR(RAND() * 1e11), 11, '0'), '-'), 5), 59) FROM ${DB}.seq_1_to_${rows}`,
    );
  }
  await q(
    source,
    `ANALYZE TABLE ${Array.from({ length: tables }, (_, i) => `${DB}.sbtest${i + 1}`).join(', ')}`,
  );
}

async function checksums(server: MariaDbInstance, tables: number): Promise<string> {
  const rows = await q<{ Checksum: unknown }[]>(
    server,
    `CHECKSUM TABLE ${Array.from({ length: tables }, (_, i) => `${DB}.sbtest${i + 1}`).join(', ')}`,
  );
  return rows.map((r) => String(r.Checksum)).join(',');
}

function sh(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command}: exit ${code}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tables: { type: 'string' },
      rows: { type: 'string' },
      parallel: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean' },
      keep: { type: 'boolean' },
      tag: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const tables = Number(values.tables ?? (values.quick ? 2 : 4));
  const rows = Number(values.rows ?? (values.quick ? 50_000 : 250_000));
  const parallel = Number(values.parallel ?? 4);
  const rounds = Number(values.rounds ?? 1);
  const dir = await mkdtemp(join(tmpdir(), 'tandem-loadbench-'));
  const source = await createInstance({
    baseDir: dir,
    name: 'source',
    serverArgs: [...SERVER_ARGS, '--log-bin=mysql-bin', '--server-id=1'],
  });
  const target = await createInstance({
    baseDir: dir,
    name: 'target',
    serverArgs: [...SERVER_ARGS, '--log-bin=mysql-bin', '--server-id=2'],
  });
  await Promise.all([source.start(), target.start()]);
  try {
    process.stderr.write(`bench: filling ${tables} x ${rows} rows\n`);
    await fill(source, tables, rows);
    const [size] = await q<{ b: number }[]>(
      source,
      `SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${DB}'`,
    );
    const mb = Number(size?.b) / 1024 / 1024;
    const totalRows = tables * rows;
    const expected = await checksums(source, tables);
    const runs: Run[] = [];
    // Other sessions share this machine: the load average over the run says how disturbed it was.
    const loadBefore = (await readFile('/proc/loadavg', 'utf8').catch(() => '')).split(' ')[0] ?? '?';
    interface Job {
      readonly method: string;
      readonly command: string;
      readonly body: () => Promise<void>;
    }
    const jobs: Job[] = [];
    const measure = (method: string, command: string, body: () => Promise<void>): void => {
      jobs.push({ method, command, body });
    };
    const samples = new Map<string, { seconds: number[]; equal: boolean }>();
    const runJob = async (job: Job): Promise<void> => {
      await q(target, `DROP DATABASE IF EXISTS ${DB}`);
      await q(target, 'RESET MASTER');
      process.stderr.write(`bench: ${job.method}\n`);
      const started = process.hrtime.bigint();
      await job.body();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const equal = (await checksums(target, tables)) === expected;
      const s = samples.get(job.method) ?? { seconds: [], equal: true };
      s.seconds.push(seconds);
      s.equal &&= equal;
      samples.set(job.method, s);
      process.stderr.write(
        `bench:   ${seconds.toFixed(2)} s, ${(totalRows / seconds).toFixed(0)} rows/s${equal ? '' : ' NOT EQUAL'}\n`,
      );
    };
    const dump = findTool(['mariadb-dump', 'mysqldump']) ?? 'mysqldump';
    const client = findTool(['mariadb', 'mysql']) ?? 'mysql';
    const conn = (s: MariaDbInstance): string => `-h127.0.0.1 -P${s.port} -uroot`;
    const plain = `${dump} ${conn(source)} --single-transaction --master-data=2 --databases ${DB} | ${client} ${conn(target)}`;
    measure('mysqldump | mariadb (plain)', plain.replaceAll(/-P\d+ /g, ''), () => sh(plain));
    const common = {
      source: source.url,
      target: target.url,
      scope: new Scope([`${DB}.*`], []),
      only: undefined,
      rename: { schemas: {}, tables: {} },
      controlSchema: 'tandem_control',
      signal: new AbortController().signal,
      say: () => undefined,
      progress: { write: () => undefined },
    };
    const stateDir = (): Promise<string> => mkdtemp(join(dir, 'state-'));
    // The speed-ups alone, prepended to the same pipeline: what the design notes describe.
    const sped = `(echo 'SET unique_checks = 0, foreign_key_checks = 0, sql_log_bin = 0;'; ${plain.replace(` | ${client}`, `) | ${client}`)}`;
    measure('mysqldump | mariadb, speed-ups', sped.replaceAll(/-P\d+ /g, ''), () => sh(sped));
    measure(
      'mysqldump | mariadb, speed-ups + flush_log_at_trx_commit 0',
      'the same, with --fast-durability',
      async () => {
        const guard = await DurabilityGuard.relax(target.url, await stateDir());
        try {
          await sh(sped);
        } finally {
          await guard.restore();
        }
      },
    );
    measure(
      'tandem load --method mysqldump',
      'speed-ups, INSERT IGNORE, IF NOT EXISTS, no LOCK TABLES',
      async () => {
        await dumpLoad({ ...common, stateDir: await stateDir(), speedUps: true, fastDurability: false });
      },
    );
    const copy = async (p: number, fast: boolean, defer: boolean): Promise<void> => {
      const flags = `${fast ? ' --fast-durability' : ''}${defer ? ' --defer-indexes' : ''}`;
      measure(`copy, ${p} parallel${flags}`, `tandem load --parallel ${p}${flags}`, async () => {
        await copyLoad({
          ...common,
          stateDir: await stateDir(),
          parallel: p,
          resume: false,
          fastDurability: fast,
          deferIndexes: defer,
        });
      });
    };
    copy(1, false, false);
    copy(parallel, false, false);
    copy(parallel, false, true);
    copy(parallel, true, true);
    // Each round in a rotated order, so that no method always runs first or after the same one;
    // the median of the rounds is kept.
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < jobs.length; i++) await runJob(jobs[(i + round) % jobs.length]!);
    }
    for (const job of jobs) {
      const s = samples.get(job.method)!;
      const sorted = [...s.seconds].sort((a, b) => a - b);
      const seconds = sorted[Math.floor(sorted.length / 2)]!;
      runs.push({
        method: job.method,
        command: job.command,
        seconds,
        rowsPerSecond: totalRows / seconds,
        mbPerSecond: mb / seconds,
        equal: s.equal,
        rounds: s.seconds,
      });
    }
    let backup: { seconds: number } | undefined;
    if (findTool(['mariadb-backup', 'mariabackup'])) {
      process.stderr.write('bench: mariabackup (backup + prepare, whole instance)\n');
      const started = Date.now();
      await backupLoad({ source: source.url, stateDir: await stateDir(), say: () => undefined });
      backup = { seconds: (Date.now() - started) / 1000 };
    }

    const base = runs[0]!.seconds;
    const header = ['method', 'seconds', 'rows/s', 'MB/s', 'x plain mysqldump', 'equal', 'rounds (s)'];
    const table = runs.map((r) => [
      r.method,
      r.seconds.toFixed(2),
      Math.round(r.rowsPerSecond),
      r.mbPerSecond.toFixed(1),
      (base / r.seconds).toFixed(2),
      r.equal ? 'yes' : 'NO',
      r.rounds.map((x) => x.toFixed(1)).join(' '),
    ]);
    const version = (await q<{ v: string }[]>(source, 'SELECT VERSION() AS v'))[0]?.v ?? '';
    const best = runs
      .filter((r) => r.method.startsWith('copy'))
      .reduce((a, b) => (a.seconds < b.seconds ? a : b));
    const defaultCopy = runs.find((r) => r.method === `copy, ${parallel} parallel`)!;
    const verdict =
      `Target: copy >= 1.5 x the plain mysqldump pipeline. Measured: copy --parallel ${parallel} ` +
      `${(base / defaultCopy.seconds).toFixed(2)} x; best copy (${best.method}) ${(base / best.seconds).toFixed(2)} x ` +
      `(${base / best.seconds >= 1.5 ? 'met' : 'NOT met'}).`;
    const loadAfter = (await readFile('/proc/loadavg', 'utf8').catch(() => '')).split(' ')[0] ?? '?';
    const host = await hostInfo({
      mariadb: version,
      loadAverageAtStart: loadBefore,
      loadAverageAtEnd: loadAfter,
    });
    const md = [
      `# Initial load, ${today()}`,
      '',
      // A pipe inside a cell would end it.
      markdownTable(
        header,
        table.map(([method, ...rest]) => [String(method).replaceAll('|', '\\|'), ...rest]),
      ),
      '',
      verdict,
      '',
      `${tables} tables x ${rows} rows (sysbench-like: INT key, random INT secondary index, CHAR(120), CHAR(60)), ` +
        `${mb.toFixed(0)} MB of data and indexes on the source. Both servers: ${SERVER_ARGS.join(' ')}, binary log on; ` +
        'target innodb_flush_log_at_trx_commit = 1 (the default) except under --fast-durability. ' +
        'Each run starts from an empty target database and is checked with CHECKSUM TABLE on both servers; ' +
        `${rounds} round(s) in rotated orders, median kept.`,
      backup
        ? `mariabackup --backup + --prepare of the whole source instance: ${backup.seconds.toFixed(1)} s ` +
          `(${(mb / backup.seconds).toFixed(0)} MB/s of table data; restoring is a file copy on the target host, not measured).`
        : 'mariabackup: not installed, not measured.',
      '',
      `Load average (1 min) at start ${loadBefore}, at end ${loadAfter}: on 2 cores, anything above 2 means ` +
        'other processes shared the machine and the figures are disturbed.',
      '',
      'Machine:',
      hostMarkdown(host),
      '',
    ].join('\n');
    process.stdout.write(`\n${textTable(header, table)}\n\n${verdict}\n`);
    if (backup) process.stdout.write(`mariabackup backup + prepare: ${backup.seconds.toFixed(1)} s\n`);
    const tag = checkTag(values.tag ?? process.env['BENCH_TAG']);
    const stem = `load-${today()}${values.quick ? '-quick' : ''}${tag ? `-${tag}` : ''}`;
    await writeFile(join(RESULTS_DIR, `${stem}.md`), md);
    await writeFile(
      join(RESULTS_DIR, `${stem}.json`),
      `${JSON.stringify({ tables, rows, mb, runs, backup, host }, null, 2)}\n`,
    );
    process.stderr.write(`bench: wrote bench/results/${stem}.md\n`);
  } finally {
    await Promise.all([source.stop(), target.stop()]);
    if (values.keep) process.stderr.write(`bench: kept ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
}

void execFileAsync;
main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
