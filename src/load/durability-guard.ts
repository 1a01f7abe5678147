import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectTo, scalar } from './connect.js';

/**
 * --fast-durability: the target stops flushing its redo log at every commit
 * (innodb_flush_log_at_trx_commit = 0) and its binary log at every write (sync_binlog = 0)
 * while the load runs. These are global settings, so they must come back whatever happens:
 * the old values are written to the state dir before the change, restored in `finally` (also
 * after an error or Ctrl-C), and a load that was killed outright leaves the file behind for
 * the next `tandem load` to restore first.
 */

export const DURABILITY_FILE = 'load-durability.json';

const SETTINGS = ['innodb_flush_log_at_trx_commit', 'sync_binlog'] as const;
type Saved = Partial<Record<(typeof SETTINGS)[number], string>>;

function fileOf(stateDir: string): string {
  return join(stateDir, DURABILITY_FILE);
}

async function apply(url: string, values: Saved): Promise<void> {
  const conn = await connectTo(url);
  try {
    for (const [name, value] of Object.entries(values)) {
      if (value !== undefined) await conn.query(`SET GLOBAL ${name} = ${Number(value)}`);
    }
  } finally {
    conn.destroy();
  }
}

/** Restores what an earlier, killed load left relaxed; returns what it restored. */
export async function restoreLeftover(url: string, stateDir: string): Promise<Saved | undefined> {
  let saved: Saved;
  try {
    saved = JSON.parse(await readFile(fileOf(stateDir), 'utf8')) as Saved;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  await apply(url, saved);
  await rm(fileOf(stateDir), { force: true });
  return saved;
}

export class DurabilityGuard {
  #restored = false;

  private constructor(
    private readonly url: string,
    private readonly stateDir: string,
    readonly saved: Saved,
  ) {}

  static async relax(url: string, stateDir: string): Promise<DurabilityGuard> {
    const conn = await connectTo(url);
    const saved: Saved = {};
    try {
      for (const name of SETTINGS) {
        const v = await scalar(conn, `SELECT @@GLOBAL.${name}`);
        if (v !== null) saved[name] = v;
      }
    } finally {
      conn.destroy();
    }
    await mkdir(stateDir, { recursive: true });
    await writeFile(fileOf(stateDir), `${JSON.stringify(saved)}\n`);
    const guard = new DurabilityGuard(url, stateDir, saved);
    await apply(url, { innodb_flush_log_at_trx_commit: '0', sync_binlog: '0' });
    return guard;
  }

  async restore(): Promise<void> {
    if (this.#restored) return;
    await apply(this.url, this.saved);
    this.#restored = true;
    await rm(fileOf(this.stateDir), { force: true });
  }
}
