import type { Connection } from 'mysql2/promise';
import type { Scope } from '../routing/scope.js';
import { type RenameMap, targetSchema } from '../sql/rename.js';
import { scalar, serverLabel } from './connect.js';
import { openSnapshot } from './consistent-snapshot.js';
import { deferredName, type TargetDdl, targetDdl } from './create-table.js';
import { DurabilityGuard, restoreLeftover } from './durability-guard.js';
import { isAbort, LoadError } from './load-error.js';
import { LoadState, type ProgressFile, type TableProgress } from './load-state.js';
import { ProgressDisplay, type ProgressSink } from './progress-display.js';
import { qualified, quoteName } from './render-values.js';
import {
  readSnapshotRecord,
  type SnapshotPosition,
  type SnapshotRecord,
  writeSnapshotRecord,
} from './snapshot-record.js';
import { qualifiedName, readCatalog, type SourceTable } from './source-catalog.js';
import {
  type ChunkResult,
  copyKeyedTable,
  copyKeylessTable,
  type KeyRangePart,
  splitByKey,
} from './table-copy.js';
import { openLoadingSession, type TargetSessionNotes } from './target-session.js';

/**
 * The `copy` method: one consistent snapshot of the source, the schema first, then the tables
 * in key-ordered chunks, several tables at once, each chunk's key saved once it has committed.
 */

export interface CopyLoadOptions {
  readonly source: string;
  readonly target: string;
  readonly stateDir: string;
  readonly scope: Scope;
  /** --tables: further narrows the scope. */
  readonly only: Scope | undefined;
  readonly rename: RenameMap;
  /** tandem's own control schema, never copied. */
  readonly controlSchema: string;
  readonly parallel: number;
  readonly resume: boolean;
  readonly fastDurability: boolean;
  readonly deferIndexes: boolean;
  readonly signal: AbortSignal;
  /** Largest INSERT in bytes (default 4 MiB, and at most a quarter of the target's max_allowed_packet). */
  readonly statementBytes?: number;
  /** Notes and warnings for the operator, one line each. */
  readonly say: (line: string) => void;
  /** Where the progress display writes (stderr for `tandem load`); nowhere when absent. */
  readonly progress?: ProgressSink;
  /** A display made by the caller, who reads its snapshot() (the proxy's load job); else one on `progress`. */
  readonly display?: ProgressDisplay;
  /** After each committed chunk (tests stop a load part-way with it). */
  readonly onChunk?: (table: string, progress: Readonly<TableProgress>) => void;
}

export interface TableSummary {
  readonly table: string;
  readonly target: string;
  readonly rows: number;
  readonly kept: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly keyless: boolean;
}

export interface LoadSummary {
  readonly method: 'copy';
  readonly tables: readonly TableSummary[];
  readonly rows: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly snapshot: SnapshotPosition;
  readonly notes: readonly string[];
}

interface Prepared {
  readonly tables: SourceTable[];
  readonly ddl: Map<string, TargetDdl>;
  readonly databases: Map<string, string>;
  readonly skipped: string[];
}

const DEFAULT_STATEMENT_BYTES = 4 * 1024 * 1024;

async function rows(conn: Connection, sql: string, values: unknown[] = []): Promise<unknown[][]> {
  const [r] = await conn.query({ sql, rowsAsArray: true }, values);
  return r as unknown as unknown[][];
}

