import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { replayJournal } from '../../src/dualwrite/journal-replay.js';
import { RepairJournal, readJournal } from '../../src/dualwrite/repair-journal.js';
import { createLogger } from '../../src/log.js';
import { startTestProxy } from '../harness/proxy.js';

const source = `mysql://root@127.0.0.1:${inject('sourcePort')}/`;
const target = `mysql://root@127.0.0.1:${inject('targetPort')}/`;
const DB = 'jr_replay';

async function on(url: string, sql: string): Promise<unknown> {
  const c = await mysql.createConnection({
    uri: url,
    multipleStatements: true,
    dateStrings: true,
    jsonStrings: true,
  });
  try {
    const [r] = await c.query(sql);
    return r;
  } finally {
    await c.end();
  }
}

const TABLE = `CREATE TABLE ${DB}.t (id BIGINT UNSIGNED PRIMARY KEY, d DECIMAL(20,6), f DOUBLE, ts DATETIME(6),
  j JSON, b BLOB, bits BIT(5), s VARCHAR(10) COLLATE utf8mb4_general_ci)`;

describe('journal replay', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tandem-journal-'));

  beforeAll(async () => {
    for (const url of [source, target]) {
      await on(
        url,
        `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; ${TABLE};
        CREATE TABLE ${DB}.nokey (a INT, b VARCHAR(5))`,
      );
    }
    await on(
      source,
      `INSERT INTO ${DB}.t VALUES
        (1, 1.5, 0.1, '2024-01-01 00:00:00.000001', '{"a": 1}', x'00ff', b'10101', 'a '),
        (2, -3.25, 1e300, '2024-02-29 12:00:00.5', '[1,2]', NULL, b'1', 'B'),
        (18446744073709551615, 0, -0.0, NULL, NULL, x'', b'0', ''),
        (4, 99999999999999.999999, 3.14159, '1970-01-02 00:00:00', '"x"', x'01', b'11111', 'z');
       INSERT INTO ${DB}.nokey VALUES (1, 'x'), (1, 'x'), (2, NULL)`,
    );
    // The target missed a row, holds an extra one, and differs in others, as after a failed dual write.
    await on(
      target,
      `INSERT INTO ${DB}.t VALUES
        (1, 1.5, 0.1, '2024-01-01 00:00:00.000002', '{"a": 1}', x'00ff', b'10101', 'a '),
        (2, -3.25, 1e300, '2024-02-29 12:00:00.5', '[1,2]', NULL, b'1', 'b'),
        (3, 0, 0, NULL, NULL, NULL, b'0', 'extra'),
        (18446744073709551615, 0, -0.0, NULL, NULL, x'', b'0', ' ');
       INSERT INTO ${DB}.nokey VALUES (1, 'x')`,
    );
    const journal = new RepairJournal(stateDir);
    await journal.append({
      at: new Date().toISOString(),
      server: 'target',
      schema: DB,
      tables: ['t', `${DB}.nokey`],
      reason: 'test',
      statement: 'INSERT INTO t VALUES (?)',
    });
    await journal.close();
  });

  afterAll(async () => {
    for (const url of [source, target]) await on(url, `DROP DATABASE IF EXISTS ${DB}`);
  });

  it('makes each journaled table equal to the primary and empties the journal', async () => {
    const result = await replayJournal({
      source,
      target,
      stateDir,
      logger: createLogger(process.env.TANDEM_TEST_LOG ?? 'silent'),
    });
    expect(result).toMatchObject({ entries: 1, fixed: 1, remaining: 0 });
    for (const table of ['t', 'nokey']) {
      const sql = `SELECT * FROM ${DB}.${table} ORDER BY 1, 2`;
      expect(await on(target, sql)).toEqual(await on(source, sql));
    }
    const checksum = `CHECKSUM TABLE ${DB}.t, ${DB}.nokey`;
    expect(await on(target, checksum)).toEqual(await on(source, checksum));
    expect(await readJournal(join(stateDir, 'repair-journal.jsonl'))).toEqual([]);
  });
});

describe('journal replay of a table without a key', () => {
  const db = 'jr_keyless';
  const stateDir = mkdtempSync(join(tmpdir(), 'tandem-journal-'));

  afterAll(async () => {
    for (const url of [source, target]) await on(url, `DROP DATABASE IF EXISTS ${db}`);
  });

  it('copies it whole while tandem mirrors writes to it, and the servers end equal', async () => {
    const proxy = await startTestProxy(source, { target, mode: 'dual-source' });
    try {
      const app = `mysql://root@127.0.0.1:${proxy.port}/`;
      await on(
        app,
        `DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db}; CREATE TABLE ${db}.log (w INT, i INT, v VARCHAR(20))`,
      );
      // 20,000 rows on both, then the target loses some, as after a failed dual write.
      const values = Array.from({ length: 20_000 }, (_, i) => `(-1, ${i}, 'seed')`).join(', ');
      await on(app, `INSERT INTO ${db}.log VALUES ${values}`);
      await on(target, `DELETE FROM ${db}.log WHERE i % 1000 = 0`);
      const journal = new RepairJournal(stateDir);
      await journal.append({
        at: new Date().toISOString(),
        server: 'target',
        schema: db,
        tables: ['log'],
        reason: 'test',
        statement: 'INSERT INTO log VALUES (?)',
      });
      await journal.close();

      let writing = true;
      let written = 0;
      const workers = Array.from({ length: 4 }, async (_, w) => {
        const c = await mysql.createConnection({ uri: app, database: db });
        try {
          for (let i = 0; writing; i++) {
            await c.query('INSERT INTO log VALUES (?, ?, ?)', [w, i, 'live']);
            if (i % 3 === 2)
              await c.query('UPDATE log SET v = ? WHERE w = ? AND i = ?', ['updated', w, i - 1]);
            written++;
          }
        } finally {
          await c.end();
        }
      });
      // Writes are under way before the replay reads the table.
      while (written < 20) await new Promise((r) => setTimeout(r, 10));
      const result = await replayJournal({ source, target, stateDir, logger: createLogger('silent') });
      const duringReplay = written;
      await new Promise((r) => setTimeout(r, 100));
      writing = false;
      await Promise.all(workers);
      expect(result).toMatchObject({ entries: 1, fixed: 1, remaining: 0 });
      expect(written).toBeGreaterThan(duringReplay);
      const sql = `SELECT w, i, v FROM ${db}.log ORDER BY w, i, v`;
      expect(await on(target, sql)).toEqual(await on(source, sql));
      const checksum = `CHECKSUM TABLE ${db}.log`;
      expect(await on(target, checksum)).toEqual(await on(source, checksum));
    } finally {
      await proxy.close(500);
    }
  });
});
