import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { parseServerUrl } from '../config.js';
import type { Scope } from '../routing/scope.js';
import type { RenameMap } from '../sql/rename.js';
import { connectTo, scalar, serverLabel } from './connect.js';
import { snapshotTimes } from './consistent-snapshot.js';
import { DumpFilter } from './dump-filter.js';
import { DurabilityGuard, restoreLeftover } from './durability-guard.js';
import { LoadError } from './load-error.js';
import { formatBytes, formatDuration, ProgressDisplay, type ProgressSink } from './progress-display.js';
import { type SnapshotPosition, writeSnapshotRecord } from './snapshot-record.js';
import { qualifiedName, readCatalog } from './source-catalog.js';
import { findTool } from './tool-path.js';

/**
 * The `mysqldump` method: `mariadb-dump --single-transaction` piped into the `mariadb` client
 * on the target. MariaDB's dump takes its snapshot and the matching binlog position without
 * FLUSH TABLES WITH READ LOCK (it reads Binlog_snapshot_file/position). The target session
 * first gets the same speed-ups as `copy`; rows go in with INSERT IGNORE into tables created
 * IF NOT EXISTS, so the method is as safe beside dual writes (dump-filter.ts).
 * Table renames cannot be expressed in a dump; schema renames can.
 */

export interface DumpLoadOptions {
  readonly source: string;
  readonly target: string;
  readonly stateDir: string;
  readonly scope: Scope;
  readonly only: Scope | undefined;
  readonly rename: RenameMap;
  readonly controlSchema: string;
  /** unique_checks = 0, foreign_key_checks = 0, sql_log_bin = 0 before the dump's statements. */
  readonly speedUps: boolean;
  readonly fastDurability: boolean;
  readonly signal: AbortSignal;
  readonly say: (line: string) => void;
  /** Where the progress display writes; nowhere when absent. */
  readonly progress?: ProgressSink;
  /** A display made by the caller, who reads its snapshot() (the proxy's load job); else one on `progress`. */
  readonly display?: ProgressDisplay;
}

export interface DumpSummary {
  readonly method: 'mysqldump';
  readonly tables: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly snapshot: SnapshotPosition;
  readonly command: string;
}

function connectionArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const a = parseServerUrl(url);
  // The password goes through the environment, never the command line that `ps` shows.
  return {
    args: [`--host=${a.host}`, `--port=${a.port}`, `--user=${a.user}`, '--protocol=TCP'],
    env: { ...process.env, MYSQL_PWD: a.password },
  };
}

function collect(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-4000);
  });
  return () => text.trim();
}

