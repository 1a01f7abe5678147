import { describe, expect, it, vi } from 'vitest';
import {
  type LogicalPacket,
  PacketFramer,
  PacketTooLargeError,
  SequenceError,
} from '../../src/protocol/framer.js';
import { framePayload } from '../../src/protocol/packet-writer.js';

const MAX = 0xffffff;
const realConcat = Buffer.concat.bind(Buffer);

/** A physical packet: int<3> length, int<1> sequence id, payload. */
function physical(payload: Buffer, seq: number, declared = payload.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(declared, 0, 3);
  header[3] = seq;
  return Buffer.concat([header, payload]);
}

/** A payload whose bytes say where they are, so that a misplaced byte shows. */
function patterned(length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

function summary(packets: readonly LogicalPacket[]): string[] {
  return packets.map((p) => `${p.seq}-${p.lastSeq}:${p.payload.toString('hex')}`);
}

describe('PacketFramer', () => {
  it('returns whole payloads with their sequence ids, several per chunk', () => {
    const f = new PacketFramer(1024);
    const out = f.push(Buffer.concat([physical(Buffer.from('abc'), 0), physical(Buffer.alloc(0), 1)]));
    expect(summary(out)).toEqual(['0-0:616263', '1-1:']);
    expect(f.buffered).toBe(0);
  });

  it('joins a payload of exactly 0xffffff bytes with the empty packet that ends it', () => {
    const payload = patterned(MAX);
    const f = new PacketFramer(64 * 1024 * 1024);
    expect(f.push(physical(payload, 3))).toEqual([]);
    const [p, ...rest] = f.push(physical(Buffer.alloc(0), 4));
    expect(rest).toEqual([]);
    expect(p!.seq).toBe(3);
    expect(p!.lastSeq).toBe(4);
    expect(p!.payload.equals(payload)).toBe(true);
  });

  it('joins a payload of 0xffffff + 10 bytes from two physical packets', () => {
    const payload = patterned(MAX + 10);
    const f = new PacketFramer(64 * 1024 * 1024);
    const out = f.push(
      Buffer.concat([physical(payload.subarray(0, MAX), 0), physical(payload.subarray(MAX), 1)]),
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.lastSeq).toBe(1);
    expect(out[0]!.payload.equals(payload)).toBe(true);
  });

  it('wraps the sequence id from 255 to 0 inside a continued packet', () => {
    const f = new PacketFramer(64 * 1024 * 1024);
    const out = f.push(Buffer.concat([physical(Buffer.alloc(MAX), 255), physical(Buffer.from('x'), 0)]));
    expect(out.map((p) => [p.seq, p.lastSeq, p.payload.length])).toEqual([[255, 0, MAX + 1]]);
  });

  it('refuses a header that declares more than the limit, before its body arrives', () => {
    const f = new PacketFramer(1024);
    expect(() => f.push(physical(Buffer.alloc(0), 0, 1025))).toThrow(PacketTooLargeError);
  });

  it("names the offending packet's sequence id, which the ERR packet must follow", () => {
    const tooLarge = (() => {
      try {
        new PacketFramer(1024).push(physical(Buffer.alloc(0), 6, 0xffffff));
      } catch (err) {
        return err;
      }
    })();
    expect(tooLarge).toBeInstanceOf(PacketTooLargeError);
    expect((tooLarge as PacketTooLargeError).seq).toBe(6);
    const f = new PacketFramer(64 * 1024 * 1024);
    f.push(physical(Buffer.alloc(MAX), 0));
    expect(() => f.push(physical(Buffer.from('x'), 9))).toThrow(expect.objectContaining({ seq: 9 }));
  });

  it('accepts a packet of exactly the limit', () => {
    const f = new PacketFramer(1024);
    expect(f.push(physical(Buffer.alloc(1024), 0))[0]!.payload).toHaveLength(1024);
  });

  it('refuses a continued packet whose parts add up to more than the limit', () => {
    const f = new PacketFramer(MAX + 5);
    expect(f.push(physical(Buffer.alloc(MAX), 0))).toEqual([]);
    expect(() => f.push(physical(Buffer.alloc(6), 1))).toThrow(PacketTooLargeError);
  });

  it('refuses a continuation whose sequence id does not follow', () => {
    const f = new PacketFramer(64 * 1024 * 1024);
    f.push(physical(Buffer.alloc(MAX), 0));
    expect(() => f.push(physical(Buffer.from('x'), 2))).toThrow(SequenceError);
  });

  it('leaves sequence ids of separate packets to the caller', () => {
    const f = new PacketFramer(1024);
    expect(
      summary(f.push(Buffer.concat([physical(Buffer.from('a'), 5), physical(Buffer.from('b'), 0)]))),
    ).toEqual(['5-5:61', '0-0:62']);
  });

  describe('handles bytes split at every position', () => {
    const stream = Buffer.concat([
      physical(Buffer.from('first'), 0),
      physical(Buffer.alloc(0), 1),
      physical(patterned(300), 2),
      physical(Buffer.from([0xfe, 0, 0, 2, 0]), 3),
    ]);
    const expected = summary(new PacketFramer(1024).push(stream));

    it('in two chunks, for every split point', () => {
      for (let cut = 0; cut <= stream.length; cut++) {
        const f = new PacketFramer(1024);
        const got = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
        expect(summary(got), `cut at ${cut}`).toEqual(expected);
        expect(f.buffered).toBe(0);
      }
    });

    it('one byte at a time', () => {
      const f = new PacketFramer(1024);
      const got: LogicalPacket[] = [];
      for (let i = 0; i < stream.length; i++) got.push(...f.push(stream.subarray(i, i + 1)));
      expect(summary(got)).toEqual(expected);
    });

    it('around the headers of a continued packet', () => {
      const payload = patterned(MAX + 3);
      const big = Buffer.concat([framePayload(payload, 0), physical(Buffer.from('next'), 0)]);
      const cuts = [
        1,
        3,
        4,
        5,
        MAX + 3,
        MAX + 4,
        MAX + 5,
        MAX + 7,
        MAX + 8,
        MAX + 9,
        big.length - 5,
        big.length - 1,
      ];
      for (const cut of cuts) {
        const f = new PacketFramer(64 * 1024 * 1024);
        const got = [...f.push(big.subarray(0, cut)), ...f.push(big.subarray(cut))];
        expect(
          got.map((p) => p.payload.length),
          `cut at ${cut}`,
        ).toEqual([MAX + 3, 4]);
        expect(got[0]!.payload.equals(payload)).toBe(true);
      }
    });

    it('in 64 KiB chunks of a 40 MB packet, copying each byte a bounded number of times', () => {
      const payload = patterned(40_000_000);
      const bytes = framePayload(payload, 0);
      const f = new PacketFramer(64 * 1024 * 1024);
      // Joining the chunks on every push copied the growing buffer each time: quadratic, seconds
      // of blocked event loop for one large statement.
      let copied = 0;
      const concat = vi.spyOn(Buffer, 'concat').mockImplementation((list, totalLength) => {
        const out = realConcat(list, totalLength);
        copied += out.length;
        return out;
      });
      const got: LogicalPacket[] = [];
      try {
        for (let off = 0; off < bytes.length; off += 65536)
          got.push(...f.push(bytes.subarray(off, off + 65536)));
      } finally {
        concat.mockRestore();
      }
      expect(got).toHaveLength(1);
      expect(got[0]!.payload.equals(payload)).toBe(true);
      expect(copied).toBeLessThan(3 * payload.length);
    });
  });

  describe('treats every chunk as borrowed: a socket reuses its read buffer', () => {
    /** Pushes the stream through one buffer, overwritten with garbage after each push. */
    function throughOneBuffer(f: PacketFramer, stream: Buffer, size: number): LogicalPacket[] {
      const reused = Buffer.alloc(size);
      const got: LogicalPacket[] = [];
      for (let off = 0; off < stream.length; off += size) {
        const n = stream.copy(reused, 0, off, off + size);
        got.push(...f.push(reused.subarray(0, n)));
        reused.fill(0xee);
      }
      return got;
    }

    it('so that payloads returned earlier stay intact after the next read', () => {
      const packets = [0, 1, 2, 3, 4, 5].map((i) => physical(patterned(5 + i * 3), 0));
      const got = throughOneBuffer(new PacketFramer(1024), Buffer.concat(packets), 16);
      expect(got.map((p) => p.payload.toString('hex'))).toEqual(
        [0, 1, 2, 3, 4, 5].map((i) => patterned(5 + i * 3).toString('hex')),
      );
    });

    it('so that a packet begun in one read and ended in later ones is whole', () => {
      const payload = patterned(200_000);
      const got = throughOneBuffer(new PacketFramer(1 << 20), framePayload(payload, 0), 4096);
      expect(got).toHaveLength(1);
      expect(got[0]!.payload.equals(payload)).toBe(true);
    });

    it('so that the remainder it hands over is the bytes received', () => {
      const f = new PacketFramer(1024);
      const stream = physical(Buffer.from('partial'), 0);
      throughOneBuffer(f, stream.subarray(0, 8), 8);
      expect(f.takeRemainder().equals(stream.subarray(0, 8))).toBe(true);
    });
  });

  it('hands over the bytes of an incomplete packet with takeRemainder', () => {
    const f = new PacketFramer(1024);
    const stream = Buffer.concat([physical(Buffer.from('one'), 0), physical(Buffer.from('two'), 1)]);
    expect(summary(f.push(stream.subarray(0, 10)))).toEqual(['0-0:6f6e65']);
    f.push(stream.subarray(10, 12));
    expect(f.buffered).toBe(5);
    expect(f.takeRemainder().equals(stream.subarray(7, 12))).toBe(true);
    expect(f.buffered).toBe(0);
  });
});

describe('framePayload', () => {
  const headers = (bytes: Buffer): string[] => {
    const out: string[] = [];
    for (let off = 0; off < bytes.length; ) {
      const len = bytes.readUIntLE(off, 3);
      out.push(`${len}@${bytes[off + 3]}`);
      off += 4 + len;
    }
    return out;
  };

  it.each([
    [0, ['0@5']],
    [10, ['10@5']],
    [MAX - 1, [`${MAX - 1}@5`]],
    [MAX, [`${MAX}@5`, '0@6']],
    [MAX + 10, [`${MAX}@5`, '10@6']],
    [2 * MAX, [`${MAX}@5`, `${MAX}@6`, '0@7']],
  ])('splits a payload of %i bytes into physical packets %j', (length, expected) => {
    expect(headers(framePayload(Buffer.alloc(length), 5))).toEqual(expected);
  });

  it('wraps sequence ids past 255', () => {
    expect(headers(framePayload(Buffer.alloc(MAX + 1), 255))).toEqual([`${MAX}@255`, '1@0']);
  });

  it('is undone by PacketFramer', () => {
    const payload = patterned(MAX + 10);
    const [p] = new PacketFramer(64 * 1024 * 1024).push(framePayload(payload, 0));
    expect(p!.payload.equals(payload)).toBe(true);
  });
});
