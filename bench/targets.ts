import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../src/sandbox/mariadb-instance.js';
import { type Child, raiseOpenFilesLimit, spawnChild, waitForGreeting } from './processes.js';

/**
 * The endpoints a benchmark measures, all in front of the same MariaDB server: the server
 * itself, a bare node TCP relay, HAProxy in TCP mode, and tandem in mode `source`.
 * Each proxy is its own process, so that its CPU and memory are its own.
 */

const execFileAsync = promisify(execFile);

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const HAPROXY = process.env['HAPROXY'] ?? '/usr/sbin/haproxy';

export const TARGET_NAMES = ['direct', 'tcp-relay', 'haproxy', 'tandem'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface Target {
  readonly name: TargetName;
  readonly host: string;
  readonly port: number;
  /** The proxy's process, or undefined for `direct`. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** The server's process, when it is ours (its CPU is then not counted as another job's). */
  readonly pid?: number | undefined;
}

export interface TargetOptions {
  /** Folder for generated configs, logs and profiles. */
  readonly dir: string;
  /** HAProxy threads (nbthread); 1 compares it with tandem's single event loop. */
  readonly haproxyThreads: number;
  /** Extra node flags for tandem's process, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  readonly tandemNodeFlags?: readonly string[];
  /** Open files tandem may need (two per client connection). */
  readonly tandemOpenFiles?: number;
  /** Another built checkout of tandem to run instead of this one (bench/ab.ts). */
  readonly tandemRoot?: string;
}

/**
 * Node flags for tandem: by default those its shebang and Dockerfile use (a 1 MiB young
 * generation), since `node bin/tandem.js` does not read the shebang. BENCH_TANDEM_NODE_FLAGS
 * replaces them ('' for V8's defaults).
 */
export const TANDEM_NODE_FLAGS = '--max-semi-space-size=1';

export function tandemNodeFlagsFromEnv(): string[] {
  return (process.env['BENCH_TANDEM_NODE_FLAGS'] ?? TANDEM_NODE_FLAGS).split(/\s+/).filter(Boolean);
}

export function haproxyAvailable(): boolean {
  return existsSync(HAPROXY);
}

export async function haproxyVersion(): Promise<string> {
  const { stdout } = await execFileAsync(HAPROXY, ['-v']);
  return stdout.split('\n')[0]?.trim() ?? 'unknown';
}

function fromChild(name: TargetName, host: string, port: number, child: Child): Target {
  return { name, host, port, pid: child.pid, stop: () => child.stop() };
}

async function ready(name: TargetName, host: string, port: number, child: Child): Promise<Target> {
  try {
    await waitForGreeting(host, port, 30_000, child);
  } catch (err) {
    await child.stop();
    const tail = (await readFile(child.log, 'utf8').catch(() => ''))
      .trimEnd()
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`${name} did not start: ${(err as Error).message}\n${tail}`);
  }
  return fromChild(name, host, port, child);
}

export async function startTarget(
  name: TargetName,
  upstream: Upstream,
  opts: TargetOptions,
): Promise<Target> {
  await mkdir(opts.dir, { recursive: true });
  const host = '127.0.0.1';
  if (name === 'direct') {
    return { name, host: upstream.host, port: upstream.port, pid: undefined, stop: async () => {} };
  }
  const port = await freePort(host);
  const log = join(opts.dir, `${name}.log`);
  switch (name) {
    case 'tcp-relay': {
      const child = spawnChild(
        name,
        process.execPath,
        [
          '--import',
          'tsx',
          join(REPO, 'bench', 'tcp-relay.ts'),
          '--listen',
          `${host}:${port}`,
          '--upstream',
          `${upstream.host}:${upstream.port}`,
        ],
        log,
      );
      return ready(name, host, port, child);
    }
    case 'haproxy': {
      const cfg = join(opts.dir, 'haproxy.cfg');
      await writeFile(cfg, haproxyConfig(host, port, upstream, opts.haproxyThreads));
      const child = spawnChild(name, HAPROXY, ['-db', '-f', cfg], log);
      return ready(name, host, port, child);
    }
    case 'tandem': {
      const admin = await freePort(host);
      const stateDir = join(opts.dir, 'tandem-state');
      const child = spawnChild(
        name,
        process.execPath,
        [
          ...tandemNodeFlagsFromEnv(),
          ...(opts.tandemNodeFlags ?? []),
          join(opts.tandemRoot ?? REPO, 'bin', 'tandem.js'),
          'start',
          '--source',
          `mysql://root@${upstream.host}:${upstream.port}/`,
          '--listen',
          `${host}:${port}`,
          '--admin',
          `${host}:${admin}`,
          '--state-dir',
          stateDir,
          '--log-level',
          'warn',
        ],
        log,
      );
      if (opts.tandemOpenFiles) await raiseOpenFilesLimit(child.pid, opts.tandemOpenFiles);
      return ready(name, host, port, child);
    }
  }
}

/** TCP mode, one frontend and one server; timeouts long enough for idle benchmark connections. */
export function haproxyConfig(host: string, port: number, upstream: Upstream, threads: number): string {
  return `global
    maxconn 8000
    nbthread ${threads}
    log stderr format raw local0 err

defaults
    mode tcp
    timeout connect 5s
    timeout client 1h
    timeout server 1h

frontend mysql
    bind ${host}:${port}
    default_backend source

backend source
    server source ${upstream.host}:${upstream.port} maxconn 8000
`;
}
