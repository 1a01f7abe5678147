import { knownWord } from './keywords.js';
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

/** One-character strings, so that an operator costs no allocation. */
const ASCII = Array.from({ length: 0x80 }, (_, c) => String.fromCharCode(c));

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
  const w = new ShapeWriter(parseable);
  let prevLower = '';
  let depth = 0;
  let sign = '';
  let autocommit = 0;
  // IN (...) of literals: the depth of its items while it is being read, else -1.
  let inDepth = -1;
  // VALUES rows: the depth of VALUES while its rows are being read, else -1.
  let valuesDepth = -1;
  // For the parser: 1 after LIMIT/OFFSET, 2 after its first number (a comma may follow); the depth of a type's (n, m).
  let numeric = 0;
  let numericDepth = -1;

  for (let type = lexer.next(); type !== TokenType.End; type = lexer.next()) {
    if (type === TokenType.Semicolon) {
      if (sign !== '') w.emit(sign, Prev.Other, false);
      w.endStatement();
      sign = '';
      depth = 0;
      inDepth = -1;
      valuesDepth = -1;
      autocommit = 0;
      continue;
    }
    const first = sql.charCodeAt(lexer.start);
    const isOperator = type === TokenType.Operator;
    const oneChar = isOperator && lexer.end === lexer.start + 1;

    // A sign in front of a number belongs to the literal when nothing before it is an operand.
    if (oneChar && (first === 0x2d || first === 0x2b) && w.prev !== Prev.Name && w.prev !== Prev.Value) {
      if (sign === '') {
        sign = first === 0x2d ? '-' : '+';
        continue;
      }
    }
    if (sign !== '' && type !== TokenType.Number) {
      if (inDepth >= 0) {
        w.abandonInList();
        inDepth = -1;
      }
      w.emit(sign, Prev.Other, false);
      prevLower = '';
    }
    sign = '';

    const opensRow = oneChar && first === 0x28 && depth === valuesDepth;
    if (valuesDepth >= 0 && depth === valuesDepth && !opensRow) {
      if (oneChar && first === 0x2c) {
        // Held back: dropped with the row after it if that row repeats the last.
        w.holdComma();
        continue;
      }
      w.releaseComma();
      valuesDepth = -1;
    }

    let piece: string;
    let next: Prev;
    let lower = '';
    switch (type) {
      case TokenType.Word: {
        // Around a dot (`t.col`) a word is a name: no keyword to look up.
        const qualified = w.prev === Prev.Dot || sql.charCodeAt(lexer.end) === 0x2e;
        const known = qualified ? undefined : knownWord(sql, lexer.start, lexer.end);
        if (known !== undefined) lower = known.word;
        if (known?.reserved === true) {
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
        piece = oneChar && first < 0x80 ? (ASCII[first] as string) : lexer.text();
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
    const closes = oneChar && first === 0x29;
    if (inDepth >= 0 && !(depth === inDepth && (isLiteral || closes || (oneChar && first === 0x2c)))) {
      w.abandonInList();
      inDepth = -1;
    }

    if (next === Prev.Open) {
      if (opensRow) w.openRow();
      else if (prevLower === 'in' && w.prev === Prev.Other) {
        w.openInList();
        inDepth = depth + 1;
      }
      depth++;
    } else if (closes) {
      depth--;
    }

    if (closes && inDepth >= 0 && depth === inDepth - 1) {
      w.closeInList();
      inDepth = -1;
    } else {
      w.emit(piece, next, oneChar && (isTight(first) || (first === 0x28 && w.prev === Prev.Name)));
    }
    prevLower = lower;

    if (closes) {
      if (depth === valuesDepth) w.closeRow();
      if (depth < valuesDepth) valuesDepth = -1;
    }
    if (lower === 'values' || lower === 'value') {
      valuesDepth = depth;
      w.startRows();
    }
  }
  if (sign !== '') w.emit(sign, Prev.Other, false);
  w.endStatement();
  return lexer.unterminated && !parseable ? `${w.text} /*unterminated*/` : w.text;
}

/**
 * The fingerprint being written. An IN list and a VALUES row are written apart, in `out`,
 * with what came before kept aside: collapsing one then takes no copy of the text so far.
 */
class ShapeWriter {
  /** What was emitted last, for spacing and for telling a sign from a minus. */
  prev: Prev = Prev.Start;
  private out = '';
  private started = false;
  private semicolon = false;
  /** The text before the IN list being written, or undefined. */
  private beforeInList: string | undefined;
  /** The text before the VALUES row being written, or undefined, and whether a comma precedes the row. */
  private beforeRow: string | undefined;
  private rowComma = false;
  private comma = false;
  private lastRow = '';

  constructor(private readonly parseable: boolean) {}

  get text(): string {
    return this.out;
  }

  emit(piece: string, next: Prev, tight: boolean): void {
    // One concatenation per token: a short `' ' + piece` is copied flat, so the result is a
    // rope of about one node per token, quicker to flatten when it is hashed as a map key.
    if (this.semicolon) {
      this.out += `; ${piece}`;
      this.semicolon = false;
    } else if (this.started && !tight && this.prev !== Prev.Open && this.prev !== Prev.Dot) {
      this.out += ` ${piece}`;
    } else {
      this.out += piece;
    }
    this.started = true;
    this.prev = next;
  }

  openInList(): void {
    this.beforeInList = this.out;
    this.out = '';
  }

  /** The list held only literals: it becomes `(?+)`. */
  closeInList(): void {
    this.out = `${this.beforeInList ?? ''} ${this.parseable ? "('0')" : '(?+)'}`;
    this.beforeInList = undefined;
    this.prev = Prev.Value;
  }

  abandonInList(): void {
    if (this.beforeInList === undefined) return;
    this.out = this.beforeInList + this.out;
    this.beforeInList = undefined;
  }

  startRows(): void {
    this.lastRow = '';
    this.comma = false;
  }

  holdComma(): void {
    this.comma = true;
    this.prev = Prev.Other;
  }

  releaseComma(): void {
    if (!this.comma) return;
    this.comma = false;
    this.out += ',';
  }

  openRow(): void {
    this.beforeRow = this.out;
    this.rowComma = this.comma;
    this.comma = false;
    this.out = '';
    // Every row starts alike, after VALUES or after a comma.
    this.prev = Prev.Other;
  }

  /** A row that repeats the last one is dropped with its comma. */
  closeRow(): void {
    if (this.beforeRow === undefined) return;
    const row = this.out;
    if (this.rowComma && row === this.lastRow) {
      this.out = this.beforeRow;
    } else {
      this.out = this.beforeRow + (this.rowComma ? ',' : '') + row;
      this.lastRow = row;
    }
    this.beforeRow = undefined;
  }

  endStatement(): void {
    this.abandonInList();
    if (this.beforeRow !== undefined) {
      this.out = this.beforeRow + (this.rowComma ? ',' : '') + this.out;
      this.beforeRow = undefined;
    }
    this.releaseComma();
    if (this.started) this.semicolon = true;
  }
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

/** `"a""b"` under ANSI_QUOTES names what `` `a"b` `` names. */
function ansiToBackticks(quoted: string): string {
  const body = quoted.endsWith('"') && quoted.length > 1 ? quoted.slice(1, -1) : quoted.slice(1);
  return `\`${body.replaceAll('""', '"').replaceAll('`', '``')}\``;
}
