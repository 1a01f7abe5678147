import type { TableRef } from './classification.js';
import { sessionStatement, setStatement, transactionStatement } from './control-statements.js';
import { ddlStatement } from './ddl-statements.js';
import { type Draft, draft, unknownStatement } from './draft.js';
import { nameOf, type Token, TokenType } from './lexer.js';
import { findWordAtTop, isOp, isWord, readQualifiedName, skipParens } from './token-reader.js';

/**
 * The first tier: a statement's kind from its first keywords, as Vitess's sqlparser
 * `Preview` does, with the details that keywords alone give (transaction and session
 * changes, DDL's tables). DML is left with the index of its verb for the second tier.
 */
export function preview(tokens: readonly Token[]): Draft {
  let i = 0;
  while (isOp(tokens[i], '(')) i++;
  const first = tokens[i];
  if (first === undefined) return unknownStatement('');
  const w = first.lower;
  switch (w) {
    case 'select':
    case 'table':
    case 'values':
      return draft('read', w.toUpperCase(), { dmlVerb: i });
    case 'with': {
      const main = afterWithClause(tokens, i);
      const verb = isOp(tokens[main], '(') ? 'select' : (tokens[main]?.lower ?? '');
      if (main === i || !(DML_WRITES.has(verb) || verb === 'select' || verb === 'table'))
        return unknownStatement('WITH');
      return draft(DML_WRITES.has(verb) ? 'write' : 'read', verb.toUpperCase(), { dmlVerb: main });
    }
    case 'insert':
    case 'replace':
    case 'update':
    case 'delete':
      return draft('write', w.toUpperCase(), { dmlVerb: i });
    case 'explain':
    case 'describe':
    case 'desc':
      return explain(tokens, i);
    case 'show':
      return draft('read', 'SHOW', { tables: shownTables(tokens) });
    case 'help':
    case 'do':
      return draft('read', w.toUpperCase());
    case 'checksum':
      return draft('read', 'CHECKSUM TABLE', { tables: readList(tokens, 2) });
    case 'handler':
      return draft('read', 'HANDLER', { tables: readList(tokens, 1).slice(0, 1) });
    case 'load':
      return load(tokens);
    case 'call': {
      const name = readQualifiedName(tokens, 1);
      if (name === undefined) return unknownStatement('CALL');
      const { next: _, ...routine } = name;
      return draft('write', 'CALL', { name: routine });
    }
    case 'create':
    case 'alter':
    case 'drop':
    case 'rename':
    case 'truncate':
      if (w === 'drop' && isWord(tokens[1], 'prepare')) return sessionStatement(tokens);
      return ddlStatement(tokens);
    case 'begin':
      if (isWord(tokens[1], 'not')) return draft('write', 'BEGIN NOT ATOMIC');
      return transactionStatement(tokens);
    case 'start':
      if (isWord(tokens[1], 'transaction')) return transactionStatement(tokens);
      return draft('other', `START ${(tokens[1]?.lower ?? '').toUpperCase()}`, { implicitCommit: true });
    case 'commit':
    case 'rollback':
    case 'savepoint':
    case 'release':
    case 'xa':
      return transactionStatement(tokens);
    case 'set':
      return setStatement(tokens);
    case 'use':
    case 'lock':
    case 'unlock':
    case 'prepare':
    case 'deallocate':
    case 'execute':
      return sessionStatement(tokens);
    case 'analyze':
      return draft('other', 'ANALYZE TABLE', { implicitCommit: true, tables: readList(tokens, 2) });
    default:
      if (ADMIN[w] !== undefined) return draft('other', w.toUpperCase(), { implicitCommit: ADMIN[w] });
      // MariaDB runs IF, WHILE, LOOP, ... and labelled blocks outside stored programs too.
      if (BLOCKS.has(w) || isOp(tokens[i + 1], ':')) return draft('write', w.toUpperCase());
      return unknownStatement(first.type === TokenType.Word ? w.toUpperCase() : '');
  }
}

const DML_WRITES = new Set(['insert', 'replace', 'update', 'delete']);
const BLOCKS = new Set(['if', 'while', 'loop', 'repeat', 'case', 'for']);

/** Administration, and whether it commits the open transaction. */
const ADMIN: Readonly<Record<string, boolean>> = {
  optimize: true,
  repair: true,
  check: true,
  flush: true,
  grant: true,
  revoke: true,
  reset: true,
  purge: false,
  install: true,
  uninstall: true,
  change: true,
  stop: true,
  cache: true,
  kill: false,
  shutdown: false,
  binlog: false,
  signal: false,
  resignal: false,
  get: false,
  restart: false,
};

/**
 * Prefixes that run the statement they carry: MariaDB's `SET STATEMENT v = x FOR stmt` and
 * `ANALYZE stmt`, MySQL's `EXPLAIN ANALYZE stmt`. Returns where that statement starts.
 */
