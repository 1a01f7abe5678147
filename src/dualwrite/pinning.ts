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

/**
 * Pins that hold for one statement and must be given back after it: `timestamp`, `insert_id`
 * (it outlives the statement it was set for, checked on MariaDB 10.11) and the lock wait.
 */
function scopedPins(p: Pins): string[] {
  const parts = [`timestamp = ${p.timestamp}`];
  if (p.insertId !== undefined && BigInt(p.insertId) > 0n) parts.unshift(`insert_id = ${p.insertId}`);
  if (p.lockWaitTimeout !== undefined) parts.push(`innodb_lock_wait_timeout = ${p.lockWaitTimeout}`);
  return parts;
}

/**
 * Pins that need no giving back: the statement consumes the RAND() seeds, and LAST_INSERT_ID()
 * must stay where the statement leaves it. Neither goes into SET STATEMENT: its restore at the
 * end of the statement would put last_insert_id back over the id the statement generated
 * (checked on MariaDB 10.11), and older MariaDB releases refuse rand_seed1/2 there.
 */
function stickyPins(p: Pins): string[] {
  const parts: string[] = [];
  if (p.lastInsertId !== undefined) parts.push(`last_insert_id = ${BigInt(p.lastInsertId)}`);
  if (p.randSeeds) parts.push(`rand_seed1 = ${p.randSeeds[0]}`, `rand_seed2 = ${p.randSeeds[1]}`);
  return parts;
}

/** One statement with its pins: the commands to send in order, `before` and `after` SQL or none. */
export interface PinnedStatement {
  readonly before: string | undefined;
  readonly statement: Buffer;
  readonly after: string | undefined;
}

/**
 * `SET STATEMENT var = value, ... FOR <statement>` (MariaDB 10.1.2 and later) sets the scoped
 * pins for the one statement and gives the session's values back after it (DEFAULT when the
 * session had the default), so that pin, statement and unpin are one command; the sticky pins
 * go into one SET before it. Otherwise (`wrap` false: MySQL, or a statement it cannot wrap) one
 * SET before and one after, which clears insert_id (it outlives the statement it was set for,
 * checked on MariaDB 10.11) and puts timestamp and the lock wait back to DEFAULT.
 * `extraBefore`/`extraAfter` are the caller's own assignments, merged into those SETs.
 */
export function pinStatement(
  statement: Buffer,
  p: Pins,
  wrap: boolean,
  extraBefore: readonly string[] = [],
  extraAfter: readonly string[] = [],
): PinnedStatement {
  const scoped = scopedPins(p);
  const sticky = stickyPins(p);
  if (wrap) {
    const before = [...sticky, ...extraBefore];
    return {
      before: before.length ? `SET ${before.join(', ')}` : undefined,
      statement: Buffer.concat([
        QUERY_BYTE,
        Buffer.from(`SET STATEMENT ${scoped.join(', ')} FOR `, 'utf8'),
        statement.subarray(1),
      ]),
      after: extraAfter.length ? `SET ${extraAfter.join(', ')}` : undefined,
    };
  }
  const unpin = ['insert_id = 0', 'timestamp = DEFAULT'];
  if (p.lockWaitTimeout !== undefined) unpin.push('innodb_lock_wait_timeout = DEFAULT');
  return {
    before: `SET ${[...scoped, ...sticky, ...extraBefore].join(', ')}`,
    statement,
    after: `SET ${[...extraAfter, ...unpin].join(', ')}`,
  };
}

const QUERY_BYTE = Buffer.from([0x03]);

/** Verbs of statements that SET STATEMENT ... FOR is known to wrap (as fingerprints write them). */
const WRAPPABLE = /^(?:insert|update|delete|replace) /;

/**
 * Whether a COM_QUERY can be wrapped in SET STATEMENT: one INSERT, UPDATE, DELETE or REPLACE, by
 * its fingerprint (literals gone, so a `;` there separates statements: the pins would not reach
 * the second one). Prepared statements (COM_STMT_EXECUTE) and everything else take plain SETs.
 */
export function wrappable(payload: Buffer, fingerprint: string): boolean {
  return payload[0] === 0x03 && WRAPPABLE.test(fingerprint) && !fingerprint.includes(';');
}

const setStatementByVersion = new Map<string, boolean>();

/**
 * Whether a server, by the version string of its handshake, takes SET STATEMENT: MariaDB from
 * 10.1.2 (a 10.x server may announce itself as `5.5.5-10.x.y-MariaDB`). MySQL has no SET
 * STATEMENT.
 */
export function takesSetStatement(serverVersion: string): boolean {
  let known = setStatementByVersion.get(serverVersion);
  if (known === undefined) {
    const m = /(\d+)\.(\d+)\.(\d+)-MariaDB/i.exec(serverVersion);
    known = m !== null && Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3]) >= 10_001_002;
    if (setStatementByVersion.size < 64) setStatementByVersion.set(serverVersion, known);
  }
  return known;
}

/** A COM_QUERY payload for `sql`. */
export function queryPayload(sql: string): Buffer {
  const body = Buffer.from(sql, 'utf8');
  const payload = Buffer.allocUnsafe(body.length + 1);
  payload[0] = 0x03;
  body.copy(payload, 1);
  return payload;
}
