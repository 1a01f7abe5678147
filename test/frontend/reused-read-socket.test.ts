import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withReusedReads } from '../../src/frontend/reused-read-socket.js';
import { useNativeIo } from '../../src/protocol/native-io.js';
import { ReadBuffer } from '../../src/protocol/read-buffer.js';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that accepts paused, as tandem's listener does, and hands out each socket. */
async function pausedServer(): Promise<{ port: number; accepted: () => Promise<Socket> }> {
  const waiting: Socket[] = [];
  const s = createServer({ pauseOnConnect: true }, (socket) => {
    waiting.push(socket);
    s.emit('accepted-socket');
  });
  server = s;
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return {
    port: (s.address() as AddressInfo).port,
    accepted: async () => {
      if (waiting.length === 0) await once(s, 'accepted-socket');
      return waiting.shift()!;
    },
  };
}

describe('an accepted socket re-homed onto a reused read buffer', () => {
  it('is offered by this node runtime (else tandem silently reads through data events)', async () => {
    const { port, accepted } = await pausedServer();
    const client = connect(port, '127.0.0.1');
    const socket = withReusedReads(await accepted(), new ReadBuffer(1024, () => {}));
    expect(socket).toBeDefined();
    socket!.destroy();
    client.destroy();
  });

  it('starts paused, so that nothing is read before its reader is chosen', async () => {
    const { port, accepted } = await pausedServer();
    const client = connect(port, '127.0.0.1');
    let received = 0;
    const socket = withReusedReads(
      await accepted(),
      new ReadBuffer(4096, (chunk) => {
        received += chunk.length;
      }),
    )!;
    client.write(Buffer.alloc(1000, 1));
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toBe(0);
    socket.resume();
    for (let i = 0; i < 200 && received < 1000; i++) await new Promise((r) => setTimeout(r, 10));
    expect(received).toBe(1000);
    client.destroy();
    await once(socket, 'close');
  });

  // The same socket read by node (onread) and by the native reader, where it is built.
  const readers = [
    {
      name: 'node',
      start: (reads: ReadBuffer, socket: Socket) => {
        useNativeIo(false);
        try {
          expect(reads.start(socket)).toBe(false);
        } finally {
          useNativeIo(true);
        }
      },
    },
    {
      name: 'the native reader',
      start: (reads: ReadBuffer, socket: Socket) => expect(reads.start(socket)).toBe(true),
    },
  ];

  for (const reader of readers) {
    it(`reads every byte the client sends, through the one buffer, and writes back (${reader.name})`, async () => {
      const { port, accepted } = await pausedServer();
      const client = connect(port, '127.0.0.1');
      let socket: Socket | undefined;
      let received = 0;
      const buffers = new Set<ArrayBufferLike>();
      const reads = new ReadBuffer(4096, (chunk) => {
        received += chunk.length;
        buffers.add(chunk.buffer);
        socket!.write(chunk.subarray(0, 1));
      });
      socket = withReusedReads(await accepted(), reads)!;
      reader.start(reads, socket);
      let echoed = 0;
      client.on('data', (d: Buffer) => {
        echoed += d.length;
      });
      const total = 1_000_000;
      client.write(Buffer.alloc(total, 7));
      for (let i = 0; i < 500 && received < total; i++) await new Promise((r) => setTimeout(r, 10));
      expect(received).toBe(total);
      expect(buffers.size).toBe(1);
      for (let i = 0; i < 100 && echoed === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(echoed).toBeGreaterThan(0);
      client.end();
      await once(socket, 'close');
    });

    it(`pauses and resumes reading, and lets the server close once the connection is gone (${reader.name})`, async () => {
      const { port, accepted } = await pausedServer();
      const client = connect(port, '127.0.0.1');
      let received = 0;
      const reads = new ReadBuffer(4096, (chunk) => {
        received += chunk.length;
      });
      const socket = withReusedReads(await accepted(), reads)!;
      reader.start(reads, socket);
      // A stream's resume() finishes on the next tick; a pause in the same tick would be undone.
      await new Promise((r) => setImmediate(r));
      reads.pause();
      client.write(Buffer.alloc(10_000, 1));
      await new Promise((r) => setTimeout(r, 100));
      expect(received).toBe(0);
      reads.resume();
      for (let i = 0; i < 200 && received < 10_000; i++) await new Promise((r) => setTimeout(r, 10));
      expect(received).toBe(10_000);
      client.destroy();
      await once(socket, 'close');
      // The accepted socket's destroy settled the server's count: close() completes.
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    });
  }
});
