import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where the load's data comes from in the source's history, for the reconciler that follows
 * it: `tandem verify --method incremental` starts at `reconcileFrom`, binlog followers at
 * `binlog`/`gtid`. Rows that dual writes changed before the load reached them got the older
 * snapshot row instead; every such change happened after `reconcileFrom`.
 */

export const SNAPSHOT_FILE = 'load-snapshot.json';

export interface ServerTime {
  /** The source's NOW(6) in its own default time zone: what DATETIME update_time columns hold. */
  readonly serverLocal: string;
  /** The same instant in UTC, ISO 8601 with microseconds. */
  readonly utc: string;
  /** Seconds since the epoch, with microseconds, as text. */
  readonly unix: string;
}

export interface SnapshotPosition {
  /** When the snapshot was taken, read while commits were blocked. */
  readonly time: ServerTime;
  /**
   * The earlier of the snapshot time and the start of the oldest transaction then open: a
   * transaction that began before the snapshot and committed after it may have stamped rows
   * with its earlier NOW().
   */
  readonly reconcileFrom: ServerTime;
  readonly timeZone: string;
  /** SHOW MASTER STATUS; null when the source has no binary log. */
  readonly binlog: { readonly file: string; readonly position: number } | null;
  /** MariaDB @@gtid_binlog_pos / @@gtid_current_pos, MySQL @@gtid_executed; null when empty. */
  readonly gtidBinlogPos: string | null;
  readonly gtidCurrentPos: string | null;
  /** How the snapshots of several workers were made consistent. */
  readonly lock: 'backup-stage' | 'flush-tables' | 'none';
}

export interface SnapshotRecord {
  readonly version: 1;
  readonly method: 'copy' | 'mysqldump' | 'mariabackup';
  readonly source: string;
  readonly target: string;
  /** The first run's snapshot: a resumed load keeps it, the earliest point to reconcile from. */
  readonly snapshot: SnapshotPosition;
  /** Every run's snapshot, the first included (a resumed run takes a new one). */
  readonly runs: SnapshotPosition[];
  readonly tables: string[];
  completedAt: string | null;
}

export function snapshotPath(stateDir: string): string {
  return join(stateDir, SNAPSHOT_FILE);
}

export async function readSnapshotRecord(stateDir: string): Promise<SnapshotRecord | undefined> {
  try {
    return JSON.parse(await readFile(snapshotPath(stateDir), 'utf8')) as SnapshotRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeSnapshotRecord(stateDir: string, record: SnapshotRecord): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const file = snapshotPath(stateDir);
  await writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}
