import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  type Config,
  ConfigError,
  loadConfig,
  MODES,
  type Mode,
  parseServerUrl,
  validateConfig,
} from './config.js';
import { startProxy } from './index.js';
import { createLogger, type Logger } from './log.js';

/**
 * The `tandem` command line. Exit codes: 0 done, 1 runtime failure (a port in use, a server
 * unreachable), 2 usage or configuration error (nothing was started).
 */

const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Modes that write to or read from the target, so a target URL is needed to start in them. */
const MODES_NEEDING_TARGET: ReadonlySet<Mode> = new Set(['dual-source', 'dual-target', 'target']);

interface StartArgs {
  readonly source?: string | undefined;
  readonly target?: string | undefined;
  readonly mode?: string | undefined;
  readonly listen?: string | undefined;
  readonly admin?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly config?: string | undefined;
  readonly logLevel?: string | undefined;
  readonly allowLocalInfile?: boolean | undefined;
  readonly policy?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  /** start: run the initial load (copy) inside the proxy once it listens. */
  readonly load?: boolean | undefined;
}

interface SandboxArgs {
  readonly mode: string;
  readonly dir: string;
  readonly listen: string;
  readonly admin: string;
  readonly logLevel: string;
}

function packageVersion(): string {
  // src/cli.ts and dist/cli.js both sit one level below package.json.
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return (pkg as { version?: string }).version ?? 'unknown';
}

function usageError(message: string): never {
  process.stderr.write(`tandem: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** Only the flags given on the command line, so that they override the file and env layers and no more. */
function flagsFromArgs(args: StartArgs): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  const given = {
    source: args.source,
    target: args.target,
    mode: args.mode,
    listen: args.listen,
    admin: args.admin,
    stateDir: args.stateDir,
    logLevel: args.logLevel,
    allowLocalInfile: args.allowLocalInfile,
    dualWrite: args.policy === undefined ? undefined : { policy: args.policy },
  };
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined) flags[key] = value;
  }
  if (args.tlsCert !== undefined || args.tlsKey !== undefined) {
    const tls: Record<string, string> = {};
    if (args.tlsCert !== undefined) tls['cert'] = args.tlsCert;
    if (args.tlsKey !== undefined) tls['key'] = args.tlsKey;
    flags['tls'] = tls;
  }
  return flags;
}

function loadStartConfig(args: StartArgs): Config {
  let config: Config;
  try {
    config = loadConfig({ file: args.config, env: process.env, flags: flagsFromArgs(args) });
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }
  if (config.source === undefined) {
    usageError(
      'no source server: give --source mysql://user:pass@host:3306/db, set TANDEM_SOURCE, ' +
        'or set `source` in the config file',
    );
  }
  if (config.target === undefined && MODES_NEEDING_TARGET.has(config.mode)) {
    usageError(
      `mode ${config.mode} needs a target server: give --target mysql://user:pass@host:3306/db, ` +
        'set TANDEM_TARGET, or set `target` in the config file',
    );
  }
  return config;
}

/** Where a server is, without its credentials, for logs. */
function serverForLog(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const { host, port, database } = parseServerUrl(url);
  return `${host.includes(':') ? `[${host}]` : host}:${port}${database === undefined ? '' : `/${database}`}`;
}

/**
 * First SIGTERM/SIGINT: stop accepting and let running statements finish until the shutdown
 * deadline. A second signal exits at once.
 */
function onShutdownSignals(logger: Logger, shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    void shutdown(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

async function runStart(args: StartArgs): Promise<void> {
  const config = loadStartConfig(args);
  if (args.load && config.target === undefined)
    usageError('--load needs a target server: give --target mysql://user:pass@host:3306/db');
  const logger = createLogger(config.logLevel);
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  try {
    proxy = await startProxy(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'could not start');
    process.exit(EXIT_RUNTIME);
  }
  logger.info(
    {
      host: proxy.host,
      port: proxy.port,
      admin: config.admin,
      mode: config.mode,
      source: serverForLog(config.source),
      target: serverForLog(config.target),
    },
    'listening',
  );
  if (args.load) {
    // As POST /load {} would: a copy of the config's scope; GET /load follows it, DELETE /load stops it.
    proxy.load.start({}).catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, '--load: the load did not start');
    });
  }
  onShutdownSignals(logger, async (signal) => {
    const deadlineMs = config.timeouts.shutdownMs;
    logger.info({ signal, deadlineMs, connections: proxy.connectionCount() }, 'shutting down');
    // close() enforces the deadline itself; this only guards against it never settling.
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time: exiting');
      process.exit(EXIT_RUNTIME);
    }, deadlineMs + 5000).unref();
    try {
      await proxy.close(deadlineMs);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(EXIT_RUNTIME);
    }
    logger.info('stopped');
    process.exit(0);
  });
}