export async function dumpLoad(opts: DumpLoadOptions): Promise<DumpSummary> {
  const dumpTool = findTool(['mariadb-dump', 'mysqldump']);
  const client = findTool(['mariadb', 'mysql']);
  if (!dumpTool || !client) {
    throw new LoadError(
      'LOAD_TOOL_MISSING',
      `--method mysqldump needs ${!dumpTool ? 'mariadb-dump (or mysqldump)' : 'the mariadb (or mysql) client'} ` +
        'in PATH: apt-get install mariadb-client, or use --method copy',
      2,
    );
  }
  const leftover = await restoreLeftover(opts.target, opts.stateDir);
  if (leftover)
    opts.say(`restored target settings that a killed load had relaxed: ${JSON.stringify(leftover)}`);
  const conn = await connectTo(opts.source);
  let tables: Awaited<ReturnType<typeof readCatalog>>;
  let allInSchemas: string[];
  let position: SnapshotPosition;
  let binlogOn: boolean;
  try {
    tables = await readCatalog(conn, {
      scope: opts.scope,
      only: opts.only,
      rename: opts.rename,
      skipSchemas: [opts.controlSchema],
    });
    if (tables.length === 0) throw new LoadError('LOAD_NO_TABLES', 'no source table is in scope', 2);
    const renamed = tables.filter((t) => t.target.table !== t.source.table);
    if (renamed.length > 0) {
      throw new LoadError(
        'LOAD_UNSUPPORTED',
        `--method mysqldump cannot rename tables (${renamed.map((t) => qualifiedName(t.source)).join(', ')}): use --method copy`,
        2,
      );
    }
    const schemas = [...new Set(tables.map((t) => t.source.schema))];
    const [r] = await conn.query(
      {
        sql: `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${schemas.map(() => '?').join(', ')})`,
        rowsAsArray: true,
      },
      schemas,
    );
    allInSchemas = (r as unknown as unknown[][]).map((x) => String(x[0]));
    binlogOn = (await scalar(conn, 'SELECT @@log_bin')) === '1';
    // Read before the dump's snapshot, so at or before it: reconciling from here misses nothing.
    const { time, reconcileFrom, timeZone } = await snapshotTimes(conn);
    position = {
      time,
      reconcileFrom,
      timeZone,
      binlog: null,
      gtidBinlogPos: null,
      gtidCurrentPos: null,
      lock: 'none',
    };
  } finally {
    conn.destroy();
  }

  const chosen = new Set(tables.map((t) => qualifiedName(t.source)));
  const schemas = [...new Set(tables.map((t) => t.source.schema))];
  const src = connectionArgs(opts.source);
  const dst = connectionArgs(opts.target);
  const dumpArgs = [
    ...src.args,
    '--single-transaction',
    '--quick',
    '--hex-blob',
    '--default-character-set=utf8mb4',
    '--skip-add-drop-table',
    '--skip-add-locks',
    '--insert-ignore',
    ...(binlogOn ? ['--master-data=2', '--gtid'] : []),
    '--databases',
    ...schemas,
    ...allInSchemas.filter((t) => !chosen.has(t)).map((t) => `--ignore-table=${t}`),
  ];
  const command = `${dumpTool} ${dumpArgs.filter((a) => !a.startsWith('--ignore-table')).join(' ')} | ${client}`;
  const guard = opts.fastDurability ? await DurabilityGuard.relax(opts.target, opts.stateDir) : undefined;
  const display =
    opts.display ?? new ProgressDisplay(opts.progress ?? { write: () => undefined }, { unit: 'bytes' });
  const started = Date.now();
  const dump = spawn(dumpTool, dumpArgs, { env: src.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn(client, [...dst.args, '--default-character-set=utf8mb4', '--batch'], {
    env: dst.env,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  const dumpErr = collect(dump);
  const loadErr = collect(load);
  const kill = (): void => {
    dump.kill('SIGTERM');
    load.kill('SIGTERM');
  };
  opts.signal.addEventListener('abort', kill);
  const filter = new DumpFilter(opts.rename.schemas);
  const estimate = tables.reduce((n, t) => n + t.bytesEstimate, 0);
  display.start('dump', estimate);
  let seen = 0;
  filter.on('data', () => {
    // Bytes of SQL: the dump's rows are not counted.
    display.add('dump', 0, filter.bytes - seen);
    seen = filter.bytes;
  });
  try {
    const speedUps = [
      "SET SESSION time_zone = '+00:00';",
      ...(opts.speedUps
        ? ['SET SESSION unique_checks = 0, foreign_key_checks = 0;', 'SET SESSION sql_log_bin = 0;']
        : []),
    ];
    load.stdin!.write(`${speedUps.join('\n')}\n`);
    const dumpExit = once(dump, 'exit');
    const loadExit = once(load, 'exit');
    await pipeline(dump.stdout!, filter, load.stdin!).catch(() => undefined);
    const [[dumpCode], [loadCode]] = await Promise.all([dumpExit, loadExit]);
    if (opts.signal.aborted) throw new LoadError('LOAD_ABORTED', 'load interrupted');
    if (dumpCode !== 0)
      throw new LoadError('LOAD_TOOL_FAILED', `${dumpTool} failed (exit ${dumpCode}): ${dumpErr()}`);
    if (loadCode !== 0)
      throw new LoadError('LOAD_TOOL_FAILED', `${client} failed (exit ${loadCode}): ${loadErr()}`);
  } finally {
    opts.signal.removeEventListener('abort', kill);
    display.finish('dump');
    display.stop();
    await guard?.restore();
  }
  const seconds = (Date.now() - started) / 1000;
  const snapshot: SnapshotPosition = {
    ...position,
    binlog: filter.position.binlog,
    gtidBinlogPos: filter.position.gtid,
    gtidCurrentPos: filter.position.gtid,
  };
  await writeSnapshotRecord(opts.stateDir, {
    version: 1,
    method: 'mysqldump',
    source: serverLabel(opts.source),
    target: serverLabel(opts.target),
    snapshot,
    runs: [snapshot],
    tables: [...chosen],
    completedAt: new Date().toISOString(),
  });
  return { method: 'mysqldump', tables: tables.length, bytes: filter.bytes, seconds, snapshot, command };
}

export function dumpSummaryText(s: DumpSummary): string {
  const p = s.snapshot;
  return [
    '',
    `${s.command}`,
    `${s.tables} tables, ${formatBytes(s.bytes)} of SQL in ${formatDuration(s.seconds)} (${formatBytes(s.seconds > 0 ? s.bytes / s.seconds : 0)}/s)`,
    `snapshot: at or after ${p.time.serverLocal} (${p.timeZone}), binlog ${p.binlog ? `${p.binlog.file}:${p.binlog.position}` : 'off'}` +
      `${p.gtidBinlogPos ? `, gtid ${p.gtidBinlogPos}` : ''}; reconcile from ${p.reconcileFrom.serverLocal}`,
    '',
  ].join('\n');
}
