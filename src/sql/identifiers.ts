/** A name as a backtick-quoted identifier (backticks inside doubled), safe in any position. */
export function quoteName(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `schema`.`table` */
export function qualified(schema: string, table: string): string {
  return `${quoteName(schema)}.${quoteName(table)}`;
}

/** information_schema DATA_TYPEs whose text form is a number (no quoting or charset). */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
  'decimal',
  'numeric',
  'double',
  'real',
  'year',
]);
