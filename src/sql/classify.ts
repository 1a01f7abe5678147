import {
  type Classification,
  type ClassificationFlags,
  KIND_STRENGTH,
  type Pin,
  type StatementClassification,
  type TableRef,
} from './classification.js';
import type { Draft } from './draft.js';
import { fingerprint } from './fingerprint.js';
import { type LexOptions, type Token, tokenize } from './lexer.js';
import { scanNondeterminism } from './nondeterminism.js';
import { parseStatement } from './parser-tables.js';
import { carriedStatement, preview } from './preview.js';
import { splitStatements } from './split-statements.js';
import { assignedVariables, dmlFlags } from './statement-flags.js';
import { cteNames, mergeTables, scanTables } from './table-scan.js';

/**
 * Classifies a text of one or more statements: a preview by first keywords, then, for DML,
 * node-sql-parser together with a token scan for the tables. Pure: no I/O. ClassifierCache
 * wraps this so that each statement shape is classified once.
 */
export function classify(sql: string, options: LexOptions = {}): Classification {
  return classifyShape(sql, fingerprint(sql, options), options);
}

/** classify() with the fingerprint already computed (the cache has it as its key). */
export function classifyShape(sql: string, shape: string, options: LexOptions = {}): Classification {
  const { tokens, unterminated } = tokenize(sql, options);
  const statements = splitStatements(tokens).map(({ from, to }) =>
    classifyStatement(tokens.slice(from, to), sql, options),
  );
  const last = statements[statements.length - 1];
  if (unterminated && last !== undefined) {
    // An unclosed string or comment: the server rejects it, but where it ends is unknowable.
    statements[statements.length - 1] = freezeStatement({ ...last, kind: 'write', unknown: true });
  }
  return combine(statements, shape);
}

const NO_FLAGS: ClassificationFlags = {
  unknown: false,
  locking: false,
  intoVariables: false,
  intoFile: false,
  implicitCommit: false,
  temporaryTable: false,
  insertSelect: false,
  onDuplicateKeyUpdate: false,
  ignore: false,
  localInfile: false,
  tablesGuessed: false,
  pinnable: [],
  pins: [],
  unpinnable: [],
};

function classifyStatement(all: readonly Token[], sql: string, options: LexOptions): StatementClassification {
  const carried = carriedStatement(all);
  const tokens = carried > 0 ? all.slice(carried) : all;
  const d = preview(tokens);
  let tables = d.tables;
  let tablesGuessed = false;
  let dml = { locking: false, intoVariables: false, intoFile: false, onDuplicateKeyUpdate: false };
  let insertColumns: readonly string[] | undefined;
  if (d.dmlVerb >= 0) {
    const found = tablesOf(tokens, Math.max(d.explain, 0), d.dmlVerb, sql, options, d);
    tables = found.tables;
    tablesGuessed = found.guessed;
    if (d.explain < 0) {
      const f = dmlFlags(tokens, d.dmlVerb);
      dml = f;
      insertColumns = f.insertColumns;
      d.insertSelect = f.insertSelect;
      d.ignore = f.ignore;
    } else {
      tables = tables.map((t) => ({ ...t, access: 'read' }));
    }
  }
  if (d.query >= 0) {
    const query = tokens.slice(d.query);
    let verb = 0;
    while (query[verb]?.text === '(') verb++;
    const found = tablesOf(query, 0, verb, sql, options, d);
    tables = mergeTables(
      tables,
      found.tables.map((t) => ({ ...t, access: 'read' })),
    );
    tablesGuessed = found.guessed;
  }
  const mirrored = d.kind !== 'read';
  const nd =
    d.program || d.explain >= 0 ? undefined : scanNondeterminism(tokens, assignedVariables(tokens, d.verb));
  const assigns = new Set(nd?.assignsVariables ?? []);
  // LOAD DATA reads in its SET the variables its column list assigned from the file.
  const readsInWrite =
    d.kind === 'write' || d.kind === 'ddl'
      ? (nd?.readsVariables ?? []).filter((v) => !(d.verb.startsWith('LOAD') && assigns.has(v)))
      : [];
  for (const v of d.session?.variables ?? []) if (v.scope === 'user') assigns.add(`@${v.name}`);
  return freezeStatement({
    kind: d.kind,
    verb: d.verb,
    tables,
    ...(d.name === undefined ? {} : { name: d.name }),
    ...(d.transaction === undefined ? {} : { transaction: d.transaction }),
    ...(d.session === undefined ? {} : { session: d.session }),
    assignsVariables: [...assigns],
    readsVariables: nd?.readsVariables ?? [],
    ...(insertColumns === undefined ? {} : { insertColumns: Object.freeze([...insertColumns]) }),
    unknown: d.unknown,
    locking: dml.locking || (nd?.locking ?? false),
    intoVariables: dml.intoVariables || (d.kind === 'read' && assigns.size > 0),
    intoFile: dml.intoFile,
    implicitCommit: d.implicitCommit,
    temporaryTable: d.temporaryTable,
    insertSelect: d.insertSelect,
    onDuplicateKeyUpdate: dml.onDuplicateKeyUpdate,
    ignore: d.ignore,
    localInfile: d.localInfile,
    tablesGuessed,
    pinnable: mirrored ? (nd?.pinnable ?? []) : [],
    pins: mirrored ? (nd?.pins ?? []) : [],
    unpinnable: mirrored ? [...(nd?.unpinnable ?? []), ...readsInWrite] : [],
  });
}

