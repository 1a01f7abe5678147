import type { TableRef } from './classification.js';
import { nameOf, type Token, TokenType } from './lexer.js';
import {
  isNameToken,
  isOp,
  isWord,
  type QualifiedName,
  readQualifiedName,
  skipParens,
} from './token-reader.js';

/**
 * Tables of a DML statement, found in its tokens: the names after FROM (of a SELECT or a
 * DELETE), JOIN, UPDATE, INSERT/REPLACE INTO, DELETE's targets, with aliases, hints,
 * derived tables and CTE names told apart. It backs up node-sql-parser, which rejects much
 * of MariaDB's syntax; a FROM counts only where a SELECT or DELETE owns it, so that
 * `EXTRACT(YEAR FROM d)` names no table.
 */
export function scanTables(tokens: readonly Token[], verbIndex: number): TableRef[] {
  return new TableScan(tokens).run(verbIndex);
}

/** Lower-cased names that a WITH clause defines: not tables. */
export function cteNames(tokens: readonly Token[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(tokens[i], 'with')) continue;
    let j = isWord(tokens[i + 1], 'recursive') ? i + 2 : i + 1;
    for (;;) {
      const name = tokens[j];
      if (!isNameToken(name)) break;
      let k = j + 1;
      if (isOp(tokens[k], '(')) k = skipParens(tokens, k);
      if (!isWord(tokens[k], 'as') || !isOp(tokens[k + 1], '(')) break;
      names.add(nameOf(name).toLowerCase());
      k = skipParens(tokens, k + 1);
      if (!isOp(tokens[k], ',')) break;
      j = k + 1;
    }
  }
  return names;
}

/** Merges table lists: one entry per table, `write` winning over `read`. */
export function mergeTables(...lists: readonly (readonly TableRef[])[]): TableRef[] {
  const byKey = new Map<string, TableRef>();
  for (const list of lists) {
    for (const t of list) {
      const key = `${t.schema ?? ''}\u0000${t.table}`;
      const seen = byKey.get(key);
      if (seen === undefined || (seen.access === 'read' && t.access === 'write')) byKey.set(key, t);
    }
  }
  return [...byKey.values()];
}

type Mode = 'none' | 'ref' | 'after-ref' | 'condition';

interface Frame {
  mode: Mode;
  access: 'read' | 'write';
  /** A comma continues the list of table references (FROM a, b; UPDATE a, b). */
  list: boolean;
  /** A SELECT or DELETE owns this level, so its FROM lists tables. */
  owned: boolean;
}

const ENDS_TABLE_LIST = new Set([
  'where',
  'group',
  'having',
  'order',
  'limit',
  'union',
  'except',
  'intersect',
  'window',
  'set',
  'for',
  'lock',
  'into',
  'procedure',
  'returning',
  'values',
  'value',
  'select',
]);
const NOT_ALIASES = new Set(['returning', 'window', 'except', 'intersect', 'value', 'lateral']);
const JOINS = new Set(['join', 'straight_join']);

class TableScan {
  private readonly found: TableRef[] = [];
  private readonly aliases = new Map<string, { schema?: string; table: string }>();
  /** DELETE's targets, which may be aliases: resolved at the end. */
  private readonly targets: QualifiedName[] = [];
  private readonly stack: Frame[] = [{ mode: 'none', access: 'read', list: false, owned: false }];

  constructor(private readonly tokens: readonly Token[]) {}

  run(verbIndex: number): TableRef[] {
    const tokens = this.tokens;
    let i = 0;
    while (i < tokens.length) {
      i = i === verbIndex && tokens[i]?.type === TokenType.Word ? this.verb(i) : this.step(i);
    }
    for (const target of this.targets) {
      const alias = target.schema === undefined ? this.aliases.get(target.name.toLowerCase()) : undefined;
      this.found.push({ ...(alias ?? tableOf(target)), access: 'write' });
    }
    const ctes = cteNames(tokens);
    return mergeTables(this.found.filter((t) => t.schema !== undefined || !ctes.has(t.table.toLowerCase())));
  }

  private get frame(): Frame {
    return this.stack[this.stack.length - 1] as Frame;
  }

  /** The statement's own verb: where its target tables are. */
  private verb(i: number): number {
    const tokens = this.tokens;
    const verb = tokens[i]?.lower;
    const f = this.frame;
    i++;
    while (isWord(tokens[i], 'low_priority', 'delayed', 'high_priority', 'quick', 'ignore')) i++;
    if (verb === 'update') {
      Object.assign(f, { mode: 'ref', access: 'write', list: true });
    } else if (verb === 'insert' || verb === 'replace') {
      if (isWord(tokens[i], 'into')) i++;
      Object.assign(f, { mode: 'ref', access: 'write', list: false });
    } else if (verb === 'delete') {
      f.owned = true;
      if (isWord(tokens[i], 'from')) {
        Object.assign(f, { mode: 'ref', access: 'write', list: true });
        return i + 1;
      }
      // DELETE t1, t2.* FROM ...: the targets come first.
      for (;;) {
        const name = readQualifiedName(tokens, i);
        if (name === undefined) break;
        this.targets.push(name);
        i = name.next;
        if (isOp(tokens[i], '.') && isOp(tokens[i + 1], '*')) i += 2;
        if (!isOp(tokens[i], ',')) break;
        i++;
      }
    } else if (verb === 'select') {
      f.owned = true;
    } else if (verb === 'table') {
      Object.assign(f, { mode: 'ref', access: 'read', list: false });
    }
    return i;
  }

