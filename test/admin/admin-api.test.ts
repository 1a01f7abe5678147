import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RepairJournal } from '../../src/dualwrite/repair-journal.js';
import { markVerified, startTestProxy } from '../harness/proxy.js';

const source = `mysql://root@127.0.0.1:${inject('sourcePort')}/`;
const target = `mysql://root@127.0.0.1:${inject('targetPort')}/`;
const TOKEN = 'admin-token-for-tests-0123456789';

type Proxy = Awaited<ReturnType<typeof startTestProxy>>;

async function call(proxy: Proxy, method: string, path: string, body?: string, token: string | null = TOKEN) {
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: res.status, json, text };
}

describe('admin API', () => {
  let proxy: Proxy;
  const stateDir = mkdtempSync(join(tmpdir(), 'tandem-admin-'));

  beforeAll(async () => {
    proxy = await startTestProxy(source, { target, stateDir, adminToken: TOKEN, switch: { holdMs: 500 } });
  });

  afterAll(async () => {
    await proxy?.close(1000);
  });

  it('answers /healthz and /metrics without a token', async () => {
    expect((await call(proxy, 'GET', '/healthz', undefined, null)).status).toBe(200);
    const m = await call(proxy, 'GET', '/metrics', undefined, null);
    expect(m.status).toBe(200);
    expect(m.text).toContain('tandem_mode{mode="source"} 1');
    expect(m.text).toContain('tandem_journal_entries 0');
  });

  it('asks for the token everywhere else: none or a wrong one gets 401', async () => {
    expect((await call(proxy, 'GET', '/status', undefined, null)).status).toBe(401);
    expect((await call(proxy, 'GET', '/status', undefined, 'wrong-token-wrong-token')).status).toBe(401);
    expect((await call(proxy, 'PUT', '/mode', '{"mode":"dual-source"}', null)).status).toBe(401);
    expect((await call(proxy, 'GET', '/', undefined, null)).status).toBe(401);
    const s = await call(proxy, 'GET', '/status');
    expect(s.status).toBe(200);
    expect(s.json).toMatchObject({ mode: 'source', journal: { depth: 0 } });
  });

  it('answers bad JSON and unknown modes with 400, refused transitions with 409 and why', async () => {
    const bad = await call(proxy, 'PUT', '/mode', '{"mode":');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'bad request' });
    const unknown = await call(proxy, 'PUT', '/mode', '{"mode":"both"}');
    expect(unknown.status).toBe(400);
    expect(String(unknown.json?.message)).toContain('dual-source');
    const skip = await call(proxy, 'PUT', '/mode', '{"mode":"dual-target"}');
    expect(skip.status).toBe(409);
    expect(String(skip.json?.message)).toContain('skips a phase');
  });

  it('switches source -> dual-source -> dual-target -> target, refuses going back, and allows it forced', async () => {
    expect((await call(proxy, 'PUT', '/mode', '{"mode":"dual-source"}')).json).toMatchObject({
      mode: 'dual-source',
    });
    // Leaving dual-source needs a clean verification that began after it (test/verify/switch-gate.test.ts).
    await markVerified(stateDir);
    expect((await call(proxy, 'PUT', '/mode', '{"mode":"dual-target"}')).status).toBe(200);
    expect((await call(proxy, 'PUT', '/mode', '{"mode":"target"}')).status).toBe(200);
    const back = await call(proxy, 'PUT', '/mode', '{"mode":"dual-target"}');
    expect(back.status).toBe(409);
    expect(String(back.json?.message)).toContain('stale');
    const forced = await call(proxy, 'PUT', '/mode', '{"mode":"dual-target","force":true}');
    expect(forced.status).toBe(200);
    expect(forced.json).toMatchObject({ mode: 'dual-target', switched: { forced: true } });
    await call(proxy, 'PUT', '/mode', '{"mode":"dual-source"}');
    await call(proxy, 'PUT', '/mode', '{"mode":"source"}');
  });

  it('refuses dual-source -> dual-target while the repair journal holds entries', async () => {
    await call(proxy, 'PUT', '/mode', '{"mode":"dual-source"}');
    const journal = new RepairJournal(stateDir);
    await journal.append({
      at: new Date().toISOString(),
      server: 'target',
      schema: 'x',
      tables: ['t'],
      reason: 'test',
    });
    const refused = await call(proxy, 'PUT', '/mode', '{"mode":"dual-target"}');
    expect(refused.status).toBe(409);
    expect(String(refused.json?.message)).toContain('repair journal');
    expect((await call(proxy, 'GET', '/status')).json).toMatchObject({ mode: 'dual-source' });
  });

  it('lets a running transaction finish before it switches, and reports the time it held writes', async () => {
    const c = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    try {
      await c.query('BEGIN');
      await c.query('SELECT 1');
      // The transaction stays open past the hold: nothing changes, 409.
      const timedOut = await call(proxy, 'PUT', '/mode', '{"mode":"source"}');
      expect(timedOut.status).toBe(409);
      expect(String(timedOut.json?.message)).toContain('still running');
      expect((await call(proxy, 'GET', '/status')).json).toMatchObject({ mode: 'dual-source' });
      // It commits within the hold: the switch goes through once it has.
      const switching = call(proxy, 'PUT', '/mode', '{"mode":"source"}');
      await new Promise((r) => setTimeout(r, 150));
      await c.query('COMMIT');
      const done = await switching;
      expect(done.status).toBe(200);
      expect((done.json!.switched as { heldMs: number }).heldMs).toBeGreaterThanOrEqual(100);
      expect(done.json).toMatchObject({ mode: 'source' });
    } finally {
      await c.end();
    }
  });

  it('keeps the mode and its history across a restart', async () => {
    await call(proxy, 'PUT', '/mode', '{"mode":"dual-source"}');
    await proxy.close(1000);
    proxy = await startTestProxy(source, { target, stateDir, adminToken: TOKEN, mode: 'source' });
    const s = await call(proxy, 'GET', '/status');
    expect(s.json).toMatchObject({ mode: 'dual-source' });
    expect((s.json!.history as unknown[]).length).toBeGreaterThan(5);
  });
});

describe('admin port beyond loopback', () => {
  it('is refused at start without a token, with a clear message', async () => {
    await expect(startTestProxy(source, { admin: '0.0.0.0:0' })).rejects.toThrow(/TANDEM_ADMIN_TOKEN/);
  });
});
