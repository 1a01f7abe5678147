import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A minimal MySQL client that reads a text result set as raw bytes, never decoding a row, at a
 * chosen rate: the slow reader of the memory benchmark. It logs in as a user with an empty
 * password (mysql_native_password sends an empty token then), sends one COM_QUERY and counts
 * and hashes every byte of the response, so that a result relayed by a proxy can be compared
 * with the same result read from the server directly.
 * Packets: https://mariadb.com/kb/en/0-packet/, result sets: https://mariadb.com/kb/en/result-set-packets/
 */

/** Capability flags sent in HandshakeResponse41 (names as in mysql_com.h). */
const CLIENT = {
  LONG_PASSWORD: 1 << 0,
  LONG_FLAG: 1 << 2,
  PROTOCOL_41: 1 << 9,
  TRANSACTIONS: 1 << 13,
  SECURE_CONNECTION: 1 << 15,
  MULTI_RESULTS: 1 << 17,
  PLUGIN_AUTH: 1 << 19,
} as const;

const COM_QUERY = 0x03;
const UTF8MB4_GENERAL_CI = 45;
/** Packets shorter than this are kept whole (column count, EOF, ERR); longer ones only counted. */
const SMALL_PACKET = 64;

export interface StreamResult {
  /** Bytes of the response, headers included, from the column count to the last EOF. */
  readonly bytes: number;
  readonly rows: number;
  readonly sha256: string;
  readonly seconds: number;
}

export interface StreamOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly sql: string;
  /** Read no faster than this; 0 or undefined reads as fast as the socket delivers. */
  readonly bytesPerSecond?: number;
}

function frame(payload: Buffer, seq: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

function handshakeResponse(user: string): Buffer {
  const fixed = Buffer.alloc(32);
  const caps =
    CLIENT.LONG_PASSWORD |
    CLIENT.LONG_FLAG |
    CLIENT.PROTOCOL_41 |
    CLIENT.TRANSACTIONS |
    CLIENT.SECURE_CONNECTION |
    CLIENT.MULTI_RESULTS |
    CLIENT.PLUGIN_AUTH;
  fixed.writeUInt32LE(caps, 0); // int<4> client capabilities
  fixed.writeUInt32LE(1 << 24, 4); // int<4> max packet size
  fixed[8] = UTF8MB4_GENERAL_CI; // int<1> collation; then string<23> reserved
  return Buffer.concat([
    fixed,
    Buffer.from(`${user}\0`), // string<NUL> user
    Buffer.from([0]), // int<1> auth response length: empty password
    Buffer.from('mysql_native_password\0'), // string<NUL> client auth plugin
  ]);
}

function errMessage(payload: Buffer): string {
  // int<1> 0xff, int<2> code, '#' + string<5> sql state, string<EOF> message
  const code = payload.readUInt16LE(1);
  return `MySQL error ${code}: ${payload.subarray(payload[3] === 0x23 ? 9 : 3).toString('utf8')}`;
}

/** Whole packets, for the login exchange only. */
function packetReader(socket: Socket): () => Promise<{ payload: Buffer; seq: number }> {
  let buf = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  let failure: Error | undefined;
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    waiter?.();
  };
  socket.on('data', onData);
  socket.once('error', (err) => {
    failure = err;
    waiter?.();
  });
  return async () => {
    for (;;) {
      if (buf.length >= 4 && buf.length >= 4 + buf.readUIntLE(0, 3)) {
        const len = buf.readUIntLE(0, 3);
        const packet = { payload: buf.subarray(4, 4 + len), seq: buf[3]! };
        buf = buf.subarray(4 + len);
        if (buf.length > 0) throw new Error('server sent more than one packet during login');
        return packet;
      }
      if (failure) throw failure;
      await new Promise<void>((resolve) => {
        waiter = resolve;
      });
      waiter = undefined;
    }
  };
}

