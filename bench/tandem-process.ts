import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, type MariaDbInstance, SANDBOX_HOST } from '../src/sandbox/mariadb-instance.js';
import { type Child, spawnChild, waitForGreeting } from './processes.js';
import { REPO, tandemNodeFlagsFromEnv } from './targets.js';

/** tandem as the benchmarks run it: the built CLI in its own process, between two servers. */
export interface Tandem {
  readonly port: number;
  readonly pid: number;
  readonly stateDir: string;
  readonly child: Child;
}

export async function startTandem(
  mode: 'source' | 'dual-source',
  source: MariaDbInstance,
  target: MariaDbInstance,
  dir: string,
  nodeFlags: readonly string[] = [],
): Promise<Tandem> {
  await mkdir(dir, { recursive: true });
  const port = await freePort(SANDBOX_HOST);
  const admin = await freePort(SANDBOX_HOST);
  const stateDir = join(dir, 'state');
  const child = spawnChild(
    `tandem-${mode}`,
    process.execPath,
    [
      ...tandemNodeFlagsFromEnv(),
      ...nodeFlags,
      join(REPO, 'bin', 'tandem.js'),
      'start',
      '--source',
      source.url,
      '--target',
      target.url,
      '--mode',
      mode,
      '--listen',
      `${SANDBOX_HOST}:${port}`,
      '--admin',
      `${SANDBOX_HOST}:${admin}`,
      '--state-dir',
      stateDir,
      '--log-level',
      'warn',
    ],
    join(dir, 'tandem.log'),
    // Each tandem keeps its own mode: in one control table, the instances would be one fleet,
    // and the one started second would take the first one's mode.
    { TANDEM_CONTROL__SCHEMA: `tandem_control_${mode.replace('-', '_')}` },
  );
  try {
    await waitForGreeting(SANDBOX_HOST, port, 30_000, child);
  } catch (err) {
    await child.stop();
    const tail = (await readFile(child.log, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-15);
    throw new Error(`tandem (${mode}) did not start: ${(err as Error).message}\n${tail.join('\n')}`);
  }
  return { port, pid: child.pid, stateDir, child };
}
