import type { Config } from '../config.js';
import { Scope } from '../routing/scope.js';
import { copyLoad, type LoadSummary } from './copy-load.js';
import { isAbort, LoadError } from './load-error.js';
import { formatBytes, formatCount, formatDuration } from './progress-display.js';

/**
 * `tandem load`: picks the method, turns Ctrl-C into a clean stop (the checkpoint is saved and
 * relaxed target settings are restored before the process exits), and prints the summary.
 */

export const LOAD_METHODS = ['copy', 'mysqldump', 'mariabackup'] as const;
export type LoadMethod = (typeof LOAD_METHODS)[number];

export interface LoadCommand {
  readonly config: Config & { source: string; target: string };
  readonly method: LoadMethod;
  readonly tables: readonly string[] | undefined;
  readonly parallel: number;
  readonly resume: boolean;
  readonly fastDurability: boolean;
  readonly deferIndexes: boolean;
}

export function summaryText(s: LoadSummary): string {
  const lines = ['', 'table                                    rows        kept   rows/s     time'];
  for (const t of s.tables) {
    const rate = t.seconds > 0 ? t.rows / t.seconds : 0;
    const name = t.table === t.target ? t.table : `${t.table} -> ${t.target}`;
    lines.push(
      `${name.padEnd(36)} ${formatCount(t.rows).padStart(12)} ${formatCount(t.kept).padStart(10)} ${formatCount(rate).padStart(8)} ${formatDuration(t.seconds).padStart(8)}${t.seconds === 0 ? ' (earlier run)' : ''}`,
    );
  }
  const rate = s.seconds > 0 ? s.rows / s.seconds : 0;
  lines.push(
    `total: ${s.tables.length} tables, ${formatCount(s.rows)} rows, ${formatBytes(s.bytes)} in ${formatDuration(s.seconds)} ` +
      `(${formatCount(rate)} rows/s, ${formatBytes(s.seconds > 0 ? s.bytes / s.seconds : 0)}/s)`,
  );
  const p = s.snapshot;
  lines.push(
    `snapshot: ${p.time.serverLocal} (${p.timeZone}), binlog ${p.binlog ? `${p.binlog.file}:${p.binlog.position}` : 'off'}` +
      `${p.gtidBinlogPos ? `, gtid ${p.gtidBinlogPos}` : ''}; reconcile from ${p.reconcileFrom.serverLocal}` +
      ' (load-snapshot.json in the state dir)',
  );
  return `${lines.join('\n')}\n`;
}

/** Runs the load; resolves to the process exit code. */
export async function runLoad(cmd: LoadCommand): Promise<number> {
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) {
      // Second Ctrl-C: out now; a relaxed setting is restored by the next `tandem load`.
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    interrupted = true;
    process.stderr.write(
      `\ntandem load: ${signal}: stopping after the chunks in flight (again to quit now)\n`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const say = (line: string): void => {
    process.stderr.write(`tandem load: ${line}\n`);
  };
  // What every method is told: the servers, the state directory, which tables and their names.
  const common = {
    source: cmd.config.source,
    target: cmd.config.target,
    stateDir: cmd.config.stateDir,
    scope: new Scope(cmd.config.scope.include, cmd.config.scope.exclude),
    only: cmd.tables && cmd.tables.length > 0 ? new Scope(cmd.tables, []) : undefined,
    rename: cmd.config.scope.rename,
    controlSchema: cmd.config.control.schema,
  };
  try {
    if (cmd.method === 'copy') {
      const summary = await copyLoad({
        ...common,
        parallel: cmd.parallel,
        resume: cmd.resume,
        fastDurability: cmd.fastDurability,
        deferIndexes: cmd.deferIndexes,
        signal: controller.signal,
        say,
        progress: process.stderr,
      });
      process.stdout.write(summaryText(summary));
      return 0;
    }
    if (cmd.method === 'mysqldump') {
      const { dumpLoad, dumpSummaryText } = await import('./dump-load.js');
      const summary = await dumpLoad({
        ...common,
        speedUps: true,
        fastDurability: cmd.fastDurability,
        signal: controller.signal,
        say,
        progress: process.stderr,
      });
      process.stdout.write(dumpSummaryText(summary));
      return 0;
    }
    const { backupLoad } = await import('./backup-load.js');
    const text = await backupLoad({
      source: cmd.config.source,
      target: cmd.config.target,
      stateDir: cmd.config.stateDir,
      say,
    });
    process.stdout.write(text);
    return 0;
  } catch (err) {
    if (isAbort(err) || (interrupted && err instanceof Error)) {
      process.stderr.write(
        'tandem load: stopped; the checkpoint is saved: run the same command with --resume to carry on\n',
      );
      return 130;
    }
    if (err instanceof LoadError) {
      process.stderr.write(`tandem load: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as { message?: string; sqlMessage?: string; sql?: string };
    process.stderr.write(
      `tandem load: failed: ${e.sqlMessage ?? e.message ?? String(err)}\n` +
        `the checkpoint is saved: fix the cause and run the same command with --resume\n`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