async function login(socket: Socket, user: string): Promise<void> {
  const read = packetReader(socket);
  const greeting = await read();
  if (greeting.payload[0] === 0xff) throw new Error(errMessage(greeting.payload));
  socket.write(frame(handshakeResponse(user), 1));
  for (;;) {
    const { payload, seq } = await read();
    if (payload[0] === 0x00) break;
    if (payload[0] === 0xff) throw new Error(errMessage(payload));
    // 0xfe AuthSwitchRequest: an empty password's token is empty under any plugin we expect.
    socket.write(frame(Buffer.alloc(0), (seq + 1) & 0xff));
  }
  socket.removeAllListeners('data');
}

export function streamQuery(opts: StreamOptions): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: opts.host, port: opts.port, noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      login(socket, opts.user).then(() => read(socket, opts, resolve, reject), reject);
    });
  });
}

type Phase = 'column-count' | 'columns' | 'columns-eof' | 'rows' | 'done';

function read(
  socket: Socket,
  opts: StreamOptions,
  resolve: (r: StreamResult) => void,
  reject: (e: Error) => void,
): void {
  const hash = createHash('sha256');
  const header = Buffer.alloc(4);
  let headerHave = 0;
  let bodyLeft = 0;
  let body: Buffer | undefined;
  let bodyHave = 0;
  let firstByte: number | undefined;
  let phase: Phase = 'column-count';
  let columns = 0;
  let rows = 0;
  let bytes = 0;
  const started = performance.now();
  const rate = opts.bytesPerSecond ?? 0;

  /** `payload` is the whole payload of a small packet, undefined for a long one. */
  const onPacket = (first: number | undefined, payload: Buffer | undefined, length: number): void => {
    if (first === 0xff) throw new Error(payload ? errMessage(payload) : 'long ERR packet');
    switch (phase) {
      case 'column-count':
        if (!payload || first === 0x00 || first === 0xfb) throw new Error('expected a result set');
        columns = payload[0]!; // int<lenenc>, under 251 columns here
        phase = 'columns';
        return;
      case 'columns':
        if (--columns === 0) phase = 'columns-eof';
        return;
      case 'columns-eof':
        phase = 'rows';
        return;
      case 'rows':
        if (first === 0xfe && length < 9) phase = 'done';
        else rows++;
        return;
      case 'done':
        throw new Error('bytes after the end of the result');
    }
  };

  const consume = (chunk: Buffer): void => {
    let off = 0;
    while (off < chunk.length) {
      if (headerHave < 4) {
        const n = Math.min(4 - headerHave, chunk.length - off);
        chunk.copy(header, headerHave, off, off + n);
        headerHave += n;
        off += n;
        if (headerHave < 4) break;
        bodyLeft = header.readUIntLE(0, 3);
        body = bodyLeft < SMALL_PACKET ? Buffer.alloc(bodyLeft) : undefined;
        bodyHave = 0;
      }
      const n = Math.min(bodyLeft, chunk.length - off);
      if (bodyHave === 0) firstByte = n > 0 ? chunk[off] : undefined;
      if (body) chunk.copy(body, bodyHave, off, off + n);
      bodyHave += n;
      bodyLeft -= n;
      off += n;
      if (bodyLeft === 0) {
        onPacket(firstByte, body, header.readUIntLE(0, 3));
        headerHave = 0;
      }
    }
  };

  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
    try {
      consume(chunk);
    } catch (err) {
      socket.destroy();
      reject(err as Error);
      return;
    }
    if (phase === 'done') {
      const seconds = (performance.now() - started) / 1000;
      socket.end(frame(Buffer.from([0x01]), 0)); // COM_QUIT
      resolve({ bytes, rows, sha256: hash.digest('hex'), seconds });
      return;
    }
    if (rate > 0) {
      // Ahead of the allowed rate: stop reading until time catches up; the kernel buffers
      // fill and the sender (the proxy) feels backpressure.
      const aheadMs = ((bytes - (rate * (performance.now() - started)) / 1000) / rate) * 1000;
      if (aheadMs > 1) {
        socket.pause();
        setTimeout(() => socket.resume(), aheadMs);
      }
    }
  });
  socket.on('close', () => {
    if (phase !== 'done') reject(new Error(`connection closed after ${bytes} bytes, mid-result`));
  });
  socket.write(frame(Buffer.concat([Buffer.from([COM_QUERY]), Buffer.from(opts.sql, 'utf8')]), 0));
}
