import type { Connection, RowDataPacket } from 'mysql2/promise';
import { qualified, quoteName } from '../sql/identifiers.js';

/**
 * Makes one table on `to` hold exactly the rows of the same table on `from`, chunk by chunk in
 * primary-key order: rows missing or different on `to` are replaced, rows that `from` lacks are
 * deleted. Values are read as the server's own text (dates, decimals, JSON) or bytes, so the
 * comparison is exact and nothing is rounded on the way back.
 */
export interface SyncResult {
  readonly table: string;
  readonly examined: number;
  readonly replaced: number;
  readonly deleted: number;
}

const CHUNK = 1000;

export const exactReadOptions = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  rowsAsArray: true,
  // Text and JSON as the server's bytes: mysql2 would parse MariaDB's JSON (a BLOB with a json
  // format) into objects, and re-serialising them changes the text.
  typeCast: (field: { type: string; buffer(): Buffer | null }, next: () => unknown) =>
    field.type === 'BLOB' || field.type === 'JSON' ? field.buffer() : next(),
};

export async function keyColumns(conn: Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>({
    rowsAsArray: true,
    sql: `SELECT s.COLUMN_NAME AS c FROM information_schema.STATISTICS s
      WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
        AND s.INDEX_NAME = (SELECT MIN(INDEX_NAME) FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
          AND (INDEX_NAME = 'PRIMARY' OR NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS
            WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY')))
      ORDER BY s.SEQ_IN_INDEX`,
    values: [schema, table, schema, table, schema, table],
  });
  return (rows as unknown as unknown[][]).map((r) => String(r[0]));
}

function same(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) {
      if (!x.equals(y)) return false;
    } else if (x !== y) return false;
  }
  return true;
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : 1;
    // Big integers arrive as strings: compare them numerically when both look like integers.
    if (typeof x === 'string' && typeof y === 'string' && /^-?\d+$/.test(x) && /^-?\d+$/.test(y)) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      continue;
    }
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) {
      const c = Buffer.compare(x, y);
      if (c !== 0) return c;
      continue;
    }
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

async function columnsOf(conn: Connection, schema: string, table: string): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>({
    rowsAsArray: true,
    sql: 'SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    values: [schema, table],
  });
  return (rows as unknown as unknown[][]).map((r) => String(r[0]));
}

export async function syncTable(
  from: Connection,
  to: Connection,
  schema: string,
  table: string,
  toTable: { schema: string; table: string } = { schema, table },
): Promise<SyncResult> {
  const name = qualified(schema, table);
  const toName = qualified(toTable.schema, toTable.table);
  const columns = await columnsOf(from, schema, table);
  const key = await keyColumns(from, schema, table);
  const select = columns.map(quoteName).join(', ');
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  let examined = 0;
  let replaced = 0;
  let deleted = 0;
  if (key.length === 0) {
    // No unique key: the only exact repair is the whole table, in one transaction.
    const [rows] = await from.query({ sql: `SELECT ${select} FROM ${name}`, ...exactReadOptions });
    const all = rows as unknown as unknown[][];
    await to.beginTransaction();
    await to.query(`DELETE FROM ${toName}`);
    for (let i = 0; i < all.length; i += CHUNK) {
      const part = all.slice(i, i + CHUNK);
      await to.query(
        `INSERT INTO ${toName} (${select}) VALUES ${part.map(() => placeholders).join(', ')}`,
        part.flat(),
      );
    }
    await to.commit();
    return { table: `${schema}.${table}`, examined: all.length, replaced: all.length, deleted: 0 };
  }
  const keyIdx = key.map((k) => columns.indexOf(k));
  const keyList = key.map(quoteName).join(', ');
  const order = `ORDER BY ${keyList}`;
  let after: unknown[] | undefined;
  for (;;) {
    const where = after ? `WHERE (${keyList}) > (${key.map(() => '?').join(', ')})` : '';
    const [a] = await from.query(
      { sql: `SELECT ${select} FROM ${name} ${where} ${order} LIMIT ${CHUNK}`, ...exactReadOptions },
      after ?? [],
    );
    const src = a as unknown as unknown[][];
    const last = src[src.length - 1];
    const upto = last ? keyIdx.map((i) => last[i]) : undefined;
    const bound = [
      after ? `(${keyList}) > (${key.map(() => '?').join(', ')})` : '1',
      upto ? `(${keyList}) <= (${key.map(() => '?').join(', ')})` : '1',
    ].join(' AND ');
    const [b] = await to.query(
      { sql: `SELECT ${select} FROM ${toName} WHERE ${bound} ${order}`, ...exactReadOptions },
      [...(after ?? []), ...(upto ?? [])],
    );
    const dst = b as unknown as unknown[][];
    const put: unknown[][] = [];
    const drop: unknown[][] = [];
    let i = 0;
    let j = 0;
    while (i < src.length || j < dst.length) {
      const s = src[i];
      const d = dst[j];
      const c = !s
        ? 1
        : !d
          ? -1
          : compareKeys(
              keyIdx.map((k) => s[k]),
              keyIdx.map((k) => d[k]),
            );
      if (c === 0) {
        if (!same(s!, d!)) put.push(s!);
        i++;
        j++;
      } else if (c < 0) {
        put.push(s!);
        i++;
      } else {
        drop.push(keyIdx.map((k) => d![k]));
        j++;
      }
    }
    examined += src.length;
    if (put.length > 0 || drop.length > 0) {
      await to.beginTransaction();
      for (const k of drop)
        await to.query(`DELETE FROM ${toName} WHERE (${keyList}) = (${key.map(() => '?').join(', ')})`, k);
      if (put.length > 0) {
        await to.query(
          `REPLACE INTO ${toName} (${select}) VALUES ${put.map(() => placeholders).join(', ')}`,
          put.flat(),
        );
      }
      await to.commit();
      replaced += put.length;
      deleted += drop.length;
    }
    if (!upto) break;
    after = upto;
  }
  return { table: `${schema}.${table}`, examined, replaced, deleted };
}
