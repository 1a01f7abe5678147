import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import type { MariaDbInstance } from '../../src/sandbox/mariadb-instance.js';
import { startCorruptingRelay } from '../harness/corrupting-relay.js';
import { startTestProxy } from '../harness/proxy.js';
import { startServer, stopAll } from '../harness/servers.js';

/**
 * The source fails under a running proxy: killed mid-query, frozen, down at connect time. The
 * client gets the error a direct connection would give (2013, 2003), promptly, never a hang;
 * once the source is back, new connections work.
 */

let server: MariaDbInstance;
let proxy: RunningProxy;

beforeAll(async () => {
  server = await startServer('server-failure');
  proxy = await startTestProxy(server.url, { timeouts: { connectMs: 2000 } });
});

afterAll(async () => {
  await proxy?.close(500);
  await stopAll();
});

function connectViaProxy(port = proxy.port) {
  return createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 5000 });
}

/** How a promise settles, and after how long. */
async function settle<T>(
  promise: Promise<T>,
): Promise<{ ms: number; value?: T; error?: { errno?: number; message: string } }> {
  const started = Date.now();
  try {
    const value = await promise;
    return { ms: Date.now() - started, value };
  } catch (err) {
    return { ms: Date.now() - started, error: err as { errno?: number; message: string } };
  }
}

describe('when the source fails', () => {
  it('killed in the middle of a long query: the client gets error 2013 at once, not a hang', async () => {
    const conn = await connectViaProxy();
    try {
      const running = settle(conn.query('SELECT SLEEP(10)'));
      await new Promise((r) => setTimeout(r, 300));
      const killedAt = Date.now();
      await server.kill();
      const result = await running;
      expect(result.error?.errno).toBe(2013);
      expect(result.error?.message).toMatch(/Lost connection/);
      expect(Date.now() - killedAt).toBeLessThan(2000);
    } finally {
      conn.destroy();
    }
    await server.restart();
  });

  it('frozen (SIGSTOP) with serverMs 1000: a query gets error 2013 after about a second', async () => {
    const impatient = await startTestProxy(server.url, { timeouts: { serverMs: 1000 } });
    const conn = await connectViaProxy(impatient.port);
    try {
      server.pause();
      const result = await settle(conn.query('SELECT 1'));
      expect(result.error?.errno).toBe(2013);
      expect(result.error?.message).toMatch(/did not answer within 1000 ms/);
      expect(result.ms).toBeGreaterThanOrEqual(900);
      expect(result.ms).toBeLessThan(2500);
    } finally {
      server.resume();
      conn.destroy();
      await impatient.close(500);
    }
  });

  it('serverMs times each statement from its start: a session idle for longer keeps working', async () => {
    const impatient = await startTestProxy(server.url, { timeouts: { serverMs: 400 } });
    const conn = await connectViaProxy(impatient.port);
    try {
      await conn.query('SELECT 1');
      // Idle for more than two timeouts: the link's timer fires meanwhile and must not fail it.
      await new Promise((r) => setTimeout(r, 1000));
      const [rows] = await conn.query<RowDataPacket[]>('SELECT SLEEP(0.25) AS s');
      expect(rows[0]?.['s']).toBe(0);
      const late = await settle(conn.query('SELECT SLEEP(2)'));
      expect(late.error?.errno).toBe(2013);
      expect(late.error?.message).toMatch(/did not answer within 400 ms/);
      expect(late.ms).toBeGreaterThanOrEqual(350);
      expect(late.ms).toBeLessThan(1500);
    } finally {
      conn.destroy();
      await impatient.close(500);
    }
  });

  it('frozen at connect time: the client gets error 2003 after connectMs', async () => {
    const impatient = await startTestProxy(server.url, { timeouts: { connectMs: 500 } });
    try {
      server.pause();
      const refused = await settle(connectViaProxy(impatient.port));
      expect(refused.error?.errno).toBe(2003);
      expect(refused.error?.message).toMatch(/timed out after 500 ms/);
      expect(refused.ms).toBeGreaterThanOrEqual(450);
      expect(refused.ms).toBeLessThan(1500);
    } finally {
      server.resume();
      await impatient.close(500);
    }
  });

  it('down at connect time: the client gets error 2003 promptly; after restart, connections work again', async () => {
    const before = await connectViaProxy();
    await server.kill();
    const refused = await settle(connectViaProxy());
    expect(refused.error?.errno).toBe(2003);
    expect(refused.error?.message).toMatch(/Can't connect to source server/);
    expect(refused.ms).toBeLessThan(2000);

    // The connection that was idle when the source died is told so at its next query.
    const stale = await settle(before.query('SELECT 1'));
    expect(stale.error).toBeDefined();
    before.destroy();

    await server.restart();
    const after = await connectViaProxy();
    try {
      const [rows] = await after.query<RowDataPacket[]>('SELECT 1 + 1 AS two');
      expect(rows).toEqual([{ two: 2 }]);
    } finally {
      await after.end();
    }
    // Every session is gone, the refused one included.
    const deadline = Date.now() + 1000;
    while (proxy.connectionCount() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(proxy.connectionCount()).toBe(0);
  });

  it('a response tandem cannot follow: that client gets error 2013, every other connection goes on', async () => {
    const relay = await startCorruptingRelay(server.host, server.port);
    const own = await startTestProxy(`mysql://root@127.0.0.1:${relay.port}/`);
    try {
      const victim = await connectViaProxy(own.port);
      const bystander = await connectViaProxy(own.port);
      // A column count announced as a 2-byte integer (0xfc) whose bytes never come.
      relay.connections[0]!.replaceNextAnswer(Buffer.from([0x01, 0x00, 0x00, 0x01, 0xfc]));
      const r = await settle(victim.query('SELECT 1'));
      expect(r.error?.errno).toBe(2013);
      const [rows] = await bystander.query<RowDataPacket[]>('SELECT 6 * 7 AS answer');
      expect(rows).toEqual([{ answer: 42 }]);
      const late = await connectViaProxy(own.port);
      expect((await late.query<RowDataPacket[]>('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
      for (const c of [victim, bystander, late]) c.destroy();
    } finally {
      await own.close(500);
      await relay.close();
    }
  });
});
