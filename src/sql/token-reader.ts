import type { ObjectName } from './classification.js';
import { RESERVED_WORDS } from './keywords.js';
import { nameOf, type Token, TokenType } from './lexer.js';

/** Helpers over the tokens of one statement, for the classification of a cache miss. */

export function isOp(t: Token | undefined, op: string): boolean {
  return t !== undefined && t.type === TokenType.Operator && t.text === op;
}

export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.type === TokenType.Word && words.includes(t.lower);
}

/** Whether tokens from `i` are these words, in order. */
export function wordsAt(tokens: readonly Token[], i: number, ...words: string[]): boolean {
  for (let k = 0; k < words.length; k++) {
    if (tokens[i + k]?.lower !== words[k]) return false;
  }
  return true;
}

/** A token that can stand for a name: a quoted name, or a word that is not reserved. */
export function isNameToken(t: Token | undefined): t is Token {
  if (t === undefined) return false;
  return t.type === TokenType.QuotedName || (t.type === TokenType.Word && !RESERVED_WORDS.has(t.lower));
}

export interface QualifiedName extends ObjectName {
  /** Index of the token after the name. */
  readonly next: number;
}

/**
 * `name` or `schema.name` at `i`. After the dot any word is a name, reserved or not, as on
 * the server (`db.order`).
 */
export function readQualifiedName(tokens: readonly Token[], i: number): QualifiedName | undefined {
  const first = tokens[i];
  if (!isNameToken(first)) return undefined;
  const second = tokens[i + 2];
  if (isOp(tokens[i + 1], '.') && second !== undefined && isAnyName(second)) {
    return { schema: nameOf(first), name: nameOf(second), next: i + 3 };
  }
  return { name: nameOf(first), next: i + 1 };
}

function isAnyName(t: Token): boolean {
  return t.type === TokenType.Word || t.type === TokenType.QuotedName;
}

/** Index after the `)` that matches the `(` at `i` (or the end). */
export function skipParens(tokens: readonly Token[], i: number): number {
  let depth = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (isOp(t, '(')) depth++;
    else if (isOp(t, ')') && --depth <= 0) return i + 1;
  }
  return tokens.length;
}

/** Index of the first of `words` at parenthesis depth 0 from `i`, or -1. */
export function findWordAtTop(tokens: readonly Token[], i: number, ...words: string[]): number {
  let depth = 0;
  for (; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined) break;
    if (t.type === TokenType.Operator) {
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
    } else if (depth === 0 && t.type === TokenType.Word && words.includes(t.lower)) {
      return i;
    }
  }
  return -1;
}

/** Index past a user written as `name`, `'name'@'host'`, `CURRENT_USER` or `CURRENT_USER()`. */
export function skipUser(tokens: readonly Token[], i: number): number {
  if (isWord(tokens[i], 'current_user')) return isOp(tokens[i + 1], '(') ? skipParens(tokens, i + 1) : i + 1;
  i++;
  if (tokens[i]?.type === TokenType.UserVariable) i++;
  else if (isOp(tokens[i], '@')) i += 2;
  return i;
}
