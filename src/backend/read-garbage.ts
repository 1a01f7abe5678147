import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Node gives every socket read a fresh buffer (up to 64 KiB). Relayed to the client and
 * written, it is garbage, but its memory lies outside V8's heap: V8 frees it only when a
 * garbage collection finds the small Buffer object dead, and a large result relayed raw makes
 * few JavaScript allocations, so collections are rare. Streaming 1 GB to a slow client left
 * 15-20 MiB of such dead buffers at a time and lifted RSS by 30 MiB (bench/memory.ts).
 *
 * So every READ_BYTES_PER_SCAVENGE bytes read from servers, one young-generation collection is
 * run (off the current call stack, at most one pending). With tandem's 1 MiB young generation
 * (--max-semi-space-size=1) it takes well under a millisecond, and a relay of 100 MB/s asks for
 * about 25 a second. Point selects read a few hundred bytes each: one per ~20,000 of them.
 */
const READ_BYTES_PER_SCAVENGE = 4 * 1024 * 1024;

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** V8's gc(), without --expose-gc on the command line; undefined when V8 refuses. */
function exposeGc(): GcFunction | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as GcFunction) : undefined;
  } catch {
    return undefined;
  }
}

let gc: GcFunction | undefined | null = null;
let readSinceScavenge = 0;
let scheduled = false;

function scavenge(): void {
  scheduled = false;
  readSinceScavenge = 0;
  gc?.({ type: 'minor' });
}

/** Counts bytes read from a server socket, and asks for a young collection now and then. */
export function noteServerRead(bytes: number): void {
  readSinceScavenge += bytes;
  if (readSinceScavenge < READ_BYTES_PER_SCAVENGE || scheduled) return;
  if (gc === null) gc = exposeGc();
  if (!gc) {
    readSinceScavenge = 0;
    return;
  }
  scheduled = true;
  setImmediate(scavenge);
}
