import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';
import { newStateDir, onBoth, source, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_gate';

describe('the switch from dual-source to dual-target', () => {
  const stateDir = newStateDir();
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;

  beforeAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
      CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t SELECT seq, seq FROM seq_1_to_100`);
    proxy = await startTestProxy(source, { target, stateDir, switch: { holdMs: 200 } });
    await proxy.switchMode('dual-source');
  });

  afterAll(async () => {
    await proxy?.close(500);
    await onBoth(`DROP DATABASE IF EXISTS ${DB}`);
  });

  it('is refused while no verification has run', async () => {
    await expect(proxy.switchMode('dual-target')).rejects.toThrow(/no verification has run/);
    expect((await proxy.status()).verification).toBeNull();
  });

  it('is refused while the last verification found differences, and says how many', async () => {
    await sql(target, `UPDATE ${DB}.t SET v = 0 WHERE id IN (1, 2)`);
    expect((await verify({ tables: [`${DB}.*`], stateDir })).code).toBe(1);
    await expect(proxy.switchMode('dual-target')).rejects.toThrow(/not clean: 2 rows differ/);
    expect((await proxy.status()).verification).toMatchObject({ clean: false, differing: 2, method: 'full' });
  });

  it('goes through once a verification has repaired them, and /metrics shows it', async () => {
    expect((await verify({ tables: [`${DB}.*`], stateDir, fix: true })).code).toBe(0);
    const metrics = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();
    expect(metrics).toContain('tandem_verify_clean 1');
    expect(metrics).toMatch(/tandem_verify_rows_compared 100\b/);
    expect(metrics).toMatch(/tandem_verify_fixed_rows 2\b/);
    expect((await proxy.switchMode('dual-target')).to).toBe('dual-target');
  });

  it('is refused again once dual writes have stopped and restarted: the verification began before them', async () => {
    await proxy.switchMode('dual-source');
    // Back from dual-target the source kept every write: the verification still holds.
    expect((await proxy.switchMode('dual-target')).to).toBe('dual-target');
    await proxy.switchMode('dual-source');
    await proxy.switchMode('source');
    await proxy.switchMode('dual-source');
    await expect(proxy.switchMode('dual-target')).rejects.toThrow(/before dual writes began/);
    expect((await proxy.switchMode('dual-target', { force: true })).forced).toBe(true);
  });
});
