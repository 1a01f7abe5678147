import * as mariadb from 'mariadb';
import { createConnection as createDirect } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * The MariaDB Node.js connector through tandem. It pipelines by default (it writes the next
 * commands before the previous answers arrive), prepares and executes in the binary protocol,
 * and uses COM_STMT_BULK_EXECUTE for batches only when the server grants
 * MARIADB_CLIENT_STMT_BULK_OPERATIONS, which tandem does not.
 */

const DB = 'frontend_mariadb_connector';
/** MARIADB_CLIENT_STMT_BULK_OPERATIONS as the connector numbers it (extended capabilities << 32). */
const BULK_OPERATIONS = 1n << 34n;
const source = sharedPair().source;
let proxy: RunningProxy;

function connect(options: Partial<mariadb.ConnectionConfig> = {}): Promise<mariadb.Connection> {
  return mariadb.createConnection({
    host: '127.0.0.1',
    port: proxy.port,
    user: 'root',
    database: DB,
    connectTimeout: 5000,
    ...options,
  });
}

async function withConnection<T>(
  options: Partial<mariadb.ConnectionConfig>,
  body: (conn: mariadb.Connection) => Promise<T>,
): Promise<T> {
  const conn = await connect(options);
  try {
    return await body(conn);
  } finally {
    await conn.end();
  }
}

async function onSource(sql: string): Promise<unknown> {
  const conn = await createDirect({ host: source.host, port: source.port, user: 'root' });
  try {
    const [rows] = await conn.query(sql);
    return rows;
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  await onSource(`DROP DATABASE IF EXISTS ${DB}`);
  await onSource(`CREATE DATABASE ${DB}`);
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(1000);
  await onSource(`DROP DATABASE IF EXISTS ${DB}`);
});

