import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DirectWriter } from '../../src/protocol/direct-writer.js';
import { useNativeIo } from '../../src/protocol/native-io.js';

interface Pair {
  readonly server: Server;
  /** The accepted side, written to. */
  readonly writing: Socket;
  /** The connecting side, read from. */
  readonly reading: Socket;
}

let pair: Pair | undefined;

async function socketPair(): Promise<Pair> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const reading = connect(port, '127.0.0.1');
  await once(reading, 'connect');
  const [writing] = await accepted;
  pair = { server, writing, reading };
  return pair;
}

/** Everything the reading side receives until the writing side ends. */
function received(reading: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  reading.on('data', (c: Buffer) => chunks.push(c));
  return once(reading, 'end').then(() => Buffer.concat(chunks));
}

afterEach(() => {
  pair?.writing.destroy();
  pair?.reading.destroy();
  pair?.server.close();
  pair = undefined;
});

// The same writer through the handle's writeBuffer and through the native reader's write(2).
for (const native of [false, true]) {
  const writer = (...args: ConstructorParameters<typeof DirectWriter>): DirectWriter => {
    useNativeIo(native);
    try {
      return new DirectWriter(...args);
    } finally {
      useNativeIo(true);
    }
  };

  describe(`DirectWriter (${native ? 'native write' : "the handle's writeBuffer"})`, () => {
    it('writes what the kernel takes at once past the stream, in order with socket.write', async () => {
      const { writing, reading } = await socketPair();
      const all = received(reading);
      const streamWrite = vi.spyOn(writing, 'write');
      const w = writer(writing, () => {});
      const expected: Buffer[] = [];
      for (let i = 0; i < 200; i++) {
        const a = Buffer.from(`direct ${i};`);
        expect(w.write(a)).toBe(true);
        expected.push(a);
        if (i % 10 === 0) {
          const b = Buffer.from(`stream ${i};`);
          writing.write(b);
          expected.push(b);
        }
      }
      expect(w.holdsBytes).toBe(false);
      // Only the 20 writes made through the stream on purpose went through it.
      expect(streamWrite).toHaveBeenCalledTimes(20);
      writing.end();
      expect((await all).toString()).toBe(Buffer.concat(expected).toString());
    });

    it('reports a write the kernel takes in part, holds its bytes, and calls onDrain once the rest is written', async () => {
      const { writing, reading } = await socketPair();
      reading.pause();
      let drains = 0;
      const w = writer(writing, () => drains++);
      const big = Buffer.alloc(32 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
      expect(w.write(big)).toBe(false);
      expect(w.holdsBytes).toBe(true);
      // A later write waits behind the unfinished one, in libuv's queue.
      expect(w.write(Buffer.from('tail'))).toBe(false);
      expect(drains).toBe(0);
      const all = received(reading);
      reading.resume();
      await vi.waitFor(() => expect(drains).toBe(1), { timeout: 10_000 });
      expect(w.holdsBytes).toBe(false);
      writing.end();
      const got = await all;
      expect(got.length).toBe(big.length + 4);
      expect(got.subarray(0, big.length).equals(big)).toBe(true);
      expect(got.subarray(big.length).toString()).toBe('tail');
    });

    it('destroys the socket with the system error when the peer has gone', async () => {
      const { writing, reading } = await socketPair();
      const errors: NodeJS.ErrnoException[] = [];
      writing.on('error', (e: NodeJS.ErrnoException) => errors.push(e));
      const closed = new Promise((r) => writing.on('close', r));
      reading.resetAndDestroy();
      await once(reading, 'close');
      const w = writer(writing, () => {});
      await vi.waitFor(
        () => {
          w.write(Buffer.alloc(1024));
          expect(writing.destroyed).toBe(true);
        },
        { timeout: 5_000, interval: 10 },
      );
      await closed;
      expect(errors.map((e) => e.code)).toEqual([expect.stringMatching(/^(EPIPE|ECONNRESET)$/)]);
      expect(errors[0]?.syscall).toBe('write');
    });

    it('leaves writes to the stream while it is corked or has writes of its own queued', async () => {
      const { writing, reading } = await socketPair();
      const all = received(reading);
      const w = writer(writing, () => {});
      const streamWrite = vi.spyOn(writing, 'write');
      writing.cork();
      w.write(Buffer.from('a'));
      w.write(Buffer.from('b'));
      expect(streamWrite).toHaveBeenCalledTimes(2);
      process.nextTick(() => writing.uncork());
      await new Promise((r) => setImmediate(r));
      w.write(Buffer.from('c'));
      writing.end();
      expect((await all).toString()).toBe('abc');
    });

    it('writes through the stream for a TLS socket', async () => {
      const { writing, reading } = await socketPair();
      const all = received(reading);
      const w = writer(writing, () => {}, true);
      const streamWrite = vi.spyOn(writing, 'write');
      w.write(Buffer.from('x'));
      expect(streamWrite).toHaveBeenCalledTimes(1);
      writing.end();
      expect((await all).toString()).toBe('x');
    });
  });
}
