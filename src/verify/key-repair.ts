import type { Connection } from 'mysql2/promise';
import { exactRead, type ServerName, type ServerPool } from './connections.js';
import { type KeyValues, keyIn, keyString, quoteName } from './key-range.js';
import { diffRows, type RowDifference, readImages, toBuffer } from './row-diff.js';
import type { TableShape } from './table-shape.js';

/**
 * Confirming and repairing the differences found, key by key, while the application keeps
 * writing through tandem.
 *
 * A repair reads the rows on the authoritative server (`from`) with shared locks, and on the
 * other with exclusive locks, compares them again, writes only what still differs, commits the
 * repaired server and only then releases the authoritative rows. A dual write to the same row
 * takes the primary's lock first, so it waits until the repair is committed and then applies on
 * top of it: a repair never overwrites a newer write with an older value. REPEATABLE READ makes
 * InnoDB lock the gap of a key found absent, so an insert of that key also waits, and a delete
 * of a row the source lacks cannot remove a row inserted meanwhile. Transactions are short
 * (REPAIR_BATCH keys), and a lock wait or deadlock is retried, never waited out.
 *
 * Repair from the primary of the mode (source in dual-source, target in dual-target): the
 * locks are then taken in the order the dual writer takes them.
 */

const REPAIR_BATCH = 200;
/** A REPLACE larger than this is split, well under the default max_allowed_packet (16 MiB). */
const STATEMENT_BYTES = 4 * 1024 * 1024;
const RETRIES = 5;
/** ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK. */
const RETRYABLE = new Set([1205, 1213]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function other(server: ServerName): ServerName {
  return server === 'source' ? 'target' : 'source';
}

/** Reads `keys` on both servers, without locks, and returns the ones that differ. */
export async function compareKeys(
  pool: ServerPool,
  shape: TableShape,
  keys: readonly KeyValues[],
): Promise<RowDifference[]> {
  const out: RowDifference[] = [];
  for (let i = 0; i < keys.length; i += REPAIR_BATCH) {
    const where = keyIn(shape.key, keys.slice(i, i + REPAIR_BATCH));
    const [s, t] = await Promise.all([
      readImages(pool.source, shape, 'source', where),
      readImages(pool.target, shape, 'target', where),
    ]);
    out.push(...diffRows(s, t));
  }
  return out;
}

/**
 * Differences found in a pass may be writes in flight (the primary has them, the secondary is
 * about to): a difference counts only if it is still there after `delayMs`.
 */
export async function confirmDifferences(
  pool: ServerPool,
  shape: TableShape,
  found: readonly RowDifference[],
  delayMs: number,
): Promise<RowDifference[]> {
  if (found.length === 0) return [];
  await sleep(delayMs);
  return compareKeys(
    pool,
    shape,
    found.map((d) => d.key),
  );
}

/**
 * Makes the rows of `keys` on the other server equal to `from`'s. Returns the differences it
 * found under lock and repaired (source-relative kinds, as the differ reports them).
 */
export async function repairKeys(
  pool: ServerPool,
  shape: TableShape,
  keys: readonly KeyValues[],
  from: ServerName,
): Promise<RowDifference[]> {
  const fixed: RowDifference[] = [];
  for (let i = 0; i < keys.length; i += REPAIR_BATCH) {
    const batch = keys.slice(i, i + REPAIR_BATCH);
    for (let attempt = 1; ; attempt++) {
      try {
        fixed.push(...(await repairBatch(pool, shape, batch, from)));
        break;
      } catch (err) {
        const errno = (err as { errno?: number }).errno;
        if (errno === undefined || !RETRYABLE.has(errno) || attempt >= RETRIES) throw err;
        await sleep(50 * 2 ** attempt);
      }
    }
  }
  return fixed;
}

async function repairBatch(
  pool: ServerPool,
  shape: TableShape,
  keys: readonly KeyValues[],
  from: ServerName,
): Promise<RowDifference[]> {
  const to = other(from);
  const a = pool[from];
  const b = pool[to];
  const where = keyIn(shape.key, keys);
  const n = shape.key.length;
  await a.beginTransaction();
  try {
    const [rows] = await a.query(
      {
        sql: `SELECT ${shape.key.map(quoteName).join(', ')}, ${shape.sql[from].image}, ${shape.sql[from].copy.join(', ')}
          FROM ${shape.sql[from].table} WHERE ${where.sql} LOCK IN SHARE MODE`,
        ...exactRead,
      },
      where.params,
    );
    const authoritative = rows as unknown[][];
    await b.beginTransaction();
    try {
      const current = await readImages(b, shape, to, where, 'FOR UPDATE');
      const mine = authoritative.map((r) => ({ key: r.slice(0, n), image: toBuffer(r[n]) }));
      // The differ speaks source-relative; `from` may be either server.
      const diffs = from === 'source' ? diffRows(mine, current) : diffRows(current, mine);
      const absentOnFrom = from === 'source' ? 'extra' : 'missing';
      const remove = diffs.filter((d) => d.kind === absentOnFrom).map((d) => d.key);
      const write = new Set(diffs.filter((d) => d.kind !== absentOnFrom).map((d) => keyString(d.key)));
      if (remove.length > 0) {
        const del = keyIn(shape.key, remove);
        await b.query(`DELETE FROM ${shape.sql[to].table} WHERE ${del.sql}`, del.params);
      }
      const values = authoritative
        .filter((r) => write.has(keyString(r.slice(0, n))))
        .map((r) => r.slice(n + 1));
      await replaceRows(b, shape.sql[to].table, shape.columns, values);
      await b.commit();
      return diffs;
    } catch (err) {
      await b.rollback().catch(() => {});
      throw err;
    }
  } finally {
    // Released only now: the repaired server has committed.
    await a.rollback().catch(() => {});
  }
}

async function replaceRows(
  conn: Connection,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
): Promise<void> {
  const list = columns.map(quoteName).join(', ');
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  let part: unknown[][] = [];
  let bytes = 0;
  const flush = async () => {
    if (part.length === 0) return;
    // REPLACE, not ON DUPLICATE KEY UPDATE: a row that collides on another unique key is
    // replaced too, which is what the authoritative server holds.
    await conn.query(
      `REPLACE INTO ${table} (${list}) VALUES ${part.map(() => tuple).join(', ')}`,
      part.flat(),
    );
    part = [];
    bytes = 0;
  };
  for (const row of rows) {
    part.push(row);
    for (const v of row)
      bytes += Buffer.isBuffer(v) ? v.length * 2 : typeof v === 'string' ? v.length * 4 : 8;
    if (bytes > STATEMENT_BYTES) await flush();
  }
  await flush();
}
