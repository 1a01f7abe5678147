import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { Scope } from '../routing/scope.js';
import type { LoadSummary } from './copy-load.js';
import type { DumpSummary } from './dump-load.js';
import { isAbort, LoadError } from './load-error.js';
import { ProgressDisplay, type ProgressSink, type ProgressSnapshot } from './progress-display.js';

/**
 * The initial load run inside the proxy (`tandem start`, `POST /load` on the admin port): one
 * load at a time, from the configured source into the configured target, with the config's
 * scope, renames and state directory, exactly as `tandem load` would run it. The job owns the
 * AbortController (`DELETE /load` stops the load the way Ctrl-C stops `tandem load`: chunks in
 * flight finish, the checkpoint is saved, relaxed target settings are restored), the state,
 * and the progress display whose snapshot() the admin API and the metrics read. Progress lines
 * go to the logger. The load's code (and mysql2) is imported on the first load, never at start.
 */

export const JOB_METHODS = ['copy', 'mysqldump'] as const;
export type JobMethod = (typeof JOB_METHODS)[number];

export interface LoadRequest {
  readonly method: JobMethod;
  /** Narrows the config's scope (`schema.table` patterns with `*`). */
  readonly tables: readonly string[] | undefined;
  readonly parallel: number;
  readonly resume: boolean;
  readonly deferIndexes: boolean;
  readonly fastDurability: boolean;
}

export type LoadJobState = 'idle' | 'running' | 'done' | 'failed' | 'stopped';

export interface LoadTableStatus {
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly estimate: number;
  readonly rowsPerSecond: number;
  readonly etaSeconds: number | null;
  readonly done: boolean;
}

export interface LoadStatus {
  readonly state: LoadJobState;
  readonly method: JobMethod | null;
  readonly request: LoadRequest | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** What `estimate` counts: rows (copy) or bytes of SQL (mysqldump, which does not count rows). */
  readonly unit: 'rows' | 'bytes';
  readonly tables: readonly LoadTableStatus[];
  /** As the progress display counts it, with the share done as a percentage. */
  readonly overall: Omit<ProgressSnapshot['overall'], 'fraction'> & { readonly percent: number };
  /** The load's own summary once done (the same as `tandem load` prints). */
  readonly summary: LoadSummary | DumpSummary | null;
  /** Why it failed; null otherwise. */
  readonly error: string | null;
  /** Notes for the operator (skipped objects, kept tables, relaxed settings). */
  readonly notes: readonly string[];
}

/** A request the admin port answers with 400 (bad) or 409 (refused in the current state). */
export class LoadRequestError extends Error {
  override readonly name = 'LoadRequestError';
  constructor(
    message: string,
    readonly status: 400 | 409,
  ) {
    super(message);
  }
}

const FIELDS = ['method', 'tables', 'parallel', 'resume', 'deferIndexes', 'fastDurability'];
/** Fields that only the copy method has. */
const COPY_ONLY = ['parallel', 'resume', 'deferIndexes'];
const MAX_PARALLEL = 64;
const OVERALL_EVERY_MS = 15_000;

function bad(message: string): never {
  throw new LoadRequestError(message, 400);
}

/** The body of POST /load, checked field by field; absent fields take `tandem load`'s defaults. */
export function parseLoadRequest(body: unknown): LoadRequest {
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body))
    bad(`expected a JSON object with any of ${FIELDS.join(', ')}, got ${JSON.stringify(body)}`);
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b))
    if (!FIELDS.includes(key)) bad(`unknown field "${key}": expected any of ${FIELDS.join(', ')}`);
  const method = b.method ?? 'copy';
  if (method === 'mariabackup')
    bad(
      'method: mariabackup copies the whole instance on the source host and restores a stopped target: ' +
        'run `tandem load --method mariabackup` there',
    );
  if (typeof method !== 'string' || !(JOB_METHODS as readonly string[]).includes(method))
    bad(`method: expected one of ${JOB_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
  if (method !== 'copy') {
    const given = COPY_ONLY.filter((k) => b[k] !== undefined);
    if (given.length > 0)
      bad(`${given.join(', ')}: only the copy method has ${given.length > 1 ? 'these' : 'this'}`);
  }
  const tables = b.tables;
  if (
    tables !== undefined &&
    (!Array.isArray(tables) || tables.some((t) => typeof t !== 'string' || t.trim() === ''))
  )
    bad(`tables: expected a list of schema.table patterns, got ${JSON.stringify(tables)}`);
  const parallel = b.parallel ?? 4;
  if (typeof parallel !== 'number' || !Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL)
    bad(`parallel: expected a whole number from 1 to ${MAX_PARALLEL}, got ${JSON.stringify(parallel)}`);
  const flag = (name: string): boolean => {
    const v = b[name] ?? false;
    if (typeof v !== 'boolean') bad(`${name}: expected true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    method: method as JobMethod,
    tables: tables === undefined || (tables as string[]).length === 0 ? undefined : (tables as string[]),
    parallel,
    resume: flag('resume'),
    deferIndexes: flag('deferIndexes'),
    fastDurability: flag('fastDurability'),
  };
}