export function carriedStatement(tokens: readonly Token[]): number {
  const w = tokens[0]?.lower;
  if (w === 'set' && isWord(tokens[1], 'statement')) {
    const f = findWordAtTop(tokens, 2, 'for');
    return f > 0 ? f + 1 : 0;
  }
  let i = w === 'analyze' ? 1 : w === 'explain' && isWord(tokens[1], 'analyze') ? 2 : 0;
  if (i === 0) return 0;
  if (isWord(tokens[i], 'format') && isOp(tokens[i + 1], '=')) i += 3;
  const next = tokens[i];
  return isOp(next, '(') || isWord(next, 'select', 'insert', 'update', 'delete', 'replace', 'with', 'table')
    ? i
    : 0;
}

/** Index of the statement after `WITH [RECURSIVE] name [(cols)] AS (...), ...`. */
function afterWithClause(tokens: readonly Token[], i: number): number {
  let j = isWord(tokens[i + 1], 'recursive') ? i + 2 : i + 1;
  for (;;) {
    let k = j + 1;
    if (isOp(tokens[k], '(')) k = skipParens(tokens, k);
    if (!isWord(tokens[k], 'as') || !isOp(tokens[k + 1], '(')) return i;
    k = skipParens(tokens, k + 1);
    if (!isOp(tokens[k], ',')) return k;
    j = k + 1;
  }
}

/** EXPLAIN [EXTENDED|PARTITIONS|FORMAT=x] stmt reads; EXPLAIN t and DESCRIBE t describe a table. */
function explain(tokens: readonly Token[], i: number): Draft {
  let k = i + 1;
  while (isWord(tokens[k], 'extended', 'partitions')) k++;
  if (isWord(tokens[k], 'format') && isOp(tokens[k + 1], '=')) k += 3;
  const next = tokens[k];
  if (isOp(next, '(') || isWord(next, 'select', 'insert', 'update', 'delete', 'replace', 'with', 'table')) {
    const inner = preview(tokens.slice(k));
    return draft('read', 'EXPLAIN', { explain: k, dmlVerb: inner.dmlVerb < 0 ? -1 : inner.dmlVerb + k });
  }
  const verb = tokens[i]?.lower === 'explain' ? 'EXPLAIN' : 'DESCRIBE';
  return draft('read', verb, { tables: readList(tokens, k).slice(0, 1) });
}

/** `a, b, ...` from `i`, read. */
function readList(tokens: readonly Token[], i: number): TableRef[] {
  const tables: TableRef[] = [];
  while (i < tokens.length) {
    const name = readQualifiedName(tokens, i);
    if (name === undefined) break;
    tables.push(
      name.schema === undefined
        ? { table: name.name, access: 'read' }
        : { schema: name.schema, table: name.name, access: 'read' },
    );
    if (!isOp(tokens[name.next], ',')) break;
    i = name.next + 1;
  }
  return tables;
}

/** SHOW [FULL] COLUMNS|FIELDS|INDEX|KEYS FROM t [FROM db]; SHOW CREATE TABLE|VIEW t. */
function shownTables(tokens: readonly Token[]): TableRef[] {
  if (isWord(tokens[1], 'create') && isWord(tokens[2], 'table', 'view'))
    return readList(tokens, 3).slice(0, 1);
  const k = isWord(tokens[1], 'full', 'extended') ? 2 : 1;
  if (!isWord(tokens[k], 'columns', 'fields', 'index', 'indexes', 'keys')) return [];
  if (!isWord(tokens[k + 1], 'from', 'in')) return [];
  const name = readQualifiedName(tokens, k + 2);
  if (name === undefined) return [];
  const db = isWord(tokens[name.next], 'from', 'in') ? tokens[name.next + 1] : undefined;
  const schema = db !== undefined ? nameOf(db) : name.schema;
  return [
    schema === undefined
      ? { table: name.name, access: 'read' }
      : { schema, table: name.name, access: 'read' },
  ];
}

/** LOAD DATA|XML [LOW_PRIORITY|CONCURRENT] [LOCAL] INFILE 'f' [REPLACE|IGNORE] INTO TABLE t ... */
function load(tokens: readonly Token[]): Draft {
  const what = tokens[1]?.lower ?? '';
  if (what !== 'data' && what !== 'xml') {
    return draft('other', `LOAD ${what.toUpperCase()}`, { implicitCommit: what === 'index' });
  }
  const into = tokens.findIndex((t, k) => t.lower === 'into' && isWord(tokens[k + 1], 'table'));
  const name = into > 0 ? readQualifiedName(tokens, into + 2) : undefined;
  const infile = tokens.findIndex((t) => t.lower === 'infile');
  return draft('write', `LOAD ${what.toUpperCase()}`, {
    tables: name
      ? [
          name.schema === undefined
            ? { table: name.name, access: 'write' }
            : { schema: name.schema, table: name.name, access: 'write' },
        ]
      : [],
    localInfile: infile > 0 && tokens.slice(2, infile).some((t) => t.lower === 'local'),
    ignore: into > 0 && isWord(tokens[into - 1], 'ignore'),
    unknown: name === undefined,
  });
}
