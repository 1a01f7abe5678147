import { knownWord, RESERVED_WORDS } from './keywords.js';
import { Lexer, type LexOptions, TokenType } from './lexer.js';

/**
 * The shape of a statement, computed from the token stream in one pass and without the
 * parser: literals and placeholders become `?`, `IN (...)` lists of literals become `(?+)`,
 * repeated identical `VALUES` rows are kept once, comments and whitespace are dropped, and
 * reserved words are lower-cased. Names keep their case and quoting, since table names are
 * case-sensitive on most servers.
 *
 * It is the classifier cache's key, so it keeps everything the classification depends on:
 * two statements with the same fingerprint always classify alike. The one literal that
 * matters, the value assigned to `autocommit`, is kept. It is also what logs and the repair
 * journal may show: no string or number of the statement survives in it.
 */
export function fingerprint(sql: string, options?: LexOptions): string {
  return shape(sql, options, false);
}

/**
 * A statement normalised as for its fingerprint, but parseable: each literal becomes the same
 * literal (a number where only a number fits, as after LIMIT, a string elsewhere) and an IN
 * list of literals becomes one. Given to node-sql-parser instead of the text itself, it makes
 * the parser's verdict depend on the statement's shape only, like everything else that the
 * cache keeps for a fingerprint.
 */
export function parseableShape(sql: string, options?: LexOptions): string {
  return shape(sql, options, true);
}

/** Words whose `(n, m)` takes numbers: types of CAST and CONVERT. */
const NUMERIC_ARGUMENTS = new Set([
  'decimal',
  'dec',
  'numeric',
  'fixed',
  'float',
  'double',
  'char',
  'varchar',
  'binary',
  'varbinary',
  'datetime',
  'time',
  'timestamp',
]);

