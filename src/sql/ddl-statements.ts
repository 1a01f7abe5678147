import type { TableRef } from './classification.js';
import { type Draft, draft } from './draft.js';
import type { Token } from './lexer.js';
import {
  findWordAtTop,
  isOp,
  isWord,
  type QualifiedName,
  readQualifiedName,
  skipParens,
  skipUser,
} from './token-reader.js';

/**
 * CREATE, ALTER, DROP, RENAME and TRUNCATE, with the tables they change, read from their
 * tokens: node-sql-parser knows too little of MariaDB's DDL to be asked. Every one of them
 * commits the open transaction, except CREATE/DROP TEMPORARY TABLE.
 * https://mariadb.com/kb/en/sql-statements-that-cause-an-implicit-commit/
 */

/** Account management: administration, not schema. */
const ACCOUNT_OBJECTS = new Set(['user', 'role']);
const TABLE_LIKE = new Set(['table', 'view', 'sequence']);
/** Stored programs: their bodies run later, not now. */
const PROGRAMS = new Set(['procedure', 'function', 'event', 'package']);

export function ddlStatement(tokens: readonly Token[]): Draft {
  const verb = tokens[0]?.lower ?? '';
  if (verb === 'truncate') {
    const name = readQualifiedName(tokens, isWord(tokens[1], 'table') ? 2 : 1);
    return ddl('TRUNCATE TABLE', name ? [written(name)] : []);
  }
  if (verb === 'rename') {
    if (ACCOUNT_OBJECTS.has(tokens[1]?.lower ?? ''))
      return draft('other', 'RENAME USER', { implicitCommit: true });
    return ddl('RENAME TABLE', nameList(tokens, 2, 'to'));
  }
  let i = 1;
  let temporary = false;
  let ignore = false;
  // Modifiers between the verb and the object.
  for (;;) {
    const w = tokens[i]?.lower ?? '';
    if (w === 'or' && isWord(tokens[i + 1], 'replace')) i += 2;
    else if (w === 'definer' && isOp(tokens[i + 1], '=')) i = skipUser(tokens, i + 2);
    else if (w === 'algorithm' && isOp(tokens[i + 1], '=')) i += 3;
    else if (w === 'sql' && isWord(tokens[i + 1], 'security')) i += 3;
    else if (MODIFIERS.has(w)) {
      if (w === 'temporary') temporary = true;
      if (w === 'ignore') ignore = true;
      i++;
    } else break;
  }
  const object = tokens[i]?.lower ?? '';
  const verbText = `${verb.toUpperCase()} ${object.toUpperCase()}`;
  if (verb === 'drop' && object === 'prepare') return draft('session', 'DEALLOCATE PREPARE');
  if (ACCOUNT_OBJECTS.has(object)) return draft('other', verbText, { implicitCommit: true });
  i = skipIfExists(tokens, i + 1);
  const more: Partial<Draft> = {
    ignore,
    temporaryTable: temporary && object === 'table',
    implicitCommit: !temporary,
  };
  if (verb === 'drop') {
    if (object === 'index') return ddl(verbText, onTable(tokens, i), more);
    if (TABLE_LIKE.has(object) || object === 'tables') return ddl(verbText, nameList(tokens, i), more);
    return named(verbText, tokens, i, more);
  }
  if (object === 'index') return ddl(verbText, onTable(tokens, i), more);
  if (object === 'trigger')
    return named(verbText, tokens, i, { ...more, tables: onTable(tokens, i), program: true });
  if (PROGRAMS.has(object)) return named(verbText, tokens, i, { ...more, program: true });
  if (!TABLE_LIKE.has(object)) return named(verbText, tokens, i, more);
  const name = readQualifiedName(tokens, i);
  const tables: TableRef[] = name ? [written(name)] : [];
  if (verb === 'alter') tables.push(...alteredAlso(tokens, i));
  const after = name ? name.next : i;
  // CREATE TABLE t LIKE s, CREATE TABLE t (LIKE s)
  const like = isWord(tokens[after], 'like') ? after : isWord(tokens[after + 1], 'like') ? after + 1 : -1;
  const likeName = verb === 'create' && like >= 0 ? readQualifiedName(tokens, like + 1) : undefined;
  if (likeName) tables.push({ ...written(likeName), access: 'read' });
  const hasQuery = (verb === 'create' && object !== 'sequence') || object === 'view';
  const query = hasQuery ? queryStart(tokens, after) : -1;
  return ddl(verbText, tables, { ...more, query, insertSelect: object === 'table' && query >= 0 });
}

