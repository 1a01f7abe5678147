import { quoteName } from './identifiers.js';
import { nameOf, type Token, TokenType, tokenize } from './lexer.js';

/**
 * Schema and table names as the target knows them, when the migration renames them. Keys are
 * the source's names; table keys are `schema.table`; a renamed table stays in its schema's
 * (possibly renamed) target schema.
 */
export interface RenameMap {
  readonly schemas: Readonly<Record<string, string>>;
  readonly tables: Readonly<Record<string, string>>;
}

/** Keywords after which a bare name is a table (`FROM t`, `JOIN t`, `INTO t`, ...). */
const TABLE_CONTEXT = new Set([
  'from',
  'join',
  'into',
  'update',
  'table',
  'tables',
  'straight_join',
  'describe',
  'desc',
]);
/** Keywords that end a list of tables after FROM. */
const LIST_END = new Set([
  'where',
  'set',
  'on',
  'using',
  'group',
  'order',
  'limit',
  'having',
  'values',
  'select',
  'window',
  'union',
  'for',
  'lock',
  'into',
  'partition',
]);

function isName(t: Token | undefined): t is Token {
  return t !== undefined && (t.type === TokenType.Word || t.type === TokenType.QuotedName);
}

export function hasRenames(map: RenameMap): boolean {
  return Object.keys(map.schemas).length > 0 || Object.keys(map.tables).length > 0;
}

export function targetSchema(map: RenameMap, schema: string): string {
  return map.schemas[schema] ?? schema;
}

/**
 * Rewrites the names a statement uses for the target: `schema.` qualifiers, `schema.table`,
 * table qualifiers such as `t.col`, bare table names where a table is expected, and `USE db`.
 * Found with the lexer, so strings and comments are never touched.
 */
export function renameForTarget(sql: string, map: RenameMap, database: string | undefined): string {
  if (!hasRenames(map)) return sql;
  const { tokens } = tokenize(sql);
  const edits: { start: number; end: number; text: string }[] = [];
  let inTableList = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    if (t.type === TokenType.Word && t.lower !== '') {
      if (TABLE_CONTEXT.has(t.lower)) inTableList = true;
      else if (LIST_END.has(t.lower)) inTableList = false;
    }
    if (!isName(t)) continue;
    const name = nameOf(t);
    const dot = tokens[i + 1];
    const second = tokens[i + 2];
    if (dot?.text === '.' && dot.start === t.end && isName(second)) {
      const table = nameOf(second);
      const renamedTable = map.tables[`${name}.${table}`];
      if (map.schemas[name] !== undefined || renamedTable !== undefined) {
        edits.push({ start: t.start, end: t.end, text: quoteName(targetSchema(map, name)) });
        if (renamedTable !== undefined)
          edits.push({ start: second.start, end: second.end, text: quoteName(renamedTable) });
        i += 2;
        continue;
      }
      // `t.col`: a qualifier that names a renamed table of the current schema.
      const qualifier = database ? map.tables[`${database}.${name}`] : undefined;
      if (qualifier !== undefined) edits.push({ start: t.start, end: t.end, text: quoteName(qualifier) });
      i += 2;
      continue;
    }
    // `USE db`, `CREATE DATABASE db`, `DROP SCHEMA IF EXISTS db`.
    const schemaSpot =
      prev?.type === TokenType.Word &&
      ((prev.lower === 'use' && i === 1) ||
        prev.lower === 'database' ||
        prev.lower === 'schema' ||
        prev.lower === 'exists');
    if (schemaSpot && map.schemas[name] !== undefined) {
      edits.push({ start: t.start, end: t.end, text: quoteName(map.schemas[name]) });
      continue;
    }
    const tableSpot =
      prev !== undefined &&
      ((prev.type === TokenType.Word && TABLE_CONTEXT.has(prev.lower)) || (prev.text === ',' && inTableList));
    const renamed = database ? map.tables[`${database}.${name}`] : undefined;
    if (tableSpot && renamed !== undefined)
      edits.push({ start: t.start, end: t.end, text: quoteName(renamed) });
  }
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += sql.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + sql.slice(at);
}
