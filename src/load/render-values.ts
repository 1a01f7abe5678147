import { NUMERIC_TYPES, qualified, quoteName } from '../sql/identifiers.js';

export { qualified, quoteName };
/**
 * How the source renders each column as an SQL literal, so that a chunk arrives as the text of
 * an INSERT's VALUES list and Node only joins strings: no value is decoded into a JS type and
 * encoded again, so nothing is rounded, re-zoned or re-charset on the way.
 *
 * The one lossy spot in a text dump is FLOAT: the server prints it with 6 significant digits
 * (0.333333 for 0.3333333432674408), which mysqldump reloads as a different number. Widening
 * to DOUBLE first is exact, and the DOUBLE's text is the shortest that reads back the same.
 * Checked on MariaDB 10.11: CHECKSUM TABLE equal after a reload this way, different with mysqldump.
 */

export interface ColumnInfo {
  readonly name: string;
  /** information_schema.COLUMNS.DATA_TYPE, lower case: int, float, varchar, blob, point, ... */
  readonly dataType: string;
  /** Null for types without a character set (numbers, dates, binary strings). */
  readonly charset: string | null;
  readonly nullable: boolean;
}

const BINARY_TYPES = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  // Spatial values are their internal bytes (SRID + WKB); a hex literal loads them back as is.
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
]);

/** An expression evaluated on the source that yields `col` as an SQL literal (or the word NULL). */
export function literalExpression(col: ColumnInfo): string {
  const c = quoteName(col.name);
  const orNull = (expr: string): string => (col.nullable ? `IFNULL(${expr}, 'NULL')` : expr);
  const type = col.dataType.toLowerCase();
  if (type === 'float') return orNull(`CAST(${c} AS DOUBLE)`);
  if (NUMERIC_TYPES.has(type)) return orNull(c);
  if (type === 'bit') return orNull(`CONCAT('b''', BIN(${c}), '''')`);
  if (BINARY_TYPES.has(type) || col.charset === 'binary') return orNull(`CONCAT('X''', HEX(${c}), '''')`);
  if (col.charset !== null && col.charset !== 'utf8mb4') {
    // The exact bytes under an introducer: no conversion through the connection's utf8mb4.
    return orNull(`CONCAT('_${col.charset} X''', HEX(${c}), '''')`);
  }
  // utf8mb4 text, ENUM, SET, JSON, dates and times (read in time zone +00:00), UUID, INET6:
  // QUOTE() escapes quotes, backslashes, NUL and Ctrl-Z, and yields the word NULL for NULL.
  return `QUOTE(${c})`;
}

/** `CONCAT('(', a, ',', b, ')')`: one row of a VALUES list. */
export function rowExpression(columns: readonly ColumnInfo[]): string {
  const parts = columns.map(literalExpression);
  return `CONCAT('(', ${parts.join(", ',', ")}, ')')`;
}
