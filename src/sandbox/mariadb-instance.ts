import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type Connection, type ConnectionOptions, createConnection } from 'mysql2/promise';

/**
 * A private MariaDB server for tests, benchmarks and the sandbox: its own datadir, port and
 * socket, root with an empty password over TCP on 127.0.0.1, never the system server.
 *
 * Datadirs are copied from one template per server version (mariadb-install-db runs once per
 * machine, not once per instance), and every server this process starts is killed when the
 * process exits, so that an aborted test run leaves no server behind.
 */

const execFileAsync = promisify(execFile);

export const SANDBOX_HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;
/** sun_path is 108 bytes on Linux; longer socket paths make mariadbd refuse to start. */
const MAX_SOCKET_PATH = 100;

export type SandboxErrorCode =
  | 'MARIADB_NOT_FOUND'
  | 'MARIADB_INSTALL_FAILED'
  | 'MARIADB_START_FAILED'
  | 'MARIADB_DATADIR_IN_USE';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface InstanceOptions {
  /** Parent folder; the instance lives in baseDir/name (datadir, socket, pid file, error log). */
  readonly baseDir: string;
  readonly name: string;
  /** 0 or undefined: a free port, chosen again on start if it was taken meanwhile. */
  readonly port?: number | undefined;
  /** Extra mariadbd options, after the defaults so that they win: ['--innodb-autoinc-lock-mode=2']. */
  readonly serverArgs?: readonly string[] | undefined;
}

export interface MariaDbBinaries {
  readonly mariadbd: string;
  readonly installDb: string;
}

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin', '/usr/local/mysql/bin'];

function findExecutable(names: readonly string[]): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** Finds mariadbd and mariadb-install-db (TANDEM_MARIADBD / TANDEM_MARIADB_INSTALL_DB override). */
export function findMariaDbBinaries(): MariaDbBinaries {
  const mariadbd = process.env['TANDEM_MARIADBD'] ?? findExecutable(['mariadbd', 'mysqld']);
  const installDb =
    process.env['TANDEM_MARIADB_INSTALL_DB'] ?? findExecutable(['mariadb-install-db', 'mysql_install_db']);
  if (!mariadbd || !installDb) {
    const missing = !mariadbd ? 'mariadbd' : 'mariadb-install-db';
    throw new SandboxError(
      'MARIADB_NOT_FOUND',
      `${missing} was not found in PATH nor in ${SEARCH_DIRS.join(', ')}. ` +
        'Install MariaDB server: `apt-get install -y mariadb-server` on Debian/Ubuntu ' +
        '(`brew install mariadb` on macOS), or set TANDEM_MARIADBD and TANDEM_MARIADB_INSTALL_DB.',
    );
  }
  return { mariadbd, installDb };
}

/** A port that was free a moment ago: listen on port 0, read it, close. */
export function freePort(host = SANDBOX_HOST): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export function isPortFree(port: number, host = SANDBOX_HOST): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen(port, host, () => server.close(() => resolveFree(true)));
  });
}

// --- cleanup on exit -------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killLiveChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
}

/**
 * 'exit' covers a normal end and process.exit(). A signal with no other listener would end the
 * process without 'exit', so then the servers are killed and the signal is raised again with
 * its default action. When the program has its own handler, that handler owns the shutdown.
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killLiveChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      killLiveChildren();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

// --- template datadir ------------------------------------------------------------------------

/** Options that fix the on-disk format, so a template made without them cannot be reused. */
const FORMAT_OPTIONS =
  /^--(innodb[-_]page[-_]size|innodb[-_]data[-_]file[-_]path|lower[-_]case[-_]table[-_]names)=/;

const templates = new Map<string, Promise<string>>();

async function serverVersion(mariadbd: string): Promise<string> {
  const { stdout } = await execFileAsync(mariadbd, ['--no-defaults', '--version']);
  return /Ver\s+(\S+)/.exec(stdout)?.[1]?.replace(/[^\w.-]/g, '_') ?? 'unknown';
}

/** One installed datadir per server version and format options, shared by every process. */
function templateDatadir(bin: MariaDbBinaries, serverArgs: readonly string[]): Promise<string> {
  const formatArgs = serverArgs.filter((a) => FORMAT_OPTIONS.test(a));
  const key = `${bin.mariadbd}\0${bin.installDb}\0${formatArgs.join('\0')}`;
  let template = templates.get(key);
  if (!template) {
    template = installTemplate(bin, formatArgs);
    templates.set(key, template);
    template.catch(() => templates.delete(key));
  }
  return template;
}

