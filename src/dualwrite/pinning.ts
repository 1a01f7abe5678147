/**
 * Session settings that make the secondary compute what the primary computed, as the binlog's
 * Intvar/Rand events and SET TIMESTAMP do for statement-based replication.
 * https://mariadb.com/kb/en/server-system-variables/#insert_id
 */
export interface Pins {
  /** First id the primary generated for this statement (OK packet's last_insert_id). */
  readonly insertId?: number | bigint | undefined;
  /** LAST_INSERT_ID() as the primary's session had it when the statement began. */
  readonly lastInsertId?: string | undefined;
  /** Seconds and microseconds since the epoch, as SET timestamp takes them. */
  readonly timestamp: string;
  readonly randSeeds?: readonly [number, number] | undefined;
  /** innodb_lock_wait_timeout for the statement (the secondary's, kept short). */
  readonly lockWaitTimeout?: number | undefined;
}

/** Wall-clock time with microseconds, in the form `SET timestamp` accepts. */
export function timestampNow(): string {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  const s = micros / 1_000_000n;
  const us = micros % 1_000_000n;
  return `${s}.${us.toString().padStart(6, '0')}`;
}

/** Two seeds for RAND(), as the server's rand_seed1/rand_seed2 (each below 2^30). */
export function randomSeeds(): [number, number] {
  return [Math.floor(Math.random() * 0x3fffffff), Math.floor(Math.random() * 0x3fffffff)];
}

export function pinSql(p: Pins): string {
  const parts = [`timestamp = ${p.timestamp}`];
  if (p.insertId !== undefined && BigInt(p.insertId) > 0n) parts.unshift(`insert_id = ${p.insertId}`);
  if (p.lastInsertId !== undefined) parts.push(`last_insert_id = ${BigInt(p.lastInsertId)}`);
  if (p.randSeeds) parts.push(`rand_seed1 = ${p.randSeeds[0]}`, `rand_seed2 = ${p.randSeeds[1]}`);
  if (p.lockWaitTimeout !== undefined) parts.push(`innodb_lock_wait_timeout = ${p.lockWaitTimeout}`);
  return `SET ${parts.join(', ')}`;
}

// insert_id outlives the statement it was set for (checked on MariaDB 10.11); 0 clears it.
export const UNPIN_SQL = 'SET insert_id = 0, timestamp = DEFAULT';

/** A COM_QUERY payload for `sql`. */
export function queryPayload(sql: string): Buffer {
  const body = Buffer.from(sql, 'utf8');
  const payload = Buffer.allocUnsafe(body.length + 1);
  payload[0] = 0x03;
  body.copy(payload, 1);
  return payload;
}
