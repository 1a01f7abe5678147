import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect as connectTls, TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import {
  type Connection,
  type ConnectionOptions,
  createConnection,
  type RowDataPacket,
} from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerConnection } from '../../src/backend/server-connection.js';
import type { RunningProxy } from '../../src/index.js';
import { CLIENT } from '../../src/protocol/constants.js';
import { framePayload } from '../../src/protocol/packet-writer.js';
import { decodeErr } from '../../src/protocol/packets/err.js';
import { decodeHandshakeV10 } from '../../src/protocol/packets/handshake-v10.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * TLS between the client and tandem: tandem terminates it (its leg to the source stays
 * plain), so the proof is on the client's side of the socket, not in the server's Ssl_cipher.
 */

const execFileAsync = promisify(execFile);
const DB = 'frontend_tls';
const USER = 'frontend_tls_user';
const PASSWORD = 'tls-secret';
const source = sharedPair().source;
let certDir: string;
let secure: RunningProxy;
let plain: RunningProxy;
let admin: Connection;

function connect(port: number, options: ConnectionOptions = {}): Promise<Connection> {
  return createConnection({
    host: '127.0.0.1',
    port,
    user: 'root',
    database: DB,
    connectTimeout: 5000,
    ...options,
  });
}

/**
 * The socket mysql2 reads and writes after the handshake: its inner connection's `stream`,
 * which it replaces by a TLSSocket on upgrade (not in mysql2's typings).
 */
function streamOf(conn: Connection): unknown {
  return (conn as unknown as { connection: { stream: unknown } }).connection.stream;
}

/**
 * SSLRequest, framed with sequence id 1: int<4> capabilities, int<4> max packet size,
 * int<1> collation, string<23> filler. https://mariadb.com/kb/en/connection/#sslrequest-packet
 */
function sslRequestPacket(): Buffer {
  const payload = Buffer.alloc(32);
  payload.writeUInt32LE((CLIENT.PROTOCOL_41 | CLIENT.SECURE_CONNECTION | CLIENT.SSL) >>> 0, 0);
  payload.writeUInt32LE(16 * 1024 * 1024, 4);
  payload[8] = 45; // utf8mb4_general_ci
  return framePayload(payload, 1);
}

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'tandem-tls-'));
  const cert = join(certDir, 'cert.pem');
  const key = join(certDir, 'key.pem');
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'`);
  await admin.query(`GRANT ALL ON ${DB}.* TO '${USER}'@'%'`);
  secure = await startTestProxy(source.url, { tls: { cert, key } });
  plain = await startTestProxy(source.url);
});

