import { metrics } from '../metrics.js';
import { MysqlError } from '../protocol/errors.js';
import { framePayload } from '../protocol/packet-writer.js';
import { ResponseTracker, type Verdict } from '../protocol/response-tracker.js';
import { noteServerRead } from './read-garbage.js';
import { ResponseRelay } from './response-relay.js';
import type { ServerConnection } from './server-connection.js';

/** Where a response's raw bytes go: the client (relayed as they arrive) or a buffer. */
export interface ResponseSink {
  /**
   * Returns false when the receiver is full; the link then pauses its socket until resume().
   * `bytes` may lie in a read buffer that is reused: kept past the call, see holdsBytes().
   */
  write(bytes: Buffer): boolean;
  /** True when the last write() still references its bytes (queued, not yet with the kernel). */
  holdsBytes(): boolean;
  /** The server waits for the client: LOCAL INFILE data, or an authentication answer. */
  onClientTurn?(verdict: 'infile' | 'auth', link: BackendLink): void;
}

export interface LinkResponse {
  readonly tracker: ResponseTracker;
  /** The whole response, when it was collected rather than relayed. */
  readonly bytes: Buffer | undefined;
}

/** The server went away (or stopped answering) while a response was due. */
export class LinkLostError extends MysqlError {
  constructor(
    message: string,
    /** Sequence id of the last packet relayed, for an ERR packet that follows it. */
    readonly lastSeq: number,
    /** Part of a packet already reached the sink: an ERR packet can no longer be appended. */
    readonly midPacket: boolean,
  ) {
    super('CR_SERVER_LOST', message, true);
  }
}

/** Called once with a command's response, or with the error that lost it. */
export type LinkCallback = (err: LinkLostError | undefined, response: LinkResponse | undefined) => void;

interface Pending {
  readonly started: number;
  readonly tracker: ResponseTracker;
  readonly sink: ResponseSink | undefined;
  readonly chunks: Buffer[] | undefined;
  readonly done: LinkCallback;
}

/**
 * A server connection in its command phase. Commands may be pipelined: each is written at once,
 * and responses are matched to them in order. A response either streams to a sink (raw, with
 * backpressure) or is collected whole (small internal statements, write results held until the
 * secondary has answered).
 */
