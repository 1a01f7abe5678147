import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { differencesOf, newStateDir, onBoth, rowsOf, source, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_diff';
const T = `${DB}.items`;

/** 20 equal rows on both servers, all last changed in 2024. */
async function equalTables(): Promise<void> {
  await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
    CREATE TABLE ${T} (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT NOT NULL,
      deleted_at DATETIME(6) NULL, updated_at DATETIME(6) NOT NULL, KEY (updated_at));
    INSERT INTO ${T} SELECT seq, CONCAT('item ', seq), seq * 10, NULL,
      '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_20`);
}

describe('differences made behind tandem’s back', () => {
  beforeEach(equalTables);

  afterAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; DROP DATABASE IF EXISTS vf_diff_v2`);
  });

  it('a row changed on the target only is found, repaired from the source, and then the tables are equal', async () => {
    await sql(target, `UPDATE ${T} SET qty = 0 WHERE id = 5`);
    const dry = await verify({ tables: [T] });
    expect(dry.code).toBe(1);
    expect(differencesOf(dry)).toEqual(['changed:5']);
    expect(await rowsOf(target, T)).not.toEqual(await rowsOf(source, T));

    const fixed = await verify({ tables: [T], fix: true });
    expect(fixed.code).toBe(0);
    expect(fixed.summary.record).toMatchObject({ clean: true, differing: 1, fixed: 1 });
    expect(await rowsOf(target, T)).toEqual(await rowsOf(source, T));
    expect((await verify({ tables: [T] })).summary.record).toMatchObject({ clean: true, differing: 0 });
  });

  it('a row deleted on the target is found missing and inserted again', async () => {
    await sql(target, `DELETE FROM ${T} WHERE id IN (1, 20)`);
    expect(differencesOf(await verify({ tables: [T] }))).toEqual(['missing:1', 'missing:20']);
    expect((await verify({ tables: [T], fix: true })).code).toBe(0);
    expect(await rowsOf(target, T)).toEqual(await rowsOf(source, T));
  });

  it('a row that exists on the target only is found extra and deleted', async () => {
    await sql(
      target,
      `INSERT INTO ${T} VALUES (0, 'before', 0, NULL, NOW(6)), (21, 'after', 0, NULL, NOW(6)), (1000000, 'far', 0, NULL, NOW(6))`,
    );
    expect(differencesOf(await verify({ tables: [T] }))).toEqual(['extra:0', 'extra:1000000', 'extra:21']);
    expect((await verify({ tables: [T], fix: true })).code).toBe(0);
    expect(await rowsOf(target, T)).toEqual(await rowsOf(source, T));
  });

  it('a change on the source that left updated_at alone is found by the full compare only', async () => {
    const stateDir = newStateDir();
    // A first incremental pass sets the checkpoint at the newest row (00:00:20); row 2 was last
    // stamped at 00:00:02, before the checkpoint less the overlap.
    const overlapSeconds = 5;
    expect(
      (await verify({ tables: [T], method: 'incremental', fix: true, stateDir, overlapSeconds })).code,
    ).toBe(0);
    await sql(source, `UPDATE ${T} SET name = 'renamed', updated_at = updated_at WHERE id = 2`);
    const incremental = await verify({ tables: [T], method: 'incremental', stateDir, overlapSeconds });
    expect(incremental.code).toBe(0);
    expect(differencesOf(incremental)).toEqual([]);
    const full = await verify({ tables: [T], fix: true, stateDir });
    expect(differencesOf(full)).toEqual(['changed:2']);
    expect(await rowsOf(target, T)).toEqual(await rowsOf(source, T));
  });

  it('a soft delete the target missed is found by update time and repaired', async () => {
    const stateDir = newStateDir();
    await verify({ tables: [T], method: 'incremental', fix: true, stateDir });
    await sql(source, `UPDATE ${T} SET deleted_at = NOW(6), updated_at = NOW(6) WHERE id = 3`);
    const found = await verify({ tables: [T], method: 'incremental', fix: true, stateDir });
    expect(differencesOf(found)).toEqual(['changed:3']);
    expect(found.summary.record).toMatchObject({ clean: true, fixed: 1 });
    const [row] = (await sql(target, `SELECT deleted_at FROM ${T} WHERE id = 3`)) as { deleted_at: string }[];
    expect(row?.deleted_at).not.toBeNull();
  });

  it('a hard delete the target missed is invisible to update time, and the reverse check deletes it', async () => {
    const stateDir = newStateDir();
    await verify({ tables: [T], method: 'incremental', fix: true, stateDir });
    await sql(source, `DELETE FROM ${T} WHERE id = 9`);
    expect(differencesOf(await verify({ tables: [T], method: 'incremental', stateDir }))).toEqual([]);
    const reverse = await verify({ tables: [T], method: 'reverse', fix: true, stateDir });
    expect(differencesOf(reverse)).toEqual(['extra:9']);
    expect(await rowsOf(target, T)).toEqual(await rowsOf(source, T));
  });

  it('the source’s tables are compared with the target’s renamed schema and table', async () => {
    await sql(
      target,
      `CREATE DATABASE vf_diff_v2; CREATE TABLE vf_diff_v2.things LIKE ${T};
       INSERT INTO vf_diff_v2.things SELECT * FROM ${T}; DELETE FROM ${T};
       UPDATE vf_diff_v2.things SET qty = -1 WHERE id = 7`,
    );
    const scope = {
      include: ['*'],
      exclude: [],
      rename: { schemas: { [DB]: 'vf_diff_v2' }, tables: { [T]: 'things' } },
    };
    const dry = await verify({ tables: [T], scope });
    expect(dry.summary.outcomes.map((o) => o.table)).toEqual([`${T} -> vf_diff_v2.things`]);
    expect(differencesOf(dry)).toEqual(['changed:7']);
    expect((await verify({ tables: [T], scope, fix: true })).code).toBe(0);
    expect(await rowsOf(target, 'vf_diff_v2.things')).toEqual(await rowsOf(source, T));
  });

  it('tables outside the scope are not compared', async () => {
    await sql(target, `UPDATE ${T} SET qty = 0`);
    const r = await verify({
      tables: [`${DB}.*`],
      scope: { include: ['*'], exclude: [T], rename: { schemas: {}, tables: {} } },
    });
    expect(r.code).toBe(2);
    expect(r.output).toContain('no table on the source matches');
  });

  it('tables keyed by two columns, or by a case-insensitive string, are chunked and compared by key', async () => {
    await onBoth(`USE ${DB};
      CREATE TABLE pairs (a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));
      INSERT INTO pairs SELECT seq DIV 100, CONCAT('k', seq % 100), seq FROM seq_1_to_20000;
      CREATE TABLE names (name VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT);
      INSERT INTO names SELECT CONCAT(IF(seq % 2, 'a', 'B'), seq), seq FROM seq_1_to_3000`);
    await sql(
      target,
      `UPDATE ${DB}.pairs SET v = 0 WHERE a = 120 AND b = 'k42'; DELETE FROM ${DB}.pairs WHERE a = 49 AND b = 'k99';
       UPDATE ${DB}.names SET v = 0 WHERE name = 'B1500'; INSERT INTO ${DB}.names VALUES ('Zz', 1)`,
    );
    // Chunks of up to 8,000 rows: a differing one is split at every n-th key before rows are read.
    const dry = await verify({ tables: [`${DB}.pairs`, `${DB}.names`] });
    expect(differencesOf(dry)).toEqual(['changed:120,k42', 'changed:B1500', 'extra:Zz', 'missing:49,k99']);
    expect((await verify({ tables: [`${DB}.pairs`, `${DB}.names`], fix: true, chunkTimeMs: 1 })).code).toBe(
      0,
    );
    for (const t of ['pairs', 'names'])
      expect(await rowsOf(target, `${DB}.${t}`)).toEqual(await rowsOf(source, `${DB}.${t}`));
  });

  it('a table without a unique key is compared as a whole and copied whole', async () => {
    await onBoth(`CREATE TABLE ${DB}.log (at INT, line VARCHAR(10));
      INSERT INTO ${DB}.log VALUES (1, 'a'), (1, 'a'), (2, NULL)`);
    await sql(target, `DELETE FROM ${DB}.log WHERE line IS NULL; INSERT INTO ${DB}.log VALUES (1, 'a')`);
    const dry = await verify({ tables: [`${DB}.log`] });
    expect(dry.code).toBe(1);
    expect(dry.summary.outcomes[0]?.differences[0]).toMatchObject({ kind: 'table' });
    expect((await verify({ tables: [`${DB}.log`], fix: true })).code).toBe(0);
    const sorted = `SELECT * FROM ${DB}.log ORDER BY at, line`;
    expect(await sql(target, sorted)).toEqual(await sql(source, sorted));
  });
});
