import type { Connection, RowDataPacket } from 'mysql2/promise';
import { qualified, quoteName } from '../sql/identifiers.js';
import { exactRead } from './connections.js';

const CHUNK = 1000;

async function columnsOf(conn: Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>({
    rowsAsArray: true,
    sql: 'SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    values: [schema, table],
  });
  return (rows as unknown as unknown[][]).map((r) => String(r[0]));
}

/**
 * Makes a table without a unique key on `to` hold exactly the rows of `from`: rows that cannot
 * be told apart can only be repaired all at once, in one transaction (`DELETE`, then the rows).
 * Values are read as the server's own text (dates, decimals, JSON) or bytes, so nothing is
 * rounded on the way. Tables with a key are repaired key by key instead (key-repair.ts).
 */
export async function copyWholeTable(
  from: Connection,
  to: Connection,
  schema: string,
  table: string,
  toTable: { schema: string; table: string } = { schema, table },
): Promise<number> {
  const name = qualified(schema, table);
  const toName = qualified(toTable.schema, toTable.table);
  const columns = await columnsOf(from, schema, table);
  const select = columns.map(quoteName).join(', ');
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  const [rows] = await from.query({ sql: `SELECT ${select} FROM ${name}`, ...exactRead });
  const all = rows as unknown as unknown[][];
  await to.beginTransaction();
  try {
    await to.query(`DELETE FROM ${toName}`);
    for (let i = 0; i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      await to.query(
        `INSERT INTO ${toName} (${select}) VALUES ${part.map(() => placeholders).join(', ')}`,
        part.flat(),
      );
    }
    await to.commit();
  } catch (err) {
    await to.rollback().catch(() => {});
    throw err;
  }
  return all.length;
}
