import { connect, type Socket } from 'node:net';
import {
  CACHING_SHA2,
  CACHING_SHA2_PASSWORD,
  cachingSha2Token,
  encryptPasswordWithPublicKey,
} from '../protocol/auth/caching-sha2-password.js';
import { NATIVE_PASSWORD, nativePasswordToken } from '../protocol/auth/mysql-native-password.js';
import { CLIENT } from '../protocol/constants.js';
import { DirectWriter } from '../protocol/direct-writer.js';
import { MysqlError } from '../protocol/errors.js';
import { type LogicalPacket, PacketFramer } from '../protocol/framer.js';
import { framePayload } from '../protocol/packet-writer.js';
import { decodeAuthSwitchRequest } from '../protocol/packets/auth-switch-request.js';
import { decodeErr } from '../protocol/packets/err.js';
import { encodeHandshakeResponse } from '../protocol/packets/handshake-response.js';
import { decodeHandshakeV10, type HandshakeV10 } from '../protocol/packets/handshake-v10.js';
import { ReadBuffer } from '../protocol/read-buffer.js';

/**
 * Each server connection reads into a buffer of this size, reused (read-buffer.ts): node's own
 * read size, so that a large result streams in as few reads as before. An idle connection
 * holds it, but only the pages a read has written count in RSS.
 */
const SERVER_READ_BYTES = 64 * 1024;

/**
 * One TCP connection to a MySQL/MariaDB server. During the handshake it reads whole packets
 * (`readPacket`); afterwards the owner takes the socket over with `detach()` and relays raw bytes.
 */
export class ServerConnection {
  greeting!: HandshakeV10;
  private readonly framer = new PacketFramer(1 << 30);
  private readonly queue: LogicalPacket[] = [];
  private readonly writer: DirectWriter;
  private waiter: { resolve: (p: LogicalPacket) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  /** Where reads go: the handshake's packet reader, then the link that took the socket over. */
  private reader: (chunk: Buffer) => void = (chunk) => {
    try {
      // The framer copies what it returns: the packets wait in the queue past the next read.
      for (const p of this.framer.push(chunk)) this.deliver(p);
    } catch (err) {
      this.fail(err as Error);
    }
  };

  private constructor(
    readonly socket: Socket,
    readonly label: string,
    /** The socket's reads; a chunk is valid until the next read unless `reads.keep()` is called. */
    readonly reads: ReadBuffer,
  ) {
    // Commands to a server are framed into buffers of their own, so nothing waits on a drain.
    this.writer = new DirectWriter(socket, () => {});
    socket.setNoDelay(true);
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(lost(`${label} server closed the connection`)));
  }

