import { TokenType, tokenize } from './lexer.js';

/**
 * UUID() and UUID_SHORT() cannot be pinned by a session setting, as NOW() and RAND() can;
 * where each call is evaluated once (INSERT/REPLACE ... VALUES), the statement can carry the
 * primary's values as literals instead. Calls are found with the lexer, so a `uuid()` inside a
 * string or comment is left alone.
 */
export interface UuidCall {
  readonly fn: 'UUID' | 'UUID_SHORT';
  readonly start: number;
  readonly end: number;
}

export function findUuidCalls(sql: string): UuidCall[] {
  const { tokens } = tokenize(sql);
  const calls: UuidCall[] = [];
  for (let i = 0; i + 2 < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.type !== TokenType.Word || (t.lower !== 'uuid' && t.lower !== 'uuid_short')) continue;
    const open = tokens[i + 1]!;
    const close = tokens[i + 2]!;
    if (open.text !== '(' || close.text !== ')' || open.start !== t.end) continue;
    calls.push({ fn: t.lower === 'uuid' ? 'UUID' : 'UUID_SHORT', start: t.start, end: close.end });
  }
  return calls;
}

/** The statement with each call replaced by its value (strings quoted, numbers as they are). */
export function replaceUuidCalls(sql: string, calls: readonly UuidCall[], values: readonly string[]): string {
  let out = '';
  let at = 0;
  calls.forEach((call, i) => {
    const value = values[i]!;
    out += sql.slice(at, call.start) + (call.fn === 'UUID' ? `'${value.replace(/'/g, "''")}'` : value);
    at = call.end;
  });
  return out + sql.slice(at);
}
