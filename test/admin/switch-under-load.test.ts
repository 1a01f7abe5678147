import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';
import { statistic, sysbench } from '../harness/sysbench.js';

const sourcePort = inject('sourcePort');
const targetPort = inject('targetPort');
const DB = 'adm_switch_load';
const SWITCHES = 100;
const TABLES = 4;

async function checksums(port: number): Promise<unknown> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
  try {
    const names = Array.from({ length: TABLES }, (_, i) => `${DB}.sbtest${i + 1}`).join(', ');
    return (await c.query(`CHECKSUM TABLE ${names}`))[0];
  } finally {
    await c.end();
  }
}

describe('mode switches under load', () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>> | undefined;

  afterAll(async () => {
    await proxy?.close(2000);
  });

  it('switches 100 times between dual-source and dual-target under sysbench with no client error, tables equal', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'tandem-switch-'));
    const source = `mysql://root@127.0.0.1:${sourcePort}/`;
    const target = `mysql://root@127.0.0.1:${targetPort}/`;
    proxy = await startTestProxy(source, { target, mode: 'dual-source', stateDir, switch: { holdMs: 5000 } });
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
    await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    const common = [
      'oltp_read_write',
      '--mysql-host=127.0.0.1',
      `--mysql-port=${proxy.port}`,
      '--mysql-user=root',
      '--mysql-password=',
      `--mysql-db=${DB}`,
      `--tables=${TABLES}`,
      '--table-size=5000',
      '--rand-type=uniform',
      '--db-ps-mode=auto',
    ];
    const prepared = await sysbench([...common, 'prepare'], 120);
    expect(prepared.code, prepared.output).toBe(0);
    // dual-source -> dual-target needs a clean verification since dual writes began.
    await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      'src/cli.ts',
      'verify',
      '--source',
      source,
      '--target',
      target,
      '--tables',
      `${DB}.*`,
      '--state-dir',
      stateDir,
    ]);

    let running = true;
    const run = sysbench([...common, '--threads=16', '--time=30', 'run'], 120).finally(() => {
      running = false;
    });
    const held: number[] = [];
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < SWITCHES; i++) {
      const to = i % 2 === 0 ? 'dual-target' : 'dual-source';
      const change = await proxy.switchMode(to, { requester: `test-${i}` });
      held.push(change.heldMs);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Every switch happened under load.
    expect(running).toBe(true);
    expect(proxy.modes.mode).toBe('dual-source');
    const result = await run;
    // sysbench reports client errors as "ignored errors" (retried) or a FATAL line.
    expect(result.output).not.toMatch(/FATAL|ALERT/);
    expect(statistic(result.output, 'ignored errors')).toBe(0);
    expect(statistic(result.output, 'reconnects')).toBe(0);
    expect(statistic(result.output, 'transactions')).toBeGreaterThan(0);
    expect(await checksums(targetPort)).toEqual(await checksums(sourcePort));
    console.log(
      `switch-under-load: ${SWITCHES} switches, held ms median ${held.sort((a, b) => a - b)[held.length >> 1]} max ${held[held.length - 1]}, ${statistic(result.output, 'transactions')} transactions`,
    );
  }, 300_000);
});
