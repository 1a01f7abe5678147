import type { Connection } from 'mysql2/promise';
import { NUMERIC_TYPES } from '../sql/identifiers.js';
import { quoteName } from './key-range.js';

/**
 * A row's "image": one byte string, computed by the server itself, that is equal on both servers
 * exactly when the row's values are equal. Checksums of chunks and row-by-row comparisons both
 * use it, so the two can never disagree. Each server builds it from its own column types, so a
 * FLOAT on one side and a DOUBLE on the other, or latin1 and utf8mb4, compare by value.
 *
 * Exactness, type by type (checked on MariaDB 10.11):
 * - integers, DECIMAL, YEAR, dates and times: the server's text, which keeps every digit and the
 *   declared fractional seconds; TIMESTAMP is read in UTC (the session's time_zone).
 * - DOUBLE: the text is the shortest string that reads back to the same double. FLOAT is not
 *   (`1.0000001` prints as `1`), so it is widened to DOUBLE first, which is exact.
 *   MariaDB stores -0.0 as 0 in both, so a sign of zero cannot differ.
 * - BIT: as an integer (its bytes would be text in CONCAT_WS).
 * - strings: their bytes in utf8mb4 (converted when the column has another character set), so
 *   case, accents and trailing spaces count even where the collation ignores them; a length
 *   prefix keeps `a#` + `b` apart from `a` + `#b`.
 * - TEXT, BLOB, JSON, GEOMETRY: the MD5 of their bytes, so that a large value never exceeds
 *   max_allowed_packet (CONCAT_WS would return NULL, and the row would hash as nothing). JSON
 *   is compared as its text: `{"a":1,"b":2}` and `{"b":2,"a":1}` differ, as the bytes do.
 * - NULL: CONCAT_WS skips NULLs, so a flag per nullable column tells NULL from ''.
 */

export interface ColumnInfo {
  readonly name: string;
  /** information_schema DATA_TYPE, lower case: `int`, `varchar`, `longtext`, ... */
  readonly dataType: string;
  readonly nullable: boolean;
  readonly charset: string | null;
  /** VIRTUAL or STORED generated: derived from the other columns, never written. */
  readonly generated: boolean;
  /** AUTO_INCREMENT: a generated id names its row. */
  readonly autoIncrement: boolean;
}

/** Row hash: 64 bits from CRC32 and CRC32C (MariaDB 10.8+), or from MD5 where CRC32C is missing. */
export type HashKind = 'crc64' | 'md5';

const TEMPORAL = new Set(['date', 'time', 'datetime', 'timestamp']);
const LARGE = new Set([
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'json',
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
]);
/** Character sets whose bytes already are utf8mb4's for the same characters. */
const UTF8_BYTES = new Set(['utf8mb4', 'utf8mb3', 'utf8', 'ascii', 'binary']);

export async function readColumns(conn: Connection, schema: string, table: string): Promise<ColumnInfo[]> {
  const [rows] = await conn.query({
    rowsAsArray: true,
    sql: `SELECT COLUMN_NAME, LOWER(DATA_TYPE), IS_NULLABLE, CHARACTER_SET_NAME, EXTRA
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    values: [schema, table],
  });
  return (rows as unknown[][]).map((r) => ({
    name: String(r[0]),
    dataType: String(r[1]),
    nullable: r[2] === 'YES',
    charset: r[3] === null ? null : String(r[3]),
    generated: /GENERATED|VIRTUAL|PERSISTENT|STORED/i.test(String(r[4] ?? '')),
    autoIncrement: /auto_increment/i.test(String(r[4] ?? '')),
  }));
}

/** The value as utf8mb4 bytes (or as it is, for numbers and binary strings). */
function asUtf8(c: ColumnInfo): string {
  const q = quoteName(c.name);
  return c.charset === null || UTF8_BYTES.has(c.charset.toLowerCase()) ? q : `CONVERT(${q} USING utf8mb4)`;
}

/** The pieces one column adds to the image. */
export function columnParts(c: ColumnInfo): string[] {
  const q = quoteName(c.name);
  if (NUMERIC_TYPES.has(c.dataType) || TEMPORAL.has(c.dataType)) return [q];
  if (c.dataType === 'float') return [`CAST(${q} AS DOUBLE)`];
  if (c.dataType === 'bit') return [`${q} + 0`];
  if (LARGE.has(c.dataType)) return [`MD5(${asUtf8(c)})`];
  const v = asUtf8(c);
  return [`LENGTH(${v})`, v];
}

/**
 * The image expression for `columns` (in the order given: the same names on both servers).
 * The binary separator makes the whole a binary string, so no collation mix can fail it.
 */
export function imageSql(columns: readonly ColumnInfo[]): string {
  const parts = columns.flatMap(columnParts);
  const nullable = columns.filter((c) => c.nullable);
  if (nullable.length > 0)
    parts.push(`CONCAT(${nullable.map((c) => `ISNULL(${quoteName(c.name)})`).join(', ')})`);
  return `CONCAT_WS(_binary'#', ${parts.join(', ')})`;
}

/** A 64-bit unsigned hash of the image. */
export function rowHashSql(image: string, kind: HashKind): string {
  return kind === 'crc64'
    ? `(CRC32(${image}) << 32 | CRC32C(${image}))`
    : `CAST(CONV(LEFT(MD5(${image}), 16), 16, 10) AS UNSIGNED)`;
}

/**
 * COUNT(*) and the chunk's checksum: the SUM of the rows' hashes, which does not depend on the
 * order rows are read in. Not BIT_XOR, as pt-table-checksum has it: CRC32 is linear, so the
 * same edit at the same place in two rows (a status column set from 'a' to 'b' in both) changes
 * both CRCs by the same bits, and under XOR the two changes cancel out. Under SUM the changes
 * are integers that depend on each row's own hash; and two equal rows, in a table without a
 * unique key, do not cancel each other either.
 */
export function checksumSelect(image: string, kind: HashKind): string {
  return `COUNT(*), CAST(COALESCE(SUM(${rowHashSql(image, kind)}), 0) AS CHAR)`;
}

/** The expression that reads a column's value for copying to the other server without loss. */
export function copySql(c: ColumnInfo): string {
  return c.dataType === 'float' ? `CAST(${quoteName(c.name)} AS DOUBLE)` : quoteName(c.name);
}

/** Which hash both servers can compute: CRC32C needs MariaDB 10.8 or later. */
export async function hashKindOf(...conns: Connection[]): Promise<HashKind> {
  for (const conn of conns) {
    try {
      await conn.query("SELECT CRC32C('')");
    } catch {
      return 'md5';
    }
  }
  return 'crc64';
}