/** Catalog, CREATE statements, and what is not copied; run while DDL is held off. */
async function prepare(conn: Connection, opts: CopyLoadOptions): Promise<Prepared> {
  const tables = await readCatalog(conn, {
    scope: opts.scope,
    only: opts.only,
    rename: opts.rename,
    skipSchemas: [opts.controlSchema],
  });
  const ddl = new Map<string, TargetDdl>();
  for (const t of tables) {
    const [r] = await rows(conn, `SHOW CREATE TABLE ${qualified(t.source.schema, t.source.table)}`);
    const create = String(r?.[1] ?? '');
    const autoInc = /^\s+`((?:[^`]|``)*)` [^\n]*\bAUTO_INCREMENT\b/m.exec(create)?.[1]?.replace(/``/g, '`');
    ddl.set(qualifiedName(t.source), targetDdl(create, t, opts.rename, opts.deferIndexes, autoInc));
  }
  const databases = new Map<string, string>();
  for (const schema of new Set(tables.map((t) => t.source.schema))) {
    const [r] = await rows(conn, `SHOW CREATE DATABASE ${quoteName(schema)}`);
    const create = String(r?.[1] ?? '');
    const options = /\/\*!40100 (.*)\*\/|DEFAULT CHARACTER SET .*/.exec(create);
    databases.set(schema, options?.[1] ?? options?.[0] ?? '');
  }
  const skipped: string[] = [];
  const schemas = [...databases.keys()];
  if (schemas.length > 0) {
    const marks = schemas.map(() => '?').join(', ');
    const counts = await rows(
      conn,
      `SELECT 'views', COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (${marks})
       UNION ALL SELECT 'triggers', COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${marks})
       UNION ALL SELECT 'routines', COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${marks})
       UNION ALL SELECT 'events', COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${marks})`,
      [...schemas, ...schemas, ...schemas, ...schemas],
    );
    for (const [what, n] of counts) if (Number(n) > 0) skipped.push(`${Number(n)} ${String(what)}`);
  }
  return { tables, ddl, databases, skipped };
}

/**
 * Checks the state dir before anything is touched: resume what is there, or refuse to clobber it.
 * Also run by the proxy's load job before it answers, so that a refusal is the request's answer.
 */
export async function priorState(
  opts: Pick<CopyLoadOptions, 'stateDir' | 'resume' | 'source' | 'target'>,
): Promise<ProgressFile | undefined> {
  const prior = await LoadState.read(opts.stateDir);
  const file = LoadState.path(opts.stateDir);
  if (opts.resume) {
    if (!prior)
      throw new LoadError(
        'LOAD_NOTHING_TO_RESUME',
        `--resume: no load to resume (${file} does not exist)`,
        2,
      );
    if (prior.source !== serverLabel(opts.source) || prior.target !== serverLabel(opts.target)) {
      throw new LoadError(
        'LOAD_RESUME_MISMATCH',
        `--resume: ${file} is a load from ${prior.source} to ${prior.target}, not from ` +
          `${serverLabel(opts.source)} to ${serverLabel(opts.target)}`,
        2,
      );
    }
    return prior;
  }
  if (prior && prior.finishedAt === null) {
    const all = Object.values(prior.tables);
    throw new LoadError(
      'LOAD_UNFINISHED_RUN',
      `a load started ${prior.startedAt} did not finish (${all.filter((t) => t.done).length} of ${all.length} ` +
        `tables done): run with --resume to carry on, or remove ${file} to start over`,
      2,
    );
  }
  return undefined;
}

async function targetStartedAt(conn: Connection): Promise<string> {
  return (
    (await scalar(
      conn,
      "SELECT DATE_FORMAT(NOW() - INTERVAL VARIABLE_VALUE SECOND, '%Y-%m-%dT%H:%i:%s') FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'",
    )) ?? ''
  );
}

