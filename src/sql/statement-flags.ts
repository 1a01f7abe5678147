import { nameOf, type Token, TokenType } from './lexer.js';
import {
  findWordAtTop,
  isNameToken,
  isOp,
  isWord,
  readQualifiedName,
  skipParens,
  wordsAt,
} from './token-reader.js';

/** What a DML statement's keywords say about how the dual writer must run it. */
export interface DmlFlags {
  locking: boolean;
  intoVariables: boolean;
  intoFile: boolean;
  insertSelect: boolean;
  onDuplicateKeyUpdate: boolean;
  ignore: boolean;
  /**
   * INSERT/REPLACE with a column list: its columns, lower-cased. Undefined when the statement
   * may give any column a value (no list, `SET col = ...`, or a list that could not be read).
   */
  insertColumns: readonly string[] | undefined;
}

const MODIFIERS = new Set(['low_priority', 'delayed', 'high_priority', 'quick', 'ignore']);

export function dmlFlags(tokens: readonly Token[], verbIndex: number): DmlFlags {
  const verb = tokens[verbIndex]?.lower ?? '';
  const flags: DmlFlags = {
    locking: false,
    intoVariables: false,
    intoFile: false,
    insertSelect: false,
    onDuplicateKeyUpdate: false,
    ignore: false,
    insertColumns: undefined,
  };
  let i = verbIndex + 1;
  for (; isWord(tokens[i], ...MODIFIERS); i++) {
    if (tokens[i]?.lower === 'ignore') flags.ignore = true;
  }
  for (let k = 0; k < tokens.length; k++) {
    const w = tokens[k]?.lower;
    if (
      (w === 'for' && isWord(tokens[k + 1], 'update', 'share')) ||
      (w === 'lock' && wordsAt(tokens, k + 1, 'in', 'share', 'mode'))
    ) {
      flags.locking = true;
    }
  }
  if (verb === 'insert' || verb === 'replace') {
    flags.insertSelect = rowsFromQuery(tokens, i);
    flags.onDuplicateKeyUpdate = tokens.some(
      (t, k) => t.lower === 'on' && wordsAt(tokens, k + 1, 'duplicate', 'key', 'update'),
    );
    flags.insertColumns = columnList(tokens, i);
  } else if (verb !== 'update' && verb !== 'delete') {
    for (const k of intoClauses(tokens)) {
      if (isWord(tokens[k + 1], 'outfile', 'dumpfile')) flags.intoFile = true;
      else flags.intoVariables = true;
    }
  }
  return flags;
}

/** `[INTO] tbl [PARTITION (p, ...)] (a, b, ...)` from `i`: the names a, b, ...; undefined without a list. */
function columnList(tokens: readonly Token[], i: number): string[] | undefined {
  if (isWord(tokens[i], 'into')) i++;
  const table = readQualifiedName(tokens, i);
  if (!table) return undefined;
  i = table.next;
  if (isWord(tokens[i], 'partition')) i = skipParens(tokens, i + 1);
  if (!isOp(tokens[i], '(') || isWord(tokens[i + 1], 'select', 'with')) return undefined;
  const columns: string[] = [];
  for (i++; ; i += 2) {
    // `col` or `tbl.col`: the last name is the column.
    while (isOp(tokens[i + 1], '.') && tokens[i + 2]) i += 2;
    const name = tokens[i];
    if (!isNameToken(name)) return undefined;
    columns.push(nameOf(name).toLowerCase());
    if (isOp(tokens[i + 1], ')')) return columns;
    if (!isOp(tokens[i + 1], ',')) return undefined;
  }
}

/** INSERT ... SELECT, INSERT ... (SELECT ...), INSERT ... TABLE t, INSERT ... WITH ... SELECT. */
function rowsFromQuery(tokens: readonly Token[], i: number): boolean {
  const values = findWordAtTop(tokens, i, 'values', 'value', 'set', 'select', 'table', 'with');
  if (values >= 0 && isWord(tokens[values], 'select', 'table', 'with')) return true;
  if (values >= 0) return false;
  return tokens.some((t, k) => isOp(t, '(') && isWord(tokens[k + 1], 'select', 'with'));
}

/** Indexes of the INTO words of a query (SELECT ... INTO @x, INTO OUTFILE). */
function intoClauses(tokens: readonly Token[]): number[] {
  const found: number[] = [];
  tokens.forEach((t, k) => {
    if (t.lower === 'into') found.push(k);
  });
  return found;
}

/**
 * Whether the user variable at `i` is assigned rather than read: after SELECT's INTO, in
 * LOAD DATA's column list (before its SET), as the target of SET.
 */
export function assignedVariables(tokens: readonly Token[], verb: string): (i: number) => boolean {
  if (verb.startsWith('SET')) {
    return (i) => isOp(tokens[i + 1], '=') || isOp(tokens[i + 1], ':=');
  }
  if (verb.startsWith('LOAD')) {
    const set = findWordAtTop(tokens, 0, 'set');
    return (i) => set < 0 || i < set;
  }
  const into = intoClauses(tokens);
  if (into.length === 0) return () => false;
  return (i) =>
    into.some((k) => {
      // INTO @a, @b: variables and commas only.
      for (let j = k + 1; j <= i; j++) {
        const t = tokens[j];
        if (t?.type !== TokenType.UserVariable && !isOp(t, ',')) return false;
      }
      return k < i;
    });
}
