import mysql from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';
import { compareDatabases, query, stateDir } from './compare.js';

/**
 * Mode switches at run time (`proxy.modes.set`): a transaction keeps the mode it began with;
 * statements after it follow the new mode. Which server led a statement shows in what the app
 * gets back: `SELECT @@port` answers from the read server, and an auto-increment id comes from
 * the primary (the target's counter is moved far ahead of the source's to tell them apart).
 */

const { source, target } = sharedPair();
const DB = 'dw_mode_switch';
/** How far the target's auto-increment counter is moved ahead of the source's before each test. */
const AHEAD = 1_000_000;
/** The target's next id in this test: ids at or above it came from the target. */
let targetNext = 0;

let proxy: Awaited<ReturnType<typeof startTestProxy>>;
const apps: mysql.Connection[] = [];

async function app(): Promise<mysql.Connection> {
  const c = await mysql.createConnection({
    host: '127.0.0.1',
    port: proxy.port,
    user: 'root',
    database: DB,
    dateStrings: true,
  });
  apps.push(c);
  return c;
}

async function portOf(c: mysql.Connection): Promise<number> {
  const [rows] = await c.query('SELECT @@port AS port');
  return Number((rows as { port: number }[])[0]!.port);
}

async function insert(c: mysql.Connection, v: string): Promise<number> {
  const [r] = await c.query('INSERT INTO t (v) VALUES (?)', [v]);
  return (r as mysql.ResultSetHeader).insertId;
}

async function values(on: typeof source, where = ''): Promise<string[]> {
  const rows = await query<{ v: string }[]>(on, `SELECT v FROM ${DB}.t ${where} ORDER BY id`);
  return rows.map((r) => r.v);
}

beforeAll(async () => {
  proxy = await startTestProxy(source.url, { target: target.url, mode: 'dual-source', stateDir: stateDir() });
  for (const server of [source, target]) await query(server, `DROP DATABASE IF EXISTS ${DB}`);
  const setup = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
  await setup.query(`CREATE DATABASE ${DB}`);
  await setup.query(`USE ${DB}`);
  await setup.query(
    `CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(40) NOT NULL,
      at DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6))`,
  );
  await setup.end();
});

beforeEach(async () => {
  proxy.modes.set('dual-source', 'test');
  // Directly on the target only: its next id is far from the source's.
  const ids = await query<{ max: string }[]>(source, `SELECT COALESCE(MAX(id), 0) AS max FROM ${DB}.t`);
  targetNext = Number(ids[0]!.max) + AHEAD;
  await query(target, `ALTER TABLE ${DB}.t AUTO_INCREMENT = ${targetNext}`);
});

afterAll(async () => {
  for (const c of apps) await c.end().catch(() => undefined);
  await proxy?.close(1000);
});

describe('a mode switch in the middle of a transaction', () => {
  it('lets a transaction begun in dual-source finish there, and the next one runs in dual-target', async () => {
    const a = await app();
    const idle = await app();
    await a.query('BEGIN');
    const first = await insert(a, 'tx1-before-switch');
    expect(await portOf(a)).toBe(source.port);

    proxy.modes.set('dual-target', 'test');
    // The transaction still reads from and writes first to the source.
    const second = await insert(a, 'tx1-after-switch');
    expect(second).toBeLessThan(targetNext);
    expect(second).toBeGreaterThan(first);
    expect(await portOf(a)).toBe(source.port);
    // A session between transactions follows the new mode at once.
    expect(await portOf(idle)).toBe(target.port);
    await a.query('COMMIT');

    // The next statement of the same session runs in dual-target: the id comes from the target.
    expect(await portOf(a)).toBe(target.port);
    const third = await insert(a, 'after-commit');
    expect(third).toBeGreaterThanOrEqual(targetNext);

    const expected = ['tx1-before-switch', 'tx1-after-switch', 'after-commit'];
    expect(await values(source)).toEqual(expected);
    expect(await values(target)).toEqual(expected);
    const { diffs } = await compareDatabases(source, target, DB);
    expect(diffs).toEqual([]);
    expect(proxy.journal.depth).toBe(0);
  });

  it('lets a transaction begun in dual-target finish there after a switch back to dual-source', async () => {
    proxy.modes.set('dual-target', 'test');
    const a = await app();
    await a.query('START TRANSACTION');
    const first = await insert(a, 'tx2-before-switch');
    expect(first).toBeGreaterThanOrEqual(targetNext);
    proxy.modes.set('dual-source', 'test');
    const second = await insert(a, 'tx2-after-switch');
    expect(second).toBe(first + 1);
    expect(await portOf(a)).toBe(target.port);
    await a.query('ROLLBACK');
    expect(await portOf(a)).toBe(source.port);
    expect(await values(source, "WHERE v LIKE 'tx2%'")).toEqual([]);
    expect(await values(target, "WHERE v LIKE 'tx2%'")).toEqual([]);
    expect(proxy.journal.depth).toBe(0);
  });
});

describe('dual-target mode', () => {
  it('reads from the target and writes to both servers', async () => {
    const a = await app();
    proxy.modes.set('dual-target', 'test');
    // A row that only the target has: tandem must show it.
    await query(target, `INSERT INTO ${DB}.t (id, v) VALUES (${targetNext * 2}, 'target-only')`);
    try {
      const [seen] = await a.query('SELECT v FROM t WHERE v = ?', ['target-only']);
      expect(seen).toEqual([{ v: 'target-only' }]);
      expect(await values(source, "WHERE v = 'target-only'")).toEqual([]);
    } finally {
      await query(target, `DELETE FROM ${DB}.t WHERE id = ${targetNext * 2}`);
    }

    // Writes, text and prepared, go to both, with the target's ids.
    const id = await insert(a, 'dual-target-write');
    const [prepared] = await a.execute('INSERT INTO t (v) VALUES (?)', ['dual-target-prepared']);
    await a.execute('UPDATE t SET v = CONCAT(v, ?) WHERE id = ?', ['!', id]);
    expect((prepared as mysql.ResultSetHeader).insertId).toBe(id + 1);
    for (const server of [source, target]) {
      expect(await values(server, "WHERE v LIKE 'dual-target-%'")).toEqual([
        'dual-target-write!',
        'dual-target-prepared',
      ]);
    }
    const { diffs } = await compareDatabases(source, target, DB);
    expect(diffs).toEqual([]);
    expect(proxy.journal.depth).toBe(0);
  });
});
