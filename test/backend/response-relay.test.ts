import { describe, expect, it } from 'vitest';
import { ResponseRelay } from '../../src/backend/response-relay.js';
import { COM } from '../../src/protocol/constants.js';
import { ResponseTracker } from '../../src/protocol/response-tracker.js';

/** A physical packet: 3-byte length, sequence id, payload. */
function packet(seq: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUIntLE(payload.length, 0, 3);
  head[3] = seq;
  return Buffer.concat([head, payload]);
}

/** A text result (no CLIENT_DEPRECATE_EOF): one column, `rows` rows of `rowBytes` bytes each. */
function textResult(rows: number, rowBytes: number): Buffer {
  let seq = 1;
  const eof = Buffer.from('fe00000200', 'hex');
  const parts = [
    packet(seq++, Buffer.from([1])),
    packet(seq++, Buffer.from('03646566', 'hex')),
    packet(seq++, eof),
  ];
  for (let i = 0; i < rows; i++) {
    const value = Buffer.alloc(rowBytes, 0x61 + (i % 26));
    parts.push(
      packet(seq++ & 0xff, Buffer.concat([Buffer.from([0xfc, rowBytes & 0xff, rowBytes >> 8]), value])),
    );
  }
  parts.push(packet(seq & 0xff, eof));
  return Buffer.concat(parts);
}

/** Feeds `bytes` in chunks cut at `cuts`, reusing one buffer for every chunk as a socket's read buffer is. */
function relayInChunks(bytes: Buffer, cuts: number[]): { out: Buffer; verdicts: string[] } {
  const out: Buffer[] = [];
  const verdicts: string[] = [];
  const relay = new ResponseRelay(
    (b) => out.push(Buffer.from(b)),
    (v) => verdicts.push(v),
  );
  relay.expect(new ResponseTracker(COM.QUERY, 0, false));
  const readBuffer = Buffer.alloc(bytes.length);
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const n = bytes.copy(readBuffer, 0, from, to);
    relay.push(readBuffer.subarray(0, n));
    readBuffer.fill(0xee); // the next read overwrites what was not copied
    from = to;
  }
  return { out: Buffer.concat(out), verdicts };
}

describe('ResponseRelay', () => {
  const result = textResult(40, 300);

  it('relays a result byte for byte, whatever the reads it arrives in', () => {
    for (let cut = 1; cut < result.length; cut += 7) {
      const { out, verdicts } = relayInChunks(result, [cut]);
      expect(out.equals(result), `cut at ${cut}`).toBe(true);
      expect(verdicts).toEqual(['done']);
    }
  });

  it('relays a result split into many small reads that cut rows and headers', () => {
    const cuts: number[] = [];
    for (let at = 3; at < result.length; at += 5 + (at % 11)) cuts.push(at);
    const { out, verdicts } = relayInChunks(result, cuts);
    expect(out.equals(result)).toBe(true);
    expect(verdicts).toEqual(['done']);
  });
});