async function runJournalReplay(args: StartArgs): Promise<void> {
  const config = loadStartConfig(args);
  if (config.target === undefined)
    usageError('journal replay needs a target server: give --target mysql://...');
  const logger = createLogger(config.logLevel);
  const { replayJournal } = await import('./dualwrite/journal-replay.js');
  const result = await replayJournal({
    source: config.source!,
    target: config.target,
    stateDir: config.stateDir,
    logger,
    rename: config.scope.rename,
    pacing: config.verify,
    progress: { out: process.stderr, tty: process.stderr.isTTY === true },
  });
  for (const t of result.tables) {
    process.stdout.write(
      t.error === undefined
        ? `${t.table}: ${t.rowsCompared} rows compared, ${t.differing} differing, ${t.fixed} repaired\n`
        : `${t.table}: not repaired: ${t.error}\n`,
    );
  }
  process.stdout.write(
    `journal: ${result.entries} entries, ${result.fixed} fixed, ${result.remaining} remaining\n`,
  );
  process.exit(result.remaining === 0 ? 0 : EXIT_RUNTIME);
}

interface LoadArgs extends StartArgs {
  readonly tables?: string[] | undefined;
  readonly method: string;
  readonly parallel: number;
  readonly resume?: boolean | undefined;
  readonly fastDurability?: boolean | undefined;
  readonly deferIndexes?: boolean | undefined;
}

async function runLoadCommand(args: LoadArgs): Promise<void> {
  const config = loadStartConfig(args);
  if (config.target === undefined) usageError('load needs a target server: give --target mysql://...');
  if (!Number.isInteger(args.parallel) || args.parallel < 1)
    usageError('--parallel must be a whole number >= 1');
  const { runLoad } = await import('./load/run-load.js');
  const code = await runLoad({
    config: { ...config, source: config.source!, target: config.target },
    method: args.method as 'copy',
    tables: args.tables,
    parallel: args.parallel,
    resume: args.resume === true,
    fastDurability: args.fastDurability === true,
    deferIndexes: args.deferIndexes === true,
  });
  process.exit(code);
}

function loadOptions(y: Argv) {
  return y
    .usage(
      '$0 load --source URL --target URL [options]\n\nCopies the source into the target (the initial load).',
    )
    .option('source', { type: 'string', describe: 'Source server URL (env TANDEM_SOURCE)' })
    .option('target', { type: 'string', describe: 'Target server URL (env TANDEM_TARGET)' })
    .option('tables', {
      type: 'string',
      array: true,
      describe: 'Only these schema.table patterns (`*` wildcard)',
    })
    .option('method', {
      type: 'string',
      choices: ['copy', 'mysqldump', 'mariabackup'],
      default: 'copy',
      describe: 'copy (built in), mysqldump (mariadb-dump | mariadb) or mariabackup (physical)',
    })
    .option('parallel', { type: 'number', default: 4, describe: 'Tables copied at once (copy)' })
    .option('resume', { type: 'boolean', describe: 'Carry on a killed load from its checkpoint' })
    .option('state-dir', { type: 'string', describe: 'Directory for the checkpoint and load-snapshot.json' })
    .option('fast-durability', {
      type: 'boolean',
      describe:
        'innodb_flush_log_at_trx_commit = 0 and sync_binlog = 0 on the target while loading (restored)',
    })
    .option('defer-indexes', { type: 'boolean', describe: 'Add secondary indexes after the data (copy)' })
    .option('config', { type: 'string', describe: 'YAML config file (scope and rename map)' })
    .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'Log level (default info)' });
}

interface VerifyArgs extends StartArgs {
  readonly tables?: string[] | undefined;
  readonly method: string;
  readonly fix?: boolean | undefined;
  readonly follow?: boolean | undefined;
  readonly report?: string | undefined;
  readonly from: string;
  readonly chunkTime?: number | undefined;
  readonly maxRate?: number | undefined;
  readonly overlap?: number | undefined;
  readonly interval?: number | undefined;
  readonly delay?: number | undefined;
}