/** Messages written for `tandem load` name its flags; over the admin port the body's fields stand in. */
function forApi(message: string): string {
  return message
    .replace(/--resume\b/g, '"resume": true')
    .replace(/--method (\w+)/g, '"method": "$1"')
    .replace(/--parallel 1\b/g, '"parallel": 1')
    .replace(/--fast-durability\b/g, 'fastDurability');
}

function errorText(err: unknown): string {
  if (err instanceof LoadError) return forApi(err.message);
  const e = err as { message?: string; sqlMessage?: string };
  return e?.sqlMessage ?? e?.message ?? String(err);
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

interface Run {
  readonly request: LoadRequest;
  readonly controller: AbortController;
  readonly display: ProgressDisplay;
  readonly startedAt: Date;
  readonly notes: string[];
  state: LoadJobState;
  finishedAt: Date | undefined;
  summary: LoadSummary | DumpSummary | null;
  error: string | null;
  done: Promise<void>;
}

export class LoadJob {
  #run: Run | undefined;
  /** Set while a request is checked against the state dir: a second request meanwhile is refused. */
  #starting = false;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  get running(): boolean {
    return this.#starting || this.#run?.state === 'running';
  }

  /** Checks the request, then starts the load and returns at once; the load goes on in the background. */
  async start(body: unknown): Promise<LoadStatus> {
    const request = parseLoadRequest(body);
    const { source, target } = this.config;
    if (!target)
      bad(
        'no target server is configured: start tandem with --target mysql://... (or `target` in the config)',
      );
    if (!source) bad('no source server is configured');
    if (this.running) {
      const r = this.#run?.state === 'running' ? this.#run : undefined;
      throw new LoadRequestError(
        `a load is already running${r ? ` (${r.request.method}, started ${r.startedAt.toISOString()})` : ''}: ` +
          'wait for it, or stop it with DELETE /load',
        409,
      );
    }
    this.#starting = true;
    try {
      await this.#preflight(request, source, target);
    } catch (err) {
      if (err instanceof LoadError) throw new LoadRequestError(forApi(err.message), 409);
      throw err;
    } finally {
      this.#starting = false;
    }
    const run: Run = {
      request,
      controller: new AbortController(),
      display: new ProgressDisplay(this.#sink(request.method), {
        unit: request.method === 'copy' ? 'rows' : 'bytes',
      }),
      startedAt: new Date(),
      notes: [],
      state: 'running',
      finishedAt: undefined,
      summary: null,
      error: null,
      done: Promise.resolve(),
    };
    this.#run = run;
    this.logger.info({ load: request.method, request }, 'load started');
    run.done = this.#execute(run, source, target);
    return this.status();
  }

  /** Stops the running load cleanly and waits until it has (checkpoint saved, settings restored). */
  async stop(): Promise<LoadStatus> {
    const run = this.#run;
    if (run?.state !== 'running')
      throw new LoadRequestError(
        `no load is running (${run ? `the last one is ${run.state}` : 'none has run'})`,
        409,
      );
    this.logger.info({ load: run.request.method }, 'load: stopping after the chunks in flight');
    run.controller.abort();
    await run.done;
    return this.status();
  }

  /** For the proxy's shutdown: stops a running load, as stop() does, and waits for it. */
  async close(): Promise<void> {
    if (this.#run?.state === 'running') await this.stop();
  }

  status(): LoadStatus {
    const run = this.#run;
    const snap: ProgressSnapshot | undefined = run?.display.snapshot();
    const o = snap?.overall;
    return {
      state: run?.state ?? 'idle',
      method: run?.request.method ?? null,
      request: run?.request ?? null,
      startedAt: run?.startedAt.toISOString() ?? null,
      finishedAt: run?.finishedAt?.toISOString() ?? null,
      unit: snap?.unit ?? 'rows',
      tables: (snap?.tables ?? []).map((t) => ({
        table: t.table,
        rows: t.rows,
        bytes: t.bytes,
        estimate: t.estimate,
        rowsPerSecond: Math.round(t.rowsPerSecond),
        etaSeconds: t.etaSeconds === null ? null : round1(t.etaSeconds),
        done: t.done,
      })),
      overall: {
        rows: o?.rows ?? 0,
        bytes: o?.bytes ?? 0,
        estimate: o?.estimate ?? 0,
        rowsPerSecond: Math.round(o?.rowsPerSecond ?? 0),
        bytesPerSecond: Math.round(o?.bytesPerSecond ?? 0),
        etaSeconds: o?.etaSeconds === null || o?.etaSeconds === undefined ? null : round1(o.etaSeconds),
        tablesDone: o?.tablesDone ?? 0,
        tablesTotal: o?.tablesTotal ?? 0,
        elapsedSeconds: round1(
          ((run?.finishedAt?.getTime() ?? Date.now()) - (run?.startedAt.getTime() ?? Date.now())) / 1000,
        ),
        percent: run?.state === 'done' ? 100 : Math.floor((o?.fraction ?? 0) * 100),
      },
      summary: run?.summary ?? null,
      error: run?.error ?? null,
      notes: run ? [...run.notes] : [],
    };
  }

  /** Progress lines, one log record each: a log has no terminal to redraw. */
  #sink(method: JobMethod): ProgressSink {
    return {
      isTTY: false,
      write: (text: string) => {
        for (const line of text.split('\n'))
          if (line.trim() !== '') this.logger.info({ load: method }, line.trim());
      },
    };
  }

  /** What the load itself would refuse before touching anything, checked before POST /load answers. */
  async #preflight(request: LoadRequest, source: string, target: string): Promise<void> {
    if (request.method === 'copy') {
      const { priorState } = await import('./copy-load.js');
      await priorState({ stateDir: this.config.stateDir, resume: request.resume, source, target });
    } else {
      const { findTool } = await import('./tool-path.js');
      if (!findTool(['mariadb-dump', 'mysqldump']) || !findTool(['mariadb', 'mysql']))
        throw new LoadError(
          'LOAD_TOOL_MISSING',
          'the mysqldump method needs mariadb-dump and the mariadb client on the proxy host: use --method copy',
          2,
        );
    }
  }

  async #execute(run: Run, source: string, target: string): Promise<void> {
    const { request, controller } = run;
    const say = (line: string): void => {
      run.notes.push(forApi(line));
      this.logger.info({ load: request.method }, `load: ${line}`);
    };
    const common = {
      source,
      target,
      stateDir: this.config.stateDir,
      scope: new Scope(this.config.scope.include, this.config.scope.exclude),
      only: request.tables ? new Scope(request.tables, []) : undefined,
      rename: this.config.scope.rename,
      controlSchema: this.config.control.schema,
      fastDurability: request.fastDurability,
      signal: controller.signal,
      say,
      display: run.display,
    };
    // The overall line now and then; the display prints each table's own every few seconds.
    const ticker = setInterval(
      () => this.logger.info({ load: request.method }, run.display.overall(false).trim()),
      OVERALL_EVERY_MS,
    );
    ticker.unref();
    try {
      if (request.method === 'copy') {
        const { copyLoad } = await import('./copy-load.js');
        const { summaryText } = await import('./run-load.js');
        const summary = await copyLoad({
          ...common,
          parallel: request.parallel,
          resume: request.resume,
          deferIndexes: request.deferIndexes,
        });
        run.summary = summary;
        this.#logSummary(summaryText(summary), {
          tables: summary.tables.length,
          rows: summary.rows,
          bytes: summary.bytes,
          seconds: summary.seconds,
        });
      } else {
        const { dumpLoad, dumpSummaryText } = await import('./dump-load.js');
        const summary = await dumpLoad({ ...common, speedUps: true });
        run.summary = summary;
        this.#logSummary(dumpSummaryText(summary), {
          tables: summary.tables,
          bytes: summary.bytes,
          seconds: summary.seconds,
        });
      }
      run.state = 'done';
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) {
        run.state = 'stopped';
        this.logger.warn(
          { load: request.method },
          'load stopped; the checkpoint is saved: POST /load with "resume": true carries on',
        );
      } else {
        run.state = 'failed';
        run.error = errorText(err);
        this.logger.error(
          { load: request.method, err: run.error },
          request.method === 'copy'
            ? 'load failed; the checkpoint is saved: fix the cause and POST /load with "resume": true'
            : 'load failed: fix the cause and run it again',
        );
      }
    } finally {
      clearInterval(ticker);
      run.finishedAt = new Date();
      run.display.stop();
    }
  }

  #logSummary(text: string, fields: Record<string, number>): void {
    this.logger.info({ load: this.#run?.request.method, ...fields }, 'load done');
    for (const line of text.split('\n')) if (line.trim() !== '') this.logger.info({ load: 'summary' }, line);
  }
}
