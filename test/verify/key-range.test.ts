import { describe, expect, it } from 'vitest';
import { compareKey, keyIn, keyRange, keyString } from '../../src/verify/key-range.js';

describe('key predicates', () => {
  it('a single-column comparison stays a plain comparison', () => {
    expect(compareKey(['id'], '>', [5])).toEqual({ sql: '`id` > ?', params: [5] });
  });

  it('a composite comparison is expanded so that the optimizer can use the index, with the leading bound first', () => {
    expect(compareKey(['a', 'b'], '>', [1, 2])).toEqual({
      sql: '(`a` >= ? AND ((`a` > ?) OR (`a` = ? AND `b` > ?)))',
      params: [1, 1, 1, 2],
    });
    expect(compareKey(['a', 'b', 'c'], '<=', [1, 2, 3]).sql).toBe(
      '(`a` <= ? AND ((`a` < ?) OR (`a` = ? AND `b` < ?) OR (`a` = ? AND `b` = ? AND `c` <= ?)))',
    );
  });

  it('a range open at either end leaves that end out', () => {
    expect(keyRange(['id'], undefined, undefined)).toEqual({ sql: '1', params: [] });
    expect(keyRange(['id'], [1], [9])).toEqual({ sql: '`id` > ? AND `id` <= ?', params: [1, 9] });
  });

  it('a key list uses row constructors for composite keys and matches nothing when empty', () => {
    expect(
      keyIn(
        ['a', 'b'],
        [
          [1, 2],
          [3, 4],
        ],
      ),
    ).toEqual({ sql: '(`a`, `b`) IN ((?, ?), (?, ?))', params: [1, 2, 3, 4] });
    expect(keyIn(['id'], []).sql).toBe('0');
  });

  it('names are quoted, backticks doubled', () => {
    expect(compareKey(['we`ird'], '<', [1]).sql).toBe('`we``ird` < ?');
  });

  it('a key reads the same whether a server sent a number or its text, and bytes stay apart from text', () => {
    expect(keyString([5, 'x'])).toBe(keyString(['5', 'x']));
    expect(keyString([Buffer.from('61', 'hex')])).not.toBe(keyString(['a']));
  });
});
