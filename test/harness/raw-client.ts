import { connect, type Socket } from 'node:net';
import { ServerConnection } from '../../src/backend/server-connection.js';
import { CLIENT, COM, MARIADB_CLIENT } from '../../src/protocol/constants.js';
import { PacketFramer } from '../../src/protocol/framer.js';
import { framePayload, PacketWriter } from '../../src/protocol/packet-writer.js';
import type { HandshakeV10 } from '../../src/protocol/packets/handshake-v10.js';
import { ResponseTracker } from '../../src/protocol/response-tracker.js';

/**
 * A protocol-level client for tests: it logs in with tandem's own ServerConnection and then
 * sends command payloads and collects every response packet as it came (sequence id and
 * payload), so that two servers, or a server and tandem, can be compared byte for byte.
 * The end of a response is found with ResponseTracker; `sync()` checks that nothing followed.
 */

export interface RawPacket {
  readonly seq: number;
  readonly payload: Buffer;
}

/** What a modern MariaDB client (Connector/C 3.x) asks for, minus TLS, compression and LOCAL INFILE. */
export const MODERN_CLIENT =
  CLIENT.FOUND_ROWS |
  CLIENT.LONG_FLAG |
  CLIENT.PROTOCOL_41 |
  CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION |
  CLIENT.MULTI_STATEMENTS |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS |
  CLIENT.PLUGIN_AUTH |
  CLIENT.CONNECT_ATTRS |
  CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  CLIENT.SESSION_TRACK |
  CLIENT.DEPRECATE_EOF;

/** A MySQL 5.x-era client: CLIENT_LONG_PASSWORD set (so no MariaDB extended capabilities), EOF packets. */
export const CLASSIC_CLIENT =
  CLIENT.LONG_PASSWORD |
  CLIENT.LONG_FLAG |
  CLIENT.PROTOCOL_41 |
  CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION |
  CLIENT.MULTI_STATEMENTS |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS |
  CLIENT.PLUGIN_AUTH;

export interface RawConnectOptions {
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  /** Client capability flags; MODERN_CLIENT unless given. */
  readonly capabilities?: number;
  readonly mariadbCapabilities?: number;
  /** Milliseconds to wait for any one packet before giving up. */
  readonly readTimeoutMs?: number;
}

export class RawClient {
  private constructor(
    private readonly conn: ServerConnection,
    /** Capabilities in force after the handshake. */
    readonly capabilities: number,
    /** The OK packet that ended the authentication. */
    readonly authOk: Buffer,
    private readonly readTimeoutMs: number,
  ) {}

  static async connect(host: string, port: number, opts: RawConnectOptions = {}): Promise<RawClient> {
    const conn = await ServerConnection.open(host, port, 'test', 5000);
    const asked = opts.capabilities ?? MODERN_CLIENT;
    const authOk = await conn.authenticate({
      user: opts.user ?? 'root',
      password: opts.password ?? '',
      database: opts.database,
      capabilities: asked,
      mariadbCapabilities: opts.mariadbCapabilities ?? MARIADB_CLIENT.EXTENDED_TYPE_INFO,
      collation: 45, // utf8mb4_general_ci
      maxPacketSize: 1 << 30,
    });
    // The same negotiation as ServerConnection.authenticate.
    let capabilities = (asked & conn.greeting.capabilities & ~CLIENT.SSL & ~CLIENT.COMPRESS) >>> 0;
    if (opts.database) capabilities |= CLIENT.CONNECT_WITH_DB;
    else capabilities &= ~CLIENT.CONNECT_WITH_DB;
    return new RawClient(conn, capabilities, authOk, opts.readTimeoutMs ?? 20_000);
  }

  get greeting(): HandshakeV10 {
    return this.conn.greeting;
  }

  get deprecateEof(): boolean {
    return (this.capabilities & CLIENT.DEPRECATE_EOF) !== 0;
  }

  /** Sends a command (sequence id 0) and returns its whole response; [] for commands without one. */
  async command(payload: Buffer, opts: { cursor?: boolean } = {}): Promise<RawPacket[]> {
    const tracker = new ResponseTracker(payload[0]!, this.capabilities, opts.cursor ?? false);
    this.conn.writePacket(payload, 0);
    return this.collect(tracker);
  }

  /** Sends several commands at once, without waiting, and returns their responses in order. */
  async pipeline(payloads: readonly Buffer[]): Promise<RawPacket[][]> {
    for (const payload of payloads) this.conn.writePacket(payload, 0);
    const out: RawPacket[][] = [];
    for (const payload of payloads)
      out.push(await this.collect(new ResponseTracker(payload[0]!, this.capabilities)));
    return out;
  }

