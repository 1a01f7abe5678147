import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newStateDir, onBoth, rowsOf, source, sql, target } from './verify-helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DB = 'vf_cli';

/** The host's TANDEM_* variables would change what the command sees. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TANDEM_')) env[k] = v;
  return env;
}

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'verify', ...args], {
    cwd: root,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const servers = () => ['--source', `${source}${DB}`, '--target', target, '--state-dir', newStateDir()];

describe('tandem verify on the command line', () => {
  beforeAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
      CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10), updated_at DATETIME(6) NOT NULL, KEY (updated_at));
      INSERT INTO t SELECT seq, 'x', '2024-01-01' FROM seq_1_to_100`);
  });

  afterAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}`);
  });

  it('exits 0 and prints the summary table when the tables are equal', () => {
    const r = tandem(servers());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^table\s+rows compared\s+differing\s+fixed\s+seconds\s+rows\/s$/m);
    expect(r.stdout).toMatch(/^vf_cli\.t\s+100\s+0\s+0\s/m);
    expect(r.stdout).toContain('full: clean: no differences');
  });

  it('exits 1 when rows differ, and --report lists every differing key as JSON', async () => {
    await sql(target, `DELETE FROM ${DB}.t WHERE id = 10; UPDATE ${DB}.t SET v = 'y' WHERE id = 20`);
    const report = join(newStateDir(), 'report.json');
    const r = tandem([...servers(), '--report', report]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('not clean: 2 differing rows (dry run: --fix repairs them)');
    const doc = JSON.parse(readFileSync(report, 'utf8'));
    expect(doc).toMatchObject({ method: 'full', clean: false, differing: 2 });
    expect(doc.tables[0].differences).toEqual([
      { kind: 'missing', key: { id: 10 }, fixed: false },
      { kind: 'changed', key: { id: 20 }, fixed: false },
    ]);
  });

  it('exits 0 after --fix has repaired every difference', async () => {
    expect(tandem([...servers(), '--fix']).code).toBe(0);
    expect(await rowsOf(target, `${DB}.t`)).toEqual(await rowsOf(source, `${DB}.t`));
  });

  it('exits 2 when a server cannot be reached, naming it', () => {
    const r = tandem([
      '--source',
      `${source}${DB}`,
      '--target',
      'mysql://root@127.0.0.1:1/',
      '--state-dir',
      newStateDir(),
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('cannot connect to the target server 127.0.0.1:1');
  });

  it('exits 2 for --method binlog when the source writes no binary log, saying what to set', () => {
    const r = tandem([...servers(), '--method', 'binlog']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the source writes no binary log (log_bin is OFF)');
  });

  it('with --follow, catches a change made behind tandem’s back within its interval', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'verify',
        ...servers(),
        '--method',
        'incremental',
        '--follow',
        '--interval',
        '1',
        '--fix',
      ],
      { cwd: root, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await until(() => out.includes('incremental: clean'), 20_000);
      await sql(source, `UPDATE ${DB}.t SET v = 'followed', updated_at = NOW(6) WHERE id = 50`);
      const changed = Date.now();
      await until(async () => {
        const rows = (await sql(target, `SELECT v FROM ${DB}.t WHERE id = 50`)) as { v: string }[];
        return rows[0]?.v === 'followed';
      }, 10_000);
      // One interval (1 s) and one pass at most.
      expect(Date.now() - changed).toBeLessThan(3000);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