function shape(sql: string, options: LexOptions | undefined, parseable: boolean): string {
  const lexer = new Lexer(sql, options);
  let out = '';
  let prev: Prev = Prev.Start;
  let prevLower = '';
  let depth = 0;
  let sign = '';
  let semicolon = false;
  let autocommit = 0;
  // IN (...) of literals: where the list began and at which depth its items are.
  let inStart = -1;
  let inDepth = 0;
  // VALUES rows: the depth of VALUES, where the current row began, the comma before it, the last row.
  let valuesDepth = -1;
  let rowStart = -1;
  let commaAt = -1;
  let lastRow = '';
  // For the parser: 1 after LIMIT/OFFSET, 2 after its first number (a comma may follow); the depth of a type's (n, m).
  let numeric = 0;
  let numericDepth = -1;

  for (let type = lexer.next(); type !== TokenType.End; type = lexer.next()) {
    if (type === TokenType.Semicolon) {
      if (sign !== '') out += ` ${sign}`;
      if (out !== '') semicolon = true;
      sign = '';
      depth = 0;
      inStart = -1;
      valuesDepth = -1;
      autocommit = 0;
      continue;
    }
    const first = sql.charCodeAt(lexer.start);
    const isOperator = type === TokenType.Operator;
    const oneChar = isOperator && lexer.end === lexer.start + 1;

    // A sign in front of a number belongs to the literal when nothing before it is an operand.
    if (oneChar && (first === 0x2d || first === 0x2b) && prev !== Prev.Name && prev !== Prev.Value) {
      if (sign === '') {
        sign = first === 0x2d ? '-' : '+';
        continue;
      }
    }
    if (sign !== '' && type !== TokenType.Number) {
      out += spaced(out, prev, semicolon, false) + sign;
      semicolon = false;
      prev = Prev.Other;
      prevLower = '';
      if (inStart >= 0) inStart = -1;
    }
    sign = '';

    if (valuesDepth >= 0 && depth === valuesDepth && !(oneChar && (first === 0x28 || first === 0x2c))) {
      valuesDepth = -1;
    }

    let piece: string;
    let next: Prev;
    let lower = '';
    switch (type) {
      case TokenType.Word: {
        lower = knownWord(sql, lexer.start, lexer.end) ?? '';
        if (lower !== '' && prev !== Prev.Dot && RESERVED_WORDS.has(lower)) {
          piece = lower;
          next = Prev.Other;
        } else {
          piece = lexer.text();
          next = Prev.Name;
        }
        break;
      }
      case TokenType.QuotedName:
        piece = first === 0x22 ? ansiToBackticks(lexer.text()) : lexer.text();
        next = Prev.Name;
        break;
      case TokenType.String:
      case TokenType.Number:
      case TokenType.Placeholder:
        if (autocommit === 2) piece = lexer.text().toLowerCase();
        else if (!parseable) piece = '?';
        else piece = numeric === 1 || depth === numericDepth ? '0' : "'0'";
        next = Prev.Value;
        break;
      case TokenType.UserVariable:
      case TokenType.SystemVariable:
        piece = lexer.text().toLowerCase();
        next = Prev.Name;
        break;
      default:
        piece = lexer.text();
        next = Prev.Other;
        if (oneChar) {
          if (first === 0x28) next = Prev.Open;
          else if (first === 0x29) next = Prev.Value;
          else if (first === 0x2e) next = Prev.Dot;
        }
    }

    // autocommit's value decides whether a transaction is open, so it stays in the shape.
    if (lower === 'autocommit' || (type === TokenType.SystemVariable && piece.endsWith('autocommit'))) {
      autocommit = 1;
    } else if (autocommit === 1 && isOperator && (piece === '=' || piece === ':=')) {
      autocommit = 2;
    } else {
      autocommit = 0;
    }

    const isLiteral = next === Prev.Value && !isOperator;
    if (parseable) {
      if (lower === 'limit' || lower === 'offset') numeric = 1;
      else if (isLiteral && numeric === 1) numeric = 2;
      else numeric = numeric === 2 && oneChar && first === 0x2c ? 1 : 0;
      if (next === Prev.Open && NUMERIC_ARGUMENTS.has(prevLower)) numericDepth = depth + 1;
      else if (oneChar && first === 0x29 && depth === numericDepth) numericDepth = -1;
    }
    if (
      inStart >= 0 &&
      !(depth === inDepth && (isLiteral || (oneChar && (first === 0x2c || first === 0x29))))
    ) {
      inStart = -1;
    }

    if (next === Prev.Open) {
      if (prevLower === 'in' && prev === Prev.Other) {
        inStart = out.length;
        inDepth = depth + 1;
      }
      if (depth === valuesDepth) rowStart = out.length;
      depth++;
    } else if (oneChar && first === 0x29) {
      depth--;
    } else if (oneChar && first === 0x2c && depth === valuesDepth) {
      commaAt = out.length;
    }

    const tight = oneChar && (isTight(first) || (first === 0x28 && prev === Prev.Name));
    out += spaced(out, prev, semicolon, tight) + piece;
    semicolon = false;
    prev = next;
    prevLower = lower;

    if (oneChar && first === 0x29) {
      if (inStart >= 0 && depth === inDepth - 1) {
        out = `${out.slice(0, inStart)} ${parseable ? "('0')" : '(?+)'}`;
        inStart = -1;
      }
      if (depth === valuesDepth && rowStart >= 0) {
        const row = out.slice(rowStart).trimStart();
        if (row === lastRow && commaAt >= 0) out = out.slice(0, commaAt);
        else lastRow = row;
        rowStart = -1;
        commaAt = -1;
      }
      if (depth < valuesDepth) valuesDepth = -1;
    }
    if (lower === 'values' || lower === 'value') {
      valuesDepth = depth;
      lastRow = '';
      rowStart = -1;
      commaAt = -1;
    }
  }
  if (sign !== '') out += spaced(out, prev, semicolon, false) + sign;
  if (lexer.unterminated && !parseable) out += ' /*unterminated*/';
  return out;
}

/** What was emitted last, for spacing and for telling a sign from a minus. */
enum Prev {
  Start,
  /** `(` */
  Open,
  /** `.` */
  Dot,
  /** An unreserved word, quoted name or variable. */
  Name,
  /** A literal or `)`. */
  Value,
  /** A reserved word or an operator. */
  Other,
}

/** `,`, `)` and `.` follow the previous token without a space. */
function isTight(first: number): boolean {
  return first === 0x2c || first === 0x29 || first === 0x2e;
}

function spaced(out: string, prev: Prev, semicolon: boolean, tight: boolean): string {
  if (semicolon) return '; ';
  if (out === '' || tight || prev === Prev.Open || prev === Prev.Dot) return '';
  return ' ';
}

/** `"a""b"` under ANSI_QUOTES names what `` `a"b` `` names. */
function ansiToBackticks(quoted: string): string {
  const body = quoted.endsWith('"') && quoted.length > 1 ? quoted.slice(1, -1) : quoted.slice(1);
  return `\`${body.replaceAll('""', '"').replaceAll('`', '``')}\``;
}
