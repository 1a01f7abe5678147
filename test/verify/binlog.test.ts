import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MariaDbInstance } from '../../src/sandbox/mariadb-instance.js';
import type { PassSummary } from '../../src/verify/verify-report.js';
import { startServer, stopServers } from '../harness/servers.js';
import { newStateDir, rowsOf, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_binlog';
const T = `${DB}.t`;

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the binlog method', () => {
  // A source of its own: the shared one runs without a binary log.
  let binlogSource: MariaDbInstance;

  beforeAll(async () => {
    binlogSource = await startServer('binlog-source', {
      serverArgs: ['--log-bin=binlog', '--server-id=7', '--binlog-format=ROW'],
    });
    const setup = `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
      CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL); INSERT INTO t SELECT seq, 'x' FROM seq_1_to_10`;
    await Promise.all([sql(binlogSource.url, setup), sql(target, setup)]);
  }, 120_000);

  afterAll(async () => {
    await sql(target, `DROP DATABASE IF EXISTS ${DB}`);
    if (binlogSource) await stopServers(binlogSource);
  });

  async function follow(fix: boolean, change: string) {
    const abort = new AbortController();
    const passes: PassSummary[] = [];
    let ready = false;
    const running = verify({
      tables: [T],
      source: binlogSource.url,
      method: 'binlog',
      fix,
      intervalSeconds: 0.3,
      delayMs: 200,
      signal: abort.signal,
      onReady: () => {
        ready = true;
      },
      onPass: (s) => passes.push(s),
    });
    await until(() => ready, 10_000);
    // Behind tandem's back, on the source only.
    await sql(binlogSource.url, change);
    return {
      passes,
      stop: async () => {
        abort.abort();
        return running;
      },
    };
  }

  it('re-checks each row a change touched and repairs the target within moments', async () => {
    const f = await follow(
      true,
      `INSERT INTO ${T} VALUES (11, 'new'); UPDATE ${T} SET v = 'changed' WHERE id = 2; DELETE FROM ${T} WHERE id = 3`,
    );
    await until(
      async () =>
        JSON.stringify(await rowsOf(target, T)) === JSON.stringify(await rowsOf(binlogSource.url, T)),
      10_000,
    );
    const r = await f.stop();
    expect(r.code).toBe(0);
    const found = f.passes.flatMap((p) =>
      p.outcomes.flatMap((o) => o.differences.map((d) => `${d.kind}:${d.key.id}`)),
    );
    expect(found.sort()).toEqual(['changed:2', 'extra:3', 'missing:11']);
  });

  it('in a dry run reports the rows a change left different, and repairs nothing', async () => {
    const f = await follow(false, `UPDATE ${T} SET v = 'dry' WHERE id = 5`);
    await until(() => f.passes.some((p) => p.record.differing > 0), 10_000);
    await f.stop();
    expect(f.passes.find((p) => p.record.differing > 0)?.outcomes[0]?.differences).toEqual([
      { kind: 'changed', key: { id: 5 }, fixed: false },
    ]);
    expect(await rowsOf(target, T)).not.toEqual(await rowsOf(binlogSource.url, T));
  });

  it('refuses a source without a binary log, saying what to set', async () => {
    await expect(verify({ tables: [T], method: 'binlog', stateDir: newStateDir() })).rejects.toThrow(
      /log_bin is OFF/,
    );
  });
});
