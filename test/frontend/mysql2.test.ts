import { randomBytes } from 'node:crypto';
import {
  type Connection,
  type ConnectionOptions,
  createConnection,
  createPool,
  type ResultSetHeader,
  type RowDataPacket,
} from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/** mysql2's promise API through tandem, against the shared source. */

const DB = 'frontend_mysql2';
const USER = 'frontend_mysql2_user';
const PASSWORD = 'mysql2-secret';
const source = sharedPair().source;
let proxy: RunningProxy;
let admin: Connection;

function viaProxy(options: ConnectionOptions = {}): Promise<Connection> {
  return createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root', database: DB, ...options });
}

/** Opens a connection through the proxy for one test and always closes it. */
async function withConnection<T>(
  options: ConnectionOptions,
  body: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await viaProxy(options);
  try {
    return await body(conn);
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'`);
  await admin.query(`GRANT ALL ON ${DB}.* TO '${USER}'@'%'`);
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(1000);
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.end();
});

describe('mysql2 through tandem', () => {
  it('runs a text query and gets typed rows and fields', async () => {
    await withConnection({}, async (conn) => {
      const [rows, fields] = await conn.query<RowDataPacket[]>(
        "SELECT 1 AS one, 'two' AS two, NULL AS nothing, 1.5 AS dec_value",
      );
      expect(rows).toEqual([{ one: 1, two: 'two', nothing: null, dec_value: '1.5' }]);
      expect(fields.map((f) => f.name)).toEqual(['one', 'two', 'nothing', 'dec_value']);
    });
  });

  it('executes a prepared statement several times with NULLs and many types', async () => {
    await withConnection(
      { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true },
      async (conn) => {
        await conn.query(
          `CREATE TABLE types (
           id INT PRIMARY KEY, tiny TINYINT, big BIGINT, dbl DOUBLE, dec_value DECIMAL(20,6),
           str VARCHAR(100), txt TEXT, bin VARBINARY(50), day DATE, moment DATETIME(6), js JSON)`,
        );
        const insert = 'INSERT INTO types VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
        const rows: (string | number | Buffer | null)[][] = [
          [
            1,
            -128,
            '9007199254740993',
            Math.PI,
            '12345678901234.123456',
            'héllo ✓',
            'x'.repeat(1000),
            Buffer.from([0, 1, 2, 255]),
            '2024-02-29',
            '2024-02-29 23:59:59.123456',
            '{"a": [1, 2]}',
          ],
          [2, null, null, null, null, null, null, null, null, null, null],
          [
            3,
            127,
            '-9223372036854775808',
            -0.5,
            '-0.000001',
            '',
            '',
            Buffer.alloc(0),
            '1000-01-01',
            null,
            'null',
          ],
        ];
        for (const row of rows) {
          const [result] = await conn.execute<ResultSetHeader>(insert, row);
          expect(result.affectedRows).toBe(1);
        }
        const select = 'SELECT * FROM types WHERE id = ?';
        const [first] = await conn.execute<RowDataPacket[]>(select, [1]);
        expect(first).toEqual([
          {
            id: 1,
            tiny: -128,
            big: '9007199254740993',
            dbl: Math.PI,
            dec_value: '12345678901234.123456',
            str: 'héllo ✓',
            txt: 'x'.repeat(1000),
            bin: Buffer.from([0, 1, 2, 255]),
            day: '2024-02-29',
            moment: '2024-02-29 23:59:59.123456',
            js: { a: [1, 2] },
          },
        ]);
        const [second] = await conn.execute<RowDataPacket[]>(select, [2]);
        expect(second).toEqual([
          {
            id: 2,
            tiny: null,
            big: null,
            dbl: null,
            dec_value: null,
            str: null,
            txt: null,
            bin: null,
            day: null,
            moment: null,
            js: null,
          },
        ]);
        const [third] = await conn.execute<RowDataPacket[]>(
          'SELECT id, big, str, bin, js FROM types WHERE id = ?',
          [3],
        );
        expect(third).toEqual([
          { id: 3, big: '-9223372036854775808', str: '', bin: Buffer.alloc(0), js: null },
        ]);
        const [all] = await conn.execute<RowDataPacket[]>(
          'SELECT id FROM types WHERE id > ? ORDER BY id',
          [0],
        );
        expect(all.map((r) => r.id)).toEqual([1, 2, 3]);
      },
    );
  });

  it('executes the same statement from its cache many times and can unprepare it', async () => {
    await withConnection({}, async (conn) => {
      for (let i = 0; i < 50; i++) {
        const [rows] = await conn.execute<RowDataPacket[]>('SELECT ? + 1 AS n, ? AS s', [i, `v${i}`]);
        expect(rows).toEqual([{ n: i + 1, s: `v${i}` }]);
      }
      conn.unprepare('SELECT ? + 1 AS n, ? AS s');
      const [rows] = await conn.execute<RowDataPacket[]>('SELECT ? + 1 AS n, ? AS s', [41, 'again']);
      expect(rows).toEqual([{ n: 42, s: 'again' }]);
    });
  });

  it('makes a committed transaction visible and a rolled-back one vanish', async () => {
    await withConnection({}, async (conn) => {
      await conn.query('CREATE TABLE accounts (id INT PRIMARY KEY, balance INT) ENGINE=InnoDB');
      await conn.beginTransaction();
      await conn.query('INSERT INTO accounts VALUES (1, 100)');
      await conn.execute('INSERT INTO accounts VALUES (?, ?)', [2, 200]);
      await conn.commit();

      await conn.beginTransaction();
      await conn.query('UPDATE accounts SET balance = 0');
      await conn.query('INSERT INTO accounts VALUES (3, 300)');
      await conn.rollback();
    });
    const [rows] = await admin.query<RowDataPacket[]>(`SELECT * FROM ${DB}.accounts ORDER BY id`);
    expect(rows).toEqual([
      { id: 1, balance: 100 },
      { id: 2, balance: 200 },
    ]);
  });

  it('writes and reads back a 20 MB BLOB byte for byte, by query and by execute', async () => {
    const blob = randomBytes(20 * 1024 * 1024);
    await withConnection({ maxPreparedStatements: 4 }, async (conn) => {
      const [[limits]] = await conn.query<RowDataPacket[]>('SELECT @@max_allowed_packet AS max');
      expect(limits!.max).toBeGreaterThanOrEqual(64 * 1024 * 1024);
      await conn.query('CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB)');

      await conn.query('INSERT INTO blobs VALUES (1, ?)', [blob]);
      await conn.execute('INSERT INTO blobs VALUES (?, ?)', [2, blob]);

      const [byQuery] = await conn.query<RowDataPacket[]>(
        'SELECT data, LENGTH(data) AS n FROM blobs WHERE id = 1',
      );
      expect(byQuery[0]!.n).toBe(blob.length);
      expect(Buffer.compare(byQuery[0]!.data as Buffer, blob)).toBe(0);

      const [byExecute] = await conn.execute<RowDataPacket[]>('SELECT data FROM blobs WHERE id = ?', [2]);
      expect(Buffer.compare(byExecute[0]!.data as Buffer, blob)).toBe(0);

      const [same] = await conn.query<RowDataPacket[]>(
        'SELECT MD5(a.data) = MD5(b.data) AS same FROM blobs a JOIN blobs b ON a.id = 1 AND b.id = 2',
      );
      expect(same).toEqual([{ same: 1 }]);
      const [[after]] = await conn.query<RowDataPacket[]>('SELECT 1 AS still_in_step');
      expect(after).toEqual({ still_in_step: 1 });
    });
  });

  it('returns every result set of several statements with multipleStatements', async () => {
    await withConnection({ multipleStatements: true }, async (conn) => {
      const [results] = await conn.query<RowDataPacket[][] & ResultSetHeader[]>(
        'CREATE TABLE multi (id INT); INSERT INTO multi VALUES (1), (2); SELECT 1 AS a; SELECT id FROM multi ORDER BY id; SELECT 2 AS b, 3 AS c',
      );
      expect(results).toHaveLength(5);
      expect((results[1] as unknown as ResultSetHeader).affectedRows).toBe(2);
      expect(results[2]).toEqual([{ a: 1 }]);
      expect(results[3]).toEqual([{ id: 1 }, { id: 2 }]);
      expect(results[4]).toEqual([{ b: 2, c: 3 }]);
      await expect(conn.query('SELECT 1; SELECT * FROM no_such_table; SELECT 3')).rejects.toMatchObject({
        errno: 1146,
      });
      const [[row]] = await conn.query<RowDataPacket[]>('SELECT 4 AS after_error');
      expect(row).toEqual({ after_error: 4 });
    });
  });

  it('changes user on an open connection and gets the new identity and a fresh session', async () => {
    await withConnection({}, async (conn) => {
      await conn.query('SET @kept = 1');
      await conn.changeUser({ user: USER, password: PASSWORD, database: DB });
      const [[who]] = await conn.query<RowDataPacket[]>(
        'SELECT CURRENT_USER() AS who, DATABASE() AS db, @kept AS kept',
      );
      expect(who).toEqual({ who: `${USER}@%`, db: DB, kept: null });
      await conn.execute('SELECT ? AS still_works', [1]);
    });
  });

  it('refuses changeUser with a wrong password with error 1045', async () => {
    const conn = await viaProxy();
    try {
      await expect(conn.changeUser({ user: USER, password: 'wrong' })).rejects.toMatchObject({ errno: 1045 });
    } finally {
      conn.destroy();
    }
  });

  it('answers ping', async () => {
    await withConnection({}, async (conn) => {
      await conn.ping();
      await conn.ping();
      const [[row]] = await conn.query<RowDataPacket[]>('SELECT 1 AS ok');
      expect(row).toEqual({ ok: 1 });
    });
  });

  it('serves a pool of connections running in parallel', async () => {
    const pool = createPool({
      host: '127.0.0.1',
      port: proxy.port,
      user: 'root',
      database: DB,
      connectionLimit: 8,
    });
    try {
      await pool.query('CREATE TABLE pooled (id INT PRIMARY KEY, conn_id BIGINT)');
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          pool.execute('INSERT INTO pooled VALUES (?, CONNECTION_ID())', [i]),
        ),
      );
      const sleepers = await Promise.all(
        Array.from({ length: 8 }, () =>
          pool.query<RowDataPacket[]>('SELECT SLEEP(0.2) AS s, CONNECTION_ID() AS c'),
        ),
      );
      const [[count]] = await pool.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n, COUNT(DISTINCT conn_id) AS c FROM pooled',
      );
      expect(count!.n).toBe(200);
      expect(count!.c).toBeGreaterThan(1);
      expect(new Set(sleepers.map(([rows]) => rows[0]!.c)).size).toBe(8);
    } finally {
      await pool.end();
    }
  });

  it('refuses a wrong password with error 1045 instead of hanging', async () => {
    const started = Date.now();
    await expect(viaProxy({ user: USER, password: 'wrong', connectTimeout: 5000 })).rejects.toMatchObject({
      errno: 1045,
      code: 'ER_ACCESS_DENIED_ERROR',
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('logs in with a password and the database given', async () => {
    await withConnection({ user: USER, password: PASSWORD, database: DB }, async (conn) => {
      const [[row]] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db, CURRENT_USER() AS who');
      expect(row).toEqual({ db: DB, who: `${USER}@%` });
    });
  });

  it('refuses an unknown database with error 1049', async () => {
    await expect(viaProxy({ database: 'frontend_mysql2_missing' })).rejects.toMatchObject({
      errno: 1049,
      code: 'ER_BAD_DB_ERROR',
    });
  });

  it('connects without a database and switches with USE', async () => {
    await withConnection({ database: undefined }, async (conn) => {
      const [[before]] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db');
      expect(before).toEqual({ db: null });
      await conn.query(`USE ${DB}`);
      const [[after]] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db');
      expect(after).toEqual({ db: DB });
    });
  });
});