async function installTemplate(bin: MariaDbBinaries, formatArgs: readonly string[]): Promise<string> {
  const version = await serverVersion(bin.mariadbd);
  const suffix = formatArgs.length
    ? `-${createHash('sha256').update(formatArgs.join('\0')).digest('hex').slice(0, 8)}`
    : '';
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `tandem-mariadb-template-${version}-u${uid}${suffix}`);
  const ready = join(dir, 'ready');
  if (existsSync(ready)) return join(dir, 'data');

  // Built aside and renamed into place, so a concurrent process sees no half-installed template.
  const work = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(work, { recursive: true });
  const args = [
    '--no-defaults',
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    '--skip-name-resolve',
    `--datadir=${join(work, 'data')}`,
    ...rootUserArgs(),
    '--innodb-log-file-size=48M',
    ...formatArgs,
  ];
  try {
    await execFileAsync(bin.installDb, args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    await rm(work, { recursive: true, force: true });
    throw new SandboxError(
      'MARIADB_INSTALL_FAILED',
      `${bin.installDb} ${args.join(' ')} failed: ${e.message}\n${tail(`${e.stdout ?? ''}${e.stderr ?? ''}`, 30)}`,
    );
  }
  await writeFile(join(work, 'ready'), `${new Date().toISOString()}\n`);
  try {
    await rename(work, dir);
  } catch {
    // Another process won the race; its template is as good as ours.
    await rm(work, { recursive: true, force: true });
    if (!existsSync(ready)) {
      throw new SandboxError('MARIADB_INSTALL_FAILED', `template ${dir} is incomplete; remove it and retry`);
    }
  }
  return join(dir, 'data');
}

