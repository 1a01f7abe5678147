import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { createInstance, type MariaDbInstance, SANDBOX_HOST } from '../../src/sandbox/mariadb-instance.js';

/**
 * Real MariaDB servers for integration tests. Each test process keeps its servers under
 * os.tmpdir()/tandem-test-<pid>; the folder goes when the process exits, and a later run
 * removes folders (and kills servers) that a killed process left behind.
 */

const DIR_PREFIX = 'tandem-test-';

export interface ServerOptions {
  /** Extra mariadbd options, e.g. ['--innodb-autoinc-lock-mode=2']. */
  readonly serverArgs?: readonly string[];
  /** 0 or undefined: a free port. */
  readonly port?: number;
}

export interface ServerPair {
  readonly source: MariaDbInstance;
  readonly target: MariaDbInstance;
  stop(): Promise<void>;
}

/** A server of the run-wide pair from global-setup.ts: talk to it, never stop or pause it. */
export interface SharedServer {
  readonly host: string;
  readonly port: number;
  /** mysql://root@127.0.0.1:PORT/ */
  readonly url: string;
}

export const testBaseDir = join(tmpdir(), `${DIR_PREFIX}${process.pid}`);

const started = new Set<MariaDbInstance>();
let counter = 0;
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs after mariadb-instance's own hook, which SIGKILLs the servers first.
  process.on('exit', () => rmSync(testBaseDir, { recursive: true, force: true }));
}

/** Starts a server named `name` (made unique within this process) and tracks it for stopAll(). */
export async function startServer(name: string, options: ServerOptions = {}): Promise<MariaDbInstance> {
  installExitHook();
  counter += 1;
  const server = await createInstance({
    baseDir: testBaseDir,
    name: `${name}-${counter}`,
    port: options.port,
    serverArgs: options.serverArgs,
  });
  started.add(server);
  try {
    await server.start();
  } catch (err) {
    started.delete(server);
    await rm(server.dir, { recursive: true, force: true });
    throw err;
  }
  return server;
}

/** A source and a target, started side by side. */
export async function startPair(options: ServerOptions = {}): Promise<ServerPair> {
  const [source, target] = await Promise.all([
    startServer('source', { serverArgs: options.serverArgs }),
    startServer('target', { serverArgs: options.serverArgs }),
  ]);
  return {
    source,
    target,
    stop: () => stopServers(source, target),
  };
}

/** The source and target that global-setup.ts started for the whole run. */
export function sharedPair(): { readonly source: SharedServer; readonly target: SharedServer } {
  const address = (port: number): SharedServer => ({
    host: SANDBOX_HOST,
    port,
    url: `mysql://root@${SANDBOX_HOST}:${port}/`,
  });
  return { source: address(inject('sourcePort')), target: address(inject('targetPort')) };
}

/** Stops the servers cleanly and removes their folders. */
export async function stopServers(...servers: MariaDbInstance[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      await server.stop();
      started.delete(server);
      await rm(server.dir, { recursive: true, force: true });
    }),
  );
}

/**
 * Stops every server this process started through the harness and removes the process's
 * folder (for afterAll; stop servers made with createInstance() directly before it runs).
 */
export async function stopAll(): Promise<void> {
  await stopServers(...started);
  await rm(testBaseDir, { recursive: true, force: true });
}

/**
 * Removes tandem-test-<pid> folders whose process is gone, killing any mariadbd still running
 * from them (a test process that was SIGKILLed cannot clean up after itself).
 */
export function cleanupStaleTestDirs(): void {
  const root = tmpdir();
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(DIR_PREFIX)) continue;
    const pid = Number(entry.slice(DIR_PREFIX.length));
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    const dir = join(root, entry);
    for (const server of safeReaddir(dir)) {
      const pidFile = join(dir, server, 'mysqld.pid');
      if (!existsSync(pidFile)) continue;
      const serverPid = Number(readFileSync(pidFile, 'utf8').trim());
      if (serverPid && isMariaDbOf(serverPid, dir)) {
        try {
          process.kill(serverPid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only a server whose datadir is inside `dir`: a recycled pid may belong to anything. */
function isMariaDbOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--datadir=${dir}/`);
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
