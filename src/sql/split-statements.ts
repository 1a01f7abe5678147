import { type Token, TokenType } from './lexer.js';

/** Tokens `[from, to)` of one statement of a multi-statement text, without its `;`. */
export interface StatementRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Splits a token stream where the server would: at each `;`, except inside the body of a
 * stored program (`CREATE PROCEDURE ... BEGIN ...; ... END`) or of a MariaDB compound
 * statement (`BEGIN NOT ATOMIC ... END`, `IF ... END IF`), which the server reads as one
 * statement. Strings and comments never split, since the lexer has already consumed them.
 * Empty statements (`;;`) are dropped.
 */
export function splitStatements(tokens: readonly Token[]): StatementRange[] {
  const ranges: StatementRange[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (tokens[i]?.type === TokenType.Semicolon) {
      i++;
      continue;
    }
    const from = i;
    i = isCompound(tokens, from) ? endOfCompound(tokens, from) : endOfSimple(tokens, from);
    ranges.push({ from, to: i });
  }
  return ranges;
}

function endOfSimple(tokens: readonly Token[], i: number): number {
  while (i < tokens.length && tokens[i]?.type !== TokenType.Semicolon) i++;
  return i;
}

const PROGRAM_OBJECTS = new Set(['procedure', 'function', 'trigger', 'event', 'package']);
const OTHER_OBJECTS = new Set([
  'table',
  'temporary',
  'view',
  'index',
  'unique',
  'fulltext',
  'spatial',
  'database',
  'schema',
  'user',
  'role',
  'sequence',
  'server',
  'tablespace',
  'logfile',
]);
/** Statements that open a block when they begin a statement (MariaDB runs them outside programs too). */
const BLOCK_STATEMENTS = new Set(['if', 'loop', 'while', 'repeat', 'for', 'case']);

function isCompound(tokens: readonly Token[], from: number): boolean {
  const first = tokens[from];
  if (first === undefined) return false;
  if (first.lower === 'create' || first.lower === 'alter') {
    for (let i = from + 1; i < tokens.length && i < from + 16; i++) {
      const lower = tokens[i]?.lower ?? '';
      if (PROGRAM_OBJECTS.has(lower)) return true;
      if (OTHER_OBJECTS.has(lower) || tokens[i]?.type === TokenType.Semicolon) return false;
    }
    return false;
  }
  if (first.lower === 'begin') return tokens[from + 1]?.lower === 'not';
  if (BLOCK_STATEMENTS.has(first.lower)) return true;
  // `label: BEGIN ... END label`
  return first.type === TokenType.Word && tokens[from + 1]?.text === ':';
}

type Block = 'begin' | 'case-statement' | 'case-expression' | 'loop';

/** Past the `END` that closes the program's outermost block, then on to the next `;`. */
function endOfCompound(tokens: readonly Token[], from: number): number {
  const blocks: Block[] = [];
  let atStatementStart = true;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined) break;
    if (t.type === TokenType.Semicolon) {
      if (blocks.length === 0) return i;
      atStatementStart = true;
      continue;
    }
    const startsStatement = atStatementStart;
    atStatementStart = false;
    if (t.type === TokenType.Operator) {
      // `label:` precedes a statement.
      if (t.text === ':' && tokens[i - 1]?.type === TokenType.Word) atStatementStart = true;
      continue;
    }
    if (t.type !== TokenType.Word) continue;
    const top = blocks[blocks.length - 1];
    switch (t.lower) {
      case 'begin':
        blocks.push('begin');
        atStatementStart = tokens[i + 1]?.lower !== 'not';
        break;
      case 'atomic':
        atStatementStart = tokens[i - 1]?.lower === 'not';
        break;
      case 'case':
        blocks.push(startsStatement ? 'case-statement' : 'case-expression');
        break;
      case 'end': {
        blocks.pop();
        const next = tokens[i + 1]?.lower ?? '';
        if (BLOCK_STATEMENTS.has(next)) i++;
        break;
      }
      case 'then':
      case 'else':
        atStatementStart = top !== 'case-expression';
        break;
      case 'do':
        atStatementStart = true;
        break;
      default:
        if (startsStatement && BLOCK_STATEMENTS.has(t.lower)) {
          blocks.push('loop');
          atStatementStart = t.lower === 'loop' || t.lower === 'repeat';
        }
    }
  }
  return tokens.length;
}
