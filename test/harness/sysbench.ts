import { execFile } from 'node:child_process';

export interface SysbenchRun {
  readonly code: number;
  readonly output: string;
}

/** sysbench as a child process; a missing sysbench fails the test with how to install it. */
export function sysbench(args: string[], timeoutS: number): Promise<SysbenchRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'sysbench',
      args,
      { timeout: timeoutS * 1000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(
            new Error('sysbench is not installed: this test needs it on PATH (apt-get install sysbench)'),
          );
          return;
        }
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** A number from sysbench's report, e.g. `statistic(out, 'transactions')`. */
export function statistic(output: string, name: string): number {
  const match = new RegExp(`^\\s*${name}:\\s+(\\d+)`, 'm').exec(output);
  if (!match) throw new Error(`sysbench output has no "${name}" line:\n${output}`);
  return Number(match[1]);
}
