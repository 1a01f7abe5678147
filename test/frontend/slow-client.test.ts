import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Connection, createConnection } from 'mysql2';
import { createConnection as createPromiseConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * A client that keeps stopping reading while a large result streams: its socket fills, tandem
 * pauses the server connection and resumes it on drain, and server reads go into a reused buffer
 * meanwhile (src/protocol/read-buffer.ts). The rows must still be exactly the server's.
 * (test/backend/backend-link.test.ts holds the buffer rule itself to account.)
 */

const DB = 'frontend_slow_client';
const ROWS = 12_000;
const source = sharedPair().source;
let proxy: RunningProxy;

function connect(port: number): Connection {
  return createConnection({ host: source.host, port, user: 'root', database: DB });
}

/** Hashes a result row by row; `pauseEvery` rows, the client stops reading for a while. */
function hashResult(
  conn: Connection,
  sql: string,
  pauseEvery: number,
): Promise<{ hash: string; rows: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let rows = 0;
    const q = conn.query(sql);
    q.on('result', (row) => {
      h.update(JSON.stringify(row));
      rows++;
      if (pauseEvery > 0 && rows % pauseEvery === 0) {
        conn.pause();
        void sleep(40).then(() => conn.resume());
      }
    });
    q.on('error', reject);
    q.on('end', () => resolve({ hash: h.digest('hex'), rows }));
  });
}

beforeAll(async () => {
  const admin = await createPromiseConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`CREATE TABLE ${DB}.t (id INT PRIMARY KEY, body VARCHAR(2000))`);
  // Every row distinct, so that a chunk of one row written over another shows.
  await admin.query(
    `INSERT INTO ${DB}.t SELECT seq, CONCAT(seq, ':', REPEAT(SHA2(seq, 256), 15)) FROM seq.seq_1_to_${ROWS}`,
  );
  await admin.end();
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(1000);
  const admin = await createPromiseConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.end();
});

describe('a client that reads slowly', () => {
  it('gets a 12 MB result row for row as the server sent it, while another session reads on', async () => {
    const direct = connect(source.port);
    const slow = connect(proxy.port);
    const busy = connect(proxy.port);
    try {
      const expected = await hashResult(direct, 'SELECT * FROM t ORDER BY id', 0);
      expect(expected.rows).toBe(ROWS);
      // Meanwhile another session's reads go on, each into its own connection's buffer.
      let stop = false;
      const other = (async () => {
        let n = 0;
        while (!stop) {
          const r = await hashResult(busy, 'SELECT * FROM t WHERE id <= 50 ORDER BY id', 0);
          expect(r.rows).toBe(50);
          n++;
        }
        return n;
      })();
      const got = await hashResult(slow, 'SELECT * FROM t ORDER BY id', 150);
      stop = true;
      expect(await other).toBeGreaterThan(0);
      expect(got).toEqual(expected);
    } finally {
      direct.destroy();
      slow.destroy();
      busy.destroy();
    }
  }, 60_000);

  it('is not cut off by serverMs while it keeps the server waiting: the server is not the silent one', async () => {
    const impatient = await startTestProxy(source.url, { timeouts: { serverMs: 300 } });
    const direct = connect(source.port);
    const slow = connect(impatient.port);
    try {
      const expected = await hashResult(direct, 'SELECT * FROM t ORDER BY id', 0);
      // Two pauses of a second each: the server socket stays paused far beyond serverMs.
      const q = slow.query('SELECT * FROM t ORDER BY id');
      const h = createHash('sha256');
      let rows = 0;
      const got = await new Promise<{ hash: string; rows: number }>((resolve, reject) => {
        q.on('result', (row) => {
          h.update(JSON.stringify(row));
          rows++;
          if (rows === 100 || rows === 6000) {
            slow.pause();
            void sleep(1000).then(() => slow.resume());
          }
        });
        q.on('error', reject);
        slow.on('error', reject);
        q.on('end', () => resolve({ hash: h.digest('hex'), rows }));
      });
      expect(got).toEqual(expected);
    } finally {
      direct.destroy();
      slow.destroy();
      await impatient.close(500);
    }
  }, 60_000);
});
