import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeIoAvailable } from '../../src/protocol/native-io.js';
import { ReadBuffer } from '../../src/protocol/read-buffer.js';

/**
 * The native reader against real sockets: each accepted socket is read through it (as tandem
 * reads client and server sockets), written to by an ordinary node client.
 */

let server: Server | undefined;
const open: Socket[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Pair {
  /** The node client, written to and read from by the test. */
  readonly client: Socket;
  /** The accepted side, read natively. */
  readonly socket: Socket;
  readonly reads: ReadBuffer;
}

async function listen(): Promise<{ pair: (onChunk: (chunk: Buffer, p: Pair) => void) => Promise<Pair> }> {
  const accepted: Socket[] = [];
  const s = createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    accepted.push(socket);
    s.emit('accepted-socket');
  });
  server = s;
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  return {
    pair: async (onChunk) => {
      const client = connect(port, '127.0.0.1');
      open.push(client);
      // Connected on both sides, so that the client's writes go out when they are made.
      await once(client, 'connect');
      if (accepted.length === 0) await once(s, 'accepted-socket');
      const socket = accepted.shift()!;
      open.push(socket);
      let p: Pair | undefined;
      const reads = new ReadBuffer(4096, (chunk) => onChunk(chunk, p!));
      p = { client, socket, reads };
      expect(reads.start(socket)).toBe(true);
      return p;
    },
  };
}

const until = async (done: () => boolean, ms = 5_000): Promise<void> => {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('the native socket reader', () => {
  it('is built by npm install on this machine', () => {
    expect(nativeIoAvailable()).toBe(true);
  });

  it("delivers each socket's bytes whole and in order when many are ready at once", async () => {
    const { pair } = await listen();
    const got = new Map<Pair, Buffer[]>();
    const pairs: Pair[] = [];
    for (let i = 0; i < 40; i++) {
      pairs.push(
        await pair((chunk, p) => {
          // A copy: the chunk is valid only until this socket's next read.
          got.get(p)!.push(Buffer.from(chunk));
        }),
      );
      got.set(pairs[i]!, []);
    }
    const sent = pairs.map((_, i) => Buffer.alloc(50_000 + i * 1_000, 0).map((_b, j) => (i * 31 + j) & 0xff));
    // All written in one tick, so that many sockets are readable in the same wake-up.
    for (let round = 0; round < 10; round++) {
      pairs.forEach((p, i) => {
        const part = sent[i]!.length / 10;
        p.client.write(sent[i]!.subarray(round * part, (round + 1) * part));
      });
    }
    const total = (p: Pair): number => got.get(p)!.reduce((n, c) => n + c.length, 0);
    await until(() => pairs.every((p, i) => total(p) >= sent[i]!.length));
    pairs.forEach((p, i) => {
      expect(Buffer.concat(got.get(p)!).equals(sent[i]!)).toBe(true);
    });
  });

  it('reads the next chunk into a new buffer after keep(), leaving the kept one as it was', async () => {
    const { pair } = await listen();
    const kept: Buffer[] = [];
    const p = await pair((chunk, me) => {
      kept.push(chunk);
      me.reads.keep();
    });
    for (let i = 0; i < 20; i++) {
      p.client.write(Buffer.alloc(100, i));
      await until(() => kept.reduce((n, c) => n + c.length, 0) >= (i + 1) * 100);
    }
    const all = Buffer.concat(kept);
    for (let i = 0; i < 20; i++)
      expect(all.subarray(i * 100, (i + 1) * 100).every((b) => b === i)).toBe(true);
    expect(new Set(kept.map((c) => c.buffer)).size).toBe(kept.length);
  });

  it('holds a read that arrives in the same wake-up as the pause asking it to wait, until resume', async () => {
    const { pair } = await listen();
    let bGot = 0;
    let bPaused = false;
    let bReadWhilePaused = false;
    const b = await pair((chunk) => {
      if (bPaused) bReadWhilePaused = true;
      bGot += chunk.length;
    });
    const a = await pair(() => {
      bPaused = true;
      b.reads.pause();
    });
    // a first: both are readable in one wake-up, a's read is delivered first and pauses b.
    a.client.write('a');
    b.client.write('bbbb');
    await until(() => bPaused);
    await new Promise((r) => setTimeout(r, 50));
    expect(bGot).toBe(0);
    bPaused = false;
    b.reads.resume();
    await until(() => bGot === 4);
    b.client.write('more');
    await until(() => bGot === 8);
    expect(bReadWhilePaused).toBe(false);
  });

  it('gives the socket back to node at the end of stream: end and close come as usual', async () => {
    const { pair } = await listen();
    let got = '';
    const p = await pair((chunk) => {
      got += chunk.toString();
    });
    const ended = once(p.socket, 'end');
    const closed = once(p.socket, 'close');
    p.client.end('last words');
    await ended;
    await closed;
    expect(got).toBe('last words');
  });

  it('destroys the socket with the read error when the peer resets the connection', async () => {
    const { pair } = await listen();
    const p = await pair(() => {});
    const errors: NodeJS.ErrnoException[] = [];
    p.socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e));
    // Not once(): it rejects on the 'error' this test waits for.
    const closed = new Promise((r) => p.socket.on('close', r));
    p.client.write('x');
    await new Promise((r) => setTimeout(r, 20));
    p.client.resetAndDestroy();
    await closed;
    expect(errors.map((e) => `${e.syscall} ${e.code}`)).toEqual(['read ECONNRESET']);
  });

  it('frees a closed socket before its fd is reused: a new socket on the same fd reads its own bytes', async () => {
    const { pair } = await listen();
    let longGot = 0;
    const long = await pair((chunk) => {
      longGot += chunk.length;
    });
    for (let i = 0; i < 100; i++) {
      let got = '';
      const p = await pair((chunk) => {
        got += chunk.toString();
      });
      p.client.write(`socket ${i}`);
      long.client.write('.');
      await until(() => got.length >= `socket ${i}`.length);
      expect(got).toBe(`socket ${i}`);
      // Closed by the reading side, as tandem closes a session: the fd goes back to the kernel.
      p.socket.destroy();
      p.client.destroy();
    }
    await until(() => longGot === 100);
  });
});