afterAll(async () => {
  await secure?.close(1000);
  await plain?.close(1000);
  await admin?.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin?.query(`DROP USER IF EXISTS '${USER}'@'%'`);
  await admin?.end();
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

describe('TLS between clients and tandem', () => {
  it("upgrades mysql2's socket to TLS with tandem's certificate and runs queries over it", async () => {
    const conn = await connect(secure.port, { ssl: { rejectUnauthorized: false } });
    try {
      const stream = streamOf(conn);
      expect(stream).toBeInstanceOf(TLSSocket);
      const tls = stream as TLSSocket;
      expect(tls.encrypted).toBe(true);
      expect(tls.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      expect(tls.getPeerCertificate().subject.CN).toBe('localhost');
      const [rows] = await conn.query<RowDataPacket[]>('SELECT 1 + 1 AS two, DATABASE() AS db');
      expect(rows).toEqual([{ two: 2, db: DB }]);
      const [prepared] = await conn.execute<RowDataPacket[]>('SELECT ? AS echoed', ['over tls']);
      expect(prepared).toEqual([{ echoed: 'over tls' }]);
    } finally {
      await conn.end();
    }
  });

  it('completes the TLS handshake when the ClientHello arrives in one chunk with the SSLRequest', async () => {
    const raw = connectTcp({ host: '127.0.0.1', port: secure.port });
    try {
      const [greeting] = (await once(raw, 'data')) as [Buffer];
      expect(decodeHandshakeV10(greeting.subarray(4)).capabilities & CLIENT.SSL).toBeTruthy();
      // The SSLRequest is held back and written together with the TLS client's first bytes.
      let held: Buffer | undefined = sslRequestPacket();
      const duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          raw.write(held ? Buffer.concat([held, chunk]) : chunk, callback);
          held = undefined;
        },
      });
      raw.on('data', (chunk: Buffer) => duplex.push(chunk));
      const client = connectTls({ socket: duplex, rejectUnauthorized: false });
      client.on('error', () => {});
      await Promise.race([
        once(client, 'secureConnect'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('TLS handshake timed out')), 3000)),
      ]);
      expect(client.getProtocol()).toMatch(/^TLSv1\.[23]$/);
      client.destroy();
    } finally {
      raw.destroy();
    }
  });

  it('authenticates a user with a password over TLS and changes user', async () => {
    const conn = await connect(secure.port, {
      user: USER,
      password: PASSWORD,
      ssl: { rejectUnauthorized: false },
    });
    try {
      expect(streamOf(conn)).toBeInstanceOf(TLSSocket);
      const [[who]] = await conn.query<RowDataPacket[]>('SELECT CURRENT_USER() AS who');
      expect(who).toEqual({ who: `${USER}@%` });
      await conn.changeUser({ user: USER, password: PASSWORD, database: DB });
      const [[again]] = await conn.query<RowDataPacket[]>('SELECT CURRENT_USER() AS who');
      expect(again).toEqual({ who: `${USER}@%` });
    } finally {
      await conn.end();
    }
    await expect(
      connect(secure.port, { user: USER, password: 'wrong', ssl: { rejectUnauthorized: false } }),
    ).rejects.toMatchObject({ errno: 1045 });
  });

  it('carries a 5 MB value both ways over TLS', async () => {
    const blob = randomBytes(5 * 1024 * 1024);
    const conn = await connect(secure.port, { ssl: { rejectUnauthorized: false } });
    try {
      await conn.query('CREATE TABLE IF NOT EXISTS blobs (id INT PRIMARY KEY, data LONGBLOB)');
      await conn.execute('REPLACE INTO blobs VALUES (?, ?)', [1, blob]);
      const [rows] = await conn.query<RowDataPacket[]>('SELECT data FROM blobs WHERE id = 1');
      expect(Buffer.compare(rows[0]!.data as Buffer, blob)).toBe(0);
    } finally {
      await conn.end();
    }
  });

  it('lets the mariadb command-line client use TLS', async () => {
    const { stdout } = await execFileAsync('mariadb', [
      '--no-defaults',
      '--protocol=tcp',
      '-h127.0.0.1',
      `-P${secure.port}`,
      '-uroot',
      '--ssl',
      '-e',
      'status',
    ]);
    expect(stdout).toMatch(/SSL:\s+Cipher in use is \S+/);
  });

  it('keeps plain clients working when TLS is configured', async () => {
    const conn = await connect(secure.port);
    try {
      expect(streamOf(conn)).not.toBeInstanceOf(TLSSocket);
      const [[row]] = await conn.query<RowDataPacket[]>('SELECT 3 AS three');
      expect(row).toEqual({ three: 3 });
    } finally {
      await conn.end();
    }
  });

  it('gives a client that requires TLS a clear error when tandem has no certificate', async () => {
    await expect(connect(plain.port, { ssl: { rejectUnauthorized: false } })).rejects.toMatchObject({
      code: 'HANDSHAKE_NO_SSL_SUPPORT',
    });
    await expect(
      execFileAsync('mariadb', [
        '--no-defaults',
        '--protocol=tcp',
        '-h127.0.0.1',
        `-P${plain.port}`,
        '-uroot',
        '--ssl-verify-server-cert',
        '-e',
        'select 1',
      ]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('SSL is required, but the server does not support it'),
    });
  });

  it('answers an SSLRequest sent anyway with an ERR packet that says TLS is not configured', async () => {
    const conn = await ServerConnection.open('127.0.0.1', plain.port, 'tandem', 5000);
    try {
      expect(conn.greeting.capabilities & CLIENT.SSL).toBe(0);
      conn.writePacket(sslRequestPacket().subarray(4), 1);
      const answer = await conn.readPacket();
      expect(answer.payload[0]).toBe(0xff);
      const err = decodeErr(answer.payload);
      expect(err.errno).toBe(1043);
      expect(err.message).toMatch(/TLS is not configured/);
    } finally {
      conn.destroy();
    }
  });
});
