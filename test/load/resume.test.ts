import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { tandemLoad, waitForProgress } from './cli-child.js';
import { checksum, count, freshStateDir, sql, url } from './load-helpers.js';

const source = inject('sourcePort');
const target = inject('targetPort');
const DB = 'load_resume';
const TABLES = ['wide', 'pairs', 'nokey'];

describe('a load killed mid-way', () => {
  beforeAll(async () => {
    await sql(source, `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
    await sql(target, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(
      source,
      `CREATE TABLE ${DB}.wide (id BIGINT PRIMARY KEY, body VARCHAR(300) NOT NULL);
       INSERT INTO ${DB}.wide SELECT seq * 3, REPEAT(SHA2(seq, 256), 4) FROM ${DB}.seq_1_to_250000;
       CREATE TABLE ${DB}.pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, v TEXT, UNIQUE KEY ab (a, b));
       INSERT INTO ${DB}.pairs SELECT seq % 13, CONCAT('k', seq), REPEAT('v', seq % 50) FROM ${DB}.seq_1_to_40000;
       CREATE TABLE ${DB}.nokey (a INT, b VARCHAR(10));
       INSERT INTO ${DB}.nokey SELECT seq % 5, IF(seq % 3 = 0, NULL, 'dup') FROM ${DB}.seq_1_to_3000;
       CREATE TABLE ${DB}.big (id INT PRIMARY KEY, k INT NOT NULL, pad CHAR(60) NOT NULL, KEY k (k));
       INSERT INTO ${DB}.big SELECT seq * 2, seq * 7919 % 100003, SHA1(seq) FROM ${DB}.seq_1_to_500000;
       ANALYZE TABLE ${DB}.big`,
    );
  });

  afterAll(async () => {
    await sql(source, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(target, `DROP DATABASE IF EXISTS ${DB}`);
  });

  it('is resumed from its checkpoint and ends equal, with no row duplicated or missing', async () => {
    const stateDir = freshStateDir();
    const args = [
      '--source',
      url(source),
      '--target',
      url(target),
      ...TABLES.flatMap((t) => ['--tables', `${DB}.${t}`]),
      '--state-dir',
      stateDir,
    ];
    const first = tandemLoad([...args, '--parallel', '1']);
    const seen = await waitForProgress(stateDir, (p) => (p.tables[`${DB}.wide`]?.rows ?? 0) > 0);
    first.process.kill('SIGKILL');
    await first.exited;
    expect(seen.tables[`${DB}.wide`]?.done).toBe(false);
    const partial = await count(target, `${DB}.wide`);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(250_000);

    // Without --resume, the unfinished load is not silently started over.
    const refused = await tandemLoad(args).exited;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/did not finish.*--resume/s);

    const resumed = await tandemLoad([...args, '--resume', '--parallel', '2']).exited;
    expect(resumed.stderr).not.toMatch(/failed/);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/total: 3 tables/);
    for (const t of TABLES) {
      expect(await count(target, `${DB}.${t}`), t).toBe(await count(source, `${DB}.${t}`));
      expect(await checksum(target, `${DB}.${t}`), t).toBe(await checksum(source, `${DB}.${t}`));
    }
  });

  it('splits one large table among the workers by key range, and resumes each range where it stopped', async () => {
    const stateDir = freshStateDir();
    const table = `${DB}.big`;
    const args = [
      '--source',
      url(source),
      '--target',
      url(target),
      '--tables',
      table,
      '--state-dir',
      stateDir,
    ];
    const first = tandemLoad([...args, '--parallel', '4']);
    const seen = await waitForProgress(stateDir, (p) => (p.tables[table]?.rows ?? 0) > 0);
    first.process.kill('SIGKILL');
    await first.exited;
    const parts = seen.tables[table]?.parts ?? [];
    // 500,000 rows for 4 workers: four ranges of the key, end to end.
    expect(parts.length).toBe(4);
    expect(parts[0]?.lastKey === null || Number(parts[0]?.lastKey?.[0]) <= Number(parts[0]?.upTo)).toBe(true);
    expect(parts.at(-1)?.upTo).toBeNull();
    expect(parts.some((p) => !p.done)).toBe(true);
    const partial = await count(target, table);
    expect(partial).toBeLessThan(500_000);

    const resumed = await tandemLoad([...args, '--resume', '--parallel', '2']).exited;
    expect(resumed.stderr).not.toMatch(/failed/);
    expect(resumed.code).toBe(0);
    expect(await count(target, table)).toBe(500_000);
    expect(await checksum(target, table)).toBe(await checksum(source, table));
  });
});
