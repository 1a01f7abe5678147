import { connect } from 'node:net';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';
import { RawClient } from '../harness/raw-client.js';
import { sharedPair } from '../harness/servers.js';

/**
 * proxy.close(deadline): tandem stops accepting, closes idle connections at once, lets running
 * statements finish until the deadline, and cuts what is still running then.
 */

const source = sharedPair().source;

function closedSocket(c: RawClient): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    if (c.socket.destroyed) resolve(0);
    c.socket.once('close', () => resolve(Date.now() - started));
  });
}

function tryConnect(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('shutting tandem down', () => {
  it('lets a running query finish with its result, closes idle connections, refuses new ones', async () => {
    const proxy = await startTestProxy(source.url);
    const busy = await createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    const idle = await RawClient.connect('127.0.0.1', proxy.port);
    try {
      const idleClosed = closedSocket(idle);
      const running = busy.query<RowDataPacket[]>('SELECT SLEEP(1) AS slept, 42 AS answer');
      await new Promise((r) => setTimeout(r, 200));

      const started = Date.now();
      const closing = proxy.close(5000);
      expect(await idleClosed).toBeLessThan(500);
      expect(await tryConnect(proxy.port)).toBe('ECONNREFUSED');

      const [rows] = await running;
      expect(rows).toEqual([{ slept: 0, answer: 42 }]);
      await closing;
      // Closed once the last statement was done, well before the deadline.
      expect(Date.now() - started).toBeLessThan(2500);
      expect(proxy.connectionCount()).toBe(0);
      // The busy connection was closed after its result: its next query fails.
      await expect(busy.query('SELECT 1')).rejects.toThrow();
    } finally {
      busy.destroy();
      idle.destroy();
    }
  });

  it('cuts a query that outlasts the deadline', async () => {
    const proxy = await startTestProxy(source.url);
    const client = await RawClient.connect('127.0.0.1', proxy.port);
    try {
      const cut = closedSocket(client);
      const answer = client.query('SELECT SLEEP(5)').then(
        () => 'answered',
        () => 'cut',
      );
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      await proxy.close(500);
      const closeMs = Date.now() - started;
      expect(closeMs).toBeGreaterThanOrEqual(450);
      expect(closeMs).toBeLessThan(1500);
      await cut;
      expect(await answer).toBe('cut');
      expect(proxy.connectionCount()).toBe(0);
    } finally {
      client.destroy();
    }
  });
});
