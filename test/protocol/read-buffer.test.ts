import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReadBuffer } from '../../src/protocol/read-buffer.js';

/**
 * ReadBuffer on a real socket pair: each chunk shows exactly the bytes of its read, and a kept
 * chunk is never overwritten by a later read.
 */

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A connected pair: `peer` writes, `reader` reads through `reads`. */
async function pair(reads: ReadBuffer): Promise<{ peer: Socket; reader: Socket }> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer((s) => resolve(s));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
  const port = (server!.address() as { port: number }).port;
  const reader = connect({ host: '127.0.0.1', port, onread: reads.onread });
  reader.setNoDelay(true);
  const peer = await accepted;
  peer.setNoDelay(true);
  sockets.push(reader, peer);
  return { peer, reader };
}

/** Writes each message and waits for its chunk, one at a time (one read each). */
async function exchange(peer: Socket, next: () => Promise<Buffer>, messages: readonly string[]) {
  const out: { text: string; chunk: Buffer }[] = [];
  for (const m of messages) {
    const got = next();
    peer.write(m);
    const chunk = await got;
    out.push({ text: chunk.toString(), chunk });
  }
  return out;
}

function chunks(onKeep?: (chunk: Buffer, reads: ReadBuffer) => void) {
  const waiters: ((b: Buffer) => void)[] = [];
  const reads: ReadBuffer = new ReadBuffer(1024, (chunk) => {
    onKeep?.(chunk, reads);
    waiters.shift()?.(chunk);
  });
  const next = () => new Promise<Buffer>((resolve) => waiters.push(resolve));
  return { reads, next };
}

describe('ReadBuffer', () => {
  it('shows each read its own bytes, reads of the same length included', async () => {
    const { reads, next } = chunks();
    const { peer } = await pair(reads);
    const got = await exchange(peer, next, ['alpha', 'bravo', 'xy', 'delta', 'echo!']);
    expect(got.map((g) => g.text)).toEqual(['alpha', 'bravo', 'xy', 'delta', 'echo!']);
  });

  it('leaves a kept chunk as it was: the next read goes to a new buffer', async () => {
    const kept: Buffer[] = [];
    const { reads, next } = chunks((chunk, r) => {
      if (chunk.toString() === 'keep1') {
        kept.push(chunk);
        r.keep();
      }
    });
    const { peer } = await pair(reads);
    const got = await exchange(peer, next, ['keep1', 'other', 'third']);
    expect(got.map((g) => g.text)).toEqual(['keep1', 'other', 'third']);
    expect(kept[0]!.toString()).toBe('keep1');
    expect(got[1]!.chunk.buffer).not.toBe(got[0]!.chunk.buffer);
  });
});
