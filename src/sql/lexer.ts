/**
 * A single-pass tokenizer for MySQL and MariaDB SQL, as their servers lex it.
 * https://dev.mysql.com/doc/refman/8.0/en/lexical-structure.html
 * https://mariadb.com/kb/en/comment-syntax/
 *
 * Comments are skipped, except executable comments (`/*! ... *\/`, `/*!50100 ... *\/`,
 * MariaDB's `/*M! ... *\/`), whose content is code to the server and so to us. The lexer is
 * a cursor that allocates nothing per token (the fingerprint walks it on every statement);
 * `tokenize` builds token objects for the slower classification of a cache miss. It never
 * throws: whatever the input, each step consumes at least one character.
 */

/** What a token is. Numeric so that the hot path compares small integers. */
export const TokenType = {
  /** No more tokens. */
  End: 0,
  /** Keyword or unquoted identifier: letters, digits, `_`, `$`, characters above U+007F. */
  Word: 1,
  /** `` `name` ``, or `"name"` under sql_mode ANSI_QUOTES. */
  QuotedName: 2,
  /** `'...'`, `"..."`, with an optional `N`/`_charset` introducer. */
  String: 3,
  /** Decimal, float, `0x..`, `0b..`, `X'..'`, `B'..'`. */
  Number: 4,
  /** `?` */
  Placeholder: 5,
  /** `@name`, `@'name'`, `` @`name` `` */
  UserVariable: 6,
  /** `@@name`, `@@session.name`, `@@global.name` */
  SystemVariable: 7,
  /** Punctuation and operators: `(`, `,`, `.`, `=`, `:=`, `<=>`, `->>`, ... */
  Operator: 8,
  /** `;`: ends a statement. */
  Semicolon: 9,
} as const;
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

/** sql_mode flags that change how text splits into tokens. */
export interface LexOptions {
  /** sql_mode ANSI_QUOTES: `"..."` quotes a name, not a string. */
  readonly ansiQuotes?: boolean;
  /** sql_mode NO_BACKSLASH_ESCAPES: `\` is an ordinary character in strings. */
  readonly noBackslashEscapes?: boolean;
}

const CH = {
  TAB: 0x09,
  LF: 0x0a,
  SPACE: 0x20,
  BANG: 0x21,
  DQUOTE: 0x22,
  HASH: 0x23,
  DOLLAR: 0x24,
  QUOTE: 0x27,
  STAR: 0x2a,
  PLUS: 0x2b,
  MINUS: 0x2d,
  DOT: 0x2e,
  SLASH: 0x2f,
  ZERO: 0x30,
  NINE: 0x39,
  SEMICOLON: 0x3b,
  QUESTION: 0x3f,
  AT: 0x40,
  M: 0x4d,
  BACKSLASH: 0x5c,
  UNDERSCORE: 0x5f,
  BACKTICK: 0x60,
} as const;

function isDigit(c: number): boolean {
  return c >= CH.ZERO && c <= CH.NINE;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** ASCII characters that may appear in an unquoted identifier: letters, digits, `_`, `$`. */
const WORD_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  WORD_CHARS[c] = /[A-Za-z0-9_$]/.test(String.fromCharCode(c)) ? 1 : 0;
}

/** A character that may appear in an unquoted identifier (characters above U+007F included). */
export function isWordChar(c: number): boolean {
  return c < 0x80 ? WORD_CHARS[c] === 1 : c >= 0x80; // NaN, past the end, is neither
}

function isSpace(c: number): boolean {
  return c === CH.SPACE || (c >= CH.TAB && c <= 0x0d);
}

/** Length of the operator at `p`: `<=>` and `->>`, then `<=`, `>=`, `<>`, `!=`, `:=`, `||`, `&&`, `<<`, `>>`, `->`. */
function operatorLength(sql: string, p: number, c: number): number {
  const c1 = sql.charCodeAt(p + 1);
  switch (c) {
    case 0x3c: // <
      if (c1 === 0x3d) return sql.charCodeAt(p + 2) === 0x3e ? 3 : 2;
      return c1 === 0x3e || c1 === 0x3c ? 2 : 1;
    case 0x3e: // >
      return c1 === 0x3d || c1 === 0x3e ? 2 : 1;
    case 0x2d: // -
      if (c1 === 0x3e) return sql.charCodeAt(p + 2) === 0x3e ? 3 : 2;
      return 1;
    case 0x21: // !
    case 0x3a: // :
      return c1 === 0x3d ? 2 : 1;
    case 0x7c: // |
    case 0x26: // &
      return c1 === c ? 2 : 1;
    default:
      return 1;
  }
}

export class Lexer {
  /** Type of the current token. */
  type: TokenType = TokenType.End;
  /** Offset of the current token's first character. */
  start = 0;
  /** Offset just past the current token. */
  end = 0;
  /** Set once a string, quoted name or comment runs to the end of the input unclosed. */
  unterminated = false;
  private pos = 0;
  private inExecutableComment = false;
  private readonly ansiQuotes: boolean;
  private readonly backslashEscapes: boolean;

