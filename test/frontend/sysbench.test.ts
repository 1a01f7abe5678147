import { execFile } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * sysbench oltp_read_write through tandem: eight threads of transactions mixing point and
 * range reads, updates, deletes and inserts, with prepared statements and with text queries.
 * Any error that reaches sysbench fails the test.
 *
 * `--rand-type=uniform`: sysbench's default ("special") sends most requests to a few hot rows,
 * where InnoDB deadlocks (1213) between threads now and then also without a proxy; sysbench
 * counts those as "ignored errors". Spreading the rows keeps deadlocks out, so that every
 * error counted is one that tandem caused.
 */

const DB = 'frontend_sysbench';
const RUN_SECONDS = 15;
const source = sharedPair().source;
let proxy: RunningProxy;

interface SysbenchRun {
  readonly code: number;
  readonly output: string;
}

function sysbench(...args: string[]): Promise<SysbenchRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'sysbench',
      args,
      { timeout: (RUN_SECONDS + 30) * 1000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(
            new Error(
              'sysbench is not installed: this test needs it on PATH (CI installs it; apt-get install sysbench)',
            ),
          );
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

function oltp(command: 'prepare' | 'run', ...extra: string[]): Promise<SysbenchRun> {
  return sysbench(
    'oltp_read_write',
    '--mysql-host=127.0.0.1',
    `--mysql-port=${proxy.port}`,
    '--mysql-user=root',
    '--mysql-password=',
    `--mysql-db=${DB}`,
    '--tables=2',
    '--table-size=10000',
    '--threads=8',
    '--rand-type=uniform',
    ...extra,
    command,
  );
}

/** A number from sysbench's report, e.g. `statistic(out, 'transactions')`. */
function statistic(output: string, name: string): number {
  const match = new RegExp(`^\\s*${name}:\\s+(\\d+)`, 'm').exec(output);
  if (!match) throw new Error(`sysbench output has no "${name}" line:\n${output}`);
  return Number(match[1]);
}

async function onSource(sql: string): Promise<void> {
  const conn = await createConnection({ host: source.host, port: source.port, user: 'root' });
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  const version = await sysbench('--version');
  expect(version.output).toMatch(/^sysbench \d/);
  await onSource(`DROP DATABASE IF EXISTS ${DB}`);
  await onSource(`CREATE DATABASE ${DB}`);
  proxy = await startTestProxy(source.url);
  const prepared = await oltp('prepare');
  if (prepared.code !== 0 || /FATAL/.test(prepared.output)) {
    throw new Error(`sysbench prepare failed through tandem (exit ${prepared.code}):\n${prepared.output}`);
  }
});

afterAll(async () => {
  await proxy?.close(1000);
  await onSource(`DROP DATABASE IF EXISTS ${DB}`);
});

describe('sysbench oltp_read_write through tandem', () => {
  it.each([
    ['auto', 'prepared statements'],
    ['disable', 'text queries'],
  ])(
    'runs %s mode (%s) for 15 s on 8 threads with zero errors',
    async (psMode) => {
      const run = await oltp('run', `--time=${RUN_SECONDS}`, `--db-ps-mode=${psMode}`);
      const report = `sysbench --db-ps-mode=${psMode} through tandem (exit ${run.code}):\n${run.output}`;
      expect(run.code, report).toBe(0);
      expect(run.output, report).not.toMatch(/FATAL|ALERT/);
      expect(statistic(run.output, 'ignored errors'), report).toBe(0);
      expect(statistic(run.output, 'reconnects'), report).toBe(0);
      expect(statistic(run.output, 'transactions'), report).toBeGreaterThan(0);
    },
    (RUN_SECONDS + 30) * 1000,
  );
});
