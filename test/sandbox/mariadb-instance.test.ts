import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { createInstance, SandboxError } from '../../src/sandbox/mariadb-instance.js';
import { sharedPair, startServer, stopAll, testBaseDir } from '../harness/servers.js';

afterAll(stopAll);

const TIMED_OUT = Symbol('timed out');
function within<T>(ms: number, promise: Promise<T>): Promise<T | typeof TIMED_OUT> {
  return Promise.race([promise, new Promise<typeof TIMED_OUT>((r) => setTimeout(() => r(TIMED_OUT), ms))]);
}

describe('a MariaDB instance', () => {
  it('starts and answers SELECT 1 as root over TCP', async () => {
    const server = await startServer('basic');
    expect(server.url).toBe(`mysql://root@127.0.0.1:${server.port}/`);
    expect(await server.query<{ one: number }[]>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(server.datadir.startsWith(testBaseDir)).toBe(true);
  });

  it('refuses connections after kill() and keeps its data through restart()', async () => {
    const server = await startServer('crash');
    await server.query(
      'CREATE DATABASE kept; CREATE TABLE kept.t (id INT PRIMARY KEY); INSERT INTO kept.t VALUES (42)',
    );

    await server.kill();
    expect(server.running).toBe(false);
    await expect(createConnection({ ...server.connectionOptions(), connectTimeout: 2000 })).rejects.toThrow();

    await server.restart();
    expect(await server.query('SELECT id FROM kept.t')).toEqual([{ id: 42 }]);
  });

  it('answers nothing while paused and finishes the query once resumed', async () => {
    const server = await startServer('pause');
    const conn = await server.connect();
    try {
      server.pause();
      const pending = conn.query('SELECT 7 AS seven');
      expect(await within(1000, pending)).toBe(TIMED_OUT);
      server.resume();
      const [rows] = await pending;
      expect(rows).toEqual([{ seven: 7 }]);
    } finally {
      conn.destroy();
    }
  });

  it('runs beside another instance on a different port', async () => {
    const [a, b] = await Promise.all([startServer('twin'), startServer('twin')]);
    expect(a.port).not.toBe(b.port);
    await a.query('CREATE DATABASE only_on_a');
    const onB = await b.query<unknown[]>("SHOW DATABASES LIKE 'only_on_a'");
    expect(onB).toEqual([]);
    expect(await a.query('SELECT @@port AS port')).toEqual([{ port: a.port }]);
    expect(await b.query('SELECT @@port AS port')).toEqual([{ port: b.port }]);
  });

  it('honours serverArgs such as --innodb-autoinc-lock-mode=0', async () => {
    const server = await startServer('args', { serverArgs: ['--innodb-autoinc-lock-mode=0'] });
    expect(await server.query('SELECT @@innodb_autoinc_lock_mode AS mode')).toEqual([{ mode: 0 }]);
  });

  it('stops cleanly and starts again on the same port', async () => {
    const server = await startServer('stop');
    const port = server.port;
    await server.stop();
    expect(server.running).toBe(false);
    await server.start();
    expect(server.port).toBe(port);
    expect(await server.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('reports a start failure with the tail of the error log', async () => {
    const server = await createInstance({
      baseDir: testBaseDir,
      name: 'bad-args',
      serverArgs: ['--no-such-option'],
    });
    const failure = await server.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(SandboxError);
    expect((failure as SandboxError).code).toBe('MARIADB_START_FAILED');
    expect((failure as SandboxError).message).toMatch(/no-such-option/);
  });
});

describe('the shared pair from global setup', () => {
  it('gives a source and a target that both answer', async () => {
    const { source, target } = sharedPair();
    expect(source.port).not.toBe(target.port);
    for (const server of [source, target]) {
      const conn = await createConnection({ host: server.host, port: server.port, user: 'root' });
      try {
        const [rows] = await conn.query('SELECT 1 AS one');
        expect(rows).toEqual([{ one: 1 }]);
      } finally {
        await conn.end();
      }
    }
  });
});