export async function copyLoad(opts: CopyLoadOptions): Promise<LoadSummary> {
  const notes: string[] = [];
  const note = (line: string): void => {
    notes.push(line);
    opts.say(line);
  };
  const leftover = await restoreLeftover(opts.target, opts.stateDir);
  if (leftover) note(`restored target settings that a killed load had relaxed: ${JSON.stringify(leftover)}`);
  const prior = await priorState(opts);
  const started = Date.now();
  const guard = opts.fastDurability ? await DurabilityGuard.relax(opts.target, opts.stateDir) : undefined;
  const internal = new AbortController();
  const onAbort = (): void => internal.abort();
  opts.signal.addEventListener('abort', onAbort);
  const writers: Connection[] = [];
  let readers: Connection[] = [];
  let display: ProgressDisplay | undefined;
  try {
    if (guard)
      note('--fast-durability: innodb_flush_log_at_trx_commit = 0 and sync_binlog = 0 until the load ends');
    const workers = Math.max(1, opts.parallel);
    const snap = await openSnapshot(opts.source, workers, (conn) => prepare(conn, opts));
    readers = snap.readers;
    const { tables, ddl, databases, skipped } = snap.prepared;
    if (tables.length === 0) throw new LoadError('LOAD_NO_TABLES', 'no source table is in scope', 2);
    const sessionNotes: TargetSessionNotes = { binlogKept: false };
    const admin = await openLoadingSession(opts.target, sessionNotes);
    writers.push(admin);
    if (sessionNotes.binlogKept)
      note('the target user may not set sql_log_bin: the load is written to the target binary log too');
    if (skipped.length > 0)
      note(
        `not copied (tables only): ${skipped.join(', ')}; copy them with mariadb-dump --no-data --triggers --routines --events`,
      );
    for (const t of tables) {
      if (t.engine.toLowerCase() !== 'innodb')
        note(
          `${qualifiedName(t.source)} is ${t.engine}: not transactional, so its copy is not part of the snapshot`,
        );
      if (t.key.length === 0)
        note(
          `${qualifiedName(t.source)} has no primary key nor NOT NULL unique key: copied whole in one scan and ` +
            'one target transaction (slower, not resumable part-way, replaces the target copy)',
        );
    }

    // Schema first, so that dual writes find their tables as early as possible.
    for (const [schema, options] of databases) {
      await admin.query(
        `CREATE DATABASE IF NOT EXISTS ${quoteName(targetSchema(opts.rename, schema))} ${options}`,
      );
    }
    const existing = new Set(
      (
        await rows(
          admin,
          `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${tables
            .map(() => '?')
            .join(', ')})`,
          tables.map((t) => t.target.schema),
        )
      ).map((r) => String(r[0])),
    );
    const data: ProgressFile = prior ?? {
      version: 1,
      method: 'copy',
      source: serverLabel(opts.source),
      target: serverLabel(opts.target),
      startedAt: new Date().toISOString(),
      fastDurability: opts.fastDurability,
      targetStartedAt: '',
      finishedAt: null,
      tables: {},
    };
    const nowStarted = await targetStartedAt(admin);
    if (prior?.fastDurability && prior.targetStartedAt !== '' && prior.targetStartedAt !== nowStarted) {
      // Commits of the last second before a crash may be gone although the checkpoint names them.
      note(
        'the target restarted since the last run under --fast-durability: every table is checked from its start',
      );
      for (const t of Object.values(data.tables)) {
        t.lastKey = null;
        t.done = false;
        delete t.parts;
      }
    }
    data.fastDurability ||= opts.fastDurability;
    data.targetStartedAt = nowStarted;
    for (const t of tables) {
      const name = qualifiedName(t.source);
      const targetFull = qualifiedName(t.target);
      const d = ddl.get(name)!;
      const created = !existing.has(targetFull);
      if (created) await admin.query(d.create);
      else if (!prior?.tables[name])
        note(`${targetFull} exists on the target: kept, rows inserted where absent`);
      data.tables[name] ??= {
        target: targetFull,
        lastKey: null,
        rows: 0,
        kept: 0,
        done: false,
        created,
        deferred: created ? [...d.deferred] : [],
        indexesAdded: !created || d.deferred.length === 0,
      };
    }
    const state = await LoadState.create(opts.stateDir, data);
    const before = prior ? await readSnapshotRecord(opts.stateDir) : undefined;
    const record: SnapshotRecord = {
      version: 1,
      method: 'copy',
      source: data.source,
      target: data.target,
      snapshot: before?.snapshot ?? snap.position,
      runs: [...(before?.runs ?? []), snap.position],
      tables: tables.map((t) => qualifiedName(t.source)),
      completedAt: null,
    };
    await writeSnapshotRecord(opts.stateDir, record);

    const maxPacket = Number((await scalar(admin, 'SELECT @@max_allowed_packet')) ?? 16 * 1024 * 1024);
    const sizes = {
      statementChars: Math.min(opts.statementBytes ?? DEFAULT_STATEMENT_BYTES, Math.floor(maxPacket / 4)),
    };
    display = opts.display ?? new ProgressDisplay(opts.progress ?? { write: () => undefined });
    const pending = tables
      .filter(
        (t) =>
          !data.tables[qualifiedName(t.source)]!.done || !data.tables[qualifiedName(t.source)]!.indexesAdded,
      )
      .sort((a, b) => b.bytesEstimate - a.bytesEstimate);
    // A table that holds more than one worker's fair share of the rows is split by key range
    // into as many parts as shares, so that one big table is not copied by one worker while the
    // others idle. Tables of about equal size keep one worker each: splitting them only makes
    // workers contend for the same indexes. Only a table not begun before is split: a resumed
    // one keeps the shape its checkpoint has.
    const share =
      pending.reduce((n, t) => n + (data.tables[qualifiedName(t.source)]!.done ? 0 : t.rowsEstimate), 0) /
      workers;
    for (const t of pending) {
      const p = data.tables[qualifiedName(t.source)]!;
      if (workers < 2 || p.done || p.parts || p.lastKey !== null || t.key.length === 0) continue;
      const shares = Math.min(workers, Math.floor(t.rowsEstimate / Math.max(share, 1)));
      const parts = shares >= 2 ? await splitByKey(readers[0]!, t, shares) : undefined;
      if (parts) p.parts = parts;
    }
    await state.save();
    /** Work for one worker: a whole table, or one part of a split one. */
    type Unit = { readonly table: SourceTable; readonly part: KeyRangePart | undefined };
    const queue: Unit[] = pending.flatMap((t): Unit[] => {
      const parts = data.tables[qualifiedName(t.source)]!.parts;
      const open = parts?.filter((part) => !part.done) ?? [];
      // A split table whose parts are all done still needs its deferred indexes: one unit.
      return open.length > 0 ? open.map((part) => ({ table: t, part })) : [{ table: t, part: undefined }];
    });
    /** Per table, across its parts: when its first part began, and what its parts copied. */
    const progress = new Map<
      string,
      { started: number; bytes: number; warnings: number; firstWarning?: string }
    >();
    const summaries: TableSummary[] = [];
    for (const t of tables) {
      const p = data.tables[qualifiedName(t.source)]!;
      const finished = p.done && p.indexesAdded;
      display.plan(qualifiedName(t.source), t.rowsEstimate, { rows: p.rows, done: finished });
      if (finished)
        summaries.push({
          table: qualifiedName(t.source),
          target: p.target,
          rows: p.rows,
          kept: p.kept,
          bytes: 0,
          seconds: 0,
          keyless: t.key.length === 0,
        });
    }
    for (let i = 1; i < workers; i++) writers.push(await openLoadingSession(opts.target, sessionNotes));

    const worker = async (reader: Connection, writer: Connection): Promise<void> => {
      for (let unit = queue.shift(); unit; unit = queue.shift()) {
        if (internal.signal.aborted) return;
        const t = unit.table;
        const part = unit.part;
        const name = qualifiedName(t.source);
        const p = data.tables[name]!;
        let acc = progress.get(name);
        if (!acc) {
          acc = { started: Date.now(), bytes: 0, warnings: 0 };
          progress.set(name, acc);
          display!.start(name, t.rowsEstimate, p.rows);
        }
        const tally = acc;
        if (!p.done) {
          const committed = async (c: ChunkResult): Promise<void> => {
            if (t.key.length === 0) {
              p.rows = c.rows;
              p.kept = c.rows - c.inserted;
              p.done = true;
            } else {
              p.rows += c.rows;
              p.kept += c.rows - c.inserted;
              if (part) part.lastKey = c.lastKey;
              else p.lastKey = c.lastKey;
            }
            tally.bytes += c.bytes;
            display!.add(name, c.rows, c.bytes);
            await state.save();
            opts.onChunk?.(name, p);
          };
          const warned = (messages: string[]): void => {
            if (!p.created) {
              // A table that was there before may differ from the source's: a converted value
              // would be a silent change, so the table fails instead.
              throw new LoadError(
                'LOAD_VALUE_CONVERTED',
                `${p.target} (created before this load) changed values on insert: ${messages.join('; ')}`,
              );
            }
            tally.warnings += messages.length;
            tally.firstWarning ??= messages[0];
          };
          const hooks = { signal: internal.signal, committed, warned };
          if (t.key.length === 0) await copyKeylessTable(reader, writer, t, sizes, hooks);
          else if (part) {
            await copyKeyedTable(reader, writer, t, part.lastKey, sizes, hooks, part.upTo ?? undefined);
            part.done = true;
            p.done = p.parts!.every((x) => x.done);
          } else {
            await copyKeyedTable(reader, writer, t, p.lastKey, sizes, hooks);
            p.done = true;
          }
          await state.save();
        }
        // The other parts' workers finish the table.
        if (!p.done) continue;
        if (!p.indexesAdded) {
          await addDeferredIndexes(writer, t, p.deferred);
          p.indexesAdded = true;
          await state.save();
        }
        display!.finish(name);
        if (tally.warnings > 0)
          note(
            `${name}: values that only a lax sql_mode accepts were loaded as the source holds them ` +
              `(${tally.warnings} warnings, e.g. ${tally.firstWarning})`,
          );
        summaries.push({
          table: name,
          target: p.target,
          rows: p.rows,
          kept: p.kept,
          bytes: tally.bytes,
          seconds: (Date.now() - tally.started) / 1000,
          keyless: t.key.length === 0,
        });
      }
    };
    const results = await Promise.allSettled(
      readers.map((reader, i) =>
        worker(reader, writers[i]!).catch((err: unknown) => {
          internal.abort();
          throw err;
        }),
      ),
    );
    // The cause, not the other workers' "interrupted" that it set off.
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const cause = failures.find((r) => !isAbort(r.reason)) ?? failures[0];
    if (cause) throw cause.reason;
    if (opts.signal.aborted) throw new LoadError('LOAD_ABORTED', 'load interrupted');
    data.finishedAt = new Date().toISOString();
    await state.save();
    record.completedAt = data.finishedAt;
    await writeSnapshotRecord(opts.stateDir, record);
    const seconds = (Date.now() - started) / 1000;
    const ordered = tables.map((t) => summaries.find((s) => s.table === qualifiedName(t.source))!);
    return {
      method: 'copy',
      tables: ordered,
      rows: ordered.reduce((n, s) => n + s.rows, 0),
      bytes: ordered.reduce((n, s) => n + s.bytes, 0),
      seconds,
      snapshot: record.snapshot,
      notes,
    };
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    display?.stop();
    for (const r of readers) r.destroy();
    for (const w of writers) w.destroy();
    await guard?.restore();
  }
}

/** One ALTER TABLE for all of a table's deferred indexes, less those a killed run already added. */
async function addDeferredIndexes(
  writer: Connection,
  t: SourceTable,
  clauses: readonly string[],
): Promise<void> {
  if (clauses.length === 0) return;
  const present = new Set(
    (
      await rows(
        writer,
        `SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
         UNION SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
        [t.target.schema, t.target.table, t.target.schema, t.target.table],
      )
    ).map((r) => String(r[0])),
  );
  const missing = clauses.filter((c) => !present.has(deferredName(c) ?? ''));
  if (missing.length === 0) return;
  await writer.query(`ALTER TABLE ${qualified(t.target.schema, t.target.table)} ${missing.join(', ')}`);
}
