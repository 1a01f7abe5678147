import type { Connection } from 'mysql2/promise';
import { connectTo, isAccessDenied, scalar } from './connect.js';
import { LoadError } from './load-error.js';
import type { ServerTime, SnapshotPosition } from './snapshot-record.js';

/**
 * One consistent snapshot of the source for every worker.
 *
 * MariaDB cannot share one snapshot between sessions (Percona's `... FROM SESSION` gives a
 * syntax error on 10.11), so each worker opens its own while commits are held still: then they
 * all see the same committed state, and the binary log position read in the same pause is
 * exactly theirs. On MariaDB 10.4+ the pause is `BACKUP STAGE BLOCK_COMMIT`: running statements
 * go on, only commits wait, for the few milliseconds it takes to open the snapshots.
 * `FLUSH TABLES WITH READ LOCK` (MySQL, older MariaDB) does the same but also stops every write
 * and waits for long queries first, so it is only the fallback. Before that, `BLOCK_DDL` keeps
 * the tables' definitions still while they are read, so schema and data are of one instant.
 * Both need the RELOAD privilege; without it a single worker still gets an exact snapshot
 * (MariaDB reports its binlog position in Binlog_snapshot_file/position), several cannot.
 */

export interface Snapshot<T> {
  readonly readers: Connection[];
  readonly position: SnapshotPosition;
  /** What `underDdlLock` returned. */
  readonly prepared: T;
}

/** How long the pause may wait for running commits or DDL before giving up. */
const LOCK_WAIT_SECONDS = 30;

async function openReader(url: string): Promise<Connection> {
  const conn = await connectTo(url, { rowsAsArray: true });
  // Dates render in UTC (no DST gaps); long scans must outlive a configured statement limit.
  await conn.query("SET SESSION time_zone = '+00:00', net_write_timeout = 3600, net_read_timeout = 3600");
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  await conn.query('SET SESSION max_statement_time = 0').catch(() => undefined);
  return conn;
}

type Lock = SnapshotPosition['lock'];

async function isMariaDb104(conn: Connection): Promise<boolean> {
  const version = (await scalar(conn, 'SELECT VERSION()')) ?? '';
  const m = /^(\d+)\.(\d+)/.exec(version);
  return /mariadb/i.test(version) && m !== null && Number(m[1]) * 100 + Number(m[2]) >= 1004;
}

export async function serverTime(conn: Connection, expr: string): Promise<ServerTime> {
  const [rows] = await conn.query({
    sql: `SELECT DATE_FORMAT(${expr}, '%Y-%m-%d %H:%i:%s.%f'),
      DATE_FORMAT(CONVERT_TZ(${expr}, @@session.time_zone, '+00:00'), '%Y-%m-%dT%H:%i:%s.%fZ'),
      UNIX_TIMESTAMP(${expr})`,
    rowsAsArray: true,
  });
  const r = (rows as unknown as unknown[][])[0] ?? [];
  return { serverLocal: String(r[0]), utc: String(r[1]), unix: String(r[2]) };
}

async function readPosition(conn: Connection, lock: Lock, mariadb: boolean): Promise<SnapshotPosition> {
  const [status] = await conn.query({ sql: 'SHOW MASTER STATUS', rowsAsArray: true });
  const s = (status as unknown as unknown[][])[0];
  const binlog = s ? { file: String(s[0]), position: Number(s[1]) } : null;
  const gtid = (v: string | null): string | null => (v === null || v === '' ? null : v);
  const gtidBinlogPos = gtid(
    await scalar(conn, mariadb ? 'SELECT @@GLOBAL.gtid_binlog_pos' : 'SELECT @@GLOBAL.gtid_executed').catch(
      () => null,
    ),
  );
  const gtidCurrentPos = mariadb
    ? gtid(await scalar(conn, 'SELECT @@GLOBAL.gtid_current_pos').catch(() => null))
    : gtidBinlogPos;
  const { time, reconcileFrom, timeZone } = await snapshotTimes(conn);
  return { time, reconcileFrom, timeZone, binlog, gtidBinlogPos, gtidCurrentPos, lock };
}

