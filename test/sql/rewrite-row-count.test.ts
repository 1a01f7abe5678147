import { describe, expect, it } from 'vitest';
import { replaceRowCount } from '../../src/sql/rewrite-row-count.js';

describe('ROW_COUNT() after a mirrored write', () => {
  it('becomes the write’s affected rows wherever the function is called', () => {
    expect(replaceRowCount('SELECT ROW_COUNT()', 3n)).toBe('SELECT (3)');
    expect(replaceRowCount('select row_count() AS n, 1 + Row_Count ( )', 2n)).toBe(
      'select (2) AS n, 1 + (2)',
    );
    expect(replaceRowCount('INSERT INTO log (n) VALUES (ROW_COUNT())', 0n)).toBe(
      'INSERT INTO log (n) VALUES ((0))',
    );
  });

  it('leaves strings, comments, columns and statements without it alone', () => {
    expect(replaceRowCount("SELECT 'row_count()' /* ROW_COUNT() */", 1n)).toBeUndefined();
    expect(replaceRowCount('SELECT t.row_count FROM t', 1n)).toBeUndefined();
    expect(replaceRowCount('SELECT 1', 1n)).toBeUndefined();
  });
});
