import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerPair, startPair } from '../harness/servers.js';
import { tandemLoad, waitForProgress } from './cli-child.js';
import { checksum, freshStateDir, load, sql, url } from './load-helpers.js';

/** --fast-durability changes global settings: on servers of this file's own, never the shared ones. */

const DB = 'load_settings';

async function flushSetting(port: number): Promise<number> {
  const rows = await sql<{ v: number }[]>(port, 'SELECT @@GLOBAL.innodb_flush_log_at_trx_commit AS v');
  return Number(rows[0]?.v);
}

describe('target settings under --fast-durability', () => {
  let pair: ServerPair;

  beforeAll(async () => {
    pair = await startPair();
    await sql(
      pair.source.port,
      `CREATE DATABASE ${DB};
       CREATE TABLE ${DB}.big (id INT PRIMARY KEY, body VARCHAR(300) NOT NULL);
       INSERT INTO ${DB}.big SELECT seq, REPEAT(SHA2(seq, 256), 4) FROM ${DB}.seq_1_to_200000;
       CREATE TABLE ${DB}.clash (id INT PRIMARY KEY, v VARCHAR(20));
       INSERT INTO ${DB}.clash VALUES (1, 'not a number')`,
    );
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('are relaxed during the load and back to their values after a load that fails', async () => {
    const { source, target } = pair;
    expect(await flushSetting(target.port)).toBe(1);
    const during: Promise<number>[] = [];
    await sql(target.port, `CREATE DATABASE ${DB}; CREATE TABLE ${DB}.clash (id INT PRIMARY KEY, v INT)`);
    const failing = load(source.port, target.port, {
      tables: [`${DB}.*`],
      parallel: 1,
      fastDurability: true,
      onChunk: () => {
        if (during.length === 0) during.push(flushSetting(target.port));
      },
    });
    // The target's own `clash` has an INT where the source has text: the load must stop there.
    await expect(failing).rejects.toThrow(/clash.*changed values/);
    expect(await during[0]).toBe(0);
    expect(await flushSetting(target.port)).toBe(1);
    await sql(target.port, `DROP DATABASE ${DB}`);
  });

  it('are restored when Ctrl-C stops a load, and the load resumes from its checkpoint', async () => {
    const { source, target } = pair;
    const stateDir = freshStateDir();
    const args = ['--source', url(source.port), '--target', url(target.port), '--state-dir', stateDir];
    const child = tandemLoad([...args, '--tables', `${DB}.big`, '--parallel', '1', '--fast-durability']);
    await waitForProgress(stateDir, (p) => (p.tables[`${DB}.big`]?.rows ?? 0) > 0);
    child.process.kill('SIGINT');
    const stopped = await child.exited;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/--resume/);
    expect(await flushSetting(target.port)).toBe(1);
    const resumed = await tandemLoad([...args, '--tables', `${DB}.big`, '--resume']).exited;
    expect(resumed.code).toBe(0);
    expect(await checksum(target.port, `${DB}.big`)).toBe(await checksum(source.port, `${DB}.big`));
    await sql(target.port, `DROP DATABASE ${DB}`);
  });

  it('left relaxed by a load killed outright are restored by the next load', async () => {
    const { source, target } = pair;
    const stateDir = freshStateDir();
    const args = ['--source', url(source.port), '--target', url(target.port), '--state-dir', stateDir];
    const child = tandemLoad([...args, '--tables', `${DB}.big`, '--parallel', '1', '--fast-durability']);
    await waitForProgress(stateDir, (p) => (p.tables[`${DB}.big`]?.rows ?? 0) > 0);
    child.process.kill('SIGKILL');
    await child.exited;
    expect(await flushSetting(target.port)).toBe(0);
    const resumed = await tandemLoad([...args, '--tables', `${DB}.big`, '--resume']).exited;
    expect(resumed.stderr).toMatch(/restored target settings that a killed load had relaxed/);
    expect(resumed.code).toBe(0);
    expect(await flushSetting(target.port)).toBe(1);
  });
});
