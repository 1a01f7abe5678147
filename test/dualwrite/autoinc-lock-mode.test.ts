import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';
import { type ServerPair, startPair } from '../harness/servers.js';

async function dump(port: number, sql: string): Promise<unknown> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', dateStrings: true });
  try {
    return (await c.query(sql))[0];
  } finally {
    await c.end();
  }
}

describe.each([0, 1, 2])('innodb_autoinc_lock_mode = %i', (lockMode) => {
  let pair: ServerPair;
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;
  let app: mysql.Connection;

  beforeAll(async () => {
    pair = await startPair({ serverArgs: [`--innodb-autoinc-lock-mode=${lockMode}`] });
    proxy = await startTestProxy(pair.source.url, {
      target: pair.target.url,
      mode: 'dual-source',
      stateDir: mkdtempSync(join(tmpdir(), 'tandem-state-')),
    });
    app = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    await app.query('CREATE DATABASE ai');
    await app.query('USE ai');
    await app.query('CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v INT, UNIQUE KEY (v))');
    await app.query('CREATE TABLE src (v INT)');
    await app.query('INSERT INTO src VALUES (100), (101), (102)');
  });

  afterAll(async () => {
    await app?.end();
    await proxy?.close(1000);
    await pair?.stop();
  });

  async function expectEqual(): Promise<void> {
    const sql = 'SELECT * FROM ai.t ORDER BY id';
    const onSource = await dump(pair.source.port, sql);
    expect(await dump(pair.target.port, sql)).toEqual(onSource);
    expect(proxy.journal.depth).toBe(0);
  }

  it('gives multi-row inserts the same ids on both servers, with a session step of 7', async () => {
    // Ids taken on the target alone: without pinning, its ids would run ahead of the source's.
    await dump(pair.target.port, 'INSERT INTO ai.t (v) VALUES (-1), (-2)');
    await dump(pair.target.port, 'DELETE FROM ai.t');
    await app.query('INSERT INTO t (v) VALUES (1), (2), (3)');
    await app.query('SET SESSION auto_increment_increment = 7');
    await app.query('INSERT INTO t (v) VALUES (4), (5)');
    await app.query('INSERT INTO t (v) VALUES (5), (6) ON DUPLICATE KEY UPDATE v = v + 1000');
    await app.query('INSERT IGNORE INTO t (v) VALUES (1), (7)');
    await app.query('REPLACE INTO t (v) VALUES (2)');
    await app.query('SET SESSION auto_increment_increment = 1');
    await app.query('INSERT INTO t (id, v) VALUES (500, 8)');
    await app.query('INSERT INTO t (v) VALUES (LAST_INSERT_ID(9))');
    await expectEqual();
  });

  it(
    lockMode === 2
      ? 'refuses an INSERT ... SELECT that generates several ids, and undoes it'
      : 'mirrors an INSERT ... SELECT with its generated ids',
    async () => {
      const run = app.query('INSERT INTO t (v) SELECT v FROM src');
      if (lockMode === 2) {
        await expect(run).rejects.toThrow(/innodb_autoinc_lock_mode = 2/);
        expect(
          await dump(pair.source.port, 'SELECT COUNT(*) AS n FROM ai.t WHERE v BETWEEN 100 AND 102'),
        ).toEqual([{ n: 0 }]);
      } else await run;
      await app.query('INSERT INTO t (id, v) SELECT v + 1000, v + 1000 FROM src');
      await expectEqual();
    },
  );
});
