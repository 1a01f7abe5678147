import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerConnection } from '../../src/backend/server-connection.js';
import type { RunningProxy } from '../../src/index.js';
import { CLIENT, COM, CURSOR_TYPE, SERVER_STATUS } from '../../src/protocol/constants.js';
import { PacketReader } from '../../src/protocol/packet-reader.js';
import { PacketWriter } from '../../src/protocol/packet-writer.js';
import { decodeErr } from '../../src/protocol/packets/err.js';
import { decodeOk, eofStatus, isEofPacket } from '../../src/protocol/packets/ok.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';

/**
 * Server-side cursors: COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY answers with the column
 * definitions only (status SERVER_STATUS_CURSOR_EXISTS), and each COM_STMT_FETCH brings the
 * next rows, the last batch flagged SERVER_STATUS_LAST_ROW_SENT. mysql2 and the mariadb
 * connector never open cursors, so this test speaks the protocol itself through tandem's
 * own packet modules. https://mariadb.com/kb/en/com_stmt_fetch/
 */

const DB = 'frontend_cursor';
const source = sharedPair().source;
let proxy: RunningProxy;

/** Capabilities of a minimal 4.1 client; CLIENT_DEPRECATE_EOF is added per test. */
const BASE_CAPABILITIES =
  CLIENT.LONG_PASSWORD |
  CLIENT.PROTOCOL_41 |
  CLIENT.SECURE_CONNECTION |
  CLIENT.TRANSACTIONS |
  CLIENT.PLUGIN_AUTH |
  CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS;

/** A client of its own: one command at a time, every response read packet by packet. */
class RawClient {
  private constructor(
    private readonly conn: ServerConnection,
    readonly deprecateEof: boolean,
  ) {}

  static async connect(port: number, deprecateEof: boolean): Promise<RawClient> {
    const conn = await ServerConnection.open('127.0.0.1', port, 'tandem', 5000);
    const capabilities = BASE_CAPABILITIES | (deprecateEof ? CLIENT.DEPRECATE_EOF : 0);
    await conn.authenticate({
      user: 'root',
      password: '',
      database: DB, // the sequence engine's seq_1_to_N tables exist in every database
      capabilities,
      mariadbCapabilities: 0,
      collation: 45, // utf8mb4_general_ci
      maxPacketSize: 16 * 1024 * 1024,
    });
    return new RawClient(conn, deprecateEof);
  }

  close(): void {
    this.conn.writePacket(Buffer.from([COM.QUIT]), 0);
    this.conn.destroy();
  }

  send(payload: Buffer): void {
    this.conn.writePacket(payload, 0);
  }

  async read(): Promise<Buffer> {
    const p = await this.conn.readPacket();
    if (p.payload[0] === 0xff) {
      const e = decodeErr(p.payload);
      throw new Error(`ERR ${e.errno}: ${e.message}`);
    }
    return p.payload;
  }

  /** The packet that ends a row stream: EOF, or under CLIENT_DEPRECATE_EOF an OK with header 0xfe. */
  isEnd(payload: Buffer): boolean {
    return payload[0] === 0xfe && (this.deprecateEof ? payload.length < 0xffffff : payload.length < 9);
  }

  endStatus(payload: Buffer): number {
    return isEofPacket(payload) ? eofStatus(payload) : decodeOk(payload).status;
  }

  /** COM_STMT_PREPARE; returns the statement id once its parameter and column definitions are read. */
  async prepare(sql: string): Promise<{ id: number; columns: number }> {
    this.send(new PacketWriter().int1(COM.STMT_PREPARE).string(sql).payload());
    // COM_STMT_PREPARE_OK: int<1> 0x00, int<4> statement id, int<2> columns, int<2> params,
    // int<1> reserved, int<2> warnings.
    const r = new PacketReader(await this.read(), 1);
    const id = r.int4();
    const columns = r.int2();
    const params = r.int2();
    for (const count of [params, columns]) {
      if (count === 0) continue;
      for (let i = 0; i < count; i++) await this.read();
      if (!this.deprecateEof) expect(isEofPacket(await this.read())).toBe(true);
    }
    return { id, columns };
  }

  /**
   * COM_STMT_EXECUTE with a read-only cursor, no parameters: the response is the column count
   * and definitions, then one EOF (sent even under CLIENT_DEPRECATE_EOF) with CURSOR_EXISTS.
   */
  async executeWithCursor(id: number): Promise<number> {
    // int<1> command, int<4> statement id, int<1> flags, int<4> iteration count (always 1).
    this.send(
      new PacketWriter().int1(COM.STMT_EXECUTE).int4(id).int1(CURSOR_TYPE.READ_ONLY).int4(1).payload(),
    );
    const columns = new PacketReader(await this.read()).lenencNumber();
    for (let i = 0; i < columns; i++) await this.read();
    const end = await this.read();
    expect(end[0]).toBe(0xfe);
    return this.endStatus(end);
  }

