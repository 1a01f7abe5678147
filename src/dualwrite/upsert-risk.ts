import type { BackendLink } from '../backend/backend-link.js';
import { decodeTextRows } from '../protocol/text-result.js';
import { queryPayload } from './pinning.js';

/** How long a table's shape is trusted when no DDL through tandem has touched it. */
const TRUSTED_MS = 60_000;
const MAX_TABLES = 10_000;

/** A string literal that no sql_mode reads differently: hex, converted to the server's text. */
function literal(s: string): string {
  return `CONVERT(X'${Buffer.from(s, 'utf8').toString('hex')}' USING utf8mb4)`;
}

/**
 * Whether an INSERT ... ON DUPLICATE KEY UPDATE of a table can try ids it does not keep (see
 * insert-order.ts): the table has an AUTO_INCREMENT column and at least two unique keys (the
 * primary key counts). Asked of the source once per table and kept for a minute, or until a DDL
 * statement through tandem names the table.
 */
export class UpsertRisk {
  private readonly known = new Map<string, { readonly idColumn: string | null; readonly at: number }>();

  /**
   * The table's auto-increment column (lower case) when its upserts can try ids they give back;
   * null when they cannot; undefined when the source could not say.
   */
  async of(link: BackendLink, schema: string, table: string): Promise<string | null | undefined> {
    const key = `${schema}.${table}`.toLowerCase();
    const seen = this.known.get(key);
    if (seen && performance.now() - seen.at < TRUSTED_MS) return seen.idColumn;
    const where = `TABLE_SCHEMA = ${literal(schema)} AND TABLE_NAME = ${literal(table)}`;
    const r = await link
      .send(
        queryPayload(
          `SELECT (SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE ${where} AND EXTRA LIKE '%auto_increment%' LIMIT 1), ` +
            `(SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE ${where} AND NON_UNIQUE = 0)`,
        ),
      )
      .catch(() => undefined);
    if (r === undefined || r.tracker.error) return undefined;
    const row = decodeTextRows(r.bytes!, link.capabilities)[0];
    if (row === undefined) return undefined;
    const [column, uniques] = row;
    const idColumn = column != null && Number(uniques) >= 2 ? String(column).toLowerCase() : null;
    if (this.known.size >= MAX_TABLES) this.known.clear();
    this.known.set(key, { idColumn, at: performance.now() });
    return idColumn;
  }

  /** DDL named these tables: their shape is asked again. */
  forget(schema: string | undefined, tables: readonly string[]): void {
    for (const t of tables) {
      const name = t.includes('.') || schema === undefined ? t : `${schema}.${t}`;
      this.known.delete(name.toLowerCase());
    }
  }
}