describe('the mariadb connector through tandem', () => {
  it('runs text queries', async () => {
    await withConnection({}, async (conn) => {
      const rows = await conn.query("SELECT 1 AS one, 'é' AS accent, NULL AS nothing");
      expect([...rows]).toEqual([{ one: 1, accent: 'é', nothing: null }]);
      await conn.query('CREATE TABLE items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50))');
      const ok = await conn.query('INSERT INTO items (name) VALUES (?), (?)', ['a', 'b']);
      expect(ok).toMatchObject({ affectedRows: 2, insertId: 1n });
    });
  });

  it('executes prepared statements in the binary protocol, repeatedly', async () => {
    await withConnection({ prepareCacheLength: 0 }, async (conn) => {
      await conn.query(
        'CREATE TABLE typed (id INT PRIMARY KEY, d DOUBLE, s VARCHAR(20), b BLOB, t DATETIME(3), n INT)',
      );
      for (let i = 1; i <= 20; i++) {
        await conn.execute('INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?)', [
          i,
          i / 4,
          `row ${i}`,
          Buffer.from([i, 0, 255]),
          new Date(Date.UTC(2024, 0, i, 12, 0, 0, 250)),
          i % 2 === 0 ? null : i,
        ]);
      }
      const rows = await conn.execute(
        'SELECT id, d, s, b, n FROM typed WHERE id IN (?, ?) ORDER BY id',
        [3, 4],
      );
      expect([...rows]).toEqual([
        { id: 3, d: 0.75, s: 'row 3', b: Buffer.from([3, 0, 255]), n: 3 },
        { id: 4, d: 1, s: 'row 4', b: Buffer.from([4, 0, 255]), n: null },
      ]);
      const prepared = await conn.prepare('SELECT COUNT(*) AS c FROM typed WHERE id <= ?');
      try {
        for (const limit of [0, 5, 20]) {
          const [row] = await prepared.execute([limit]);
          expect(row).toEqual({ c: BigInt(limit) });
        }
      } finally {
        prepared.close();
      }
    });
  });

  it('executes by statement id -1 (the last prepared) when it pipelines prepare and execute', async () => {
    // Without a cached statement the connector writes COM_STMT_PREPARE and, at once,
    // COM_STMT_EXECUTE naming statement -1, before the prepare's answer has given an id.
    await withConnection({ prepareCacheLength: 0, pipelining: true }, async (conn) => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => conn.execute(`SELECT ? + ${i} AS n`, [100])),
      );
      expect(answers.map((rows) => Number(rows[0].n))).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
      await expect(conn.execute('SELECT * FROM no_such_table WHERE id = ?', [1])).rejects.toMatchObject({
        errno: 1146,
      });
      const [row] = await conn.execute('SELECT ? AS after_failed_prepare', ['ok']);
      expect(row).toEqual({ after_failed_prepare: 'ok' });
    });
  });

  it('runs a batch without bulk operations, falling back row by row', async () => {
    await withConnection({}, async (conn) => {
      expect(BigInt(conn.info!.serverCapabilities) & BULK_OPERATIONS).toBe(0n);
      await conn.query('CREATE TABLE batched (id INT PRIMARY KEY, label VARCHAR(20), note TEXT)');
      const values = Array.from({ length: 500 }, (_, i) => [i, `label ${i}`, i % 7 === 0 ? null : 'n']);
      const result = await conn.batch('INSERT INTO batched VALUES (?, ?, ?)', values);
      const total = Array.isArray(result)
        ? result.reduce((sum, r) => sum + Number((r as mariadb.UpsertResult).affectedRows), 0)
        : Number(result.affectedRows);
      expect(total).toBe(500);
      const [row] = await conn.query('SELECT COUNT(*) AS c, COUNT(note) AS notes FROM batched');
      expect(row).toEqual({ c: 500n, notes: BigInt(500 - Math.ceil(500 / 7)) });
    });
  });

  it('commits and rolls back a transaction', async () => {
    await withConnection({}, async (conn) => {
      await conn.query('CREATE TABLE ledger (id INT PRIMARY KEY, amount INT) ENGINE=InnoDB');
      await conn.beginTransaction();
      await conn.query('INSERT INTO ledger VALUES (1, 10)');
      await conn.execute('INSERT INTO ledger VALUES (?, ?)', [2, 20]);
      await conn.commit();
      await conn.beginTransaction();
      await conn.query('DELETE FROM ledger');
      await conn.rollback();
    });
    expect(await onSource(`SELECT id, amount FROM ${DB}.ledger ORDER BY id`)).toEqual([
      { id: 1, amount: 10 },
      { id: 2, amount: 20 },
    ]);
  });

  it('answers pipelined commands in order', async () => {
    await withConnection({ pipelining: true }, async (conn) => {
      await conn.query('CREATE TABLE piped (id INT PRIMARY KEY, v INT)');
      // Not awaited one by one: the connector writes all of them before reading any answer.
      const writes = Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? conn.query('INSERT INTO piped VALUES (?, ?)', [i, i * 10])
          : conn.execute('INSERT INTO piped VALUES (?, ?)', [i, i * 10]),
      );
      const reads = Array.from({ length: 100 }, (_, i) => conn.query('SELECT ? AS echo, SLEEP(0) AS z', [i]));
      const failing = conn.query('SELECT * FROM no_such_table').then(
        () => 'resolved',
        (err: mariadb.SqlError) => err.errno,
      );
      const after = conn.query('SELECT COUNT(*) AS c, SUM(v) AS s FROM piped');
      await Promise.all(writes);
      const echoed = await Promise.all(reads);
      expect(echoed.map((rows) => Number(rows[0].echo))).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(await failing).toBe(1146);
      expect([...(await after)]).toEqual([{ c: 200n, s: String(10 * ((199 * 200) / 2)) }]);
    });
  });

  it('resets the session with COM_RESET_CONNECTION', async () => {
    await withConnection({}, async (conn) => {
      const [{ id }] = await conn.query('SELECT CONNECTION_ID() AS id');
      await conn.query('SET @leftover = 42');
      await conn.query('CREATE TEMPORARY TABLE scratch (x INT)');
      await conn.beginTransaction();
      await conn.reset();
      const [row] = await conn.query(
        "SELECT CONNECTION_ID() AS id, @leftover AS leftover, @@in_transaction AS tx, (SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'scratch' AND table_type = 'TEMPORARY') AS temps",
      );
      expect(row).toEqual({ id, leftover: null, tx: 0n, temps: 0n });
      const rows = await conn.execute('SELECT ? AS after_reset', ['yes']);
      expect([...rows]).toEqual([{ after_reset: 'yes' }]);
    });
  });

  it('streams 200,000 rows with queryStream', async () => {
    await withConnection({}, async (conn) => {
      const stream = conn.queryStream("SELECT seq, CONCAT('row-', seq) AS label FROM seq_1_to_200000");
      let count = 0;
      let sum = 0;
      let lastLabel = '';
      for await (const row of stream as AsyncIterable<{ seq: number; label: string }>) {
        count++;
        sum += Number(row.seq);
        lastLabel = row.label;
      }
      expect(count).toBe(200_000);
      expect(sum).toBe((200_000 * 200_001) / 2);
      expect(lastLabel).toBe('row-200000');
      const [row] = await conn.query('SELECT 1 AS after_stream');
      expect(row).toEqual({ after_stream: 1 });
    });
  });

  it('serves a pool of pipelining connections in parallel', async () => {
    const pool = mariadb.createPool({
      host: '127.0.0.1',
      port: proxy.port,
      user: 'root',
      database: DB,
      connectionLimit: 6,
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) => pool.query('SELECT ? * 2 AS doubled', [i])),
      );
      expect(results.map((rows) => Number(rows[0].doubled))).toEqual(
        Array.from({ length: 120 }, (_, i) => i * 2),
      );
    } finally {
      await pool.end();
    }
  });
});