  /** COM_STMT_FETCH: binary rows of one BIGINT column, then the status of the packet that ends them. */
  async fetch(id: number, rows: number): Promise<{ values: bigint[]; status: number }> {
    // int<1> command, int<4> statement id, int<4> number of rows.
    this.send(new PacketWriter().int1(COM.STMT_FETCH).int4(id).int4(rows).payload());
    const values: bigint[] = [];
    for (;;) {
      const p = await this.read();
      if (this.isEnd(p)) return { values, status: this.endStatus(p) };
      // Binary row: int<1> 0x00, NULL bitmap of (1 + 7 + 2) / 8 = 1 byte, int<8> value.
      expect(p[0]).toBe(0x00);
      values.push(p.readBigUInt64LE(2));
    }
  }

  closeStatement(id: number): void {
    this.send(new PacketWriter().int1(COM.STMT_CLOSE).int4(id).payload());
  }

  /** COM_QUERY of a one-column result: its values as text. */
  async query(sql: string): Promise<string[]> {
    this.send(new PacketWriter().int1(COM.QUERY).string(sql).payload());
    const columns = new PacketReader(await this.read()).lenencNumber();
    for (let i = 0; i < columns; i++) await this.read();
    if (!this.deprecateEof) expect(isEofPacket(await this.read())).toBe(true);
    const values: string[] = [];
    for (;;) {
      const p = await this.read();
      if (this.isEnd(p)) return values;
      values.push(new PacketReader(p).lenencString());
    }
  }
}

async function onSource(sql: string): Promise<void> {
  const conn = await createConnection({ host: source.host, port: source.port, user: 'root' });
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

beforeAll(async () => {
  await onSource(`CREATE DATABASE IF NOT EXISTS ${DB}`);
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(1000);
  await onSource(`DROP DATABASE IF EXISTS ${DB}`);
});

describe.each([
  ['without CLIENT_DEPRECATE_EOF', false],
  ['with CLIENT_DEPRECATE_EOF', true],
])('a read-only cursor through tandem, %s', (_, deprecateEof) => {
  it('fetches 100 rows 30 at a time until SERVER_STATUS_LAST_ROW_SENT', async () => {
    const client = await RawClient.connect(proxy.port, deprecateEof);
    try {
      const stmt = await client.prepare('SELECT seq FROM seq_1_to_100');
      expect(stmt.columns).toBe(1);
      const status = await client.executeWithCursor(stmt.id);
      expect(status & SERVER_STATUS.CURSOR_EXISTS).toBeTruthy();

      const seen: bigint[] = [];
      const batches: number[] = [];
      for (let round = 0; round < 10; round++) {
        const { values, status: fetched } = await client.fetch(stmt.id, 30);
        seen.push(...values);
        batches.push(values.length);
        if (fetched & SERVER_STATUS.LAST_ROW_SENT) break;
      }
      expect(batches).toEqual([30, 30, 30, 10]);
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i + 1)));

      client.closeStatement(stmt.id);
      // The proxy kept count of every response: a plain query still gets its own answer.
      expect(await client.query('SELECT 6 * 7')).toEqual(['42']);
      expect(await client.query('SELECT seq FROM seq_1_to_3')).toEqual(['1', '2', '3']);
    } finally {
      client.close();
    }
  });

  it('reopens the cursor by executing again, and a fetch after the end gets an error it survives', async () => {
    const client = await RawClient.connect(proxy.port, deprecateEof);
    try {
      const stmt = await client.prepare('SELECT seq FROM seq_1_to_100');
      await client.executeWithCursor(stmt.id);
      const first = await client.fetch(stmt.id, 5);
      expect(first.values).toEqual([1n, 2n, 3n, 4n, 5n]);
      // Executing again closes the open cursor and opens a new one from the first row.
      await client.executeWithCursor(stmt.id);
      const all = await client.fetch(stmt.id, 1000);
      expect(all.values).toHaveLength(100);
      expect(all.status & SERVER_STATUS.LAST_ROW_SENT).toBeTruthy();
      await expect(client.fetch(stmt.id, 10)).rejects.toThrow(/ERR \d+/);
      expect(await client.query('SELECT 1')).toEqual(['1']);
    } finally {
      client.close();
    }
  });
});
