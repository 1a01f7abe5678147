import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProgressFile } from '../../src/load/load-state.js';

/** `tandem load` as a child process, so that a test can kill it the way an operator's Ctrl-C or an OOM would. */

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
}

export function tandemLoad(args: string[], env: Record<string, string> = {}): Child {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TANDEM_')) clean[k] = v;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'load', ...args], {
    cwd: root,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { process: child, exited };
}

export async function readProgress(stateDir: string): Promise<ProgressFile | undefined> {
  try {
    return JSON.parse(await readFile(join(stateDir, 'load-progress.json'), 'utf8')) as ProgressFile;
  } catch {
    return undefined;
  }
}

/** Polls the checkpoint until `ready` holds (a table part-way, say), or fails after `ms`. */
export async function waitForProgress(
  stateDir: string,
  ready: (p: ProgressFile) => boolean,
  ms = 30_000,
): Promise<ProgressFile> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const p = await readProgress(stateDir);
    if (p && ready(p)) return p;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the load made no progress in ${ms} ms`);
}
