import type { Socket } from 'node:net';
import { type NativeIo, nativeIo } from './native-io.js';
import { socketError } from './socket-error.js';

/**
 * Writes to a plain TCP socket straight through its libuv handle, past the Writable stream.
 *
 * Per point select a proxy writes twice (the command to the server, the result to the client),
 * and through `socket.write()` each write makes a fresh WriteWrap request object, walks the
 * Writable state machine and schedules a nextTick for its callback, even when the kernel takes
 * the bytes at once, as it nearly always does for a small packet. Here a write that the kernel
 * takes whole reuses one request object and schedules nothing; one that it takes in part is left
 * to libuv, which finishes it before any later write on the handle, then reports on `onDrain`.
 *
 * The handle's `writeBuffer` and node's WriteWrap are the calls node's own net module makes
 * (lib/internal/stream_base_commons.js), reached through `process.binding('stream_wrap')`, which
 * node still offers but has deprecated. Where they are missing, or the stream has writes of its
 * own queued (their order must hold), or the socket is TLS, `socket.write()` is used.
 *
 * Where the native reader is built (native-io.ts), its one-call write(2) is used instead of the
 * handle's: no request object at all, and a write the kernel takes in part leaves the rest to
 * `socket.write()`, behind which later writes then queue.
 */

interface StreamWrapBinding {
  readonly WriteWrap: new () => WriteRequest;
  readonly streamBaseState: Int32Array;
  readonly kLastWriteWasAsync: number;
}

/** Only what the C++ side uses: `oncomplete`; `buffer` keeps the bytes alive while libuv holds them. */
interface WriteRequest {
  oncomplete: (status: number) => void;
  buffer: Buffer | null;
}

interface WritableHandle {
  writeBuffer(req: WriteRequest, data: Buffer): number;
  readonly fd?: number;
}

function loadBinding(): StreamWrapBinding | undefined {
  try {
    // process.binding warns only under --pending-deprecation; it is looked up once, at start.
    const binding = (process as unknown as { binding(name: string): unknown }).binding(
      'stream_wrap',
    ) as Partial<StreamWrapBinding>;
    if (
      typeof binding.WriteWrap === 'function' &&
      binding.streamBaseState instanceof Int32Array &&
      typeof binding.kLastWriteWasAsync === 'number'
    ) {
      return binding as StreamWrapBinding;
    }
  } catch {
    // A runtime without the binding: every write goes through socket.write().
  }
  return undefined;
}

const binding = loadBinding();

export class DirectWriter {
  /** Partial writes libuv is still finishing. */
  private inFlight = 0;
  /** Reused while every write completes at once; a partial write keeps its own until done. */
  private req: WriteRequest | undefined;
  private readonly direct: boolean;
  private readonly native: NativeIo | undefined;
  /** The handle's file descriptor, read once (a getter into C++). */
  private fd = -1;
  /**
   * The stream's own write state, read directly: the socket's writableLength, writableCorked and
   * destroyed getters are shared by every stream class, so V8 meets them megamorphic, 2 % of
   * tandem's user CPU per point select. A destroyed socket has no handle, which is checked anyway.
   */
  private readonly state: { readonly length: number; readonly corked: number };

  constructor(
    private readonly socket: Socket,
    /** Called once a write that returned false has been finished (by libuv or by the stream). */
    private readonly onDrain: () => void,
    tls = false,
  ) {
    this.direct = binding !== undefined && !tls;
    this.native = tls ? undefined : nativeIo();
    // Writes the stream queued (socket.write(), above) report their end as the stream's drain.
    socket.on('drain', onDrain);
    this.state = (socket as unknown as { _writableState: DirectWriter['state'] })._writableState;
  }

  /** True while bytes given to write() may still be referenced (not yet with the kernel). */
  get holdsBytes(): boolean {
    return this.inFlight > 0 || this.state.length > 0;
  }

  /** Returns false when the bytes did not all reach the kernel: the caller should wait for onDrain. */
  write(bytes: Buffer): boolean {
    const handle = (this.socket as unknown as { _handle: WritableHandle | null })._handle;
    const state = this.state;
    if (!this.direct || handle === null || state.length > 0 || state.corked > 0 || this.socket.connecting) {
      return this.socket.write(bytes);
    }
    if (this.native !== undefined) {
      if (this.fd < 0) this.fd = typeof handle.fd === 'number' ? handle.fd : -1;
      if (this.fd >= 0) return this.writeNative(this.native, this.fd, bytes);
    }
    const b = binding!;
    const req = this.req ?? this.newRequest();
    const err = handle.writeBuffer(req, bytes);
    if (err !== 0) {
      this.fail(err);
      return false;
    }
    if (b.streamBaseState[b.kLastWriteWasAsync] === 0) return true;
    // libuv holds this request and the bytes until the write completes.
    req.buffer = bytes;
    this.req = undefined;
    this.inFlight++;
    return false;
  }

  private writeNative(native: NativeIo, fd: number, bytes: Buffer): boolean {
    const written = native.write(fd, bytes);
    if (written === bytes.length) return true;
    if (written < 0) {
      this.fail(written);
      return false;
    }
    // The kernel's buffer is full: node keeps the rest (still referenced: holdsBytes) and writes
    // it when the socket drains, and later writes queue behind it.
    return this.socket.write(written === 0 ? bytes : bytes.subarray(written));
  }

  private newRequest(): WriteRequest {
    const req = new binding!.WriteWrap();
    req.buffer = null;
    req.oncomplete = (status) => {
      req.buffer = null;
      this.inFlight--;
      if (status < 0) {
        this.fail(status);
        return;
      }
      if (this.inFlight === 0) this.onDrain();
    };
    this.req = req;
    return req;
  }

  /** As node does for a failed write: the socket is destroyed with a system error (EPIPE, ECONNRESET...). */
  private fail(errno: number): void {
    if (this.socket.destroyed) return;
    this.socket.destroy(socketError('write', errno));
  }
}
