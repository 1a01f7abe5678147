import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compareDatabases } from '../dualwrite/compare.js';
import { startTestProxy } from '../harness/proxy.js';
import { load, sql, url } from './load-helpers.js';

const source = inject('sourcePort');
const target = inject('targetPort');
const DB = 'load_dual';

/**
 * An app writing through tandem in dual-source while the load runs: rows it inserts reach both
 * servers, and rows it updates after the snapshot must keep their new values on the target,
 * not the snapshot's. (Deletes and updates of rows the load has not reached yet are the
 * reconciler's: see README, "Initial load".)
 */
describe('a load beside dual writes', () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;

  beforeAll(async () => {
    proxy = await startTestProxy(url(source), { target: url(target), mode: 'dual-source' });
    const app = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    await app.query(`DROP DATABASE IF EXISTS ${DB}`);
    await app.query(`CREATE DATABASE ${DB}`);
    await app.query(
      `CREATE TABLE ${DB}.items (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, note VARCHAR(60),
        updated DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))`,
    );
    await app.end();
    // The rows from before the migration: on the source only, for the load to bring over.
    await sql(
      source,
      `INSERT INTO ${DB}.items (v, note) SELECT seq, REPEAT(SHA1(seq), 1) FROM ${DB}.seq_1_to_150000`,
    );
  });

  afterAll(async () => {
    await proxy?.close(1000);
    await sql(source, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(target, `DROP DATABASE IF EXISTS ${DB}`);
  });

  it('keeps every row the dual writes put on the target during the load, and ends equal', async () => {
    let running = true;
    let inserted = 0;
    let updated = 0;
    const worker = async (n: number): Promise<void> => {
      const app = await mysql.createConnection({
        host: '127.0.0.1',
        port: proxy.port,
        user: 'root',
        database: DB,
      });
      const mine: number[] = [];
      try {
        while (running) {
          const [r] = await app.query('INSERT INTO items (v, note) VALUES (?, ?)', [n, `worker ${n}`]);
          mine.push((r as mysql.ResultSetHeader).insertId);
          inserted++;
          const id = mine[Math.floor(Math.random() * mine.length)]!;
          await app.query('UPDATE items SET v = v + 1, note = CONCAT(note, ?) WHERE id = ?', ['+', id]);
          updated++;
        }
      } finally {
        await app.end();
      }
    };
    const workers = [worker(1), worker(2)];
    while (inserted < 50) await new Promise((r) => setTimeout(r, 10));
    const before = inserted;
    const summary = await load(source, target, {
      tables: [`${DB}.*`],
      parallel: 1,
      statementBytes: 256 * 1024,
    });
    const during = inserted - before;
    await new Promise((r) => setTimeout(r, 200));
    running = false;
    await Promise.all(workers);

    expect(during).toBeGreaterThan(0);
    expect(updated).toBeGreaterThan(0);
    const { diffs, rows } = await compareDatabases(
      { host: '127.0.0.1', port: source },
      { host: '127.0.0.1', port: target },
      DB,
    );
    expect(rows).toBe(150_000 + inserted);
    expect(diffs).toEqual([]);
    // Rows the app wrote before the snapshot were already on the target: left as they were.
    expect(summary.tables[0]?.kept).toBeGreaterThan(0);
  });
});
