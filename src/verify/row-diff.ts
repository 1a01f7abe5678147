import type { Connection } from 'mysql2/promise';
import { exactRead, type ServerName } from './connections.js';
import { type KeyValues, keyString, type Predicate, quoteName } from './key-range.js';
import type { TableShape } from './table-shape.js';

/**
 * The shared differ: rows of one key range (or key list) from both servers, matched by key.
 * Matching is by a hash map, not by merging two sorted streams, so that a collation whose
 * order differs from JavaScript's (`a` < `B` under utf8mb4_general_ci) cannot misalign rows.
 */

/** Source-relative: `missing` is on the source only, `extra` on the target only. */
export type DifferenceKind = 'missing' | 'extra' | 'changed';

export interface RowDifference {
  readonly kind: DifferenceKind;
  readonly key: KeyValues;
}

export interface ImageRow {
  readonly key: KeyValues;
  readonly image: Buffer | null;
}

export function diffRows(source: readonly ImageRow[], target: readonly ImageRow[]): RowDifference[] {
  const onTarget = new Map<string, ImageRow>();
  for (const row of target) onTarget.set(keyString(row.key), row);
  const out: RowDifference[] = [];
  for (const row of source) {
    const k = keyString(row.key);
    const other = onTarget.get(k);
    if (other === undefined) out.push({ kind: 'missing', key: row.key });
    else {
      onTarget.delete(k);
      if (!sameImage(row.image, other.image)) out.push({ kind: 'changed', key: row.key });
    }
  }
  for (const row of onTarget.values()) out.push({ kind: 'extra', key: row.key });
  return out;
}

function sameImage(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.equals(b);
}

/** Each row's key and image in `where`, as `server` computes them. */
export async function readImages(
  conn: Connection,
  shape: TableShape,
  server: ServerName,
  where: Predicate,
  lock: '' | 'LOCK IN SHARE MODE' | 'FOR UPDATE' = '',
): Promise<ImageRow[]> {
  const n = shape.key.length;
  const [rows] = await conn.query(
    {
      sql: `SELECT ${shape.key.map(quoteName).join(', ')}, ${shape.sql[server].image}
        FROM ${shape.sql[server].table} WHERE ${where.sql} ${lock}`,
      ...exactRead,
    },
    where.params,
  );
  return (rows as unknown[][]).map((r) => ({ key: r.slice(0, n), image: toBuffer(r[n]) }));
}

export function toBuffer(v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
}
