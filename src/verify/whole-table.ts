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

/** How long the copy waits for each table lock; a table held longer by a transaction fails the repair, retried. */
const LOCK_WAIT_SECONDS = 5;
const LOCK_TRIES = 3;

/**
 * Makes a table without a unique key on `to` hold exactly the rows of `from`: rows that cannot
 * be told apart can only be repaired all at once (`DELETE`, then the rows, one transaction).
 * Values are read as the server's own text (dates, decimals, JSON) or bytes, so nothing is
 * rounded on the way. Tables with a key are repaired key by key instead (key-repair.ts).
 *
 * Live-safe beside tandem's dual writes: the table is locked on `from` (READ), then on `to`
 * (WRITE), in the dual writer's order, primary first. Once the READ lock is granted every
 * mirrored write that reached the primary earlier has committed there, so has run on the
 * secondary, and the WRITE lock waits for its commit there too; later writes wait for the copy.
 * Without the locks a write mirrored between the read and the copy was lost on `to`. The
 * application's writes to this table wait meanwhile: what a keyless table costs.
 */
export async function copyWholeTable(
  from: Connection,
  to: Connection,
  schema: string,
  table: string,
  toTable: { schema: string; table: string } = { schema, table },
): Promise<number> {
  const columns = await columnsOf(from, schema, table);
  for (let attempt = 1; ; attempt++) {
    try {
      return await copyLocked(
        from,
        to,
        qualified(schema, table),
        qualified(toTable.schema, toTable.table),
        columns,
      );
    } catch (err) {
      if ((err as { errno?: number }).errno !== ER_LOCK_WAIT_TIMEOUT || attempt >= LOCK_TRIES) throw err;
    }
  }
}

const ER_LOCK_WAIT_TIMEOUT = 1205;

async function copyLocked(
  from: Connection,
  to: Connection,
  name: string,
  toName: string,
  columns: readonly string[],
): Promise<number> {
  const select = columns.map(quoteName).join(', ');
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  // LOCK TABLES ends a transaction and BEGIN ends LOCK TABLES: autocommit off gives both.
  await from.query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
  await to.query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}, autocommit = 0`);
  try {
    await from.query(`LOCK TABLES ${name} READ`);
    await to.query(`LOCK TABLES ${toName} WRITE`);
    const [rows] = await from.query({ sql: `SELECT ${select} FROM ${name}`, ...exactRead });
    const all = rows as unknown as unknown[][];
    await to.query(`DELETE FROM ${toName}`);
    for (let i = 0; i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      await to.query(
        `INSERT INTO ${toName} (${select}) VALUES ${part.map(() => placeholders).join(', ')}`,
        part.flat(),
      );
    }
    await to.query('COMMIT');
    return all.length;
  } catch (err) {
    await to.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await to.query('UNLOCK TABLES').catch(() => {});
    await to.query('SET SESSION autocommit = 1').catch(() => {});
    await from.query('UNLOCK TABLES').catch(() => {});
  }
}
