import { describe, expect, it } from 'vitest';
import { type LexOptions, nameOf, TokenType, tokenize } from '../../src/sql/lexer.js';

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(TokenType).map(([k, v]) => [v, k]));

/** `Type:text` for each token. */
function lex(sql: string, options?: LexOptions): string[] {
  return tokenize(sql, options).tokens.map((t) => `${NAMES[t.type]}:${t.text}`);
}

describe('the lexer', () => {
  it('splits words, quoted names, numbers, placeholders and operators', () => {
    expect(lex('SELECT `a b`.c, 1.5e3, ? FROM t WHERE x<=>y')).toEqual([
      'Word:SELECT',
      'QuotedName:`a b`',
      'Operator:.',
      'Word:c',
      'Operator:,',
      'Number:1.5e3',
      'Operator:,',
      'Placeholder:?',
      'Word:FROM',
      'Word:t',
      'Word:WHERE',
      'Word:x',
      'Operator:<=>',
      'Word:y',
    ]);
  });

  it('reads strings with backslash escapes and doubled quotes as one token each', () => {
    expect(lex(`'it\\'s' "say ""hi""" 'a''b'`)).toEqual([
      `String:'it\\'s'`,
      'String:"say ""hi"""',
      "String:'a''b'",
    ]);
  });

  it('reads hex, bit and prefixed literals', () => {
    expect(lex("0x1F X'0f' b'01' 0b11 N'x' _utf8mb4'y'")).toEqual([
      'Number:0x1F',
      "Number:X'0f'",
      "Number:b'01'",
      'Number:0b11',
      "String:N'x'",
      "String:_utf8mb4'y'",
    ]);
  });

  it('reads identifiers that begin with digits as words, as the server does', () => {
    expect(lex('1abc 0xyz 12')).toEqual(['Word:1abc', 'Word:0xyz', 'Number:12']);
  });

  it('reads user and system variables', () => {
    expect(lex("@x @`a b` @'c' @@session.sql_mode @@autocommit")).toEqual([
      'UserVariable:@x',
      'UserVariable:@`a b`',
      "UserVariable:@'c'",
      'SystemVariable:@@session.sql_mode',
      'SystemVariable:@@autocommit',
    ]);
  });

  it('skips -- , # and /* */ comments', () => {
    expect(lex('SELECT -- one\n 1 # two\n /* three */ + 2')).toEqual([
      'Word:SELECT',
      'Number:1',
      'Operator:+',
      'Number:2',
    ]);
  });

  it('reads --x as two minuses, since a comment needs a space after --', () => {
    expect(lex('1--2')).toEqual(['Number:1', 'Operator:-', 'Operator:-', 'Number:2']);
  });

  it('lexes the content of /*! */, /*!50100 */ and /*M! */ as code', () => {
    expect(lex('/*!40101 SET x=1 */ /*! STRAIGHT_JOIN */ /*M!100100 y */ /*+ hint */')).toEqual([
      'Word:SET',
      'Word:x',
      'Operator:=',
      'Number:1',
      'Word:STRAIGHT_JOIN',
      'Word:y',
    ]);
  });

  it('ends an executable comment at its first */ even after an inner comment', () => {
    expect(lex('/*!40000 a /* b */ c */ d')).toEqual(['Word:a', 'Word:c', 'Word:d']);
  });

  it('reads a semicolon inside a string or comment as text', () => {
    const tokens = lex("SELECT ';' /* ; */ -- ;\n ; SELECT 2");
    expect(tokens.filter((t) => t === 'Semicolon:;')).toHaveLength(1);
  });

  it('reads "..." as a name under ANSI_QUOTES', () => {
    expect(lex('"a""b"', { ansiQuotes: true })).toEqual(['QuotedName:"a""b"']);
    expect(nameOf(tokenize('"a""b"', { ansiQuotes: true }).tokens[0]!)).toBe('a"b');
  });

  it('ends a string at its first quote under NO_BACKSLASH_ESCAPES', () => {
    expect(lex("'a\\'; DELETE FROM t", { noBackslashEscapes: true })).toEqual([
      "String:'a\\'",
      'Semicolon:;',
      'Word:DELETE',
      'Word:FROM',
      'Word:t',
    ]);
  });

  it('reports a string left open at the end', () => {
    const result = tokenize("SELECT 'abc");
    expect(result.unterminated).toBe(true);
    expect(result.tokens.at(-1)?.type).toBe(TokenType.String);
  });

  it('undoes doubled backticks in a name', () => {
    expect(nameOf(tokenize('`we``ird`').tokens[0]!)).toBe('we`ird');
  });

  it('reads .5 as a number but t.5 as member access', () => {
    expect(lex('.5 t.c')).toEqual(['Number:.5', 'Word:t', 'Operator:.', 'Word:c']);
  });
});
