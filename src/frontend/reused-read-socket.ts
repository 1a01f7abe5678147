import { Socket } from 'node:net';
import type { ReadBuffer } from '../protocol/read-buffer.js';

/**
 * Client connections read into a reused buffer, like server connections (read-buffer.ts): per
 * point select that spares the read's ArrayBuffer and the readable stream's push and 'data' emit,
 * about a microsecond of CPU, a seventh of tandem's own work per query.
 *
 * node offers `onread` only to sockets it creates for a connect(), not to the ones a server
 * accepts. So the accepted socket (paused on connect, so nothing is read yet) hands its TCP
 * handle to a new Socket made with `onread`, and is then destroyed without its handle, which
 * only settles the server's connection count. `handle` is a constructor option node uses itself
 * for sockets passed between processes, not a documented one: where the runtime does not offer
 * it, the accepted socket is kept and read as usual (`undefined` is returned).
 *
 * The new socket starts paused (`pauseOnCreate`, node's option for the same handle passing):
 * the caller either hands it to the native reader or resumes it.
 */
export function withReusedReads(accepted: Socket, reads: ReadBuffer): Socket | undefined {
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (
    handle === null ||
    typeof handle !== 'object' ||
    accepted.destroyed ||
    accepted.readableFlowing === true
  ) {
    return undefined;
  }
  const options = {
    handle,
    allowHalfOpen: false,
    readable: true,
    writable: true,
    pauseOnCreate: true,
    onread: reads.onread,
  };
  const socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
  holder._handle = null;
  accepted.destroy();
  return socket;
}
