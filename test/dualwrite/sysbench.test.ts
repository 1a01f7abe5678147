import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/config.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';
import { statistic, sysbench } from '../harness/sysbench.js';
import { query, stateDir } from './compare.js';

/**
 * sysbench through tandem in both dual modes: `oltp_read_write` (transactions of point and
 * range reads, index and non-index updates, a delete and an insert, as prepared statements) and
 * `oltp_insert` (auto-increment inserts). The tables are prepared through tandem, so both
 * servers get them from the same statements; afterwards CHECKSUM TABLE of every sbtest table
 * must be the same on the source and on the target, queried directly, and sysbench must report
 * no error at all.
 *
 * Duration: 16 threads for 60 s each, as the issue asks (about four minutes for the file, which
 * runs beside the others); TANDEM_SYSBENCH_SECONDS shortens it for a quick local run.
 *
 * `--rand-type=uniform`: sysbench's default distribution sends most requests to a few hot rows,
 * where InnoDB deadlocks between threads now and then without any proxy, and sysbench counts
 * those as "ignored errors"; spread out, every error counted is one that tandem caused.
 * (Conflicting writes on hot rows are conflicts.test.ts's subject.)
 */

const SECONDS = Number(process.env.TANDEM_SYSBENCH_SECONDS ?? 60);
const THREADS = 16;
const TABLES = 4;
const TABLE_SIZE = 10_000;
const { source, target } = sharedPair();

async function checksums(on: typeof source, db: string): Promise<Record<string, string>> {
  const names = Array.from({ length: TABLES }, (_, i) => `${db}.sbtest${i + 1}`);
  const rows = await query<{ Table: string; Checksum: string | null }[]>(
    on,
    `CHECKSUM TABLE ${names.join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

describe.each<[Mode]>([['dual-source'], ['dual-target']])('sysbench through tandem in %s mode', (mode) => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;

  beforeAll(async () => {
    const version = await sysbench(['--version'], 10);
    expect(version.output).toMatch(/^sysbench \d/);
    proxy = await startTestProxy(source.url, { target: target.url, mode, stateDir: stateDir() });
  });

  afterAll(async () => {
    await proxy?.close(1000);
  });

  it.each([['oltp_read_write'], ['oltp_insert']])(
    `runs %s on ${THREADS} threads with no error and leaves every table with the same checksum on both servers`,
    async (workload) => {
      const db = `dw_sb_${mode.replace('-', '_')}_${workload}`;
      for (const server of [source, target]) await query(server, `DROP DATABASE IF EXISTS ${db}`);
      const app = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
      await app.query(`CREATE DATABASE ${db}`);
      await app.end();

      const common = [
        workload,
        '--mysql-host=127.0.0.1',
        `--mysql-port=${proxy.port}`,
        '--mysql-user=root',
        '--mysql-password=',
        `--mysql-db=${db}`,
        `--tables=${TABLES}`,
        `--table-size=${TABLE_SIZE}`,
        '--rand-type=uniform',
      ];
      const started = Date.now();
      const prepared = await sysbench([...common, `--threads=${TABLES}`, 'prepare'], 120);
      const prepareMs = Date.now() - started;
      if (prepared.code !== 0 || /FATAL|ALERT/.test(prepared.output)) {
        throw new Error(
          `sysbench prepare through tandem failed (exit ${prepared.code}):\n${prepared.output}`,
        );
      }
      const run = await sysbench(
        [...common, `--threads=${THREADS}`, `--time=${SECONDS}`, 'run'],
        SECONDS + 60,
      );
      const report = `sysbench ${workload} through tandem in ${mode} (exit ${run.code}):\n${run.output}`;
      expect(run.code, report).toBe(0);
      expect(run.output, report).not.toMatch(/FATAL|ALERT/);
      expect(statistic(run.output, 'ignored errors'), report).toBe(0);
      expect(statistic(run.output, 'reconnects'), report).toBe(0);
      const transactions = statistic(run.output, 'transactions');
      expect(transactions, report).toBeGreaterThan(0);

      const onSource = await checksums(source, db);
      const onTarget = await checksums(target, db);
      expect(Object.keys(onSource)).toHaveLength(TABLES);
      expect(Object.values(onSource).every((c) => c !== 'null')).toBe(true);
      expect(onTarget).toEqual(onSource);
      const counted = await query<{ n: string }[]>(
        source,
        Array.from({ length: TABLES }, (_, i) => `SELECT COUNT(*) AS n FROM ${db}.sbtest${i + 1}`).join(
          ' UNION ALL ',
        ),
      );
      const rows = counted.reduce((n, r) => n + Number(r.n), 0);
      expect(rows).toBeGreaterThan(0);
      expect(proxy.journal.depth).toBe(0);
      console.log(
        `sysbench ${workload} ${mode}: ${JSON.stringify({
          seconds: SECONDS,
          threads: THREADS,
          prepareMs,
          transactions,
          queries: statistic(run.output, 'queries'),
          rows,
        })}`,
      );
      for (const server of [source, target]) await query(server, `DROP DATABASE IF EXISTS ${db}`);
    },
    (SECONDS + 200) * 1000,
  );
});