const WRITE_TYPES = new Set(['insert', 'replace', 'update', 'delete']);

/**
 * Tables of the DML statement in `tokens` from `from`: the parser's and the token scan's
 * together, `write` winning, CTE names left out. Without the parser, the scan's alone.
 */
function tablesOf(
  tokens: readonly Token[],
  from: number,
  verb: number,
  sql: string,
  options: LexOptions,
  d: Draft,
): { tables: TableRef[]; guessed: boolean } {
  const statement = from > 0 ? tokens.slice(from) : tokens;
  const scanned = scanTables(statement, verb - from);
  const parsed = parseStatement(statement, sql, options);
  if (parsed === undefined) return { tables: scanned, guessed: true };
  if (d.kind === 'read' && d.explain < 0 && parsed.types.some((t) => WRITE_TYPES.has(t))) d.kind = 'write';
  const ctes = cteNames(statement);
  const parsedTables = parsed.tables.filter(
    (t) => t.schema !== undefined || !ctes.has(t.table.toLowerCase()),
  );
  return { tables: mergeTables(parsedTables, scanned), guessed: false };
}

function combine(statements: readonly StatementClassification[], shape: string): Classification {
  if (statements.length === 0) {
    return Object.freeze({
      ...NO_FLAGS,
      kind: 'other',
      statements: [],
      tables: [],
      multiStatement: false,
      fingerprint: shape,
    });
  }
  let strongest = KIND_STRENGTH.length - 1;
  const union = (pick: (s: StatementClassification) => readonly string[]) =>
    Object.freeze([...new Set(statements.flatMap(pick))]);
  const any = (pick: (s: StatementClassification) => boolean) => statements.some(pick);
  for (const s of statements) strongest = Math.min(strongest, KIND_STRENGTH.indexOf(s.kind));
  return Object.freeze({
    kind: KIND_STRENGTH[strongest] ?? 'write',
    statements: Object.freeze([...statements]),
    tables: Object.freeze(mergeTables(...statements.map((s) => s.tables)).map((t) => Object.freeze(t))),
    multiStatement: statements.length > 1,
    fingerprint: shape,
    unknown: any((s) => s.unknown),
    locking: any((s) => s.locking),
    intoVariables: any((s) => s.intoVariables),
    intoFile: any((s) => s.intoFile),
    implicitCommit: any((s) => s.implicitCommit),
    temporaryTable: any((s) => s.temporaryTable),
    insertSelect: any((s) => s.insertSelect),
    onDuplicateKeyUpdate: any((s) => s.onDuplicateKeyUpdate),
    ignore: any((s) => s.ignore),
    localInfile: any((s) => s.localInfile),
    tablesGuessed: any((s) => s.tablesGuessed),
    pinnable: union((s) => s.pinnable),
    pins: union((s) => s.pins) as readonly Pin[],
    unpinnable: union((s) => s.unpinnable),
  });
}

function freezeStatement(s: StatementClassification): StatementClassification {
  return Object.freeze({
    ...s,
    tables: Object.freeze(s.tables.map((t) => Object.freeze({ ...t }))),
    ...(s.name === undefined ? {} : { name: Object.freeze({ ...s.name }) }),
    ...(s.transaction === undefined ? {} : { transaction: Object.freeze({ ...s.transaction }) }),
    ...(s.session === undefined
      ? {}
      : {
          session: Object.freeze({
            ...s.session,
            variables: Object.freeze(s.session.variables.map((v) => Object.freeze({ ...v }))),
          }),
        }),
    assignsVariables: Object.freeze([...s.assignsVariables]),
    readsVariables: Object.freeze([...s.readsVariables]),
    pinnable: Object.freeze([...s.pinnable]),
    pins: Object.freeze([...s.pins]),
    unpinnable: Object.freeze([...s.unpinnable]),
  });
}
