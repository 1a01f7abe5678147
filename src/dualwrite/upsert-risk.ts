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
 * primary key counts). Asked of the primary once per table and kept for a minute, or until a
 * DDL statement through tandem names the table.
 */
export class UpsertRisk {
  private readonly known = new Map<string, { readonly risky: boolean; readonly at: number }>();

  async of(link: BackendLink, schema: string, table: string): Promise<boolean> {
    const key = `${schema}.${table}`.toLowerCase();
    const seen = this.known.get(key);
    if (seen && performance.now() - seen.at < TRUSTED_MS) return seen.risky;
    const where = `TABLE_SCHEMA = ${literal(schema)} AND TABLE_NAME = ${literal(table)}`;
    const r = await link
      .send(
        queryPayload(
          `SELECT (SELECT COUNT(*) FROM information_schema.COLUMNS WHERE ${where} AND EXTRA LIKE '%auto_increment%'), ` +
            `(SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE ${where} AND NON_UNIQUE = 0)`,
        ),
      )
      .catch(() => undefined);
    // The source is gone: ordered, as the safe side, and asked again next time.
    if (r === undefined) return true;
    const row = r.tracker.error ? undefined : decodeTextRows(r.bytes!, link.capabilities)[0];
    // Unknown (the query failed): ordered, as the safe side.
    const risky = row === undefined || (Number(row[0]) > 0 && Number(row[1]) >= 2);
    if (this.known.size >= MAX_TABLES) this.known.clear();
    this.known.set(key, { risky, at: performance.now() });
    return risky;
  }

  /** DDL named these tables: their shape is asked again. */
  forget(schema: string | undefined, tables: readonly string[]): void {
    for (const t of tables) {
      const name = t.includes('.') || schema === undefined ? t : `${schema}.${t}`;
      this.known.delete(name.toLowerCase());
    }
  }
}
