import { qualified, quoteName } from '../sql/identifiers.js';

export { qualified, quoteName };
/**
 * SQL predicates over a table's key columns. MariaDB's range optimizer does not use an index for
 * a row comparison such as `(a, b) > (?, ?)`, so comparisons are expanded into the equivalent
 * `a >= ? AND (a > ? OR (a = ? AND b > ?))`, which it does use. Values travel as parameters.
 */

export type KeyValues = readonly unknown[];

export interface Predicate {
  readonly sql: string;
  readonly params: unknown[];
}

export const TRUE: Predicate = { sql: '1', params: [] };

type Op = '>' | '>=' | '<' | '<=';

/** `(cols) op (values)` in lexicographic order, as an index range the optimizer can use. */
export function compareKey(cols: readonly string[], op: Op, values: KeyValues): Predicate {
  const q = cols.map(quoteName);
  if (q.length === 1) return { sql: `${q[0]} ${op} ?`, params: [values[0]] };
  const strict = op === '>' || op === '<' ? op : op === '>=' ? '>' : '<';
  const alternatives: string[] = [];
  const params: unknown[] = [];
  for (let i = 0; i < q.length; i++) {
    const last = i === q.length - 1;
    const parts: string[] = [];
    for (let j = 0; j < i; j++) {
      parts.push(`${q[j]} = ?`);
      params.push(values[j]);
    }
    parts.push(`${q[i]} ${last ? op : strict} ?`);
    params.push(values[i]);
    alternatives.push(`(${parts.join(' AND ')})`);
  }
  // The leading column's bound alone lets the optimizer pick a range before it reads the OR.
  const lead = `${q[0]} ${strict === '>' ? '>=' : '<='} ?`;
  return { sql: `(${lead} AND (${alternatives.join(' OR ')}))`, params: [values[0], ...params] };
}

/** Keys after `after` (exclusive) up to `upto` (inclusive); either end may be open. */
export function keyRange(cols: readonly string[], after?: KeyValues, upto?: KeyValues): Predicate {
  const parts: Predicate[] = [];
  if (after) parts.push(compareKey(cols, '>', after));
  if (upto) parts.push(compareKey(cols, '<=', upto));
  return and(...parts);
}

export function and(...parts: Predicate[]): Predicate {
  if (parts.length === 0) return TRUE;
  if (parts.length === 1) return parts[0]!;
  return { sql: parts.map((p) => p.sql).join(' AND '), params: parts.flatMap((p) => p.params) };
}

/** `key IN (...)`: a row constructor list for composite keys, which MariaDB does turn into ranges. */
export function keyIn(cols: readonly string[], keys: readonly KeyValues[]): Predicate {
  if (keys.length === 0) return { sql: '0', params: [] };
  const q = cols.map(quoteName);
  if (q.length === 1) {
    return { sql: `${q[0]} IN (${keys.map(() => '?').join(', ')})`, params: keys.map((k) => k[0]) };
  }
  const tuple = `(${q.map(() => '?').join(', ')})`;
  return {
    sql: `(${q.join(', ')}) IN (${keys.map(() => tuple).join(', ')})`,
    params: keys.flatMap((k) => [...k]),
  };
}

/**
 * A map key for a row's key values that is equal on both servers for the same value: numbers
 * arrive as numbers or strings depending on the column's width, bytes as Buffers.
 */
export function keyString(values: KeyValues): string {
  return JSON.stringify(
    values.map((v) => (v === null ? null : Buffer.isBuffer(v) ? `x${v.toString('hex')}` : `s${String(v)}`)),
  );
}

/** Key values for a report: column names to values, bytes as hex. */
export function keyObject(cols: readonly string[], values: KeyValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  cols.forEach((c, i) => {
    const v = values[i];
    out[c] = Buffer.isBuffer(v) ? { hex: v.toString('hex') } : v;
  });
  return out;
}