export class BackendLink {
  private readonly relay: ResponseRelay;
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the running command started, or last showed progress (performance.now()). */
  private since = 0;
  private waitingForClient = false;
  private failure: LinkLostError | undefined;
  private paused = false;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.conn.socket.uncork();
  };
  private readonly latency: { observe(seconds: number): void };

  constructor(
    readonly conn: ServerConnection,
    readonly capabilities: number,
    private readonly timeoutMs: number,
    /** Called once when the link fails, whether or not a command was running. */
    private readonly onLost: (err: LinkLostError) => void = () => {},
  ) {
    this.latency = metrics.serverLatency.child(conn.label);
    this.relay = new ResponseRelay(
      (bytes) => this.onBytes(bytes),
      (verdict) => this.onVerdict(verdict),
    );
    const rest = conn.detach((chunk) => {
      const before = this.current;
      try {
        this.relay.push(chunk);
      } catch (err) {
        // A response tandem cannot follow (a malformed packet, one after the end): this link is
        // no longer in step with its server, so it is dropped and the command gets 2013.
        this.fail(`malformed response from the ${conn.label} server: ${(err as Error).message}`);
        return;
      }
      // A response still under way after this read is timed from now; one that ended here needs
      // nothing (the next command is timed from its start).
      if (this.current !== undefined && this.current === before) this.since = performance.now();
    });
    conn.socket.on('close', () => this.fail(`${conn.label} server closed the connection`));
    if (rest.length > 0) this.relay.push(rest);
  }

  get label(): string {
    return this.conn.label;
  }

  get isBroken(): boolean {
    return this.failure !== undefined || this.conn.socket.destroyed;
  }

  get isBusy(): boolean {
    return this.current !== undefined;
  }

  /**
   * Sends one command (a whole payload; sequence id 0) and resolves with its response.
   * `sink` undefined collects the response; `cursor` is COM_STMT_EXECUTE's cursor flag.
   */
  send(payload: Buffer, sink?: ResponseSink, cursor = false): Promise<LinkResponse> {
    const response = new Promise<LinkResponse>((resolve, reject) => {
      this.request(payload, sink, cursor, (err, r) => (err ? reject(err) : resolve(r!)));
    });
    // Pipelined sends fail together when the link goes; callers await the one that matters and
    // may leave the others, whose rejection is then no unhandled error.
    response.catch(() => {});
    return response;
  }

  /**
   * send() with a callback: the hot path of mode `source` (one point select) relays through here,
   * without the promise and microtask hops that send() adds. `done` runs once, synchronously when
   * the link is already lost or no response is due, else when the response is complete.
   */
  request(payload: Buffer, sink: ResponseSink | undefined, cursor: boolean, done: LinkCallback): void {
    if (this.failure) {
      done(this.failure, undefined);
      return;
    }
    const tracker = new ResponseTracker(payload[0]!, this.capabilities, cursor);
    this.conn.write(framePayload(payload, 0));
    if (tracker.isDone) {
      done(undefined, { tracker, bytes: undefined });
      return;
    }
    const started = performance.now();
    const pending: Pending = { started, tracker, sink, chunks: sink ? undefined : [], done };
    // The queue is empty whenever no command is current (startNext takes the next at once), so
    // an idle link, the usual case, starts the command without the queue's push and shift.
    if (this.current) this.queue.push(pending);
    else this.start(pending, started);
  }

  /**
   * The commands sent in this tick (a pipelined batch: pin, BEGIN, statement, ...) leave in one
   * write instead of one syscall each. Not for single commands: the hot path writes at once.
   */
  batch(): void {
    if (this.corked || this.failure) return;
    this.corked = true;
    this.conn.socket.cork();
    process.nextTick(this.uncork);
  }

  /** Client data in answer to an 'infile' or 'auth' turn, relayed with its own sequence id. */
  sendClientData(payload: Buffer, seq: number): void {
    this.conn.write(framePayload(payload, seq));
    const tracker = this.current?.tracker;
    if (this.waitingForClient && tracker) {
      // An empty packet ends LOCAL INFILE data; then the server answers as to a statement.
      if (payload.length === 0 || !tracker.awaitingInfile) {
        if (tracker.awaitingInfile) tracker.afterInfile();
        this.waitingForClient = false;
        this.since = performance.now();
      }
    }
  }

  resume(): void {
    if (this.paused) {
      this.paused = false;
      this.since = performance.now();
      this.conn.reads.resume();
    }
  }

  private startNext(now: number): void {
    const next = this.queue.shift();
    if (next) this.start(next, now);
    else this.current = undefined;
  }

  private start(p: Pending, now: number): void {
    this.current = p;
    this.waitingForClient = false;
    this.since = now;
    this.timer ??= this.schedule(this.timeoutMs);
    this.relay.expect(p.tracker);
  }

  private onBytes(bytes: Buffer): void {
    const p = this.current;
    if (!p) return;
    if (p.chunks) {
      // A copy: the read buffer is reused, and a collected response outlives the read.
      p.chunks.push(Buffer.from(bytes));
      return;
    }
    const sink = p.sink!;
    const full = !sink.write(bytes);
    if (sink.holdsBytes()) {
      // The client did not take them at once: they stay queued, so the next read needs a buffer
      // of its own, and this one becomes garbage once written (read-garbage.ts).
      this.conn.reads.keep();
      noteServerRead(this.conn.reads.size);
    }
    if (full && !this.paused) {
      this.paused = true;
      this.conn.reads.pause();
    }
  }

  private onVerdict(verdict: Exclude<Verdict, 'more'>): void {
    const p = this.current;
    if (!p) return;
    if (verdict === 'infile' || verdict === 'auth') {
      this.waitingForClient = true;
      p.sink?.onClientTurn?.(verdict, this);
      return;
    }
    const bytes = p.chunks ? Buffer.concat(p.chunks) : undefined;
    const now = performance.now();
    this.latency.observe((now - p.started) / 1000);
    // The next pipelined command is current before `done` runs: done may send another.
    this.current = undefined;
    this.startNext(now);
    p.done(undefined, { tracker: p.tracker, bytes });
  }

  /**
   * One timer per link, made with the first command and never refreshed per command: a refresh
   * re-inserts it into node's timer list, two of those per point select (this one and the
   * session's idle timer) were 4-5 % of tandem's CPU. Instead each command notes when it started
   * (`since`, the time its latency is measured from anyway), and the timer, when it fires, looks:
   * a command quiet for the whole timeout fails the link; otherwise the timer is set again for
   * what is left of the running command's time, or for a whole timeout when none is running.
   * A command is thus never failed before `timeoutMs` of silence, and at most that much after.
   */
  private schedule(ms: number): NodeJS.Timeout {
    const timer = setTimeout(this.onTimer, Math.max(1, Math.ceil(ms)));
    timer.unref();
    return timer;
  }

  private readonly onTimer = (): void => {
    if (this.failure) return;
    let wait = this.timeoutMs;
    // While the client has the turn, or is slow to take a result (the socket paused for it), the
    // server is not the one keeping the command waiting.
    if (this.current && !this.waitingForClient && !this.paused) {
      const quiet = performance.now() - this.since;
      if (quiet >= this.timeoutMs) {
        this.fail(`${this.conn.label} server did not answer within ${this.timeoutMs} ms`);
        return;
      }
      wait = this.timeoutMs - quiet;
    }
    this.timer = this.schedule(wait);
  };

  private fail(why: string): void {
    if (this.failure) return;
    clearTimeout(this.timer);
    // Only a relayed response has reached the client; after a collected one, an ERR packet is its first.
    const relayed = this.current?.sink !== undefined;
    const err = new LinkLostError(
      `Lost connection to ${this.conn.label} server during query (${why})`,
      relayed ? (this.relay.lastSeq + 1) & 0xff : 1,
      relayed && this.relay.midPacket,
    );
    this.failure = err;
    this.conn.destroy();
    const all = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const p of all) p.done(err, undefined);
    this.onLost(err);
  }

  /** Ends the connection politely (COM_QUIT) or, with `now` or mid-response, at once. */
  close(now = false): void {
    if (now || this.current || this.queue.length > 0) {
      this.fail('closed by tandem');
      return;
    }
    clearTimeout(this.timer);
    this.failure ??= new LinkLostError(`${this.conn.label} connection closed by tandem`, 1, false);
    this.conn.socket.end(framePayload(Buffer.from([0x01]), 0));
  }
}