/**
 * The server's time now, the reconcile point (the earlier of now and the start of the oldest
 * open transaction, whose rows may carry its earlier NOW()), and the time zone they are in.
 */
export async function snapshotTimes(
  conn: Connection,
): Promise<Pick<SnapshotPosition, 'time' | 'reconcileFrom' | 'timeZone'>> {
  await conn.query('SET @tandem_snapshot = NOW(6)');
  const time = await serverTime(conn, '@tandem_snapshot');
  // INNODB_TRX needs PROCESS; without it the snapshot time is the best bound there is.
  const reconcileFrom = await serverTime(
    conn,
    '(SELECT LEAST(@tandem_snapshot, IFNULL(MIN(trx_started), @tandem_snapshot)) FROM information_schema.INNODB_TRX)',
  ).catch(() => time);
  const timeZone =
    (await scalar(conn, 'SELECT IF(@@time_zone = "SYSTEM", @@system_time_zone, @@time_zone)')) ?? '';
  return { time, reconcileFrom, timeZone };
}

/**
 * Opens `workers` reader connections, each in a transaction on the same snapshot, and runs
 * `underDdlLock` (reading the catalog and the CREATE TABLEs) while DDL is held off where it can be.
 */
export async function openSnapshot<T>(
  url: string,
  workers: number,
  underDdlLock: (conn: Connection) => Promise<T>,
): Promise<Snapshot<T>> {
  const control = await connectTo(url);
  const readers: Connection[] = [];
  let lock: Lock = 'none';
  try {
    const mariadb = await isMariaDb104(control);
    await control.query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
    for (let i = 0; i < workers; i++) readers.push(await openReader(url));
    if (mariadb) {
      try {
        await control.query('BACKUP STAGE START');
        await control.query('BACKUP STAGE BLOCK_DDL');
        lock = 'backup-stage';
      } catch (err) {
        if (!isAccessDenied(err)) throw err;
      }
    }
    const prepared = await underDdlLock(control);
    if (lock === 'none') {
      try {
        await control.query('FLUSH TABLES WITH READ LOCK');
        lock = 'flush-tables';
      } catch (err) {
        if (!isAccessDenied(err)) throw err;
        if (workers > 1) {
          throw new LoadError(
            'LOAD_SNAPSHOT_PRIVILEGE',
            `--parallel ${workers} needs one snapshot for all workers, which needs the RELOAD privilege ` +
              '(BACKUP STAGE or FLUSH TABLES WITH READ LOCK) for a moment: grant it to the source user, ' +
              'or run with --parallel 1',
            2,
          );
        }
      }
    } else {
      await control.query('BACKUP STAGE BLOCK_COMMIT');
    }
    for (const r of readers) await r.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    let position = await readPosition(control, lock, mariadb);
    if (lock === 'none' && mariadb) {
      // Without the pause, MariaDB still reports the position that matches this very snapshot.
      const [rows] = await readers[0]!.query({
        sql: "SHOW STATUS LIKE 'Binlog_snapshot_%'",
        rowsAsArray: true,
      });
      const v = new Map((rows as unknown as unknown[][]).map((r) => [String(r[0]), String(r[1])]));
      const file = v.get('Binlog_snapshot_file');
      if (file)
        position = { ...position, binlog: { file, position: Number(v.get('Binlog_snapshot_position')) } };
    }
    return { readers, position, prepared };
  } catch (err) {
    for (const r of readers) r.destroy();
    throw err;
  } finally {
    if (lock === 'backup-stage') await control.query('BACKUP STAGE END').catch(() => undefined);
    if (lock === 'flush-tables') await control.query('UNLOCK TABLES').catch(() => undefined);
    control.destroy();
  }
}