  private async collect(tracker: ResponseTracker): Promise<RawPacket[]> {
    const out: RawPacket[] = [];
    while (!tracker.isDone) {
      const p = await this.read(out);
      out.push({ seq: p.seq, payload: p.payload });
      const verdict = tracker.onPacket(p.payload, p.payload.length);
      if (verdict === 'infile' || verdict === 'auth')
        throw new Error(`raw client cannot answer '${verdict}'`);
    }
    return out;
  }

  query(sql: string): Promise<RawPacket[]> {
    return this.command(comQuery(sql));
  }

  /** Sends a packet as is, with any sequence id, and reads nothing. */
  send(payload: Buffer, seq = 0): void {
    this.conn.writePacket(payload, seq);
  }

  /** Reads one packet. */
  read(sofar: readonly RawPacket[] = []): Promise<RawPacket> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no packet within ${this.readTimeoutMs} ms after ${sofar.length} packets: ` +
                sofar.map((p) => `${p.seq}:${p.payload.subarray(0, 16).toString('hex')}`).join(' '),
            ),
          ),
        this.readTimeoutMs,
      );
      this.conn.readPacket().then(
        (p) => {
          clearTimeout(timer);
          resolve(p);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /**
   * COM_PING, whose OK must be the very next packet: proof that the previous response was
   * read to its end and not a packet further.
   */
  async sync(): Promise<void> {
    const [ok, ...extra] = await this.command(Buffer.from([COM.PING]));
    if (ok?.seq !== 1 || ok.payload[0] !== 0x00 || extra.length > 0) {
      throw new Error(`COM_PING answered by ${ok?.seq}:${ok?.payload.subarray(0, 16).toString('hex')}`);
    }
  }

  /** COM_QUIT, then the socket closes. */
  quit(): void {
    if (!this.conn.closed) this.conn.socket.end(Buffer.from([1, 0, 0, 0, COM.QUIT]));
  }

  destroy(): void {
    this.conn.destroy();
  }

  get socket(): ServerConnection['socket'] {
    return this.conn.socket;
  }
}

/** COM_QUERY: int<1> 0x03, string<EOF> statement. */
export function comQuery(sql: string): Buffer {
  return new PacketWriter(sql.length + 1).int1(COM.QUERY).string(sql).payload();
}

/** A text-protocol row's values (string<lenenc> each, 0xfb for NULL), decoded as utf8. */
export function textRow(payload: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  let off = 0;
  while (off < payload.length) {
    const first = payload[off]!;
    if (first === 0xfb) {
      out.push(null);
      off += 1;
      continue;
    }
    let len = first;
    let head = 1;
    if (first === 0xfc) [len, head] = [payload.readUInt16LE(off + 1), 3];
    else if (first === 0xfd) [len, head] = [payload.readUIntLE(off + 1, 3), 4];
    else if (first === 0xfe) [len, head] = [Number(payload.readBigUInt64LE(off + 1)), 9];
    out.push(payload.toString('utf8', off + head, off + head + len));
    off += head + len;
  }
  return out;
}

/** The rows of a single text result set, whatever the EOF setting. */
export function textRows(packets: readonly RawPacket[], deprecateEof: boolean): (string | null)[][] {
  const columns = packets[0]!.payload[0]!;
  const firstRow = 1 + columns + (deprecateEof ? 0 : 1);
  return packets.slice(firstRow, -1).map((p) => textRow(p.payload));
}

/**
 * A bare TCP client that speaks only framing: for tests that send what no driver would
 * (garbage, truncated packets, wrong sequence ids) and watch what comes back.
 */
export class WireClient {
  private readonly framer = new PacketFramer(1 << 30);
  private readonly packets: RawPacket[] = [];
  private waiter: (() => void) | undefined;
  private isClosed = false;
  /** Resolves when the other side has closed the connection. */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const p of this.framer.push(chunk)) this.packets.push({ seq: p.seq, payload: p.payload });
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(host: string, port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => resolve(new WireClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next packet, or 'closed' once the connection is closed and every packet was read. */
  async next(timeoutMs = 5000): Promise<RawPacket | 'closed'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = this.packets.shift();
      if (p) return p;
      if (this.isClosed) return 'closed';
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no packet and no close within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Writes one packet with the given payload and sequence id. */
  writePacket(payload: Buffer, seq: number): void {
    this.socket.write(framePayload(payload, seq));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
