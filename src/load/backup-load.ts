import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseServerUrl } from '../config.js';
import { connectTo, scalar, serverLabel } from './connect.js';
import { serverTime } from './consistent-snapshot.js';
import { LoadError } from './load-error.js';
import { type SnapshotPosition, writeSnapshotRecord } from './snapshot-record.js';
import { findTool } from './tool-path.js';

/**
 * The `mariabackup` method: a physical copy of the whole source instance. mariabackup copies
 * the data files while the server runs (InnoDB is copied consistently with its redo log; other
 * engines are copied under a short BACKUP STAGE lock), so it has to run on the source's host,
 * with read access to its data directory. tandem takes the backup and prepares it; restoring
 * means replacing the target's data directory while the target is stopped, which tandem
 * prints rather than does. Prerequisites missing: refused with exit code 2, nothing done.
 */

const execFileAsync = promisify(execFile);
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export interface BackupLoadOptions {
  readonly source: string;
  readonly target?: string | undefined;
  readonly stateDir: string;
  readonly say: (line: string) => void;
}

function refuse(missing: string[]): never {
  throw new LoadError(
    'LOAD_TOOL_MISSING',
    `--method mariabackup cannot run here:\n${missing.map((m) => `  - ${m}`).join('\n')}\n` +
      'use --method copy or --method mysqldump, or run tandem load on the source host',
    2,
  );
}

async function readBinlogInfo(
  dir: string,
): Promise<{ file: string; position: number; gtid: string | null } | null> {
  // Renamed from xtrabackup_binlog_info in MariaDB 10.11.8 / 11.x; either may be there.
  for (const name of ['mariadb_backup_binlog_info', 'xtrabackup_binlog_info']) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const [file, position, gtid] = text.trim().split(/\s+/);
    if (file && position) return { file, position: Number(position), gtid: gtid ?? null };
  }
  return null;
}

export async function backupLoad(opts: BackupLoadOptions): Promise<string> {
  // MARIABACKUP names the binary (tests use it to simulate one that is missing).
  const tool = process.env['MARIABACKUP'] ?? findTool(['mariadb-backup', 'mariabackup']);
  const a = parseServerUrl(opts.source);
  const missing: string[] = [];
  if (!tool || !existsSync(tool))
    missing.push('mariabackup is not installed (Debian: apt-get install mariadb-backup)');
  if (!LOCAL_HOSTS.has(a.host))
    missing.push(
      `the source ${serverLabel(opts.source)} is not on this host: mariabackup reads its data files`,
    );
  // Refused before any connection: nothing is asked of a server the method cannot use.
  if (missing.length > 0) refuse(missing);
  const conn = await connectTo(opts.source);
  let datadir: string;
  let version: string;
  let position: SnapshotPosition;
  try {
    datadir = (await scalar(conn, 'SELECT @@datadir')) ?? '';
    version = (await scalar(conn, 'SELECT VERSION()')) ?? '';
    if (!/mariadb/i.test(version))
      missing.push(`the source is ${version}, not MariaDB (MySQL needs XtraBackup)`);
    if (missing.length === 0) {
      const readable = await access(datadir, constants.R_OK | constants.X_OK).then(
        () => true,
        () => false,
      );
      if (!readable) missing.push(`the source's data directory ${datadir} is not readable by this process`);
    }
    if (missing.length > 0) refuse(missing);
    await conn.query('SET @tandem_snapshot = NOW(6)');
    const time = await serverTime(conn, '@tandem_snapshot');
    const timeZone =
      (await scalar(conn, 'SELECT IF(@@time_zone = "SYSTEM", @@system_time_zone, @@time_zone)')) ?? '';
    position = {
      time,
      reconcileFrom: time,
      timeZone,
      binlog: null,
      gtidBinlogPos: null,
      gtidCurrentPos: null,
      lock: 'backup-stage',
    };
  } finally {
    conn.destroy();
  }
  let targetLine = '';
  if (opts.target) {
    const t = await connectTo(opts.target).catch(() => undefined);
    if (t) {
      const tv = (await scalar(t, 'SELECT VERSION()')) ?? '';
      const tdir = (await scalar(t, 'SELECT @@datadir')) ?? '';
      t.destroy();
      const major = (v: string): string => /^(\d+\.\d+)/.exec(v)?.[1] ?? v;
      targetLine =
        major(tv) === major(version)
          ? `target ${serverLabel(opts.target)}: MariaDB ${tv}, data directory ${tdir}\n`
          : `WARNING: target ${serverLabel(opts.target)} runs ${tv}, the backup is of ${version}: ` +
            'a physical backup restores only on the same major version (then run mariadb-upgrade)\n';
    }
  }
  const dir = resolve(opts.stateDir, `mariabackup-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await mkdir(dir, { recursive: true });
  const env = { ...process.env, MYSQL_PWD: a.password };
  const connArgs = [`--host=${a.host}`, `--port=${a.port}`, `--user=${a.user}`, '--protocol=TCP'];
  const run = async (args: string[]): Promise<void> => {
    try {
      await execFileAsync(tool!, args, { env, maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new LoadError(
        'LOAD_TOOL_FAILED',
        `${tool} ${args[0]} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-8).join('\n')}`,
      );
    }
  };
  const started = Date.now();
  opts.say(`mariabackup: backing up ${datadir} into ${dir}`);
  await run(['--backup', `--target-dir=${dir}`, `--datadir=${datadir}`, ...connArgs]);
  opts.say('mariabackup: preparing the backup (applying the redo log)');
  await run(['--prepare', `--target-dir=${dir}`]);
  const seconds = (Date.now() - started) / 1000;
  const info = await readBinlogInfo(dir);
  const snapshot: SnapshotPosition = {
    ...position,
    binlog: info ? { file: info.file, position: info.position } : null,
    gtidBinlogPos: info?.gtid ?? null,
    gtidCurrentPos: info?.gtid ?? null,
  };
  await writeSnapshotRecord(opts.stateDir, {
    version: 1,
    method: 'mariabackup',
    source: serverLabel(opts.source),
    target: opts.target ? serverLabel(opts.target) : '',
    snapshot,
    runs: [snapshot],
    tables: ['*'],
    completedAt: new Date().toISOString(),
  });
  const pos = info
    ? `${info.file}:${info.position}${info.gtid ? ` (GTID ${info.gtid})` : ''}`
    : 'none (binary log off)';
  return [
    '',
    `backup of ${serverLabel(opts.source)} (${version}) taken and prepared in ${seconds.toFixed(1)} s: ${dir}`,
    `binlog position of the backup: ${pos}`,
    targetLine.trimEnd(),
    'Restore it on the target host (the whole instance: every schema and the mysql.* users):',
    '  1. stop the target server:            systemctl stop mariadb',
    '  2. move its data directory aside:     mv /var/lib/mysql /var/lib/mysql.before-tandem',
    `  3. copy the prepared backup there:    mariabackup --copy-back --target-dir=${dir} --datadir=/var/lib/mysql`,
    '     (from another host: rsync -a the folder over first, then --copy-back there)',
    '  4. give it to the server user:        chown -R mysql:mysql /var/lib/mysql',
    '  5. start the target:                  systemctl start mariadb',
    `Then reconcile from the backup's position (${pos}), recorded in load-snapshot.json.`,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n')
    .concat('\n');
}
