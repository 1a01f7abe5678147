import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import { startTestProxy } from '../harness/proxy.js';

const sourcePort = inject('sourcePort');
const targetPort = inject('targetPort');
const DB = 'dw_basic';

async function rows(port: number, sql: string): Promise<unknown[]> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', dateStrings: true });
  try {
    const [r] = await c.query(sql);
    return r as unknown[];
  } finally {
    await c.end();
  }
}

/** tandem in dual-source in front of the shared pair (its own state directory). */
function dualSource(overrides: Partial<ConfigInput> = {}): ReturnType<typeof startTestProxy> {
  return startTestProxy(`mysql://root@127.0.0.1:${sourcePort}/`, {
    target: `mysql://root@127.0.0.1:${targetPort}/`,
    mode: 'dual-source',
    ...overrides,
  });
}

/** An app connection through `proxy`, in a freshly created database `db`. */
async function appIn(proxy: { port: number }, db: string): Promise<mysql.Connection> {
  const app = await mysql.createConnection({
    host: '127.0.0.1',
    port: proxy.port,
    user: 'root',
    dateStrings: true,
  });
  await app.query(`DROP DATABASE IF EXISTS ${db}`);
  await app.query(`CREATE DATABASE ${db}`);
  await app.query(`USE ${db}`);
  return app;
}

describe('dual-source mode', () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;
  let app: mysql.Connection;

  beforeAll(async () => {
    proxy = await dualSource();
    app = await appIn(proxy, DB);
    await app.query(
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20), r DOUBLE,
        created DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6), n DATETIME(6))`,
    );
  });

  afterAll(async () => {
    await app?.end();
    await proxy?.close(1000);
  });

  it('replays insert ids, timestamps and random values on the target', async () => {
    // Ids taken on the target alone would differ from the source's without pinning.
    await rows(targetPort, `INSERT INTO ${DB}.t (v) VALUES ('target-only')`);
    await rows(targetPort, `DELETE FROM ${DB}.t`);
    const [one] = await app.query(`INSERT INTO t (v, r, n) VALUES ('a', RAND(), NOW(6))`);
    const [three] = await app.query(
      `INSERT INTO t (v, r, n) VALUES ('b', RAND(), NOW(6)), ('c', RAND(), NOW(6)), ('d', 1, NOW())`,
    );
    expect((one as mysql.ResultSetHeader).insertId).toBe(1);
    expect((three as mysql.ResultSetHeader).insertId).toBe(2);
    await app.query(`UPDATE t SET v = CONCAT(v, '!'), n = NOW(6) WHERE id <= 2`);
    await app.query(`DELETE FROM t WHERE id = 4`);
    const onSource = await rows(sourcePort, `SELECT * FROM ${DB}.t ORDER BY id`);
    const onTarget = await rows(targetPort, `SELECT * FROM ${DB}.t ORDER BY id`);
    expect(onSource).toHaveLength(3);
    expect(onTarget).toEqual(onSource);
  });

  it('replays an insert id that equals the LAST_INSERT_ID() the statement reads', async () => {
    // The new id is 8, and so was LAST_INSERT_ID() before: the id must still reach the target,
    // whose own counter would give 1.
    await app.query('CREATE TABLE t_log (id INT AUTO_INCREMENT PRIMARY KEY, src BIGINT, v VARCHAR(10))');
    await rows(sourcePort, `ALTER TABLE ${DB}.t_log AUTO_INCREMENT = 8`);
    await app.query('SELECT LAST_INSERT_ID(8)');
    const [r] = await app.query(`INSERT INTO t_log (src, v) VALUES (LAST_INSERT_ID(), 'x')`);
    expect((r as mysql.ResultSetHeader).insertId).toBe(8);
    const onSource = await rows(sourcePort, `SELECT * FROM ${DB}.t_log`);
    expect(onSource).toEqual([{ id: 8, src: 8, v: 'x' }]);
    expect(await rows(targetPort, `SELECT * FROM ${DB}.t_log`)).toEqual(onSource);
  });

  it('gives ROW_COUNT() the mirrored write’s affected rows, as the server alone would', async () => {
    await app.query('CREATE TABLE t_rc (id INT AUTO_INCREMENT PRIMARY KEY, v INT)');
    await app.query('INSERT INTO t_rc (v) VALUES (1), (2), (3)');
    const count = async () => {
      const [r] = await app.query('SELECT ROW_COUNT() AS n');
      return Number((r as { n: number }[])[0]?.n);
    };
    expect(await count()).toBe(3);
    await app.query('UPDATE t_rc SET v = v + 1 WHERE id <= 2');
    expect(await count()).toBe(2);
    await app.query('BEGIN');
    await app.query('INSERT INTO t_rc (v) VALUES (9)');
    expect(await count()).toBe(1);
    await app.query('COMMIT');
    // Only the statement right after the write: here the server's own value (-1 after a SELECT).
    await app.query('SELECT 1');
    expect(await count()).toBe(-1);
  });

  it('mirrors a transaction and its rollback', async () => {
    await app.query('BEGIN');
    await app.query(`INSERT INTO t (v) VALUES ('in-tx')`);
    await app.query('ROLLBACK');
    await app.query('START TRANSACTION');
    await app.query(`INSERT INTO t (v) VALUES ('committed')`);
    await app.query('COMMIT');
    const onSource = await rows(sourcePort, `SELECT * FROM ${DB}.t ORDER BY id`);
    expect(await rows(targetPort, `SELECT * FROM ${DB}.t ORDER BY id`)).toEqual(onSource);
  });

  it('mirrors prepared writes with their ids', async () => {
    for (let i = 0; i < 5; i++) await app.execute('INSERT INTO t (v, r) VALUES (?, ?)', [`p${i}`, i / 3]);
    await app.execute('UPDATE t SET r = ? WHERE v = ?', [0.5, 'p1']);
    const onSource = await rows(sourcePort, `SELECT * FROM ${DB}.t ORDER BY id`);
    expect(await rows(targetPort, `SELECT * FROM ${DB}.t ORDER BY id`)).toEqual(onSource);
  });
});

describe('non-deterministic functions in dual-source mode', () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;
  let app: mysql.Connection;
  const db = 'dw_nondet';

  beforeAll(async () => {
    proxy = await dualSource();
    app = await appIn(proxy, db);
    await app.query(
      'CREATE TABLE u (id INT AUTO_INCREMENT PRIMARY KEY, u CHAR(36), s BIGINT UNSIGNED, t DATETIME(6))',
    );
  });

  afterAll(async () => {
    await app?.end();
    await proxy?.close(1000);
  });

  it('gives the target the UUID() and UUID_SHORT() values the source generated', async () => {
    await app.query(
      'INSERT INTO u (u, s, t) VALUES (UUID(), UUID_SHORT(), NOW(6)), (UUID(), UUID_SHORT(), SYSDATE())',
    );
    const sql = `SELECT * FROM ${db}.u ORDER BY id`;
    const onSource = (await rows(sourcePort, sql)) as { u: string; s: string }[];
    expect(onSource).toHaveLength(2);
    expect(onSource[0]!.u).not.toBe(onSource[1]!.u);
    // SYSDATE() cannot be pinned: the row may differ on the target, and the journal says so.
    expect(proxy.journal.depth).toBe(1);
    const onTarget = (await rows(targetPort, sql)) as { u: string; s: string }[];
    expect(onTarget.map((r) => [r.u, r.s])).toEqual(onSource.map((r) => [r.u, r.s]));
  });

  it('refuses a per-row UUID() under policy strict before running it', async () => {
    const strict = await dualSource({ dualWrite: { policy: 'strict' } });
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      port: strict.port,
      user: 'root',
      database: db,
    });
    try {
      await expect(c.query('UPDATE u SET u = UUID()')).rejects.toThrow(/UUID\(\) cannot be pinned/);
      const sql = `SELECT id, u, s FROM ${db}.u ORDER BY id`;
      expect(await rows(targetPort, sql)).toEqual(await rows(sourcePort, sql));
    } finally {
      await c.end();
      await strict.close(1000);
    }
  });
});

describe('migration scope in dual-source mode', () => {
  it('writes tables outside the scope to the source only', async () => {
    const db = 'dw_scope';
    const proxy = await dualSource({ scope: { include: [`${db}.*`], exclude: [`${db}.local_*`] } });
    const c = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    try {
      await c.query(`DROP DATABASE IF EXISTS ${db}`);
      await c.query(`CREATE DATABASE ${db}`);
      await c.query(`USE ${db}`);
      await c.query('CREATE TABLE kept (id INT PRIMARY KEY)');
      await c.query('CREATE TABLE local_cache (id INT PRIMARY KEY)');
      await c.query('INSERT INTO kept VALUES (1)');
      await c.query('INSERT INTO local_cache VALUES (1)');
      expect(await rows(targetPort, `SELECT * FROM ${db}.kept`)).toEqual([{ id: 1 }]);
      // Out of scope, even its CREATE TABLE stayed on the source.
      expect(
        await rows(
          targetPort,
          `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}'`,
        ),
      ).toEqual([{ n: 1 }]);
      expect(await rows(sourcePort, `SELECT * FROM ${db}.local_cache`)).toEqual([{ id: 1 }]);
      expect(proxy.journal.depth).toBe(0);
    } finally {
      await c.end();
      await proxy.close(1000);
    }
  });
});

