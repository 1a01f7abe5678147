/**
 * Growable writer for one payload. `toPacket(seq)` prepends the 4-byte header
 * (int<3> length, int<1> sequence id) for payloads under 16 MiB; larger ones go through
 * `framePayload`, which splits them.
 */
export class PacketWriter {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 64) {
    // 4 bytes reserved for the header so that a small packet needs no copy.
    this.buf = Buffer.allocUnsafe(initial + 4);
    this.len = 4;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  int1(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  int2(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16LE(v & 0xffff, this.len);
    this.len += 2;
    return this;
  }

  int3(v: number): this {
    this.ensure(3);
    this.buf.writeUIntLE(v & 0xffffff, this.len, 3);
    this.len += 3;
    return this;
  }

  int4(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  int8(v: bigint | number): this {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.len);
    this.len += 8;
    return this;
  }

  lenencInt(v: number | bigint): this {
    const n = BigInt(v);
    if (n < 0xfbn) return this.int1(Number(n));
    if (n <= 0xffffn) return this.int1(0xfc).int2(Number(n));
    if (n <= 0xffffffn) return this.int1(0xfd).int3(Number(n));
    return this.int1(0xfe).int8(n);
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }

  string(s: string): this {
    return this.bytes(Buffer.from(s, 'utf8'));
  }

  nulString(s: string | Uint8Array): this {
    return this.bytes(typeof s === 'string' ? Buffer.from(s, 'utf8') : s).int1(0);
  }

  lenencBytes(b: Uint8Array): this {
    return this.lenencInt(b.length).bytes(b);
  }

  lenencString(s: string): this {
    return this.lenencBytes(Buffer.from(s, 'utf8'));
  }

  payload(): Buffer {
    return this.buf.subarray(4, this.len);
  }

  /** The payload framed as packets starting at sequence id `seq`. */
  toPacket(seq: number): Buffer {
    const size = this.len - 4;
    if (size >= 0xffffff) return framePayload(this.payload(), seq);
    this.buf.writeUIntLE(size, 0, 3);
    this.buf[3] = seq & 0xff;
    return this.buf.subarray(0, this.len);
  }
}

/**
 * Splits a payload into physical packets: chunks of 0xffffff bytes, each with its own
 * sequence id, and a final chunk shorter than that (empty when the payload is an exact multiple).
 * https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html#sect_protocol_basic_packets_sending_mt_16mb
 */
export function framePayload(payload: Buffer, seq: number): Buffer {
  if (payload.length < 0xffffff) {
    // The common case, on every command: one allocation, one copy.
    const out = Buffer.allocUnsafe(payload.length + 4);
    out[0] = payload.length & 0xff;
    out[1] = (payload.length >> 8) & 0xff;
    out[2] = payload.length >> 16;
    out[3] = seq & 0xff;
    payload.copy(out, 4);
    return out;
  }
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const size = Math.min(0xffffff, payload.length - offset);
    const header = Buffer.allocUnsafe(4);
    header.writeUIntLE(size, 0, 3);
    header[3] = seq & 0xff;
    seq++;
    parts.push(header, payload.subarray(offset, offset + size));
    offset += size;
    if (size < 0xffffff) break;
  }
  return Buffer.concat(parts);
}
