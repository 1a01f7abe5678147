import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Mode, mergeConfig, validateConfig } from '../config.js';
import { type RunningProxy, startProxy } from '../index.js';
import type { Logger } from '../log.js';
import { createInstance, freePort, isPortFree, type MariaDbInstance } from './mariadb-instance.js';
import { SAMPLE_DATABASE, sourceSampleSql, targetSampleSql } from './sample-schema.js';

/**
 * `tandem sandbox`: a source and a target MariaDB server under one folder, the sample schema
 * `shop` (rows on the source, empty tables on the target), and the proxy in front of them in
 * mode `source`. A second run reuses the servers, their data and their ports.
 */

export interface SandboxOptions {
  /** Folder for both servers, their ports (ports.json) and the proxy's state. */
  readonly dir?: string | undefined;
  /** Proxy MySQL listener HOST:PORT, default 127.0.0.1:6033. */
  readonly listen?: string | undefined;
  /** Admin HTTP HOST:PORT, default 127.0.0.1:6034. */
  readonly admin?: string | undefined;
  readonly logger: Logger;
  /** Mode the proxy starts in (default source). */
  readonly mode?: Mode | undefined;
  /** Stop everything and exit 0 on SIGINT/SIGTERM (default true; tests call close() instead). */
  readonly handleSignals?: boolean;
  /** Where the connection instructions go (default stdout). */
  readonly print?: (text: string) => void;
}

export interface RunningSandbox {
  readonly source: MariaDbInstance;
  readonly target: MariaDbInstance;
  readonly proxy: RunningProxy;
  /** Closes the proxy, then stops both servers cleanly. */
  close(): Promise<void>;
}

interface SandboxPorts {
  source?: number;
  target?: number;
}

/** Written once the sample schema is in; without it a half-done first run is loaded again. */
const LOADED_MARKER = 'sample-loaded';

export async function runSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  const { logger } = options;
  const dir = resolve(options.dir ?? '.tandem/sandbox');
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  await mkdir(dir, { recursive: true });

  const ports = await choosePorts(dir);
  const source = await createInstance({ baseDir: dir, name: 'source', port: ports.source });
  const target = await createInstance({ baseDir: dir, name: 'target', port: ports.target });
  const servers = [source, target];
  let proxy: RunningProxy | undefined;
  try {
    logger.info({ dir, source: source.port, target: target.port }, 'starting sandbox servers');
    await Promise.all(servers.map((s) => s.start()));
    await loadSampleOnce(dir, source, target, logger);

    const config = validateConfig(
      mergeConfig(
        {
          source: source.url,
          target: target.url,
          mode: options.mode ?? 'source',
          stateDir: join(dir, 'state'),
        },
        { listen: options.listen, admin: options.admin },
      ),
    );
    proxy = await startProxy(config, logger);
    print(instructions(proxy, source, target));
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.stop()));
    throw err;
  }

  const running = proxy;
  let closing: Promise<void> | undefined;
  const sandbox: RunningSandbox = {
    source,
    target,
    proxy: running,
    close() {
      closing ??= (async () => {
        try {
          await running.close();
        } finally {
          await Promise.all(servers.map((s) => s.stop()));
        }
      })();
      return closing;
    },
  };
  if (options.handleSignals ?? true) exitOnSignal(sandbox, logger);
  return sandbox;
}

/** The ports of the last run when they are still free, so saved client commands keep working. */
async function choosePorts(dir: string): Promise<Required<SandboxPorts>> {
  const file = join(dir, 'ports.json');
  let saved: SandboxPorts = {};
  try {
    saved = JSON.parse(await readFile(file, 'utf8')) as SandboxPorts;
  } catch {
    // first run, or an unreadable file: fresh ports
  }
  const pick = async (port: number | undefined, avoid: number): Promise<number> => {
    if (port && port !== avoid && (await isPortFree(port))) return port;
    let fresh = await freePort();
    while (fresh === avoid) fresh = await freePort();
    return fresh;
  };
  const source = await pick(saved.source, 0);
  const target = await pick(saved.target, source);
  await writeFile(file, `${JSON.stringify({ source, target }, null, 2)}\n`);
  return { source, target };
}

async function loadSampleOnce(
  dir: string,
  source: MariaDbInstance,
  target: MariaDbInstance,
  logger: Logger,
): Promise<void> {
  const marker = join(dir, LOADED_MARKER);
  if (existsSync(marker)) {
    logger.info('reusing sandbox data from the last run');
    return;
  }
  for (const [server, statements] of [
    [source, sourceSampleSql()],
    [target, targetSampleSql()],
  ] as const) {
    await server.query(`DROP DATABASE IF EXISTS ${SAMPLE_DATABASE}`);
    for (const sql of statements) await server.query(sql);
  }
  await writeFile(marker, `${new Date().toISOString()}\n`);
  logger.info(
    { database: SAMPLE_DATABASE },
    'sample schema loaded (rows on the source, empty on the target)',
  );
}

function instructions(proxy: RunningProxy, source: MariaDbInstance, target: MariaDbInstance): string {
  return [
    '',
    `tandem sandbox is running (mode: ${proxy.modes.mode}).`,
    '',
    `  through the proxy:  mariadb -h ${proxy.host} -P ${proxy.port} -u root ${SAMPLE_DATABASE}`,
    `  source directly:    mariadb -h ${source.host} -P ${source.port} -u root ${SAMPLE_DATABASE}`,
    `  target directly:    mariadb -h ${target.host} -P ${target.port} -u root ${SAMPLE_DATABASE}`,
    `  status:             node bin/tandem.js status --admin 127.0.0.1:${proxy.adminPort}`,
    `  dashboard:          http://127.0.0.1:${proxy.adminPort}/`,
    `  switch mode:        node bin/tandem.js mode set dual-source --admin 127.0.0.1:${proxy.adminPort}`,
    '',
    `Data is kept in ${resolve(source.dir, '..')}. Press Ctrl-C to stop.`,
    '',
  ].join('\n');
}

function exitOnSignal(sandbox: RunningSandbox, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer; the servers are killed on exit.
      logger.warn({ signal }, 'stopping now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping sandbox');
    sandbox.close().then(
      () => {
        logger.info('sandbox stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'sandbox did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