  private step(i: number): number {
    const tokens = this.tokens;
    const t = tokens[i] as Token;
    const f = this.frame;
    if (t.type === TokenType.Operator) {
      if (t.text === '(') {
        const next = tokens[i + 1];
        if (f.mode === 'ref' && !isWord(next, 'select', 'with', 'values', 'table')) {
          // (t1 JOIN t2): references nested in parentheses.
          f.mode = 'after-ref';
          this.stack.push({ mode: 'ref', access: f.access, list: true, owned: false });
        } else {
          if (f.mode === 'ref') f.mode = 'after-ref';
          this.stack.push({ mode: 'none', access: 'read', list: false, owned: false });
        }
      } else if (t.text === ')') {
        if (this.stack.length > 1) this.stack.pop();
      } else if (t.text === ',' && f.list && (f.mode === 'after-ref' || f.mode === 'condition')) {
        f.mode = 'ref';
      }
      return i + 1;
    }
    if (f.mode === 'ref' && isNameToken(t)) return this.reference(i, f);
    if (t.type !== TokenType.Word) return i + 1;
    const w = t.lower;
    if (w === 'select') {
      f.owned = true;
      f.mode = 'none';
    } else if (w === 'from' && f.owned) {
      Object.assign(f, { mode: 'ref', access: 'read', list: true });
    } else if (w === 'using' && f.owned && f.access === 'write' && f.list) {
      // DELETE FROM t1, t2 USING ...: what FROM listed are targets, perhaps aliases.
      this.retarget();
      Object.assign(f, { mode: 'ref', access: 'read' });
    } else if (JOINS.has(w)) {
      if (f.mode === 'none') f.access = 'read';
      f.mode = 'ref';
      f.list = true;
    } else if ((w === 'on' || w === 'using') && f.mode === 'after-ref') {
      f.mode = 'condition';
    } else if (f.mode === 'after-ref' && isWord(tokens[i + 1], 'index', 'key') && HINTS.has(w)) {
      return skipHint(tokens, i);
    } else if (f.mode === 'after-ref' && w === 'partition' && isOp(tokens[i + 1], '(')) {
      return skipParens(tokens, i + 1);
    } else if (f.mode !== 'none' && ENDS_TABLE_LIST.has(w) && !isWord(tokens[i + 1], 'system_time')) {
      f.mode = 'none';
    } else if (f.mode === 'ref') {
      f.mode = 'none';
    }
    return i + 1;
  }

  /** A table reference: name, then PARTITION (...), [AS] alias. */
  private reference(i: number, f: Frame): number {
    const tokens = this.tokens;
    const name = readQualifiedName(tokens, i) as QualifiedName;
    let j = name.next;
    // A name followed by `(` is a table function (JSON_TABLE(...)), except INSERT's target columns.
    if (isOp(tokens[j], '(') && f.list) {
      f.mode = 'after-ref';
      return j;
    }
    const isDual = name.schema === undefined && name.name.toLowerCase() === 'dual';
    if (!isDual) this.found.push({ ...tableOf(name), access: f.access });
    if (isWord(tokens[j], 'partition') && isOp(tokens[j + 1], '(')) j = skipParens(tokens, j + 1);
    if (isWord(tokens[j], 'as')) j++;
    const alias = tokens[j];
    if (isNameToken(alias) && !NOT_ALIASES.has(alias.lower) && f.list) {
      this.aliases.set(nameOf(alias).toLowerCase(), tableOf(name));
      j++;
    }
    f.mode = f.list ? 'after-ref' : 'none';
    return j;
  }

  private retarget(): void {
    for (let k = this.found.length - 1; k >= 0; k--) {
      const t = this.found[k] as TableRef;
      if (t.access !== 'write') break;
      this.found.splice(k, 1);
      this.targets.push({ ...(t.schema === undefined ? {} : { schema: t.schema }), name: t.table, next: 0 });
    }
  }
}

const HINTS = new Set(['use', 'ignore', 'force']);

/** USE|IGNORE|FORCE INDEX|KEY [FOR JOIN|ORDER BY|GROUP BY] (...) */
function skipHint(tokens: readonly Token[], i: number): number {
  let j = i + 2;
  while (j < tokens.length && !isOp(tokens[j], '(')) j++;
  return skipParens(tokens, j);
}

function tableOf(name: { schema?: string; name: string }): { schema?: string; table: string } {
  return name.schema === undefined ? { table: name.name } : { schema: name.schema, table: name.name };
}
