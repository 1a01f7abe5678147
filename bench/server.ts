import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstance, type MariaDbInstance } from '../src/sandbox/mariadb-instance.js';

/**
 * The benchmark's own MariaDB server, in a temporary folder, never the system one. Durability
 * is relaxed (redo log flushed once a second) so that disk syncs do not hide a proxy's cost;
 * the buffer pool holds the whole data set, so that reads are served from memory.
 */

export const BENCH_SERVER_ARGS = [
  '--max-connections=3000',
  '--innodb-buffer-pool-size=1G',
  '--innodb-flush-log-at-trx-commit=2',
  '--table-open-cache=4000',
  // A result read slowly on purpose takes longer than the default 10 s, and the server would
  // then set SERVER_QUERY_WAS_SLOW in its final EOF packet, which differs from a fast read.
  '--long-query-time=100000',
];

export interface BenchServer {
  readonly instance: MariaDbInstance;
  /** The temporary folder that holds the server and every proxy's config and log. */
  readonly dir: string;
  stop(opts: { keep: boolean }): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-bench-'));
  const instance = await createInstance({ baseDir: dir, name: 'mariadb', serverArgs: BENCH_SERVER_ARGS });
  await instance.start();
  return {
    instance,
    dir,
    async stop({ keep }) {
      await instance.stop();
      if (keep) process.stderr.write(`bench: kept ${dir}\n`);
      else await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function serverVersion(instance: MariaDbInstance): Promise<string> {
  const rows = await instance.query<{ v: string }[]>('SELECT VERSION() AS v');
  return rows[0]?.v ?? 'unknown';
}
