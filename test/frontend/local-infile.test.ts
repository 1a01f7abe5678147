import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { type Connection, createConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerConnection } from '../../src/backend/server-connection.js';
import type { RunningProxy } from '../../src/index.js';
import { CLIENT } from '../../src/protocol/constants.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * LOAD DATA LOCAL INFILE makes the server ask the client for a file (a 0xFB packet), which
 * lets a hostile server read a client's files: tandem refuses it unless allowLocalInfile is
 * set, and then relays the file's packets until the empty one that ends it.
 */

const execFileAsync = promisify(execFile);
const DB = 'frontend_local_infile';
const ROWS = 100_000;
const source = sharedPair().source;
let refusing: RunningProxy;
let allowing: RunningProxy;
let admin: Connection;
let fileDir: string;

function connect(port: number): Promise<Connection> {
  return createConnection({ host: '127.0.0.1', port, user: 'root', database: DB });
}

/** ROWS lines of tab-separated `id, label`, produced as the server asks for them. */
function rowStream(): Readable {
  return Readable.from(
    (function* () {
      for (let start = 1; start <= ROWS; start += 1000) {
        let chunk = '';
        for (let id = start; id < start + 1000 && id <= ROWS; id++) chunk += `${id}\tlabel ${id}\n`;
        yield Buffer.from(chunk); // mysql2 copies each chunk into a packet: Buffers only
      }
    })(),
  );
}

beforeAll(async () => {
  admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`CREATE TABLE ${DB}.loaded (id INT PRIMARY KEY, label VARCHAR(40))`);
  fileDir = await mkdtemp(join(tmpdir(), 'tandem-infile-'));
  refusing = await startTestProxy(source.url);
  allowing = await startTestProxy(source.url, { allowLocalInfile: true });
});

afterAll(async () => {
  await refusing?.close(1000);
  await allowing?.close(1000);
  await admin?.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin?.end();
  if (fileDir) await rm(fileDir, { recursive: true, force: true });
});

describe('LOAD DATA LOCAL INFILE through tandem', () => {
  it('offers CLIENT_LOCAL_FILES in the greeting only when allowLocalInfile is set', async () => {
    for (const [proxy, offered] of [
      [refusing, false],
      [allowing, true],
    ] as const) {
      const conn = await ServerConnection.open('127.0.0.1', proxy.port, 'tandem', 5000);
      conn.destroy();
      expect((conn.greeting.capabilities & CLIENT.LOCAL_FILES) !== 0).toBe(offered);
    }
  });

  it('is refused by default with error 1148 naming allowLocalInfile, and the session goes on', async () => {
    const conn = await connect(refusing.port);
    try {
      for (const sql of [
        'LOAD DATA LOCAL INFILE "rows.tsv" INTO TABLE loaded',
        '/* a comment */ load data low_priority local infile "rows.tsv" into table loaded',
      ]) {
        await expect(conn.query({ sql, infileStreamFactory: rowStream })).rejects.toMatchObject({
          errno: 1148,
          sqlState: '42000',
          message: expect.stringContaining('allowLocalInfile'),
        });
      }
      const [[row]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM loaded');
      expect(row).toEqual({ n: 0 });
    } finally {
      await conn.end();
    }
  });

  it('refuses the command-line client the same way', async () => {
    const file = join(fileDir, 'refused.tsv');
    await writeFile(file, '1\tone\n');
    await expect(
      execFileAsync('mariadb', [
        '--no-defaults',
        '--protocol=tcp',
        '-h127.0.0.1',
        `-P${refusing.port}`,
        '-uroot',
        '--local-infile=1',
        DB,
        '-e',
        `LOAD DATA LOCAL INFILE '${file}' INTO TABLE loaded`,
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/ERROR 1148 .*allowLocalInfile/) });
  });

  it('with allowLocalInfile loads a file that mysql2 streams, and the session goes on', async () => {
    const conn = await connect(allowing.port);
    try {
      const [result] = await conn.query<ResultSetHeader>({
        sql: 'LOAD DATA LOCAL INFILE "rows.tsv" INTO TABLE loaded (id, label)',
        infileStreamFactory: rowStream,
      });
      expect(result.affectedRows).toBe(ROWS);
      const [[row]] = await conn.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n, MAX(id) AS top, MAX(label) = "label 99999" AS labelled FROM loaded',
      );
      expect(row).toEqual({ n: ROWS, top: ROWS, labelled: 1 });
      const [[after]] = await conn.execute<RowDataPacket[]>('SELECT ? AS still_in_step', [1]);
      expect(after).toEqual({ still_in_step: 1 });
    } finally {
      await conn.query('TRUNCATE TABLE loaded');
      await conn.end();
    }
  });

  it('with allowLocalInfile loads a file from the command-line client', async () => {
    const file = join(fileDir, 'cli.tsv');
    await writeFile(file, Array.from({ length: 500 }, (_, i) => `${i + 1}\tcli ${i + 1}\n`).join(''));
    const { stdout } = await execFileAsync('mariadb', [
      '--no-defaults',
      '--protocol=tcp',
      '-h127.0.0.1',
      `-P${allowing.port}`,
      '-uroot',
      '--local-infile=1',
      '--batch',
      DB,
      '-e',
      `LOAD DATA LOCAL INFILE '${file}' INTO TABLE loaded; SELECT COUNT(*) AS n FROM loaded; TRUNCATE TABLE loaded`,
    ]);
    expect(stdout).toBe('n\n500\n');
  });
});
