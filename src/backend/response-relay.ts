import { MAX_PACKET_PAYLOAD } from '../protocol/constants.js';
import { type ResponseTracker, ROW_ONLY_LENGTH, type Verdict } from '../protocol/response-tracker.js';

/**
 * Relays a server's response to the client as raw bytes, chunk by chunk, while the tracker
 * reads just enough of each packet (its header and, for small packets, its payload) to know
 * where the response ends. Rows are never decoded; a large row streams through without being
 * held whole, so memory stays constant whatever the result's size.
 */
export class ResponseRelay {
  private pending: Buffer = EMPTY;
  /** Bytes of a large packet still to pass through unread. */
  private passThrough = 0;
  /** The previous physical packet was 0xffffff long: the next one continues it. */
  private continuing = false;
  /** Sequence id of the last packet relayed, so that an injected ERR packet follows it. */
  lastSeq = 0;
  tracker: ResponseTracker | undefined;

  constructor(
    private readonly forward: (bytes: Buffer) => void,
    private readonly onVerdict: (verdict: Exclude<Verdict, 'more'>) => void,
  ) {}

  /** Starts a new response; `tracker` describes the command just sent. */
  expect(tracker: ResponseTracker): void {
    this.tracker = tracker;
    this.lastSeq = 0;
    if (this.pending.length > 0) this.push(EMPTY);
  }

  /** True while part of a packet has been received but not yet relayed. */
  get midPacket(): boolean {
    return this.passThrough > 0 || this.pending.length > 0;
  }

  push(chunk: Buffer): void {
    if (this.pending.length === 0) {
      this.relay(chunk);
      return;
    }
    // A packet split across reads: join its held start with just enough of this chunk to read it,
    // rather than the whole chunk (a copy of 64 KiB per read when rows straddle reads).
    const head = this.pending;
    const take = Math.min(chunk.length, this.bytesToComplete(head, chunk));
    const joined = Buffer.concat([head, chunk.subarray(0, take)]);
    this.pending = EMPTY;
    this.relay(joined);
    if (take === chunk.length) return;
    if (this.pending.length > 0) {
      // Bytes that no command was waiting for: kept, with the rest, until one is sent.
      this.pending = Buffer.concat([this.pending, chunk.subarray(take)]);
      return;
    }
    this.relay(chunk.subarray(take));
  }

  /** How many bytes of `next` complete the packet head held in `held` (see relay()). */
  private bytesToComplete(held: Buffer, next: Buffer): number {
    if (this.passThrough > 0 || held.length + next.length < 4) return next.length;
    const byte = (i: number): number => (i < held.length ? held[i]! : next[i - held.length]!);
    const len = byte(0) | (byte(1) << 8) | (byte(2) << 16);
    const needed = this.continuing ? 4 : len < ROW_ONLY_LENGTH ? 4 + len : 5;
    return Math.max(0, needed - held.length);
  }

  /** Relays `buf`; what it ends with and cannot yet be read is copied into `pending`. */
  private relay(buf: Buffer): void {
    let off = 0;
    let start = 0;
    while (off < buf.length) {
      if (this.passThrough > 0) {
        const n = Math.min(this.passThrough, buf.length - off);
        off += n;
        this.passThrough -= n;
        continue;
      }
      const tracker = this.tracker;
      if (!tracker || tracker.isDone) break; // bytes for no command: kept until one is sent
      const available = buf.length - off;
      if (available < 4) break;
      const len = buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16);
      const continuation = this.continuing;
      if (!continuation && available < (len < ROW_ONLY_LENGTH ? 4 + len : 5)) break;
      this.lastSeq = buf[off + 3]!;
      this.continuing = len === MAX_PACKET_PAYLOAD;
      const end = off + 4 + len;
      const verdict: Verdict = continuation
        ? 'more'
        : tracker.onPacketAt(buf, off + 4, Math.min(end, buf.length), len);
      if (end > buf.length) {
        this.passThrough = end - buf.length;
        off = buf.length;
      } else off = end;
      if (verdict !== 'more') {
        if (off > start) this.forward(start === 0 && off === buf.length ? buf : buf.subarray(start, off));
        start = off;
        this.onVerdict(verdict);
      }
    }
    if (off > start) this.forward(start === 0 && off === buf.length ? buf : buf.subarray(start, off));
    if (off < buf.length) this.pending = Buffer.from(buf.subarray(off));
  }
}

const EMPTY = Buffer.alloc(0);
