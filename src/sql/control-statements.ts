import type {
  SessionChange,
  TableRef,
  TransactionAction,
  TransactionControl,
  VariableAssignment,
  VariableScope,
} from './classification.js';
import { type Draft, draft, unknownStatement } from './draft.js';
import { nameOf, type Token, TokenType } from './lexer.js';
import { isNameToken, isOp, isWord, readQualifiedName, skipParens, wordsAt } from './token-reader.js';

/**
 * Statements that change the transaction or the session, read from their keywords alone:
 * the first tier, no parser.
 * https://mariadb.com/kb/en/transactions/ https://mariadb.com/kb/en/set/
 */

function control(action: TransactionAction, more: Partial<TransactionControl> = {}): TransactionControl {
  return { action, readOnly: false, consistentSnapshot: false, chain: false, release: false, ...more };
}

/** BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE SAVEPOINT, XA. */
export function transactionStatement(tokens: readonly Token[]): Draft {
  const first = tokens[0]?.lower ?? '';
  switch (first) {
    case 'begin':
    case 'start': {
      const readOnly = tokens.some((t, i) => t.lower === 'read' && tokens[i + 1]?.lower === 'only');
      const consistentSnapshot = tokens.some((t) => t.lower === 'snapshot');
      // BEGIN and START TRANSACTION commit the transaction that is open.
      return draft('transaction', first === 'begin' ? 'BEGIN' : 'START TRANSACTION', {
        transaction: control('begin', { readOnly, consistentSnapshot }),
        implicitCommit: true,
      });
    }
    case 'commit':
    case 'rollback': {
      const to = tokens.findIndex((t) => t.lower === 'to');
      if (first === 'rollback' && to > 0) {
        const name = tokens[isWord(tokens[to + 1], 'savepoint') ? to + 2 : to + 1];
        return draft('transaction', 'ROLLBACK TO SAVEPOINT', {
          transaction: control('rollback-to-savepoint'),
          ...(name === undefined ? {} : { name: { name: nameOf(name) } }),
        });
      }
      const chain = tokens.some((t, i) => t.lower === 'chain' && tokens[i - 1]?.lower !== 'no');
      const release = tokens.some((t, i) => t.lower === 'release' && tokens[i - 1]?.lower !== 'no');
      return draft('transaction', first.toUpperCase(), { transaction: control(first, { chain, release }) });
    }
    case 'savepoint':
    case 'release': {
      const name = tokens[first === 'savepoint' ? 1 : 2];
      return draft('transaction', first === 'savepoint' ? 'SAVEPOINT' : 'RELEASE SAVEPOINT', {
        transaction: control(first === 'savepoint' ? 'savepoint' : 'release-savepoint'),
        ...(name === undefined ? {} : { name: { name: nameOf(name) } }),
      });
    }
    case 'xa': {
      const word = tokens[1]?.lower === 'begin' ? 'start' : (tokens[1]?.lower ?? '');
      const action = XA_ACTIONS[word];
      if (action === undefined) return unknownStatement('XA');
      return draft('transaction', `XA ${word.toUpperCase()}`, { transaction: control(action) });
    }
    default:
      return unknownStatement(first.toUpperCase());
  }
}

const XA_ACTIONS: Readonly<Record<string, TransactionAction>> = {
  start: 'xa-start',
  end: 'xa-end',
  prepare: 'xa-prepare',
  commit: 'xa-commit',
  rollback: 'xa-rollback',
  recover: 'xa-recover',
};

function session(
  verb: string,
  change: Partial<SessionChange> & Pick<SessionChange, 'action'>,
  more: Partial<Draft> = {},
): Draft {
  return draft('session', verb, { session: { variables: [], ...change }, ...more });
}

/** SET in its forms: variables, NAMES, CHARACTER SET, TRANSACTION, ROLE, PASSWORD. */
export function setStatement(tokens: readonly Token[]): Draft {
  const second = tokens[1]?.lower ?? '';
  if (second === 'password' || wordsAt(tokens, 1, 'default', 'role')) {
    return draft('other', second === 'password' ? 'SET PASSWORD' : 'SET DEFAULT ROLE', {
      implicitCommit: true,
    });
  }
  if (second === 'role') return session('SET ROLE', { action: 'set-role' });
  if (second === 'transaction' || (SCOPES[second] !== undefined && tokens[2]?.lower === 'transaction')) {
    return session('SET TRANSACTION', { action: 'set-transaction' });
  }
  const variables: VariableAssignment[] = [];
  let action: SessionChange['action'] = 'set';
  let autocommit: boolean | undefined;
  let i = 1;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    if (
      t.lower === 'names' ||
      t.lower === 'charset' ||
      (t.lower === 'character' && tokens[i + 1]?.lower === 'set')
    ) {
      if (i === 1) action = t.lower === 'names' ? 'set-names' : 'set-character-set';
    } else {
      const target = assignmentTarget(tokens, i);
      if (target === undefined) return unknownStatement('SET');
      variables.push(target.variable);
      if (target.variable.name === 'autocommit' && target.variable.scope === 'session') {
        autocommit = booleanValue(tokens, target.next);
      }
    }
    i = nextItem(tokens, i);
  }
  const verb =
    action === 'set-names' ? 'SET NAMES' : action === 'set-character-set' ? 'SET CHARACTER SET' : 'SET';
  return session(
    verb,
    { action, variables, ...(autocommit === undefined ? {} : { autocommit }) },
    // SET autocommit = 1 commits an open transaction.
    { implicitCommit: autocommit === true },
  );
}

