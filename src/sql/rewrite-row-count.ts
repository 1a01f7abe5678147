import { type LexOptions, TokenType, tokenize } from './lexer.js';

/**
 * ROW_COUNT() reports the statement before it. After a write that tandem mirrored, that is
 * tandem's own COMMIT (of a wrapped autocommit write) or its LAST_INSERT_ID() probe, not the
 * app's write: the next statement carries the write's affected rows as a literal instead.
 * Calls are found with the lexer, so a `row_count()` inside a string or comment is left alone.
 *
 * Returns the statement with every ROW_COUNT() call replaced, or undefined when it has none.
 */
export function replaceRowCount(sql: string, value: bigint, options?: LexOptions): string | undefined {
  if (!/row_count/i.test(sql)) return undefined;
  const { tokens } = tokenize(sql, options);
  let out = '';
  let at = 0;
  for (let i = 0; i + 2 < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== TokenType.Word || t.lower !== 'row_count') continue;
    const open = tokens[i + 1]!;
    const close = tokens[i + 2]!;
    if (open.text !== '(' || close.text !== ')') continue;
    // A qualified name (`t.row_count`) is a column, not the function.
    if (i > 0 && tokens[i - 1]!.text === '.') continue;
    out += `${sql.slice(at, t.start)}(${value.toString()})`;
    at = close.end;
  }
  return at === 0 ? undefined : out + sql.slice(at);
}