/** `tandem verify`: exit 0 clean, 1 differences remain, 2 the comparison could not be made. */
async function runVerifyCommand(args: VerifyArgs): Promise<void> {
  const config = loadStartConfig(args);
  if (config.target === undefined) usageError('verify needs a target server: give --target mysql://...');
  // Loaded only here: the proxy never needs the reconciler's code.
  const { runVerify } = await import('./verify/run-verify.js');
  const { VerifyError } = await import('./verify/verify-error.js');
  const abort = new AbortController();
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('tandem: stopping after this pass (Ctrl-C again to stop now)\n');
    abort.abort();
  });
  try {
    const code = await runVerify({
      source: config.source!,
      target: config.target,
      method: args.method as 'full',
      // `--tables a b` and `--tables a,b` alike.
      tables: args.tables?.flatMap((t) => String(t).split(',')).filter((t) => t !== ''),
      fix: args.fix === true,
      follow: args.follow === true,
      report: args.report,
      stateDir: config.stateDir,
      from: args.from as 'source' | 'target',
      scope: config.scope,
      controlSchema: config.control.schema,
      chunkTimeMs: args.chunkTime ?? config.verify.chunkTimeMs,
      maxRowsPerSecond: args.maxRate ?? config.verify.maxRowsPerSecond,
      overlapSeconds: args.overlap ?? config.verify.overlapSeconds,
      intervalSeconds: args.interval ?? config.verify.intervalSeconds,
      delayMs: args.delay,
      updateColumns: config.verify.updateColumns,
      out: process.stdout,
      err: process.stderr,
      tty: process.stderr.isTTY === true,
      signal: abort.signal,
    });
    process.exit(code);
  } catch (err) {
    // Any failure means the comparison could not be made: exit 2, never 1 (differences).
    const message =
      err instanceof VerifyError ? err.message : `verify failed: ${(err as Error).stack ?? err}`;
    process.stderr.write(`tandem: ${message}\n`);
    process.exit(EXIT_USAGE);
  }
}

function verifyOptions(y: Argv) {
  return y
    .usage(
      '$0 verify --source URL --target URL [options]\n\n' +
        'Finds the rows that differ between source and target; --fix repairs them. ' +
        'Exit code 0 clean, 1 differences remain, 2 error.',
    )
    .option('source', { type: 'string', describe: 'Source server URL (env TANDEM_SOURCE)' })
    .option('target', { type: 'string', describe: 'Target server URL (env TANDEM_TARGET)' })
    .option('tables', {
      type: 'string',
      array: true,
      describe:
        "schema.table patterns with * (default: the source URL's database, else every table in scope)",
    })
    .option('method', {
      type: 'string',
      choices: ['full', 'incremental', 'reverse', 'binlog', 'journal'],
      default: 'full',
      describe:
        'full: chunk checksums, finds everything; incremental: rows changed since the checkpoint; ' +
        "reverse: target rows the source lacks; journal: the repair journal's keys; " +
        "binlog: follows the source's row binlog and re-checks each changed row",
    })
    .option('fix', {
      type: 'boolean',
      describe: 'Repair the differences (default: a dry run that only reports)',
    })
    .option('follow', { type: 'boolean', describe: 'Repeat every --interval seconds until Ctrl-C' })
    .option('report', { type: 'string', describe: 'Write every differing key to FILE as JSON' })
    .option('from', {
      type: 'string',
      choices: ['source', 'target'],
      default: 'source',
      describe: 'The authoritative server repairs copy from (target after the switch to dual-target)',
    })
    .option('chunk-time', {
      type: 'number',
      describe: 'Target milliseconds per checksum chunk (default 500)',
    })
    .option('max-rate', {
      type: 'number',
      describe: 'Most rows compared per second per table (default no limit)',
    })
    .option('overlap', {
      type: 'number',
      describe: 'Incremental: seconds re-read before the checkpoint (default 60)',
    })
    .option('interval', { type: 'number', describe: '--follow: seconds between passes (default 5)' })
    .option('delay', {
      type: 'number',
      describe: 'binlog: milliseconds from a change to the check of its row (default 1000)',
    })
    .option('state-dir', {
      type: 'string',
      describe: 'Directory for checkpoints, the journal and the last result',
    })
    .option('config', { type: 'string', describe: 'YAML config file (scope, rename, verify section)' })
    .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'Log level (default info)' })
    .epilog('Repairs copy from --from to the other server in short transactions, under row locks.');
}

