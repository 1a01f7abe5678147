import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';

const sourcePort = inject('sourcePort');
const source = `mysql://root@127.0.0.1:${sourcePort}/`;
const target = `mysql://root@127.0.0.1:${inject('targetPort')}/`;
const SCHEMA = 'tandem_control_fleet_test';

type Proxy = Awaited<ReturnType<typeof startTestProxy>>;

function instance(name: string, stateDir = mkdtempSync(join(tmpdir(), 'tandem-fleet-'))): Promise<Proxy> {
  return startTestProxy(source, {
    target,
    stateDir,
    control: { enabled: true, schema: SCHEMA, pollMs: 100, instanceId: name },
  });
}

async function until(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

describe('several tandem instances', () => {
  const started: Proxy[] = [];

  afterAll(async () => {
    for (const p of started) await p.close(500).catch(() => undefined);
    const c = await mysql.createConnection({ host: '127.0.0.1', port: sourcePort, user: 'root' });
    await c.query(`DROP DATABASE IF EXISTS ${SCHEMA}`);
    await c.end();
  });

  it('converge on a switch made through either of them within a second', async () => {
    const a = await instance('a');
    const b = await instance('b');
    started.push(a, b);
    await a.switchMode('dual-source', { requester: 'test' });
    const took = await until(() => b.modes.mode === 'dual-source', 1000);
    expect(took).toBeLessThan(1000);
    await b.switchMode('source', { requester: 'test' });
    await until(() => a.modes.mode === 'source', 1000);
    const status = await a.status();
    expect(status.epoch).toBe(2);
    const instances = status.instances as { instance: string; epoch: number }[];
    await until(() => true, 200);
    expect(instances.map((i) => i.instance).sort()).toEqual(['a', 'b']);
  });

  it('refuses a switch decided on a stale epoch', async () => {
    const [a, b] = started as [Proxy, Proxy];
    // Both decide from the same epoch: the control table's compare-and-set lets one through.
    const results = await Promise.all([
      a.switchMode('dual-source', { requester: 'a' }).catch((err: Error) => err),
      b.switchMode('dual-source', { requester: 'b' }).catch((err: Error) => err),
    ]);
    const refused = results.filter((r) => r instanceof Error);
    expect(refused).toHaveLength(1);
    expect((refused[0] as Error).message).toContain('another tandem instance');
    await until(() => a.modes.mode === 'dual-source' && b.modes.mode === 'dual-source', 1000);
  });

  it('brings a restarted stale instance to the current mode before it accepts clients', async () => {
    const [a, b] = started as [Proxy, Proxy];
    const stateDir = mkdtempSync(join(tmpdir(), 'tandem-fleet-'));
    const c = await instance('c', stateDir);
    await until(() => c.modes.mode === 'dual-source', 1000);
    await c.close(500);
    // Forced past the verification gate, which test/verify/switch-gate.test.ts covers.
    await a.switchMode('dual-target', { requester: 'test', force: true });
    await until(() => b.modes.mode === 'dual-target', 1000);
    // c's own state dir says dual-source; the fleet says dual-target.
    const back = await instance('c', stateDir);
    started.push(back);
    expect(back.modes.mode).toBe('dual-target');
  });
});
