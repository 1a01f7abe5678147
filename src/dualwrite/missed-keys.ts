import { loadDialects } from '../sql/parser-tables.js';

/**
 * The rows a missed write touched, as far as its text says, for the repair journal: replay then
 * repairs those rows alone instead of comparing whole tables. Runs only when the secondary
 * missed a write, so a parse per call is affordable.
 *
 * Only integer literals (quoted ones below 2^53 too) are taken: compared with an integer column they match the same rows
 * whatever the session's character set, collation or time zone, which a replay connection
 * does not share. Whether the columns hold the table's key is decided at replay, where the key
 * is known (verify/journal-check.ts): a statement that names no key columns, or assigns one,
 * has its table compared whole.
 */
export interface MissedRows {
  /** Columns with integer values for every row, in the statement's order. */
  readonly columns: readonly string[];
  /** One tuple per row (or per combination of IN values), integers as decimal strings. */
  readonly rows: readonly (readonly string[])[];
  /** Columns the statement assigns (UPDATE ... SET, ON DUPLICATE KEY UPDATE). */
  readonly assigned: readonly string[];
  /**
   * REPLACE and ON DUPLICATE KEY UPDATE may change a row found by another unique key than
   * the columns given: keys alone are enough only for a table with no other unique key.
   */
  readonly otherUniqueKeys: boolean;
  /** The id an INSERT of one row generated, for a table keyed by its auto-increment column. */
  readonly insertId?: string;
}

/** Beyond this many rows (IN lists multiply), the table is compared whole instead. */
const MAX_ROWS = 1000;

interface Node {
  readonly type?: string;
  readonly [key: string]: unknown;
}

function parse(sql: string): Node | undefined {
  // MariaDB's grammar, the classifier's (loaded once, on first use).
  const { parser, option } = loadDialects()[0]!;
  try {
    const ast = parser.astify(sql, option) as unknown;
    const one = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
    return one as Node | undefined;
  } catch {
    return undefined;
  }
}

/** An integer literal as a decimal string; undefined for anything else. */
function integer(node: unknown): string | undefined {
  const n = node as Node | undefined;
  if (n?.type === 'number' && typeof n['value'] === 'number' && Number.isSafeInteger(n['value']))
    return String(n['value']);
  if (n?.type === 'bigint' && typeof n['value'] === 'string' && /^-?\d+$/.test(n['value'])) return n['value'];
  // '42', as drivers send ids read as strings: an integer column compares it as a double, which
  // is exact below 2^53 (above, one string may match several rows: not taken).
  if (
    (n?.type === 'single_quote_string' || n?.type === 'double_quote_string') &&
    typeof n['value'] === 'string' &&
    /^-?(?:0|[1-9]\d{0,15})$/.test(n['value']) &&
    Number.isSafeInteger(Number(n['value']))
  )
    return n['value'];
  return undefined;
}

function columnOf(node: unknown): string | undefined {
  const n = node as Node | undefined;
  if (n?.type !== 'column_ref') return undefined;
  const c = n['column'];
  if (typeof c === 'string') return c;
  // Newer grammars wrap the name: { expr: { type: 'default', value: 'id' } }.
  const inner = (c as { expr?: { value?: unknown } } | undefined)?.expr?.value;
  return typeof inner === 'string' ? inner : undefined;
}

/** `col = int` and `col IN (ints)` among the AND-ed conditions of a WHERE clause. */
function equalities(where: unknown, out: Map<string, string[]>): void {
  const n = where as Node | undefined;
  if (n?.type !== 'binary_expr') return;
  const op = String(n['operator']).toUpperCase();
  if (op === 'AND') {
    equalities(n['left'], out);
    equalities(n['right'], out);
    return;
  }
  const column = columnOf(n['left']);
  if (!column || out.has(column)) return;
  if (op === '=') {
    const v = integer(n['right']);
    if (v !== undefined) out.set(column, [v]);
  } else if (op === 'IN') {
    const list = (n['right'] as Node | undefined)?.['value'];
    if (!Array.isArray(list) || list.length === 0) return;
    const values = list.map(integer);
    if (values.every((v): v is string => v !== undefined)) out.set(column, values);
  }
}

function product(columns: readonly string[], values: ReadonlyMap<string, readonly string[]>): string[][] {
  let rows: string[][] = [[]];
  for (const c of columns) {
    const next: string[][] = [];
    for (const r of rows) for (const v of values.get(c)!) next.push([...r, v]);
    rows = next;
    if (rows.length > MAX_ROWS) return [];
  }
  return rows;
}

function assignedColumns(set: unknown): string[] {
  return Array.isArray(set) ? set.map((s) => String((s as Node)['column'])) : [];
}

function singleTable(ast: Node): boolean {
  const tables = ast['table'];
  if (!Array.isArray(tables) || tables.length !== 1) return false;
  const from = ast['from'];
  return from === undefined || from === null || (Array.isArray(from) && from.length <= 1);
}

/**
 * The rows `sql` wrote, or undefined when its text does not say (several tables, a SELECT as
 * the rows, no integer key values, prepared statements' parameters, ...). `insertId`: the first
 * id the statement generated, given only when it generated ids.
 */
export function missedRows(sql: string, insertId?: string): MissedRows | undefined {
  const ast = parse(sql);
  if (!ast || !singleTable(ast)) return undefined;
  if (ast.type === 'update' || ast.type === 'delete') {
    const values = new Map<string, string[]>();
    equalities(ast['where'], values);
    if (values.size === 0) return undefined;
    const columns = [...values.keys()];
    const rows = product(columns, values);
    if (rows.length === 0) return undefined;
    return { columns, rows, assigned: assignedColumns(ast['set']), otherUniqueKeys: false };
  }
  if (ast.type === 'insert' || ast.type === 'replace') {
    const listed = ast['columns'];
    const values = (ast['values'] as Node | undefined)?.['values'];
    if (!Array.isArray(listed) || !Array.isArray(values) || values.length > MAX_ROWS) return undefined;
    const tuples = values.map((v) => (v as Node)['value']);
    if (!tuples.every((t) => Array.isArray(t) && t.length === listed.length)) return undefined;
    const ints = (tuples as unknown[][]).map((t) => t.map(integer));
    // Where ids were generated, a 0 may be one of the requests for them (NULL is no integer):
    // such a column says nothing of the rows' keys.
    const generating = insertId !== undefined;
    const keep = listed.map((_, i) => ints.every((t) => t[i] !== undefined && !(generating && t[i] === '0')));
    const upsert = ast['on_duplicate_update'] as Node | null | undefined;
    const generated = generating && values.length === 1;
    if (!keep.includes(true) && !generated) return undefined;
    return {
      columns: listed.filter((_, i) => keep[i]).map(String),
      rows: ints.map((t) => t.filter((_, i) => keep[i]) as string[]),
      assigned: assignedColumns(upsert?.['set']),
      otherUniqueKeys: ast.type === 'replace' || !!upsert,
      ...(generated ? { insertId } : {}),
    };
  }
  return undefined;
}