  constructor(
    readonly sql: string,
    options: LexOptions = {},
  ) {
    this.ansiQuotes = options.ansiQuotes === true;
    this.backslashEscapes = options.noBackslashEscapes !== true;
  }

  /** Text of the current token. */
  text(): string {
    return this.sql.slice(this.start, this.end);
  }

  /** Moves to the next token and returns its type. */
  next(): TokenType {
    this.skipTrivia();
    const sql = this.sql;
    const start = this.pos;
    this.start = start;
    if (start >= sql.length) {
      this.end = start;
      this.type = TokenType.End;
      return TokenType.End;
    }
    const c = sql.charCodeAt(start);
    const c1 = sql.charCodeAt(start + 1);
    let type: TokenType;
    if (c === CH.QUOTE) {
      type = TokenType.String;
      this.pos = this.skipQuoted(start + 1, CH.QUOTE, this.backslashEscapes);
    } else if (c === CH.DQUOTE) {
      type = this.ansiQuotes ? TokenType.QuotedName : TokenType.String;
      this.pos = this.skipQuoted(start + 1, CH.DQUOTE, !this.ansiQuotes && this.backslashEscapes);
    } else if (c === CH.BACKTICK) {
      type = TokenType.QuotedName;
      this.pos = this.skipQuoted(start + 1, CH.BACKTICK, false);
    } else if (isDigit(c)) {
      type = this.scanNumberOrWord(start);
    } else if (c === CH.DOT && isDigit(c1) && !this.endsOperand()) {
      type = TokenType.Number;
      this.pos = this.scanDecimal(start);
    } else if (isWordChar(c)) {
      type = this.scanWordOrPrefixedLiteral(start, c, c1);
    } else if (c === CH.QUESTION) {
      type = TokenType.Placeholder;
      this.pos = start + 1;
    } else if (c === CH.SEMICOLON) {
      type = TokenType.Semicolon;
      this.pos = start + 1;
    } else if (c === CH.AT) {
      type = this.scanVariable(start, c1);
    } else {
      type = TokenType.Operator;
      this.pos = start + operatorLength(sql, start, c);
    }
    this.end = this.pos;
    this.type = type;
    return type;
  }

  /**
   * `.5` after a name or `)` is member access, `t.5col`; elsewhere it is a number. Called
   * before `type` and `end` move on, so they are still the previous token's.
   */
  private endsOperand(): boolean {
    const prev = this.type;
    return (
      prev === TokenType.Word ||
      prev === TokenType.QuotedName ||
      (this.end > 0 && this.sql.charCodeAt(this.end - 1) === 0x29)
    );
  }

  private skipTrivia(): void {
    const sql = this.sql;
    const n = sql.length;
    let p = this.pos;
    while (p < n) {
      const c = sql.charCodeAt(p);
      if (isSpace(c)) {
        p++;
      } else if (c === CH.HASH) {
        p = this.skipLine(p);
      } else if (c === CH.MINUS && sql.charCodeAt(p + 1) === CH.MINUS) {
        // `--` opens a comment only when followed by a space or control character (or the end).
        const c2 = sql.charCodeAt(p + 2);
        if (p + 2 < n && c2 > CH.SPACE) break;
        p = this.skipLine(p);
      } else if (c === CH.SLASH && sql.charCodeAt(p + 1) === CH.STAR) {
        const c2 = sql.charCodeAt(p + 2);
        if (c2 === CH.BANG) {
          p = this.skipVersion(p + 3);
          this.inExecutableComment = true;
        } else if (c2 === CH.M && sql.charCodeAt(p + 3) === CH.BANG) {
          p = this.skipVersion(p + 4);
          this.inExecutableComment = true;
        } else {
          const close = sql.indexOf('*/', p + 2);
          if (close < 0) {
            this.unterminated = true;
            p = n;
          } else {
            p = close + 2;
          }
        }
      } else if (c === CH.STAR && this.inExecutableComment && sql.charCodeAt(p + 1) === CH.SLASH) {
        p += 2;
        this.inExecutableComment = false;
      } else {
        break;
      }
    }
    this.pos = p;
  }

  private skipLine(p: number): number {
    const nl = this.sql.indexOf('\n', p);
    return nl < 0 ? this.sql.length : nl + 1;
  }

  /** The server version after `/*!`: MySQL writes five digits, MariaDB five or six. */
  private skipVersion(p: number): number {
    let q = p;
    while (q < p + 6 && isDigit(this.sql.charCodeAt(q))) q++;
    return q - p === 5 || q - p === 6 ? q : p;
  }

  /** Offset past the closing quote; doubled quotes and (optionally) backslashes escape. */
  private skipQuoted(p: number, quote: number, backslash: boolean): number {
    const sql = this.sql;
    const n = sql.length;
    while (p < n) {
      const c = sql.charCodeAt(p);
      if (c === quote) {
        if (sql.charCodeAt(p + 1) === quote) {
          p += 2;
          continue;
        }
        return p + 1;
      }
      p += backslash && c === CH.BACKSLASH ? 2 : 1;
    }
    this.unterminated = true;
    return n;
  }

