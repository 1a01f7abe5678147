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
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = EMPTY;
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
