import { describe, expect, it } from 'vitest';
import { findUuidCalls, replaceUuidCalls } from '../../src/sql/rewrite-uuid.js';

describe('UUID() rewriting', () => {
  it('replaces each call with the value given for it, in order', () => {
    const sql = "INSERT INTO t (a, b, c) VALUES (UUID(), uuid_short(), 'uuid()'), (Uuid(), 1, 2) -- uuid()";
    const calls = findUuidCalls(sql);
    expect(calls.map((c) => c.fn)).toEqual(['UUID', 'UUID_SHORT', 'UUID']);
    expect(replaceUuidCalls(sql, calls, ['u-1', '99', "u'2"])).toBe(
      "INSERT INTO t (a, b, c) VALUES ('u-1', 99, 'uuid()'), ('u''2', 1, 2) -- uuid()",
    );
  });

  it('leaves names that are not calls alone', () => {
    expect(findUuidCalls('SELECT uuid FROM t WHERE `uuid` = ? AND uuid (1)')).toEqual([]);
  });
});