function rootUserArgs(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

// --- the instance ----------------------------------------------------------------------------

export class MariaDbInstance {
  readonly name: string;
  readonly host = SANDBOX_HOST;
  readonly dir: string;
  readonly datadir: string;
  readonly errorLog: string;
  readonly pidFile: string;
  readonly socket: string;
  readonly serverArgs: readonly string[];
  #port: number;
  readonly #portChosen: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #paused = false;
  readonly #bin: MariaDbBinaries;

  constructor(
    options: InstanceOptions & { readonly port: number },
    portChosen: boolean,
    bin: MariaDbBinaries,
  ) {
    const { name, baseDir, port, serverArgs = [] } = options;
    this.name = name;
    this.#bin = bin;
    this.dir = resolve(baseDir, name);
    this.datadir = join(this.dir, 'data');
    this.errorLog = join(this.dir, 'error.log');
    this.pidFile = join(this.dir, 'mysqld.pid');
    const socket = join(this.dir, 'mysqld.sock');
    this.socket =
      socket.length <= MAX_SOCKET_PATH
        ? socket
        : join(tmpdir(), `tandem-${createHash('sha256').update(this.dir).digest('hex').slice(0, 16)}.sock`);
    this.#port = port;
    this.#portChosen = portChosen;
    this.serverArgs = serverArgs;
  }

  get port(): number {
    return this.#port;
  }

  /** mysql://root@127.0.0.1:PORT/ */
  get url(): string {
    return `mysql://root@${this.host}:${this.#port}/`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts mariadbd and resolves once it answers `SELECT 1` over TCP. */
  async start(): Promise<void> {
    if (this.#child) return;
    await this.#ensureDatadir();
    await this.#refuseIfDatadirInUse();
    for (let attempt = 1; ; attempt++) {
      if (this.#portChosen && attempt > 1) this.#port = await freePort();
      const logStart = await fileSize(this.errorLog);
      this.#spawn();
      try {
        await this.#waitReady(logStart);
        return;
      } catch (err) {
        await this.kill();
        const log = await readLogSince(this.errorLog, logStart);
        const portTaken = /Address already in use|Bind on TCP\/IP port/.test(log);
        if (portTaken && this.#portChosen && attempt < 3) continue;
        throw err;
      }
    }
  }

  /** Clean shutdown: SIGTERM, then wait for the process to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.ref();
    if (this.#paused) this.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  /** SIGKILL, as if the machine lost power (but the OS keeps its page cache). */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.ref();
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGSTOP: the server keeps its sockets open but answers nothing until resume(). */
  pause(): void {
    if (!this.#child || this.#paused) return;
    this.#child.kill('SIGSTOP');
    this.#paused = true;
    // The signal stops every thread a moment later; a query sent before that would still be
    // answered. Wait (at most 1 s) until the kernel reports the process stopped.
    const pid = this.#child.pid;
    const deadline = Date.now() + 1000;
    const tick = new Int32Array(new SharedArrayBuffer(4));
    while (pid !== undefined && Date.now() < deadline) {
      let state = '';
      try {
        state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '';
      } catch {
        return; // no /proc (not Linux): the signal alone must do
      }
      if (state === 'T' || state === 't') return;
      Atomics.wait(tick, 0, 0, 1);
    }
  }

  resume(): void {
    if (!this.#child || !this.#paused) return;
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  connectionOptions(database?: string): ConnectionOptions {
    return {
      host: this.host,
      port: this.#port,
      user: 'root',
      password: '',
      ...(database === undefined ? {} : { database }),
      multipleStatements: true,
      connectTimeout: 10_000,
    };
  }

  /** A mysql2 connection as root; the caller ends it. */
  connect(database?: string): Promise<Connection> {
    return createConnection(this.connectionOptions(database));
  }

  /** Runs SQL (several statements allowed) on a fresh connection and returns mysql2's rows. */
  async query<T = unknown>(sql: string, params?: readonly unknown[]): Promise<T> {
    const conn = await this.connect();
    try {
      const [rows] = await conn.query(sql, params ? [...params] : undefined);
      return rows as T;
    } finally {
      conn.destroy();
    }
  }

  async #ensureDatadir(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (existsSync(this.datadir)) return;
    const template = await templateDatadir(this.#bin, this.serverArgs);
    const work = `${this.datadir}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    await cp(template, work, { recursive: true });
    await rename(work, this.datadir);
  }

  /** A server left running on this datadir (a crashed earlier run) would corrupt it if shared. */
  async #refuseIfDatadirInUse(): Promise<void> {
    const pid = Number((await readFile(this.pidFile, 'utf8').catch(() => '')).trim());
    if (!pid) return;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(`--datadir=${this.datadir}\0`)) {
      throw new SandboxError(
        'MARIADB_DATADIR_IN_USE',
        `a server (pid ${pid}) is already running on ${this.datadir}; stop it with \`kill ${pid}\` and retry`,
      );
    }
  }

  #spawn(): void {
    const args = [
      '--no-defaults',
      `--datadir=${this.datadir}`,
      `--port=${this.#port}`,
      `--bind-address=${this.host}`,
      `--socket=${this.socket}`,
      `--pid-file=${this.pidFile}`,
      `--log-error=${this.errorLog}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=48M',
      '--max-connections=3000',
      '--max-allowed-packet=256M',
      '--skip-log-bin',
      // what Debian's packaged configuration sets; --no-defaults would otherwise leave latin1
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      ...rootUserArgs(),
      ...this.serverArgs,
    ];
    installExitHooks();
    // Own process group: a terminal's Ctrl-C or Ctrl-Z reaches the program, which stops the
    // server cleanly, instead of reaching the server directly.
    const child = spawn(this.#bin.mariadbd, args, { stdio: 'ignore', detached: true });
    this.#child = child;
    this.#paused = false;
    liveChildren.add(child);
    // Unref'd so that a forgotten stop() does not keep the process alive; the exit hook kills it.
    child.unref();
    this.#exited = new Promise((resolveExit) => {
      const done = (): void => {
        liveChildren.delete(child);
        if (this.#child === child) this.#child = undefined;
        this.#paused = false;
        resolveExit();
      };
      child.once('exit', done);
      child.once('error', done);
    });
  }

  async #waitReady(logStart: number): Promise<void> {
    const child = this.#child!;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = 'no attempt';
    let granted = false;
    let exited = false;
    void this.#exited.then(() => {
      exited = true;
    });
    child.ref();
    try {
      while (Date.now() < deadline) {
        if (exited) break;
        try {
          const conn = await createConnection({ ...this.connectionOptions(), connectTimeout: 2000 });
          try {
            await conn.query('SELECT 1');
            return;
          } finally {
            conn.destroy();
          }
        } catch (err) {
          const e = err as { code?: string; errno?: number; message: string };
          lastError = e.message;
          // 1045 access denied, 1130 host not allowed: root over TCP must work for every caller.
          if ((e.errno === 1045 || e.errno === 1130) && !granted) {
            granted = true;
            await this.#grantRootOverTcp().catch((grantErr: Error) => {
              lastError = `${lastError}; granting root@'%' over the socket failed: ${grantErr.message}`;
            });
            continue;
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.unref();
    }
    const why = exited ? 'mariadbd exited during start' : `no answer within ${READY_TIMEOUT_MS / 1000} s`;
    const log = tail(await readLogSince(this.errorLog, logStart), 30);
    throw new SandboxError(
      'MARIADB_START_FAILED',
      `MariaDB instance ${this.name} on port ${this.#port}: ${why} (last error: ${lastError}).\n` +
        `Tail of ${this.errorLog}:\n${log}`,
    );
  }

  /** Through the unix socket, where root@localhost works, add root@'%' with an empty password. */
  async #grantRootOverTcp(): Promise<void> {
    const conn = await createConnection({ socketPath: this.socket, user: 'root', password: '' });
    try {
      await conn.query("CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY ''");
      await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION");
    } finally {
      conn.destroy();
    }
  }
}

async function fileSize(file: string): Promise<number> {
  return (await stat(file).catch(() => undefined))?.size ?? 0;
}

async function readLogSince(file: string, offset: number): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '(no error log)';
  try {
    const { size } = await handle.stat();
    const start = Math.max(offset, size - 64 * 1024);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Prepares an instance under baseDir/name (its datadir is copied from the template on first
 * start and kept afterwards) without starting it.
 */
export async function createInstance(options: InstanceOptions): Promise<MariaDbInstance> {
  const bin = findMariaDbBinaries();
  const portChosen = !options.port;
  const port = options.port || (await freePort());
  return new MariaDbInstance({ ...options, port }, portChosen, bin);
}