  /** Connects and reads the server's initial handshake. */
  static async open(host: string, port: number, label: string, timeoutMs: number): Promise<ServerConnection> {
    const reads = new ReadBuffer(SERVER_READ_BYTES, (chunk) => conn.reader(chunk));
    const socket = connect({ host, port, onread: reads.onread });
    // Before node's first read, which follows the 'connect' listeners unless they paused it.
    socket.once('connect', () => reads.start(socket));
    const conn = new ServerConnection(socket, label, reads);
    const timer = setTimeout(
      () =>
        socket.destroy(
          new MysqlError(
            'CR_CONN_HOST_ERROR',
            `Can't connect to ${label} server on '${host}:${port}' (timed out after ${timeoutMs} ms)`,
          ),
        ),
      timeoutMs,
    );
    try {
      const first = await conn.readPacket();
      if (first.payload[0] === 0xff) {
        const e = decodeErr(first.payload);
        throw new MysqlError(e, e.message, true);
      }
      conn.greeting = decodeHandshakeV10(first.payload);
      return conn;
    } catch (err) {
      socket.destroy();
      if (err instanceof MysqlError) throw err;
      throw new MysqlError(
        'CR_CONN_HOST_ERROR',
        `Can't connect to ${label} server on '${host}:${port}' (${(err as Error).message})`,
        true,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private deliver(p: LogicalPacket): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(p);
    } else this.queue.push(p);
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  readPacket(): Promise<LogicalPacket> {
    const p = this.queue.shift();
    if (p) return Promise.resolve(p);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  writePacket(payload: Buffer, seq: number): void {
    this.write(framePayload(payload, seq));
  }

  /** Raw bytes to the server (whole framed packets), in order with every other write. */
  write(bytes: Buffer): void {
    this.writer.write(bytes);
  }

  /**
   * Stops packet reading and sends every later read to `reader`; returns the bytes received and
   * not yet read, to be relayed raw.
   */
  detach(reader: (chunk: Buffer) => void): Buffer {
    this.reader = reader;
    const queued = this.queue.splice(0).map((p) => framePayload(p.payload, p.seq));
    return Buffer.concat([...queued, this.framer.takeRemainder()]);
  }

  get closed(): boolean {
    return this.failure !== undefined || this.socket.destroyed;
  }

  /**
   * Logs in with tandem's own credentials (the target, or the source when tandem checks users).
   * Supports mysql_native_password and caching_sha2_password, with an authentication switch.
   */
  async authenticate(opts: {
    user: string;
    password: string;
    database: string | undefined;
    capabilities: number;
    mariadbCapabilities: number;
    collation: number;
    maxPacketSize: number;
  }): Promise<Buffer> {
    const g = this.greeting;
    let capabilities = (opts.capabilities & g.capabilities & ~CLIENT.SSL & ~CLIENT.COMPRESS) >>> 0;
    if (opts.database) capabilities |= CLIENT.CONNECT_WITH_DB;
    else capabilities &= ~CLIENT.CONNECT_WITH_DB;
    let plugin = g.authPlugin === CACHING_SHA2_PASSWORD ? CACHING_SHA2_PASSWORD : NATIVE_PASSWORD;
    let scramble = g.scramble;
    const token = (p: string) =>
      p === CACHING_SHA2_PASSWORD
        ? cachingSha2Token(opts.password, scramble)
        : nativePasswordToken(opts.password, scramble);
    this.socket.write(
      encodeHandshakeResponse(
        {
          capabilities,
          mariadbCapabilities: opts.mariadbCapabilities & g.mariadbCapabilities,
          maxPacketSize: opts.maxPacketSize,
          collation: opts.collation,
          user: opts.user,
          authResponse: token(plugin),
          database: opts.database,
          authPlugin: plugin,
          attributes: { _client_name: 'tandem' },
        },
        1,
      ),
    );
    for (;;) {
      const p = await this.readPacket();
      const head = p.payload[0];
      const next = (p.lastSeq + 1) & 0xff;
      if (head === 0x00) return p.payload;
      if (head === 0xff) {
        const e = decodeErr(p.payload);
        throw new MysqlError(e, `${this.label} server: ${e.message}`, true);
      }
      if (head === 0xfe) {
        const sw = decodeAuthSwitchRequest(p.payload);
        if (sw.plugin !== NATIVE_PASSWORD && sw.plugin !== CACHING_SHA2_PASSWORD) {
          throw new MysqlError(
            'ER_NOT_SUPPORTED_AUTH_MODE',
            `${this.label} server asks for authentication plugin ${sw.plugin}, which tandem does not support`,
            true,
          );
        }
        plugin = sw.plugin;
        scramble = sw.data;
        this.writePacket(token(plugin), next);
        continue;
      }
      if (head === 0x01 && plugin === CACHING_SHA2_PASSWORD) {
        const code = p.payload[1];
        if (code === CACHING_SHA2.FAST_AUTH_SUCCESS) continue;
        if (code === CACHING_SHA2.PERFORM_FULL_AUTHENTICATION) {
          this.writePacket(Buffer.from([CACHING_SHA2.REQUEST_PUBLIC_KEY]), next);
          continue;
        }
        // 0x01 + PEM: the public key we asked for.
        const pem = p.payload.subarray(1).toString('utf8');
        this.writePacket(encryptPasswordWithPublicKey(opts.password, scramble, pem), next);
        continue;
      }
      throw new MysqlError(
        'ER_HANDSHAKE_ERROR',
        `${this.label} server sent an unexpected authentication packet`,
        true,
      );
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function lost(message: string): MysqlError {
  return new MysqlError('CR_SERVER_LOST', message, true);
}