  private scanDecimal(p: number): number {
    const sql = this.sql;
    while (isDigit(sql.charCodeAt(p))) p++;
    if (sql.charCodeAt(p) === CH.DOT) {
      p++;
      while (isDigit(sql.charCodeAt(p))) p++;
    }
    const e = sql.charCodeAt(p) | 0x20;
    if (e === 0x65) {
      const s = sql.charCodeAt(p + 1);
      const q = s === CH.PLUS || s === CH.MINUS ? p + 2 : p + 1;
      if (isDigit(sql.charCodeAt(q))) {
        p = q;
        while (isDigit(sql.charCodeAt(p))) p++;
      }
    }
    return p;
  }

  /** `123`, `1.5e3`, `0x1F`, `0b101`; `1abc` and `0xyz` are identifiers, as on the server. */
  private scanNumberOrWord(start: number): TokenType {
    const sql = this.sql;
    const c1 = sql.charCodeAt(start + 1) | 0x20;
    if (sql.charCodeAt(start) === CH.ZERO && (c1 === 0x78 || c1 === 0x62)) {
      let p = start + 2;
      const digit = c1 === 0x78 ? isHexDigit : (c: number) => c === 0x30 || c === 0x31;
      while (digit(sql.charCodeAt(p))) p++;
      if (p > start + 2 && !isWordChar(sql.charCodeAt(p))) {
        this.pos = p;
        return TokenType.Number;
      }
    }
    const p = this.scanDecimal(start);
    if (isWordChar(sql.charCodeAt(p))) {
      this.pos = this.scanWord(p);
      return TokenType.Word;
    }
    this.pos = p;
    return TokenType.Number;
  }

  private scanWord(p: number): number {
    const sql = this.sql;
    // Past the end charCodeAt gives NaN, which is no word character.
    while (isWordChar(sql.charCodeAt(p))) p++;
    return p;
  }

  /** A word, or a literal with a prefix: `X'0F'`, `B'01'`, `N'text'`, `_utf8mb4'text'`. */
  private scanWordOrPrefixedLiteral(start: number, c: number, c1: number): TokenType {
    const lc = c | 0x20;
    if (c1 === CH.QUOTE && (lc === 0x78 || lc === 0x62)) {
      this.pos = this.skipQuoted(start + 2, CH.QUOTE, false);
      return TokenType.Number;
    }
    if (c1 === CH.QUOTE && lc === 0x6e) {
      this.pos = this.skipQuoted(start + 2, CH.QUOTE, this.backslashEscapes);
      return TokenType.String;
    }
    const end = this.scanWord(start);
    if (c === CH.UNDERSCORE && this.sql.charCodeAt(end) === CH.QUOTE) {
      this.pos = this.skipQuoted(end + 1, CH.QUOTE, this.backslashEscapes);
      return TokenType.String;
    }
    this.pos = end;
    return TokenType.Word;
  }

  private scanVariable(start: number, c1: number): TokenType {
    const sql = this.sql;
    if (c1 === CH.AT) {
      let p = start + 2;
      while (p < sql.length && (isWordChar(sql.charCodeAt(p)) || sql.charCodeAt(p) === CH.DOT)) p++;
      this.pos = p;
      return TokenType.SystemVariable;
    }
    if (c1 === CH.QUOTE || c1 === CH.DQUOTE || c1 === CH.BACKTICK) {
      this.pos = this.skipQuoted(start + 2, c1, c1 !== CH.BACKTICK && this.backslashEscapes);
      return TokenType.UserVariable;
    }
    let p = start + 1;
    while (p < sql.length && (isWordChar(sql.charCodeAt(p)) || sql.charCodeAt(p) === CH.DOT)) p++;
    this.pos = p;
    return p > start + 1 ? TokenType.UserVariable : TokenType.Operator;
  }
}

/** A token with its text, for the classification of a statement not seen before. */
export interface Token {
  readonly type: TokenType;
  readonly start: number;
  readonly end: number;
  readonly text: string;
  /** Lower-cased text of a Word; '' for other tokens. */
  readonly lower: string;
}

export interface Tokens {
  readonly tokens: readonly Token[];
  /** A string, quoted name or comment was left open at the end of the input. */
  readonly unterminated: boolean;
}

export function tokenize(sql: string, options?: LexOptions): Tokens {
  const lexer = new Lexer(sql, options);
  const tokens: Token[] = [];
  for (let type = lexer.next(); type !== TokenType.End; type = lexer.next()) {
    const text = lexer.text();
    tokens.push({
      type,
      start: lexer.start,
      end: lexer.end,
      text,
      lower: type === TokenType.Word ? text.toLowerCase() : '',
    });
  }
  return { tokens, unterminated: lexer.unterminated };
}

/** The name a Word or QuotedName token stands for: quotes removed, doubled quotes undone. */
export function nameOf(token: Token): string {
  if (token.type !== TokenType.QuotedName) return token.text;
  const quote = token.text[0] ?? '`';
  const closed = token.text.length > 1 && token.text.endsWith(quote);
  const body = token.text.slice(1, closed ? -1 : undefined);
  return body.replaceAll(quote + quote, quote);
}
