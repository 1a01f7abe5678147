import { describe, expect, it } from 'vitest';
import { missedRows } from '../../src/dualwrite/missed-keys.js';

describe('the rows a missed write names', () => {
  it('are the integer equalities of an UPDATE or DELETE, IN lists multiplied out', () => {
    expect(missedRows("UPDATE hot SET v = 'x', n = n + 1 WHERE id = 5")).toEqual({
      columns: ['id'],
      rows: [['5']],
      assigned: ['v', 'n'],
      otherUniqueKeys: false,
    });
    expect(missedRows('DELETE FROM t WHERE a = 1 AND b IN (2, 3) AND c > 4')).toMatchObject({
      columns: ['a', 'b'],
      rows: [
        ['1', '2'],
        ['1', '3'],
      ],
    });
    expect(missedRows('UPDATE t SET v = 1 WHERE `id` = 18446744073709551615')?.rows).toEqual([
      ['18446744073709551615'],
    ]);
    // Drivers send ids read as strings quoted.
    expect(missedRows("DELETE FROM t WHERE id = '42'")?.rows).toEqual([['42']]);
    expect(missedRows("DELETE FROM t WHERE id = '18446744073709551615'")).toBeUndefined();
    expect(missedRows("DELETE FROM t WHERE id = '042'")).toBeUndefined();
  });

  it('are the integer columns of the VALUES of an INSERT, and the id it generated for one row', () => {
    expect(missedRows("INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b')")).toEqual({
      columns: ['id'],
      rows: [['1'], ['2']],
      assigned: [],
      otherUniqueKeys: false,
    });
    expect(missedRows("INSERT INTO t (slot, v) VALUES (3, 'a')", '41')).toMatchObject({
      columns: ['slot'],
      rows: [['3']],
      insertId: '41',
    });
    // A 0 may have asked for a generated id: it names no row.
    expect(missedRows("INSERT INTO t (id, v) VALUES (0, 'a')", '7')).toMatchObject({
      columns: [],
      insertId: '7',
    });
    expect(missedRows("INSERT INTO t (v) VALUES ('a'), ('b')", '7')).toBeUndefined();
  });

  it('say when another unique key may lead REPLACE or an upsert to other rows', () => {
    expect(missedRows("REPLACE INTO t (id, v) VALUES (-3, 'a')")).toMatchObject({
      rows: [['-3']],
      otherUniqueKeys: true,
    });
    expect(
      missedRows("INSERT INTO t (id, v) VALUES (1, 'a') ON DUPLICATE KEY UPDATE v = VALUES(v)"),
    ).toMatchObject({ assigned: ['v'], otherUniqueKeys: true });
  });

  it('are unknown where the text does not name them', () => {
    for (const sql of [
      "UPDATE t SET v = 'x'",
      "UPDATE t SET v = 'x' WHERE name = 'a'",
      'UPDATE t SET v = 1 WHERE id = 1.5',
      'UPDATE t SET v = 1 WHERE id = 1 OR id = 2',
      'UPDATE a JOIN b ON a.id = b.id SET a.v = 1 WHERE a.id = 3',
      'INSERT INTO t (id) SELECT id FROM u',
      "INSERT INTO t VALUES (1, 'a')",
      'not sql at all',
    ]) {
      expect(missedRows(sql), sql).toBeUndefined();
    }
  });
});