interface AdminArgs {
  readonly admin?: string | undefined;
  readonly config?: string | undefined;
  readonly json?: boolean | undefined;
  readonly token?: string | undefined;
}

/** The admin address: --admin, else the config's (file, then TANDEM_ADMIN). */
function adminAddress(args: AdminArgs): string {
  if (args.admin) return args.admin;
  try {
    return loadConfig({ file: args.config, env: process.env }).admin;
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }
}

async function runAdmin(args: AdminArgs, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<void> {
  const { adminRequest, formatStatus } = await import('./admin/admin-client.js');
  const token = args.token ?? process.env.TANDEM_ADMIN_TOKEN;
  let reply: Awaited<ReturnType<typeof adminRequest>>;
  try {
    reply = await adminRequest(adminAddress(args), method, path, body, token);
  } catch (err) {
    process.stderr.write(
      `tandem: cannot reach the admin port ${adminAddress(args)}: ${(err as Error).message}\n`,
    );
    process.exit(EXIT_RUNTIME);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(reply.body, null, 2)}\n`);
  else if (reply.status === 200 && path === '/mode' && method === 'GET')
    process.stdout.write(`${reply.body.mode}\n`);
  else if (reply.status === 200) process.stdout.write(`${formatStatus(reply.body)}\n`);
  if (reply.status !== 200) {
    if (!args.json)
      process.stderr.write(`tandem: ${reply.status}: ${String(reply.body.message ?? reply.body.error)}\n`);
    process.exit(reply.status === 400 ? EXIT_USAGE : EXIT_RUNTIME);
  }
}

function adminOptions(y: Argv) {
  return y
    .option('admin', {
      type: 'string',
      describe: "Admin address, http://host:port or host:port (default the config's)",
    })
    .option('config', { type: 'string', describe: 'YAML config file, for the default admin address' })
    .option('token', { type: 'string', describe: 'Admin bearer token (default TANDEM_ADMIN_TOKEN)' })
    .option('json', { type: 'boolean', describe: 'Print the JSON reply' });
}

function modeOptions(y: Argv) {
  return adminOptions(y)
    .command('get', 'Print the current mode', adminOptions, (a) => runAdmin(a as AdminArgs, 'GET', '/mode'))
    .command(
      'set <mode>',
      'Switch the mode (running transactions finish first; refused switches exit non-zero)',
      (r: Argv) =>
        adminOptions(r)
          .positional('mode', { type: 'string', choices: MODES, describe: 'The mode to switch to' })
          .option('force', {
            type: 'boolean',
            describe: 'Override the transition rules and checks (logged)',
          }),
      (a) => {
        const args = a as AdminArgs & { mode: string; force?: boolean };
        return runAdmin(args, 'PUT', '/mode', { mode: args.mode, force: args.force === true });
      },
    )
    .demandCommand(1, 'give a mode command: get or set <mode>');
}

async function runSandboxCommand(args: SandboxArgs): Promise<void> {
  // Same address checks as `start`, so a typo is reported with the flag's name.
  try {
    validateConfig({ listen: args.listen, admin: args.admin });
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }
  const logger = createLogger(args.logLevel);
  try {
    // Loaded only here: `start` never needs the sandbox's code.
    const { runSandbox } = await import('./sandbox/run-sandbox.js');
    await runSandbox({
      dir: args.dir,
      listen: args.listen,
      admin: args.admin,
      logger,
      mode: args.mode as Mode,
    });
  } catch (err) {
    logger.fatal({ err }, 'sandbox failed');
    process.exit(EXIT_RUNTIME);
  }
}

function startOptions(y: Argv) {
  return y
    .usage('$0 start --source URL [--target URL] [options]\n\nRuns the proxy in the foreground.')
    .option('source', {
      type: 'string',
      describe: 'Server being left, mysql://user:pass@host:port/db (env TANDEM_SOURCE)',
    })
    .option('target', {
      type: 'string',
      describe: 'Server being moved to, mysql://user:pass@host:port/db (env TANDEM_TARGET)',
    })
    .option('mode', { type: 'string', choices: MODES, describe: 'Routing mode at start (default source)' })
    .option('listen', { type: 'string', describe: 'MySQL listener HOST:PORT (default 127.0.0.1:6033)' })
    .option('admin', { type: 'string', describe: 'Admin HTTP HOST:PORT (default 127.0.0.1:6034)' })
    .option('state-dir', { type: 'string', describe: 'Directory for mode, checkpoints and repair journal' })
    .option('config', { type: 'string', describe: 'YAML config file (default config/default.yaml)' })
    .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'Log level (default info)' })
    .option('policy', {
      type: 'string',
      choices: ['lenient', 'strict'],
      describe: 'When the secondary fails: journal it (lenient, default) or fail the write (strict)',
    })
    .option('allow-local-infile', { type: 'boolean', describe: 'Relay LOAD DATA LOCAL INFILE' })
    .option('tls-cert', { type: 'string', describe: 'PEM certificate for client TLS (with --tls-key)' })
    .option('tls-key', { type: 'string', describe: 'PEM private key for client TLS (with --tls-cert)' })
    .option('load', {
      type: 'boolean',
      describe:
        'Run the initial load (copy, the config scope) inside the proxy once it listens; GET /load follows it',
    })
    .epilog(
      'Precedence: config file, then TANDEM_* environment variables ' +
        '(TANDEM_TIMEOUTS__CONNECT_MS=100 sets timeouts.connectMs), then flags.',
    );
}

function sandboxOptions(y: Argv) {
  return y
    .usage('$0 sandbox [options]\n\nStarts a source and a target server and the proxy in front of them.')
    .option('dir', { type: 'string', default: '.tandem/sandbox', describe: 'Directory for the servers data' })
    .option('listen', { type: 'string', default: '127.0.0.1:6033', describe: 'MySQL listener HOST:PORT' })
    .option('admin', { type: 'string', default: '127.0.0.1:6034', describe: 'Admin HTTP HOST:PORT' })
    .option('log-level', { type: 'string', choices: LOG_LEVELS, default: 'info', describe: 'Log level' })
    .option('mode', {
      type: 'string',
      choices: MODES,
      default: 'source',
      describe: 'Mode the proxy starts in',
    });
}

function journalOptions(y: Argv) {
  return y
    .usage('$0 journal replay --source URL --target URL --state-dir DIR')
    .command(
      'replay',
      'Repair every table the repair journal names from the primary, and empty what was fixed',
      (r: Argv) =>
        r
          .option('source', { type: 'string', describe: 'Source server URL (env TANDEM_SOURCE)' })
          .option('target', { type: 'string', describe: 'Target server URL (env TANDEM_TARGET)' })
          .option('state-dir', { type: 'string', describe: 'Directory holding repair-journal.jsonl' })
          .option('config', { type: 'string', describe: 'YAML config file' })
          .option('log-level', { type: 'string', choices: LOG_LEVELS, describe: 'Log level (default info)' }),
      (args) => runJournalReplay(args as StartArgs),
    )
    .demandCommand(1, 'give a journal command: replay');
}

const COMMANDS = ['start', 'sandbox', 'journal', 'load', 'status', 'mode'];

export async function main(argv: string[]): Promise<void> {
  const helpHint = COMMANDS.includes(argv[0] ?? '') ? `tandem ${argv[0]} --help` : 'tandem --help';
  await yargs(argv)
    .scriptName('tandem')
    .usage('$0 <command> [options]\n\nMySQL-protocol proxy for zero-downtime database migration.')
    .command('start', 'Run the proxy', startOptions, (args) => runStart(args))
    .command('sandbox', 'Run a local source, target and proxy to try tandem', sandboxOptions, (args) =>
      runSandboxCommand(args),
    )
    .command(
      'verify',
      'Find, and with --fix repair, rows that differ between source and target',
      verifyOptions,
      (args) => runVerifyCommand(args as unknown as VerifyArgs),
    )
    .command('journal', 'Work with the repair journal of missed secondary writes', journalOptions)
    .command('load', 'Copy the source into the target: the initial load', loadOptions, (args) =>
      runLoadCommand(args as unknown as LoadArgs),
    )
    .command('status', "Show a running tandem's mode, connections and journal", adminOptions, (a) =>
      runAdmin(a as AdminArgs, 'GET', '/status'),
    )
    .command('mode', "Get or set a running tandem's mode", modeOptions)
    .demandCommand(1, `give a command: ${COMMANDS.join(' or ')}`)
    .strictCommands()
    .strict()
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((message, err) => {
      // Errors thrown by a handler are bugs, not usage errors: let them surface with their stack.
      if (err && !message) throw err;
      usageError(`${message ?? err?.message}\nRun \`${helpHint}\` for usage.`);
    })
    .parseAsync();
}

main(hideBin(process.argv)).catch((err: unknown) => {
  process.stderr.write(`tandem: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(EXIT_RUNTIME);
});