describe('renamed schema and table on the target', () => {
  it('writes to the target under its own names', async () => {
    const proxy = await dualSource({
      scope: { rename: { schemas: { dw_ren: 'dw_ren_v2' }, tables: { 'dw_ren.orders': 'orders_new' } } },
    });
    const c = await mysql.createConnection({
      host: '127.0.0.1',
      port: proxy.port,
      user: 'root',
      dateStrings: true,
    });
    try {
      await c.query('DROP DATABASE IF EXISTS dw_ren');
      await c.query('CREATE DATABASE dw_ren');
      await c.query('USE dw_ren');
      await c.query(
        'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total INT, at DATETIME(6) DEFAULT NOW(6))',
      );
      await c.query('CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(10))');
      await c.query('INSERT INTO orders (total) VALUES (10), (20)');
      await c.query('UPDATE orders SET total = total + 1 WHERE orders.id = 1');
      await c.query("INSERT INTO dw_ren.customers VALUES (1, 'ann')");
      await c.execute('INSERT INTO orders (total) VALUES (?)', [30]);
      expect(await rows(targetPort, 'SELECT * FROM dw_ren_v2.orders_new ORDER BY id')).toEqual(
        await rows(sourcePort, 'SELECT * FROM dw_ren.orders ORDER BY id'),
      );
      expect(await rows(targetPort, 'SELECT * FROM dw_ren_v2.customers')).toEqual([{ id: 1, name: 'ann' }]);
      expect(proxy.journal.depth).toBe(0);
    } finally {
      await c.end();
      await proxy.close(1000);
    }
  });
});
