import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import type { RunningProxy } from '../../src/index.js';
import { COM } from '../../src/protocol/constants.js';
import { decodeErr } from '../../src/protocol/packets/err.js';
import { startTestProxy } from '../harness/proxy.js';
import { comQuery, RawClient, type RawPacket, textRows, WireClient } from '../harness/raw-client.js';
import { sharedPair } from '../harness/servers.js';

/**
 * What a client must not send, each on a proxy of its own in front of the shared source: the
 * bad connection gets the server's error (or is closed), and another connection, opened
 * before it, goes on running queries.
 */

const source = sharedPair().source;
let admin: Connection;

beforeAll(async () => {
  admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
});

afterAll(async () => {
  await admin?.end();
});

/**
 * Runs `body` against a proxy of its own, then checks that a connection opened before it still
 * works. That connection keeps busy meanwhile, so that a short idle timeout spares it.
 */
async function onOwnProxy(
  overrides: Partial<ConfigInput>,
  body: (proxy: RunningProxy) => Promise<void>,
): Promise<void> {
  const proxy = await startTestProxy(source.url, overrides);
  const bystander = await createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
  const pings: Promise<unknown>[] = [];
  const keepBusy = setInterval(() => pings.push(bystander.query('DO 1')), 100);
  try {
    await body(proxy);
    clearInterval(keepBusy);
    await Promise.all(pings);
    const [rows] = await bystander.query<RowDataPacket[]>('SELECT 6 * 7 AS answer');
    expect(rows).toEqual([{ answer: 42 }]);
  } finally {
    clearInterval(keepBusy);
    bystander.destroy();
    await proxy.close(500);
  }
}

function expectErr(packet: RawPacket | 'closed', errno: number, seq: number): void {
  expect(packet, 'an ERR packet, not a close').not.toBe('closed');
  const p = packet as RawPacket;
  expect(p.payload[0]).toBe(0xff);
  expect(decodeErr(p.payload).errno).toBe(errno);
  expect(p.seq).toBe(seq);
}

/** The 4-byte header of a packet: int<3> length, int<1> sequence id. */
function header(length: number, seq: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(length, 0, 3);
  h[3] = seq;
  return h;
}

