import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, inject, it } from 'vitest';

const sourcePort = inject('sourcePort');
const PASSWORD = 'cli-s3cr3t-pw';

describe('tandem start', () => {
  it('logs each connection without its password and stops cleanly on SIGTERM', async () => {
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: sourcePort, user: 'root' });
    await admin.query(`CREATE USER IF NOT EXISTS 'clilog'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await admin.end();

    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TANDEM_')));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli.ts',
        'start',
        '--source',
        `mysql://root@127.0.0.1:${sourcePort}/`,
        '--listen',
        '127.0.0.1:0',
        '--admin',
        '127.0.0.1:0',
        '--state-dir',
        mkdtempSync(join(tmpdir(), 'tandem-cli-')),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 20_000);
      child.stdout.on('data', () => {
        const line = out.split('\n').find((l) => l.includes('"listening"'));
        if (line) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      });
    });

    const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'clilog', password: PASSWORD });
    expect((await c.query('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    await c.end();
    await new Promise((r) => setTimeout(r, 200));

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; conn?: number; user?: string });
    const opened = lines.find((l) => l.msg === 'connection open');
    const closed = lines.find((l) => l.msg === 'connection closed');
    expect(opened?.conn).toBeTypeOf('number');
    expect(closed).toMatchObject({ conn: opened?.conn, user: 'clilog' });
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(out).not.toContain(PASSWORD);
  }, 60_000);
});
