import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';

/**
 * Child processes for the benchmark (proxies under test): spawned with their output in a log
 * file, waited for until they greet like a MySQL server, stopped with SIGTERM, and killed if
 * the benchmark itself dies first.
 */

const execFileAsync = promisify(execFile);

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly log: string;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export function spawnChild(
  name: string,
  command: string,
  args: readonly string[],
  log: string,
  env?: NodeJS.ProcessEnv,
): Child {
  hookExit();
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(command, [...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  live.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
    child.once('error', () => {
      live.delete(child);
      resolve();
    });
  });
  return {
    name,
    pid: child.pid,
    log,
    process: child,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once something on host:port accepts a connection and sends its first bytes (a greeting). */
export async function waitForGreeting(
  host: string,
  port: number,
  timeoutMs = 30_000,
  child?: Child,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (child && child.process.exitCode !== null) {
      throw new Error(`${child.name} exited with code ${child.process.exitCode}; see ${child.log}`);
    }
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port });
        const timer = setTimeout(() => socket.destroy(new Error('no greeting within 2 s')), 2000);
        socket.once('data', () => {
          clearTimeout(timer);
          socket.destroy();
          resolve();
        });
        socket.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        socket.once('close', () => reject(new Error('closed before greeting')));
      });
      return;
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing greeted on ${host}:${port} within ${timeoutMs} ms (last: ${last})`);
}

async function openFilesLimit(pid: number | 'self'): Promise<{ soft: number; hard: number }> {
  const text = await readFile(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  const parse = (v: string | undefined): number =>
    v === undefined || v === 'unlimited' ? Infinity : Number(v);
  return { soft: parse(m?.[1]), hard: parse(m?.[2]) };
}

/**
 * Raises a process's soft open-files limit to `wanted` (at most its hard limit) with
 * prlimit(1), as `ulimit -n` would in a shell. Returns the limit in force afterwards.
 */
export async function raiseOpenFilesLimit(pid: number, wanted: number): Promise<number> {
  const { soft, hard } = await openFilesLimit(pid);
  if (soft >= wanted) return soft;
  const target = Math.min(wanted, hard);
  try {
    await execFileAsync('prlimit', [
      `--pid=${pid}`,
      `--nofile=${target}:${hard === Infinity ? 'unlimited' : hard}`,
    ]);
  } catch (err) {
    process.stderr.write(
      `bench: prlimit could not raise the open files limit of ${pid}: ${(err as Error).message}\n`,
    );
  }
  return (await openFilesLimit(pid)).soft;
}

/** VmRSS of a process, in bytes (0 once it is gone). */
export async function rssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return m?.[1] ? Number(m[1]) * 1024 : 0;
}

/** Samples a process's RSS every `intervalMs` until stopped; reports the maximum seen. */
export function sampleRss(
  pid: number,
  intervalMs = 100,
): { stop(): Promise<{ maxBytes: number; samples: number }> } {
  let maxBytes = 0;
  let samples = 0;
  let busy: Promise<void> = Promise.resolve();
  const tick = (): void => {
    busy = rssBytes(pid).then((b) => {
      samples++;
      if (b > maxBytes) maxBytes = b;
    });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      tick();
      await busy;
      return { maxBytes, samples };
    },
  };
}

/** CPU time a process has used so far, in seconds, user and system apart; USER_HZ is 100 on Linux. */
export async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11] ?? 0) / 100, system: Number(fields[12] ?? 0) / 100 };
}

/** CPU time the whole machine has been busy (user, nice, system, irq, softirq), in seconds. */
export async function machineBusySeconds(): Promise<number> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = first
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq) / 100;
}

/** CPU time of this process and of its reaped children (sysbench runs), in seconds. */
export async function selfAndChildrenSeconds(): Promise<number> {
  const text = await readFile('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}
