import { describe, expect, it } from 'vitest';
import { ChunkSizer } from '../../src/verify/chunk-sizer.js';
import { columnParts, imageSql } from '../../src/verify/row-image.js';

describe('chunk sizes', () => {
  it('grow toward the target time on a fast server, at most doubling per chunk', () => {
    const sizer = new ChunkSizer(500, 1000);
    sizer.observe(1000, 5); // 200,000 rows/s: 100,000 rows would take 500 ms
    expect(sizer.size).toBe(2000);
    for (let i = 0; i < 10; i++) sizer.observe(sizer.size, sizer.size / 200);
    expect(sizer.size).toBe(100_000);
  });

  it('shrink on a slow server, at most halving per chunk, never below the minimum', () => {
    const sizer = new ChunkSizer(500, 10_000, 100);
    sizer.observe(10_000, 50_000);
    expect(sizer.size).toBe(5000);
    for (let i = 0; i < 20; i++) sizer.observe(sizer.size, 60_000);
    expect(sizer.size).toBe(100);
  });

  it('ignore a short chunk (the end of a table says nothing about speed)', () => {
    const sizer = new ChunkSizer(500, 1000);
    sizer.observe(10, 1);
    expect(sizer.size).toBe(1000);
  });
});

describe('row images', () => {
  const col = (dataType: string, extra: Partial<{ nullable: boolean; charset: string | null }> = {}) => ({
    name: 'c',
    dataType,
    nullable: false,
    charset: null,
    generated: false,
    autoIncrement: false,
    ...extra,
  });

  it('widen FLOAT to DOUBLE, read BIT as a number, hash large values, length-prefix strings', () => {
    expect(columnParts(col('float'))).toEqual(['CAST(`c` AS DOUBLE)']);
    expect(columnParts(col('bit'))).toEqual(['`c` + 0']);
    expect(columnParts(col('longtext', { charset: 'utf8mb4' }))).toEqual(['MD5(`c`)']);
    expect(columnParts(col('varchar', { charset: 'utf8mb4' }))).toEqual(['LENGTH(`c`)', '`c`']);
    expect(columnParts(col('varchar', { charset: 'latin1' }))).toEqual([
      'LENGTH(CONVERT(`c` USING utf8mb4))',
      'CONVERT(`c` USING utf8mb4)',
    ]);
    expect(columnParts(col('datetime'))).toEqual(['`c`']);
  });

  it('flag NULLs of nullable columns, which CONCAT_WS would skip', () => {
    expect(imageSql([col('int', { nullable: true })])).toBe(
      "CONCAT_WS(_binary'#', `c`, CONCAT(ISNULL(`c`)))",
    );
    expect(imageSql([col('int')])).toBe("CONCAT_WS(_binary'#', `c`)");
  });
});
