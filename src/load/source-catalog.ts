import type { Connection } from 'mysql2/promise';
import type { Scope } from '../routing/scope.js';
import { type RenameMap, targetSchema } from '../sql/rename.js';
import type { ColumnInfo } from './render-values.js';

/**
 * What the load copies: the source's base tables in scope, their columns, the key that chunks
 * them, and where each goes on the target. Read in a few bulk queries, so that a schema of
 * thousands of tables is listed in about a second.
 */

export interface TableName {
  readonly schema: string;
  readonly table: string;
}

export interface SourceTable {
  readonly source: TableName;
  readonly target: TableName;
  /** Every stored column; generated columns are left out, the target computes them. */
  readonly columns: readonly ColumnInfo[];
  /** The primary key, else a unique key whose columns are all NOT NULL; empty when neither exists. */
  readonly key: readonly string[];
  /** The name of the index `key` comes from (kept when secondary indexes are deferred). */
  readonly keyIndex: string | undefined;
  readonly engine: string;
  /** information_schema's estimates, for ordering work and for the ETA. */
  readonly rowsEstimate: number;
  readonly bytesEstimate: number;
}

/** Never copied: the server's own schemas, and tandem's control schema. */
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export function qualifiedName(t: TableName): string {
  return `${t.schema}.${t.table}`;
}

export function targetName(rename: RenameMap, t: TableName): TableName {
  return { schema: targetSchema(rename, t.schema), table: rename.tables[qualifiedName(t)] ?? t.table };
}

async function rowsOf(conn: Connection, sql: string, values: unknown[]): Promise<unknown[][]> {
  const [rows] = await conn.query({ sql, rowsAsArray: true }, values);
  return rows as unknown as unknown[][];
}

/**
 * Lists the tables that `scope` (the migration's) and `only` (--tables) both cover. A unique key
 * with a nullable column cannot chunk a table: rows with NULL there fall outside every key range.
 */
export async function readCatalog(
  conn: Connection,
  opts: { scope: Scope; only: Scope | undefined; rename: RenameMap; skipSchemas: readonly string[] },
): Promise<SourceTable[]> {
  const skip = [...SYSTEM_SCHEMAS, ...opts.skipSchemas];
  const marks = skip.map(() => '?').join(', ');
  const tables = await rowsOf(
    conn,
    `SELECT TABLE_SCHEMA, TABLE_NAME, IFNULL(ENGINE, ''), IFNULL(TABLE_ROWS, 0),
        IFNULL(DATA_LENGTH, 0) FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${marks})
      ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    skip,
  );
  const wanted = tables.filter(([schema, table]) => {
    const name = `${String(schema)}.${String(table)}`;
    return opts.scope.covers(name, undefined) && (opts.only?.covers(name, undefined) ?? true);
  });
  if (wanted.length === 0) return [];
  const schemas = [...new Set(wanted.map((r) => String(r[0])))];
  const schemaMarks = schemas.map(() => '?').join(', ');
  const columns = await rowsOf(
    conn,
    `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, IS_NULLABLE,
        IFNULL(IS_GENERATED, 'NEVER') FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA IN (${schemaMarks}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    schemas,
  );
  const indexes = await rowsOf(
    conn,
    `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA IN (${schemaMarks}) AND NON_UNIQUE = 0
      ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    schemas,
  );
  const columnsOf = new Map<string, ColumnInfo[]>();
  for (const [schema, table, name, dataType, charset, nullable, generated] of columns) {
    if (String(generated) !== 'NEVER') continue;
    const key = `${String(schema)}.${String(table)}`;
    const list = columnsOf.get(key) ?? [];
    list.push({
      name: String(name),
      dataType: String(dataType).toLowerCase(),
      charset: charset === null ? null : String(charset),
      nullable: String(nullable) === 'YES',
    });
    columnsOf.set(key, list);
  }
  const uniqueOf = new Map<string, Map<string, { cols: string[]; nullable: boolean }>>();
  for (const [schema, table, index, column, nullable] of indexes) {
    const key = `${String(schema)}.${String(table)}`;
    const byIndex = uniqueOf.get(key) ?? new Map<string, { cols: string[]; nullable: boolean }>();
    const entry = byIndex.get(String(index)) ?? { cols: [], nullable: false };
    entry.cols.push(String(column));
    entry.nullable ||= String(nullable) === 'YES';
    byIndex.set(String(index), entry);
    uniqueOf.set(key, byIndex);
  }
  return wanted.map(([schema, table, engine, rows, bytes]) => {
    const source = { schema: String(schema), table: String(table) };
    const key = qualifiedName(source);
    const chosen = chooseKey(uniqueOf.get(key));
    return {
      source,
      target: targetName(opts.rename, source),
      columns: columnsOf.get(key) ?? [],
      key: chosen?.cols ?? [],
      keyIndex: chosen?.index,
      engine: String(engine),
      rowsEstimate: Number(rows),
      bytesEstimate: Number(bytes),
    };
  });
}

/** PRIMARY first; otherwise the NOT NULL unique index with the fewest columns (then by name). */
function chooseKey(
  byIndex: Map<string, { cols: string[]; nullable: boolean }> | undefined,
): { index: string; cols: string[] } | undefined {
  if (!byIndex) return undefined;
  const primary = byIndex.get('PRIMARY');
  if (primary) return { index: 'PRIMARY', cols: primary.cols };
  let best: { index: string; cols: string[] } | undefined;
  for (const [index, { cols, nullable }] of byIndex) {
    if (nullable) continue;
    if (!best || cols.length < best.cols.length || (cols.length === best.cols.length && index < best.index))
      best = { index, cols };
  }
  return best;
}
