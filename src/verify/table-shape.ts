import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { ServerPool } from './connections.js';
import { qualified } from './key-range.js';
import { type ColumnInfo, copySql, imageSql, readColumns } from './row-image.js';
import type { TablePair } from './table-list.js';
import { VerifyError } from './verify-error.js';

/**
 * What the reconciler needs to know about one table on both servers: the columns it compares
 * (those both servers have, generated ones left out: they follow from the others), the key it
 * chunks and looks rows up by, and the SQL each server uses for a row's image and values.
 */
export interface TableShape {
  readonly pair: TablePair;
  /** Key columns (the primary key, else a unique key of NOT NULL columns); empty when there is none. */
  readonly key: readonly string[];
  /** Compared and copied columns, in the source's order. */
  readonly columns: readonly string[];
  readonly sql: Readonly<Record<'source' | 'target', SideSql>>;
  /** Columns that one server has and the other lacks: reported, not compared. */
  readonly onlyOn: Readonly<Record<'source' | 'target', readonly string[]>>;
  /** information_schema's row estimate on the source, for progress. */
  readonly estimatedRows: number;
}

export interface SideSql {
  /** `schema`.`table` as this server names it. */
  readonly table: string;
  /** The row's image (see row-image.ts), built from this server's column types. */
  readonly image: string;
  /** One exact read expression per compared column, for copying rows to the other server. */
  readonly copy: readonly string[];
  readonly columnInfo: readonly ColumnInfo[];
}

/** The primary key's columns, else those of the first unique key; empty when there is neither. */
export async function keyColumns(conn: Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>({
    rowsAsArray: true,
    sql: `SELECT s.COLUMN_NAME AS c FROM information_schema.STATISTICS s
      WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
        AND s.INDEX_NAME = (SELECT MIN(INDEX_NAME) FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
          AND (INDEX_NAME = 'PRIMARY' OR NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY')))
      ORDER BY s.SEQ_IN_INDEX`,
    values: [schema, table, schema, table, schema, table],
  });
  return (rows as unknown as unknown[][]).map((r) => String(r[0]));
}

async function estimate(conn: Connection, schema: string, table: string): Promise<number> {
  const [rows] = await conn.query({
    rowsAsArray: true,
    sql: 'SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    values: [schema, table],
  });
  return Number((rows as unknown[][])[0]?.[0] ?? 0);
}

export async function describeTable(pool: ServerPool, pair: TablePair): Promise<TableShape> {
  const [sourceCols, targetCols, key, estimatedRows] = await Promise.all([
    readColumns(pool.source, pair.source.schema, pair.source.table),
    readColumns(pool.target, pair.target.schema, pair.target.table),
    keyColumns(pool.source, pair.source.schema, pair.source.table),
    estimate(pool.source, pair.source.schema, pair.source.table),
  ]);
  if (sourceCols.length === 0)
    throw new VerifyError('VERIFY_TABLE', `${pair.label}: the table does not exist on the source`);
  if (targetCols.length === 0) {
    throw new VerifyError(
      'VERIFY_TABLE',
      `${pair.label}: the table does not exist on the target as ${pair.target.schema}.${pair.target.table} ` +
        '(create it there, or correct scope.rename)',
    );
  }
  const onTarget = new Map(targetCols.map((c) => [c.name.toLowerCase(), c]));
  const onSource = new Map(sourceCols.map((c) => [c.name.toLowerCase(), c]));
  const common = sourceCols.filter((c) => !c.generated && onTarget.has(c.name.toLowerCase()));
  const targetCommon = common.map((c) => onTarget.get(c.name.toLowerCase())!);
  const usableKey =
    key.length > 0 &&
    key.every((k) => {
      const s = onSource.get(k.toLowerCase());
      const t = onTarget.get(k.toLowerCase());
      // A unique key over nullable columns admits several rows with NULL: it identifies none.
      return s !== undefined && t !== undefined && !s.nullable && !s.generated;
    });
  const side = (table: string, cols: readonly ColumnInfo[]): SideSql => ({
    table,
    image: imageSql(cols),
    copy: cols.map(copySql),
    columnInfo: cols,
  });
  return {
    pair,
    key: usableKey ? key : [],
    columns: common.map((c) => c.name),
    sql: {
      source: side(qualified(pair.source.schema, pair.source.table), common),
      target: side(qualified(pair.target.schema, pair.target.table), targetCommon),
    },
    onlyOn: {
      source: sourceCols
        .filter((c) => !c.generated && !onTarget.has(c.name.toLowerCase()))
        .map((c) => c.name),
      target: targetCols
        .filter((c) => !c.generated && !onSource.has(c.name.toLowerCase()))
        .map((c) => c.name),
    },
    estimatedRows,
  };
}
