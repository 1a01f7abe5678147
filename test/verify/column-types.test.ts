import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differencesOf, onBoth, source, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_types';
const T = `${DB}.t`;

/**
 * One row per case. Rows 1-16 differ between the servers in one value each, and only in a way
 * that naive checkers miss (text that prints the same, a collation that calls it equal); rows
 * 50-53 are stored alike on both servers even though they were written differently, and must
 * not be reported.
 */
const COLUMNS = `id INT PRIMARY KEY,
  d DECIMAL(20,6), f FLOAT, g DOUBLE, dt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(3), y YEAR,
  j JSON, b BLOB, vb VARBINARY(10), bits BIT(5),
  s VARCHAR(20) COLLATE utf8mb4_general_ci, l VARCHAR(10) CHARACTER SET latin1, c CHAR(5),
  tx TEXT, e ENUM('a', 'b'), n VARCHAR(5) NULL`;

const BASE = `0, 0, 0, '2024-01-01 00:00:00', '2024-01-01 00:00:00', '00:00:00', 2024,
  '{}', x'00', x'00', b'0', 'same', 'same', 'same', 'same', 'a', 'same'`;

/** [id, column, source value, target value, why naive checkers miss it] */
const CASES: [number, string, string, string, string][] = [
  [1, 's', "'abc'", "'abc '", 'trailing space, equal under PAD SPACE collations'],
  [2, 's', "'Abc'", "'abc'", 'case, equal under a _ci collation'],
  [3, 'n', 'NULL', "''", 'NULL versus empty string'],
  [4, 'd', '1.000001', '1.000002', 'the sixth decimal'],
  [5, 'f', '1.0000001', '1.0000002', 'two FLOATs that both print as 1'],
  [6, 'g', '0.1e0', '0.10000000000000002e0', 'one unit in the last place of a DOUBLE'],
  [7, 'dt', "'2024-01-01 00:00:00.000001'", "'2024-01-01 00:00:00.000002'", 'a microsecond'],
  [8, 'ts', "'2024-06-01 12:00:00.5'", "'2024-06-01 12:00:00.500001'", 'a TIMESTAMP microsecond'],
  [9, 'tm', "'10:00:00.001'", "'10:00:00.002'", 'a millisecond of TIME'],
  [10, 'j', `'{"a": 1, "b": 2}'`, `'{"b": 2, "a": 1}'`, 'JSON with its keys in another order'],
  [11, 'b', "x'00'", "x'0000'", 'a trailing zero byte in a BLOB'],
  [12, 'vb', "x'61'", "x'6100'", 'a trailing zero byte in a VARBINARY'],
  [13, 'bits', "b'10101'", "b'10100'", 'one bit'],
  [14, 'l', "'é'", "'e'", 'an accent in latin1'],
  [15, 'tx', "'x'", "'x '", 'a trailing space in TEXT'],
  [16, 'e', "'a'", "'b'", 'an ENUM'],
];

/** Written differently, stored alike: not differences. */
const ALIKE: [number, string, string, string][] = [
  [50, 'g', '-0e0', '0e0'], // MariaDB stores -0.0 as 0
  [51, 'f', '0.1', "'0.1'"],
  [52, 'c', "'ab'", "'ab   '"], // CHAR drops trailing spaces when read
  [53, 'd', '-0.000', '0'],
];

function insert(id: number, column: string, value: string): string {
  return `INSERT INTO ${T} VALUES (${id}, ${BASE}); UPDATE ${T} SET ${column} = ${value} WHERE id = ${id};`;
}

describe('a comparison exact for every column type', () => {
  beforeAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; CREATE TABLE ${T} (${COLUMNS});
      SET time_zone = '+00:00'; INSERT INTO ${T} VALUES (100, ${BASE})`);
    await sql(
      source,
      `SET time_zone = '+00:00'; ${[...CASES, ...ALIKE].map(([id, c, v]) => insert(id, c, v)).join('')}`,
    );
    await sql(
      target,
      `SET time_zone = '+00:00'; ${[...CASES, ...ALIKE].map(([id, c, , v]) => insert(id, c, v)).join('')}`,
    );
  });

  afterAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}`);
  });

  it('finds each value that differs only in a way that prints or collates alike, and nothing else', async () => {
    const r = await verify({ tables: [T] });
    expect(differencesOf(r)).toEqual(CASES.map(([id]) => `changed:${id}`).sort());
  });

  it('repairs them so that the tables are byte for byte equal (CHECKSUM TABLE agrees)', async () => {
    const fixed = await verify({ tables: [T], fix: true });
    expect(fixed.summary.record).toMatchObject({ clean: true, differing: CASES.length, fixed: CASES.length });
    expect(await sql(target, `CHECKSUM TABLE ${T}`)).toEqual(await sql(source, `CHECKSUM TABLE ${T}`));
    // FLOAT and the latin1 column round-tripped exactly, not through their printed text.
    const exact = `SELECT id, HEX(l), CAST(f AS DOUBLE) AS f, ts FROM ${T} ORDER BY id`;
    expect(await sql(target, `SET time_zone = '+00:00'; ${exact}`)).toEqual(
      await sql(source, `SET time_zone = '+00:00'; ${exact}`),
    );
    expect((await verify({ tables: [T] })).summary.record).toMatchObject({ clean: true, differing: 0 });
  });

  it('compares by value across character sets and FLOAT versus DOUBLE', async () => {
    await onBoth(`DROP TABLE IF EXISTS ${DB}.widened`);
    await sql(
      source,
      `CREATE TABLE ${DB}.widened (id INT PRIMARY KEY, name VARCHAR(10) CHARACTER SET latin1, v FLOAT);
      INSERT INTO ${DB}.widened VALUES (1, 'café', 1.0000001), (2, 'naïve', 3.4028234e38)`,
    );
    // The target's columns were widened by the migration: utf8mb4 text, DOUBLE numbers.
    await sql(
      target,
      `CREATE TABLE ${DB}.widened (id INT PRIMARY KEY, name VARCHAR(10) CHARACTER SET utf8mb4, v DOUBLE);
      INSERT INTO ${DB}.widened VALUES (1, 'café', 1.0000001192092896), (2, 'naïve', 3.4028234663852886e38)`,
    );
    expect(differencesOf(await verify({ tables: [`${DB}.widened`] }))).toEqual([]);
    await sql(target, `UPDATE ${DB}.widened SET v = 1.0000001 WHERE id = 1`);
    expect(differencesOf(await verify({ tables: [`${DB}.widened`] }))).toEqual(['changed:1']);
  });
});