describe('bad input from a client', () => {
  it('a truncated handshake response, then silence: ER_HANDSHAKE_ERROR at the handshake timeout, then close', async () => {
    await onOwnProxy({ timeouts: { handshakeMs: 400 } }, async (proxy) => {
      const c = await WireClient.connect('127.0.0.1', proxy.port);
      expect(((await c.next()) as RawPacket).payload[0]).toBe(10); // the greeting
      const started = Date.now();
      c.write(Buffer.concat([header(100, 1), Buffer.alloc(10, 0x41)]));
      expectErr(await c.next(3000), 1043, 1);
      expect(await c.next(3000)).toBe('closed');
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  it('a truncated command after login, then silence: closed at the idle timeout', async () => {
    await onOwnProxy({ timeouts: { idleMs: 400 } }, async (proxy) => {
      const c = await RawClient.connect('127.0.0.1', proxy.port);
      const started = Date.now();
      c.socket.write(Buffer.concat([header(50, 0), Buffer.from([COM.QUERY]), Buffer.from('SELECT')]));
      await new Promise((resolve) => c.socket.once('close', resolve));
      expect(Date.now() - started).toBeLessThan(2500);
    });
  });

  it('a session that goes quiet after its commands: closed no sooner than idleMs after the last', async () => {
    await onOwnProxy({ timeouts: { idleMs: 400 } }, async (proxy) => {
      const c = await RawClient.connect('127.0.0.1', proxy.port);
      let closed = 0;
      c.socket.once('close', () => {
        closed = Date.now();
      });
      // Busy for three idle timeouts: never closed meanwhile.
      for (let i = 0; i < 12; i++) {
        await c.command(comQuery('DO 1'));
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(closed).toBe(0);
      await c.command(comQuery('DO 1'));
      const last = Date.now();
      for (let i = 0; i < 100 && closed === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBeGreaterThan(0);
      expect(closed - last).toBeGreaterThanOrEqual(390);
      expect(closed - last).toBeLessThan(1200);
    });
  });

  it('a packet declaring 100 MB with maxPacketSize 1 MB: ER_NET_PACKET_TOO_LARGE, then close', async () => {
    await onOwnProxy({ maxPacketSize: 1024 * 1024 }, async (proxy) => {
      const c = await RawClient.connect('127.0.0.1', proxy.port);
      // 100 MB go out as physical packets of 0xffffff bytes; the first header is enough.
      c.socket.write(
        Buffer.concat([header(0xffffff, 0), Buffer.from([COM.QUERY]), Buffer.alloc(64 * 1024, 0x20)]),
      );
      const err = await c.read();
      expect(decodeErr(err.payload).errno).toBe(1153);
      // As from the server: the answer to the command's first packet (sequence id 0) is 1.
      expect(err.seq).toBe(1);
      await expect(c.read()).rejects.toThrow(/closed/);
      c.destroy();
    });
  });

  it('garbage instead of a handshake response: ER_HANDSHAKE_ERROR, then close', async () => {
    await onOwnProxy({ timeouts: { handshakeMs: 400 } }, async (proxy) => {
      // A framed packet whose payload is no HandshakeResponse41 (no CLIENT_PROTOCOL_41).
      const framed = await WireClient.connect('127.0.0.1', proxy.port);
      await framed.next();
      framed.writePacket(Buffer.from('\x00\x00\x00\x00garbage, not a handshake response'), 1);
      expectErr(await framed.next(), 1043, 2);
      expect(await framed.next()).toBe('closed');

      // A framed packet that claims CLIENT_PROTOCOL_41 and then ends too soon.
      const short = await WireClient.connect('127.0.0.1', proxy.port);
      await short.next();
      short.writePacket(Buffer.from([0x00, 0x02, 0x00, 0x00, 0xff, 0xff]), 1);
      expectErr(await short.next(), 1043, 2);
      expect(await short.next()).toBe('closed');

      // Not even framing: an HTTP request, whose first bytes read as a 5.5 MB packet.
      const http = await WireClient.connect('127.0.0.1', proxy.port);
      await http.next();
      http.write(Buffer.from('GET / HTTP/1.1\r\nHost: tandem\r\n\r\n'));
      expectErr(await http.next(3000), 1043, 1);
      expect(await http.next()).toBe('closed');
    });
  });

  it('a command with a wrong sequence id: ER_NET_PACKETS_OUT_OF_ORDER', async () => {
    await onOwnProxy({}, async (proxy) => {
      const c = await RawClient.connect('127.0.0.1', proxy.port);
      c.send(comQuery('SELECT 1'), 3);
      const err = await c.read();
      expect(decodeErr(err.payload).errno).toBe(1156);
      expect(err.seq).toBe(4);
      c.destroy();
    });
  });

  it('an unknown command byte: ER_UNKNOWN_COM_ERROR, and the connection stays usable', async () => {
    await onOwnProxy({}, async (proxy) => {
      const c = await RawClient.connect('127.0.0.1', proxy.port);
      try {
        for (const command of [0x60, 0xee, COM.BINLOG_DUMP, COM.SLEEP]) {
          const [err, ...rest] = await c.command(Buffer.from([command, 1, 2, 3]));
          expect(rest).toEqual([]);
          expect(err!.seq).toBe(1);
          expect(decodeErr(err!.payload).errno).toBe(1047);
        }
        expect(textRows(await c.query("SELECT 'still here'"), c.deprecateEof)).toEqual([['still here']]);
      } finally {
        c.quit();
      }
    });
  });

  it('statement commands too short to name a statement: ER_MALFORMED_PACKET for that connection only', async () => {
    await onOwnProxy({}, async (proxy) => {
      for (const command of [COM.STMT_EXECUTE, COM.STMT_FETCH, COM.STMT_RESET, COM.STMT_CLOSE]) {
        const c = await RawClient.connect('127.0.0.1', proxy.port);
        try {
          c.send(Buffer.from([command, 1]), 0);
          const err = await c.read();
          expect(decodeErr(err.payload).errno).toBe(1835);
          expect(err.seq).toBe(1);
        } finally {
          c.destroy();
        }
      }
    });
  });

  it('a client that hangs up in the middle of a large result: its server connection goes away', async () => {
    await onOwnProxy({}, async (proxy) => {
      const c = await RawClient.connect('127.0.0.1', proxy.port);
      const [[serverThread]] = textRows(await c.query('SELECT CONNECTION_ID()'), c.deprecateEof) as [
        [string],
      ];
      // About 500 MB, far more than the socket buffers hold.
      c.send(comQuery("SELECT REPEAT('x', 1000000) AS filler FROM mysql.seq_1_to_500"));
      await c.read();
      await c.read();
      const before = proxy.connectionCount();
      c.destroy();

      const gone = async (): Promise<boolean> => {
        const [rows] = await admin.query<RowDataPacket[]>(
          'SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?',
          [Number(serverThread)],
        );
        return rows.length === 0;
      };
      const deadline = Date.now() + 5000;
      while (!(await gone()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await gone()).toBe(true);
      expect(proxy.connectionCount()).toBe(before - 1);
    });
  });
});