const SCOPES: Readonly<Record<string, VariableScope>> = {
  global: 'global',
  persist: 'global',
  persist_only: 'global',
  session: 'session',
  local: 'session',
};

/** `[GLOBAL|SESSION] name`, `@@[scope.]name` or `@name`, then `=` or `:=`. */
function assignmentTarget(
  tokens: readonly Token[],
  i: number,
): { variable: VariableAssignment; next: number } | undefined {
  let t = tokens[i];
  if (t === undefined) return undefined;
  let variable: VariableAssignment;
  if (t.type === TokenType.UserVariable) {
    variable = { scope: 'user', name: unquoteVariable(t.text.slice(1)) };
  } else if (t.type === TokenType.SystemVariable) {
    const full = t.text.slice(2).toLowerCase();
    const dot = full.indexOf('.');
    const scope = dot > 0 ? (SCOPES[full.slice(0, dot)] ?? 'session') : 'session';
    variable = { scope, name: dot > 0 && SCOPES[full.slice(0, dot)] ? full.slice(dot + 1) : full };
  } else {
    const scope = SCOPES[t.lower];
    if (scope !== undefined) t = tokens[++i];
    const name = readQualifiedName(tokens, i);
    if (name === undefined || t === undefined) return undefined;
    const full = name.schema === undefined ? name.name : `${name.schema}.${name.name}`;
    variable = { scope: scope ?? 'session', name: full.toLowerCase() };
    i = name.next - 1;
  }
  const op = tokens[i + 1];
  if (!isOp(op, '=') && !isOp(op, ':=')) return undefined;
  return { variable, next: i + 2 };
}

function unquoteVariable(name: string): string {
  const q = name[0];
  const quoted = (q === "'" || q === '"' || q === '`') && name.length > 1 && name.endsWith(q);
  return (quoted ? name.slice(1, -1).replaceAll(q + q, q) : name).toLowerCase();
}

/** 0, 1, ON, OFF, TRUE, FALSE, '0', '1', 'ON', 'OFF', as a lone value. */
function booleanValue(tokens: readonly Token[], i: number): boolean | undefined {
  const t = tokens[i];
  const after = tokens[i + 1];
  if (t === undefined || (after !== undefined && !isOp(after, ','))) return undefined;
  let text = t.type === TokenType.String ? t.text.slice(1, -1) : t.text;
  text = text.toLowerCase();
  if (text === '1' || text === 'on' || text === 'true') return true;
  if (text === '0' || text === 'off' || text === 'false') return false;
  return undefined;
}

/** Index after the next comma at depth 0 (SET's items are separated by commas). */
function nextItem(tokens: readonly Token[], i: number): number {
  while (i < tokens.length) {
    if (isOp(tokens[i], '(')) {
      i = skipParens(tokens, i);
      continue;
    }
    if (isOp(tokens[i], ',')) return i + 1;
    i++;
  }
  return i;
}

/** USE, LOCK TABLES, UNLOCK TABLES, PREPARE, DEALLOCATE PREPARE, EXECUTE. */
export function sessionStatement(tokens: readonly Token[]): Draft {
  const first = tokens[0]?.lower ?? '';
  const second = tokens[1];
  switch (first) {
    case 'use':
      if (!isNameToken(second)) return unknownStatement('USE');
      return session('USE', { action: 'use' }, { name: { name: nameOf(second) } });
    case 'lock':
      if (!isWord(second, 'tables', 'table')) return draft('other', 'LOCK');
      return session(
        'LOCK TABLES',
        { action: 'lock-tables' },
        { tables: lockedTables(tokens), implicitCommit: true },
      );
    case 'unlock':
      if (!isWord(second, 'tables', 'table')) return draft('other', 'UNLOCK');
      // Commits only when tables were locked; the session knows whether they were.
      return session('UNLOCK TABLES', { action: 'unlock-tables' }, { implicitCommit: true });
    case 'prepare':
      return session('PREPARE', { action: 'prepare' }, second ? { name: { name: nameOf(second) } } : {});
    case 'deallocate':
    case 'drop': {
      const name = tokens[2];
      return session(
        'DEALLOCATE PREPARE',
        { action: 'deallocate' },
        name ? { name: { name: nameOf(name) } } : {},
      );
    }
    case 'execute':
      // What EXECUTE runs is in its PREPARE, which the session saw; alone it counts as a write.
      return draft('write', 'EXECUTE', second ? { name: { name: nameOf(second) } } : {});
    default:
      return unknownStatement(first.toUpperCase());
  }
}

/** LOCK TABLES t [AS a] READ [LOCAL] | [LOW_PRIORITY] WRITE [CONCURRENT], ... */
function lockedTables(tokens: readonly Token[]): TableRef[] {
  const tables: TableRef[] = [];
  let i = 2;
  while (i < tokens.length) {
    const name = readQualifiedName(tokens, i);
    if (name === undefined) break;
    let j = name.next;
    let access: TableRef['access'] = 'read';
    while (j < tokens.length && !isOp(tokens[j], ',')) {
      if (isWord(tokens[j], 'write')) access = 'write';
      j++;
    }
    tables.push(
      name.schema === undefined
        ? { table: name.name, access }
        : { schema: name.schema, table: name.name, access },
    );
    i = j + 1;
  }
  return tables;
}