const MODIFIERS = new Set([
  'temporary',
  'unique',
  'fulltext',
  'spatial',
  'online',
  'offline',
  'ignore',
  'aggregate',
  'nonblocking',
]);

function ddl(verb: string, tables: TableRef[], more: Partial<Draft> = {}): Draft {
  return draft('ddl', verb, { implicitCommit: true, tables, ...more });
}

/** A database, routine, event or trigger: a name, no table. */
function named(verb: string, tokens: readonly Token[], i: number, more: Partial<Draft>): Draft {
  const name = readQualifiedName(tokens, i);
  const objectName = name
    ? name.schema === undefined
      ? { name: name.name }
      : { schema: name.schema, name: name.name }
    : undefined;
  return ddl(verb, more.tables ?? [], { ...more, ...(objectName ? { name: objectName } : {}) });
}

function written(name: QualifiedName): TableRef {
  return name.schema === undefined
    ? { table: name.name, access: 'write' }
    : { schema: name.schema, table: name.name, access: 'write' };
}

function skipIfExists(tokens: readonly Token[], i: number): number {
  if (isWord(tokens[i], 'if') && isWord(tokens[i + 1], 'exists')) return i + 2;
  if (isWord(tokens[i], 'if') && isWord(tokens[i + 1], 'not') && isWord(tokens[i + 2], 'exists'))
    return i + 3;
  return i;
}

/** `a, b` (DROP TABLE), or `a TO b, c TO d` (RENAME TABLE): all changed. */
function nameList(tokens: readonly Token[], i: number, separator?: string): TableRef[] {
  const tables: TableRef[] = [];
  while (i < tokens.length) {
    const name = readQualifiedName(tokens, i);
    if (name === undefined) break;
    tables.push(written(name));
    i = name.next;
    if (separator !== undefined && isWord(tokens[i], separator)) i++;
    else if (isOp(tokens[i], ',')) i++;
    else break;
  }
  return tables;
}

/** The table after ON: CREATE INDEX i ON t, DROP INDEX i ON t, CREATE TRIGGER ... ON t. */
function onTable(tokens: readonly Token[], i: number): TableRef[] {
  const on = findWordAtTop(tokens, i, 'on');
  const name = on >= 0 ? readQualifiedName(tokens, on + 1) : undefined;
  return name ? [written(name)] : [];
}

/** ALTER TABLE t RENAME TO u; ALTER TABLE t EXCHANGE PARTITION p WITH TABLE u. */
function alteredAlso(tokens: readonly Token[], i: number): TableRef[] {
  const tables: TableRef[] = [];
  for (let k = i; k < tokens.length; k++) {
    const w = tokens[k]?.lower;
    let at = -1;
    if (w === 'rename' && !isWord(tokens[k + 1], 'column', 'index', 'key', 'constraint')) {
      at = isWord(tokens[k + 1], 'to', 'as') ? k + 2 : k + 1;
    } else if (w === 'with' && isWord(tokens[k + 1], 'table')) {
      at = k + 2;
    }
    const name = at >= 0 ? readQualifiedName(tokens, at) : undefined;
    if (name) tables.push(written(name));
  }
  return tables;
}

/** Where the query of CREATE TABLE ... [AS] SELECT or CREATE VIEW ... AS SELECT starts; -1 if none. */
function queryStart(tokens: readonly Token[], i: number): number {
  let k = isOp(tokens[i], '(') && !isWord(tokens[i + 1], 'select', 'with') ? skipParens(tokens, i) : i;
  for (; k < tokens.length; k++) {
    const t = tokens[k];
    if (isWord(t, 'with') && isWord(tokens[k + 1], 'system')) continue; // WITH SYSTEM VERSIONING
    if (isWord(t, 'select', 'with', 'table', 'values')) return k;
    if (isOp(t, '(') && isWord(tokens[k + 1], 'select', 'with')) return k;
    if (isOp(t, '(')) k = skipParens(tokens, k) - 1;
  }
  return -1;
}
