/**
 * The buffers a server socket reads into (net's `onread` option), reused instead of node's
 * fresh allocation per read. A relayed result is the bulk of tandem's traffic; read into new
 * memory each time, it leaves tens of MiB of dead buffers that V8 collects late (external
 * memory), and costs an allocation per response on the hot path.
 *
 * Bytes handed to the client socket stay referenced until that socket has written them, so the
 * buffer they sit in is *lent*: the next read goes into another buffer, and the lent one comes
 * back once the client socket has flushed everything (`released`). Backpressure (a full client
 * pauses the server socket) bounds how many buffers are lent at once.
 */

/** Node reads up to this much per call, as with its own allocation. */
export const READ_BUFFER_BYTES = 64 * 1024;

/** Released buffers kept for reuse; more are left to the garbage collector. */
const MAX_SPARE = 4;

export class ReadBuffers {
  #current: Buffer | undefined;
  #currentLent = false;
  readonly #lent: Buffer[] = [];
  readonly #spare: Buffer[] = [];

  /** For `onread.buffer`: node calls it before the first read and after each one. */
  readonly next = (): Buffer => {
    if (this.#current && !this.#currentLent) return this.#current;
    if (this.#current) this.#lent.push(this.#current);
    this.#currentLent = false;
    // allocUnsafe: pages a read never reaches are never touched, so an idle link costs little.
    this.#current = this.#spare.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
    return this.#current;
  };

  /** Bytes of the buffer just read into are still referenced (by a pending socket write). */
  lend(): void {
    this.#currentLent = true;
  }

  /** Every write that could reference a lent buffer has completed. */
  released(): void {
    while (this.#lent.length > 0) {
      const b = this.#lent.pop()!;
      if (this.#spare.length < MAX_SPARE) this.#spare.push(b);
    }
  }

  /** Buffers lent and not yet released (for tests). */
  get lentCount(): number {
    return this.#lent.length + (this.#currentLent ? 1 : 0);
  }
}
