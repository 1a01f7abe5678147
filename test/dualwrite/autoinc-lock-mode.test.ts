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

  /**
   * Rows (1, u 5), (2, u 15) in `table`; an upsert whose copy the target holds back, on the source
   * trying id 4 for a row that meets u = 5; another session's row of id 4 meanwhile. The tables
   * must end equal, and the insert must have waited for the upsert's copy.
   */
  async function upsertBesideInsert(table: string): Promise<void> {
    await app.query(`REPLACE INTO ${table} (id, u, v) VALUES (1, 5, 'a'), (2, 15, 'c')`);
    // On the target, hold the upsert's copy back: its first row (u = 10) waits for this gap lock
    // between u = 5 and u = 15, well within the secondary's lock wait of 1 s; u = 20 does not.
    const blocker = await mysql.createConnection({ host: '127.0.0.1', port: pair.target.port, user: 'root' });
    await blocker.query('BEGIN');
    await blocker.query(`SELECT * FROM ai.${table} WHERE u = 10 FOR UPDATE`);
    const other = await mysql.createConnection({
      host: '127.0.0.1',
      port: proxy.port,
      user: 'root',
      database: 'ai',
    });
    let insertWaited = false;
    try {
      // On the source: row 1 gets id 3, row 2 tries id 4, meets u = 5 and updates row 1 instead.
      const upsert = app.query(
        `INSERT INTO ${table} (u, v) VALUES (10, 'x'), (5, 'y') ON DUPLICATE KEY UPDATE v = CONCAT(${table}.v, '+')`,
      );
      await new Promise((r) => setTimeout(r, 200));
      // Then another session's row takes id 4 on the source: under lock mode 0 the next generated
      // id is the one given back; under any mode an explicit one can be.
      let insertDone = false;
      const insert = other
        .query(
          lockMode === 0
            ? `INSERT INTO ${table} (u, v) VALUES (20, 'b')`
            : `INSERT INTO ${table} (id, u, v) VALUES (4, 20, 'b')`,
        )
        .then(() => {
          insertDone = true;
        });
      await new Promise((r) => setTimeout(r, 200));
      insertWaited = !insertDone;
      await blocker.query('COMMIT');
      await Promise.all([upsert, insert]);
    } finally {
      await blocker.end();
      await other.end();
    }
    const sql = `SELECT id, u, v FROM ai.${table} ORDER BY id`;
    expect(await dump(pair.source.port, sql)).toEqual([
      { id: 1, u: 5, v: 'a+' },
      { id: 2, u: 15, v: 'c' },
      { id: 3, u: 10, v: 'x' },
      { id: 4, u: 20, v: 'b' },
    ]);
    expect(await dump(pair.target.port, sql)).toEqual(await dump(pair.source.port, sql));
    expect(proxy.journal.depth).toBe(0);
    // It did so by waiting for the upsert's copy: on the target id 4 was free, as on the source.
    expect(insertWaited).toBe(true);
  }

  it('keeps an id that an upsert tried and gave back free on the target until the upsert has run there', async () => {
    await app.query('CREATE TABLE up (id INT AUTO_INCREMENT PRIMARY KEY, u INT UNIQUE, v VARCHAR(20))');
    await upsertBesideInsert('up');
  });

  it('orders the upserts of a table from the moment DDL through tandem gives it a second unique key', async () => {
    await app.query('CREATE TABLE up2 (id INT AUTO_INCREMENT PRIMARY KEY, u INT, v VARCHAR(20))');
    // Seen once without the key: tandem knows the table as one whose upserts need no order.
    await app.query("INSERT INTO up2 (id, u, v) VALUES (1, 5, 'a') ON DUPLICATE KEY UPDATE v = 'a'");
    await app.query('ALTER TABLE up2 ADD UNIQUE KEY (u)');
    await upsertBesideInsert('up2');
  });

  it.skipIf(lockMode === 0)(
    'lets an insert of a generated id pass an upsert, since under this lock mode it never gets an id the upsert gave back',
    async () => {
      await app.query('CREATE TABLE up3 (id INT AUTO_INCREMENT PRIMARY KEY, u INT UNIQUE, v VARCHAR(20))');
      await app.query("INSERT INTO up3 (id, u, v) VALUES (1, 5, 'a'), (2, 15, 'c')");
      const blocker = await mysql.createConnection({
        host: '127.0.0.1',
        port: pair.target.port,
        user: 'root',
      });
      await blocker.query('BEGIN');
      await blocker.query('SELECT * FROM ai.up3 WHERE u = 10 FOR UPDATE');
      const other = await mysql.createConnection({
        host: '127.0.0.1',
        port: proxy.port,
        user: 'root',
        database: 'ai',
      });
      try {
        // Ids 3 and 4 are handed out to it on the source (4 given back): the counter is past both.
        const upsert = app.query(
          "INSERT INTO up3 (u, v) VALUES (10, 'x'), (5, 'y') ON DUPLICATE KEY UPDATE v = CONCAT(up3.v, '+')",
        );
        await new Promise((r) => setTimeout(r, 200));
        // Done while the upsert's copy still waits on the target.
        await other.query("INSERT INTO up3 (u, v) VALUES (20, 'b')");
        await blocker.query('COMMIT');
        await upsert;
      } finally {
        await blocker.end();
        await other.end();
      }
      const sql = 'SELECT id, u, v FROM ai.up3 ORDER BY id';
      expect(await dump(pair.source.port, sql)).toEqual([
        { id: 1, u: 5, v: 'a+' },
        { id: 2, u: 15, v: 'c' },
        { id: 3, u: 10, v: 'x' },
        { id: 5, u: 20, v: 'b' },
      ]);
      expect(await dump(pair.target.port, sql)).toEqual(await dump(pair.source.port, sql));
    },
  );

  it('lets inserts pass an upsert of a table with no unique key beside its auto-increment key', async () => {
    await app.query('CREATE TABLE hits (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL)');
    await app.query('INSERT INTO hits (id, n) VALUES (1, 1)');
    const blocker = await mysql.createConnection({ host: '127.0.0.1', port: pair.target.port, user: 'root' });
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM ai.hits WHERE id = 1 FOR UPDATE');
    const other = await mysql.createConnection({
      host: '127.0.0.1',
      port: proxy.port,
      user: 'root',
      database: 'ai',
    });
    try {
      // Its copy waits on the target for row 1; an id it generates is always kept, never given back.
      const upsert = app.query('INSERT INTO hits (id, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1');
      await new Promise((r) => setTimeout(r, 100));
      await other.query('INSERT INTO hits (n) VALUES (7)');
      await blocker.query('COMMIT');
      await upsert;
    } finally {
      await blocker.end();
      await other.end();
    }
    const sql = 'SELECT id, n FROM ai.hits ORDER BY id';
    expect(await dump(pair.source.port, sql)).toEqual([
      { id: 1, n: 2 },
      { id: 2, n: 7 },
    ]);
    expect(await dump(pair.target.port, sql)).toEqual(await dump(pair.source.port, sql));
  });
});
