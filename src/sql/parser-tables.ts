import { createRequire } from 'node:module';
import type mariadbBuild from 'node-sql-parser/build/mariadb.js';
import type { TableRef } from './classification.js';
import { parseableShape } from './fingerprint.js';
import { RESERVED_WORDS } from './keywords.js';
import { type LexOptions, nameOf, type Token, TokenType } from './lexer.js';

/**
 * The second tier: node-sql-parser, for the tables of a DML statement and its AST type
 * (which confirms a write). Only the builds of the two dialects are loaded, not the
 * package's every dialect. MariaDB's grammar is tried first, then MySQL's.
 */

export type Dialect = { parser: InstanceType<typeof mariadbBuild.Parser>; option: { database: string } };
let dialects: readonly Dialect[] | undefined;

/**
 * Loaded on the first cache miss that needs a parse, not at start: the two grammars weigh
 * about 20 MiB of heap, which a proxy in mode `source` may never need.
 */
export function loadDialects(): readonly Dialect[] {
  if (!dialects) {
    const require = createRequire(import.meta.url);
    const mariadb = require('node-sql-parser/build/mariadb.js') as typeof mariadbBuild;
    const mysql = require('node-sql-parser/build/mysql.js') as typeof mariadbBuild;
    dialects = [
      { parser: new mariadb.Parser(), option: { database: 'MariaDB' } },
      { parser: new mysql.Parser(), option: { database: 'MySQL' } },
    ];
  }
  return dialects;
}

/**
 * Beyond this, a statement is left to the token scan: the parser takes milliseconds per few
 * thousand characters, and a miss runs on the event loop.
 */
export const MAX_PARSE_LENGTH = 8_000;

export interface ParsedStatement {
  readonly tables: readonly TableRef[];
  /** AST types of the statement: `select`, `insert`, `replace`, `update`, `delete`, ... */
  readonly types: readonly string[];
}

const WRITE_OPS = new Set([
  'insert',
  'replace',
  'update',
  'delete',
  'create',
  'alter',
  'drop',
  'truncate',
  'rename',
]);

/**
 * Parses one statement; undefined when neither grammar accepts it. A grammar whose result
 * names a table that the statement does not is not believed (MariaDB's reads
 * `UPDATE IGNORE t` as an update of `IGNORE`).
 */
export function parseStatement(
  tokens: readonly Token[],
  sql: string,
  options: LexOptions,
): ParsedStatement | undefined {
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (first === undefined || last === undefined) return undefined;
  const text = parseableShape(sql.slice(first.start, last.end), options);
  if (text.length > MAX_PARSE_LENGTH) return undefined;
  for (const { parser, option } of loadDialects()) {
    let result: ReturnType<typeof parser.parse>;
    try {
      result = parser.parse(text, option);
    } catch {
      continue;
    }
    const tables = result.tableList.map(tableOfEntry);
    if (!tables.every((t): t is TableRef => t !== undefined && namedIn(tokens, t))) continue;
    const asts = Array.isArray(result.ast) ? result.ast : [result.ast];
    return { tables, types: asts.map((a) => String((a as { type?: unknown }).type ?? '').toLowerCase()) };
  }
  return undefined;
}

/** `op::schema::table`, the parser's table list entry; its schema is `null` when not given. */
function tableOfEntry(entry: string): TableRef | undefined {
  const first = entry.indexOf('::');
  const second = entry.indexOf('::', first + 2);
  if (first < 0 || second < 0) return undefined;
  const op = entry.slice(0, first).toLowerCase();
  const schema = entry.slice(first + 2, second);
  // The parser keeps a backticked name's doubled backticks.
  const table = entry.slice(second + 2).replaceAll('``', '`');
  const access = WRITE_OPS.has(op) ? 'write' : 'read';
  return schema === 'null' ? { table, access } : { schema, table, access };
}

function namedIn(tokens: readonly Token[], table: TableRef): boolean {
  const has = (name: string) =>
    tokens.some(
      (t, i) =>
        nameOf(t) === name &&
        (t.type === TokenType.QuotedName ||
          (t.type === TokenType.Word && (!RESERVED_WORDS.has(t.lower) || tokens[i - 1]?.text === '.'))),
    );
  return has(table.table) && (table.schema === undefined || has(table.schema));
}
