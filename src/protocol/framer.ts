import { MAX_PACKET_PAYLOAD } from './constants.js';

/**
 * Turns a byte stream into whole logical packets: the 4-byte header (int<3> payload length,
 * int<1> sequence id) and continuation of payloads of 16 MiB and more (a physical packet of
 * exactly 0xffffff bytes is followed by another of the same logical packet).
 * It knows nothing of what the payloads mean.
 * https://mariadb.com/kb/en/0-packet/
 *
 * A pushed chunk is borrowed: it may lie in a socket's reused read buffer (read-buffer.ts), which
 * the next read overwrites. Whatever the framer keeps past push() or returns from it is a copy.
 */
export interface LogicalPacket {
  /** Sequence id of the first physical packet. */
  readonly seq: number;
  /** Sequence id of the last physical packet (differs from seq for packets of 16 MiB and more). */
  readonly lastSeq: number;
  readonly payload: Buffer;
}

/**
 * The framer's errors carry the sequence id of the physical packet that caused them: the ERR
 * packet that answers it must come next (`seq + 1`), as the server's would, or a client reads
 * "packets out of order" instead of the error.
 */
export class PacketTooLargeError extends Error {
  override readonly name = 'PacketTooLargeError';
  constructor(
    message: string,
    readonly seq: number,
  ) {
    super(message);
  }
}

export class SequenceError extends Error {
  override readonly name = 'SequenceError';
  constructor(
    message: string,
    readonly seq: number,
  ) {
    super(message);
  }
}

/** One shared empty buffer: `pending` is empty after most reads. */
const EMPTY = Buffer.alloc(0);

export class PacketFramer {
  private pending: Buffer = EMPTY;
  /**
   * Chunks that arrived while a physical packet's body was still incomplete, joined only once
   * `awaited` bytes are there: joining on every chunk would copy a 16 MiB packet hundreds of
   * times (quadratic, seconds of blocked event loop for one large statement).
   */
  private waiting: Buffer[] = [];
  private waitingLength = 0;
  private awaited = 0;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private firstSeq = -1;
  private lastSeq = -1;

  constructor(private readonly maxPayload: number) {}

  /** Bytes received but not yet part of a whole packet. */
  get buffered(): number {
    return this.pending.length + this.waitingLength + this.partsLength;
  }

  /** Raw bytes not yet part of a whole packet, handed over when another reader takes the stream. */
  takeRemainder(): Buffer {
    const rest = this.waiting.length === 0 ? this.pending : Buffer.concat([this.pending, ...this.waiting]);
    this.pending = EMPTY;
    this.waiting = [];
    this.waitingLength = 0;
    this.awaited = 0;
    return rest;
  }

  push(chunk: Buffer): LogicalPacket[] {
    // `pending` is a buffer of the framer's own (a join), not the borrowed chunk.
    let owned = this.pending.length > 0;
    if (this.awaited > 0) {
      this.waiting.push(Buffer.from(chunk));
      this.waitingLength += chunk.length;
      if (this.pending.length + this.waitingLength < this.awaited) return [];
      chunk = Buffer.concat([this.pending, ...this.waiting]);
      this.pending = EMPTY;
      this.waiting = [];
      this.waitingLength = 0;
      this.awaited = 0;
      owned = true;
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: LogicalPacket[] = [];
    let off = 0;
    while (this.pending.length - off >= 4) {
      const len = this.pending.readUIntLE(off, 3);
      const seq = this.pending[off + 3]!;
      if (this.partsLength + len > this.maxPayload) {
        throw new PacketTooLargeError(`packet of more than ${this.maxPayload} bytes`, seq);
      }
      if (this.pending.length - off < 4 + len) {
        this.awaited = 4 + len;
        break;
      }
      const body = this.pending.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      if (this.firstSeq >= 0 && seq !== ((this.lastSeq + 1) & 0xff)) {
        throw new SequenceError(
          `continuation packet has sequence id ${seq}, expected ${(this.lastSeq + 1) & 0xff}`,
          seq,
        );
      }
      if (this.firstSeq < 0) this.firstSeq = seq;
      this.lastSeq = seq;
      if (len === MAX_PACKET_PAYLOAD) {
        // Copy: the part must outlive `pending`, which the next push replaces.
        this.parts.push(Buffer.from(body));
        this.partsLength += len;
        continue;
      }
      // Never a view of the borrowed chunk; a small command's copy comes from node's shared pool.
      let payload: Buffer;
      if (this.parts.length > 0) payload = Buffer.concat([...this.parts, body], this.partsLength + len);
      else payload = owned ? body : Buffer.from(body);
      out.push({ seq: this.firstSeq, lastSeq: this.lastSeq, payload });
      this.parts = [];
      this.partsLength = 0;
      this.firstSeq = -1;
    }
    // The start of a packet still to come is kept, as a copy unless `pending` is a join already.
    if (off === this.pending.length) this.pending = EMPTY;
    else this.pending = owned ? this.pending.subarray(off) : Buffer.from(this.pending.subarray(off));
    return out;
  }
}
