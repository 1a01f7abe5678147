/**
 * Cursor over one packet payload, with the protocol's basic types.
 * https://mariadb.com/kb/en/protocol-data-types/
 */
export class PacketReader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length)
      throw new MalformedPacketError(`packet too short: need ${n} more bytes`);
  }

  int1(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  int2(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  int3(): number {
    this.need(3);
    const v = this.buf.readUIntLE(this.offset, 3);
    this.offset += 3;
    return v;
  }

  int4(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  int8(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }

  /** int<lenenc> as a number when it fits exactly, else as a bigint. 0xfb (NULL) returns null. */
  lenencInt(): number | bigint | null {
    const first = this.int1();
    if (first < 0xfb) return first;
    if (first === 0xfb) return null;
    if (first === 0xfc) return this.int2();
    if (first === 0xfd) return this.int3();
    if (first === 0xfe) {
      const v = this.int8();
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    throw new MalformedPacketError('0xff is not a valid int<lenenc> prefix');
  }

  /** int<lenenc> that must fit in a JavaScript number (lengths, counts). */
  lenencNumber(): number {
    const v = this.lenencInt();
    if (v === null || typeof v === 'bigint') throw new MalformedPacketError('length out of range');
    return v;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  advance(n: number): void {
    this.need(n);
    this.offset += n;
  }

  /** string<NUL> */
  nulBytes(): Buffer {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new MalformedPacketError('string<NUL> without terminator');
    const v = this.buf.subarray(this.offset, end);
    this.offset = end + 1;
    return v;
  }

  nulString(): string {
    return this.nulBytes().toString('utf8');
  }

  /** string<lenenc> */
  lenencBytes(): Buffer {
    return this.bytes(this.lenencNumber());
  }

  lenencString(): string {
    return this.lenencBytes().toString('utf8');
  }

  /** string<EOF> */
  restBytes(): Buffer {
    const v = this.buf.subarray(this.offset);
    this.offset = this.buf.length;
    return v;
  }

  restString(): string {
    return this.restBytes().toString('utf8');
  }
}

/** A packet whose bytes do not match its declared layout. */
export class MalformedPacketError extends Error {
  override readonly name = 'MalformedPacketError';
}
