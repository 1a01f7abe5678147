import { execFile } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * The `mariadb` command-line client (libmariadb) through tandem: what it prints, its exit
 * code and its error text must match a direct run against the source.
 */

const DB = 'frontend_cli';
const source = sharedPair().source;
let proxy: RunningProxy;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `mariadb` in batch mode against a port; --no-defaults keeps any my.cnf out of it. */
function mariadb(port: number, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'mariadb',
      ['--no-defaults', '--protocol=tcp', '-h127.0.0.1', `-P${port}`, '-uroot', '--batch', ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  const admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`CREATE TABLE ${DB}.t (id INT PRIMARY KEY, name VARCHAR(20))`);
  await admin.query(`INSERT INTO ${DB}.t VALUES (1, 'one'), (2, 'two'), (3, NULL)`);
  await admin.end();
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(1000);
  const admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.end();
});

describe('the mariadb command-line client through tandem', () => {
  it('prints the same rows as a direct connection', async () => {
    const sql = 'SELECT id, name FROM t ORDER BY id';
    const [direct, proxied] = await Promise.all([
      mariadb(source.port, DB, '-e', sql),
      mariadb(proxy.port, DB, '-e', sql),
    ]);
    expect(proxied).toEqual({ code: 0, stdout: 'id\tname\n1\tone\n2\ttwo\n3\tNULL\n', stderr: '' });
    expect(proxied).toEqual(direct);
  });

  it('prints every result of several statements given with -e', async () => {
    const sql = 'select 1; select 2; select name from t where id = 2';
    const [direct, proxied] = await Promise.all([
      mariadb(source.port, DB, '-e', sql),
      mariadb(proxy.port, DB, '-e', sql),
    ]);
    expect(proxied).toEqual({ code: 0, stdout: '1\n1\n2\n2\nname\ntwo\n', stderr: '' });
    expect(proxied).toEqual(direct);
  });

  it('runs writes and reads them back in one session', async () => {
    const run = await mariadb(
      proxy.port,
      DB,
      '-e',
      "insert into t values (4, 'four'); update t set name = 'FOUR' where id = 4; select name from t where id = 4; delete from t where id = 4",
    );
    expect(run).toEqual({ code: 0, stdout: 'name\nFOUR\n', stderr: '' });
  });

  it("reports the server's error code and message, with the same exit code and stderr", async () => {
    const sql = 'select * from no_such_table';
    const [direct, proxied] = await Promise.all([
      mariadb(source.port, DB, '-e', sql),
      mariadb(proxy.port, DB, '-e', sql),
    ]);
    expect(proxied.code).toBe(1);
    expect(proxied.stderr).toContain(
      `ERROR 1146 (42S02) at line 1: Table '${DB}.no_such_table' doesn't exist`,
    );
    expect(proxied).toEqual(direct);
  });

  it('stops at the failing statement of several, as a direct run does', async () => {
    const sql = 'select 1; select nonsense(; select 3';
    const [direct, proxied] = await Promise.all([
      mariadb(source.port, DB, '-e', sql),
      mariadb(proxy.port, DB, '-e', sql),
    ]);
    expect(proxied.code).toBe(1);
    expect(proxied.stderr).toContain('ERROR 1064 (42000)');
    expect(proxied).toEqual(direct);
  });

  it('refuses an unknown database with error 1049, as a direct run does', async () => {
    const [direct, proxied] = await Promise.all([
      mariadb(source.port, 'frontend_cli_missing', '-e', 'select 1'),
      mariadb(proxy.port, 'frontend_cli_missing', '-e', 'select 1'),
    ]);
    expect(proxied.code).toBe(1);
    expect(proxied.stderr).toContain("ERROR 1049 (42000): Unknown database 'frontend_cli_missing'");
    expect(proxied).toEqual(direct);
  });

  it('reads statements from standard input', async () => {
    const run = await new Promise<CliRun>((resolve) => {
      const child = execFile(
        'mariadb',
        ['--no-defaults', '--protocol=tcp', '-h127.0.0.1', `-P${proxy.port}`, '-uroot', '--batch', DB],
        { timeout: 20_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
      child.stdin?.end('select count(*) as n from t;\nselect database();\n');
    });
    expect(run).toEqual({ code: 0, stdout: `n\n3\ndatabase()\n${DB}\n`, stderr: '' });
  });
});
