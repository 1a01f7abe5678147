import type { Connection } from 'mysql2/promise';
import { Scope } from '../routing/scope.js';
import { type RenameMap, targetSchema } from '../sql/rename.js';

/** A table by its source name and by the name the target knows it under (scope.rename). */
export interface TablePair {
  readonly source: { readonly schema: string; readonly table: string };
  readonly target: { readonly schema: string; readonly table: string };
  /** `schema.table` on the source, `-> schema.table` added when the target's name differs. */
  readonly label: string;
}

/** Schemas of the server itself, never part of a migration. */
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export function pairFor(schema: string, table: string, rename: RenameMap): TablePair {
  const target = {
    schema: targetSchema(rename, schema),
    table: rename.tables[`${schema}.${table}`] ?? table,
  };
  const renamed = target.schema !== schema || target.table !== table;
  return {
    source: { schema, table },
    target,
    label: `${schema}.${table}${renamed ? ` -> ${target.schema}.${target.table}` : ''}`,
  };
}

export interface TableSelection {
  /** `--tables`: `schema.table` patterns with `*`; a bare name means any schema. */
  readonly patterns?: readonly string[] | undefined;
  /** The source URL's database: the default selection when no pattern is given. */
  readonly database?: string | undefined;
  /** The migration's scope: tables outside it are written to the source only, never compared. */
  readonly scope: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly rename: RenameMap;
  /** tandem's own control schema, which only the source holds. */
  readonly controlSchema?: string | undefined;
}

/** The source's base tables that the selection and the scope both cover, in name order. */
export async function listTables(source: Connection, sel: TableSelection): Promise<TablePair[]> {
  const skip = [...SYSTEM_SCHEMAS, ...(sel.controlSchema ? [sel.controlSchema] : [])];
  const [rows] = await source.query({
    rowsAsArray: true,
    sql: `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
      WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (${skip.map(() => '?').join(', ')})
      ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    values: skip,
  });
  const scope = new Scope(sel.scope.include, sel.scope.exclude);
  const patterns =
    sel.patterns && sel.patterns.length > 0
      ? new Scope(sel.patterns, [])
      : sel.database
        ? new Scope([`${sel.database}.*`], [])
        : undefined;
  return (rows as unknown[][])
    .map((r) => ({ schema: String(r[0]), table: String(r[1]) }))
    .filter((t) => {
      const name = `${t.schema}.${t.table}`;
      return scope.covers(name, undefined) && (patterns === undefined || patterns.covers(name, undefined));
    })
    .map((t) => pairFor(t.schema, t.table, sel.rename));
}
