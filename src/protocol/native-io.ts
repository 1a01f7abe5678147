import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The native socket reader (native/tandem_io.c, built by `npm install`): plain TCP sockets read
 * in batches, one call into JavaScript per wake-up of the event loop instead of one per socket
 * read. Under sysbench point selects, about four sockets are ready per wake-up, and node's
 * per-read callback was the largest part of tandem's CPU per query (bench/README.md).
 *
 * Optional: where the addon was not built (no compiler) or `nativeIo: false` is configured,
 * every socket is read by node as before, with the same results.
 */

interface Addon {
  setup(meta: Int32Array, onBatch: (count: number) => void): void;
  watch(slot: number, fd: number, buffer: Buffer): number;
  setBuffer(slot: number, buffer: Buffer): void;
  pause(slot: number): void;
  resume(slot: number): number;
  unwatch(slot: number): void;
  write(fd: number, bytes: Buffer): number;
}

/** Told the result of each read: bytes read into its buffer, 0 at end of stream, or -errno. */
export interface NativeReadTarget {
  onNativeRead(result: number): void;
}

/** Read results per wake-up, at most (the addon's own limit is 64). */
const BATCH = 64;

function loadAddon(): Addon | undefined {
  try {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    return createRequire(import.meta.url)(join(root, 'build', 'Release', 'tandem_io.node')) as Addon;
  } catch {
    return undefined;
  }
}

export class NativeIo {
  private readonly targets: (NativeReadTarget | undefined)[] = [];
  private readonly free: number[] = [];
  /** Slots given up during a batch: their results later in the same batch must find no one. */
  private released: number[] = [];
  private dispatching = false;
  private readonly meta = new Int32Array(2 * BATCH);

  constructor(private readonly addon: Addon) {
    addon.setup(this.meta, this.onBatch);
  }

  private readonly onBatch = (count: number): void => {
    const meta = this.meta;
    const targets = this.targets;
    let failure: unknown;
    this.dispatching = true;
    for (let i = 0; i < count; i++) {
      const target = targets[meta[2 * i]!];
      if (target === undefined) continue;
      // The other sockets' bytes are already read: each must still reach its owner.
      try {
        target.onNativeRead(meta[2 * i + 1]!);
      } catch (err) {
        failure ??= err;
      }
    }
    this.dispatching = false;
    if (this.released.length > 0) {
      for (const slot of this.released) this.free.push(slot);
      this.released = [];
    }
    // Uncaught, as a throw from node's own read callback would be.
    if (failure !== undefined) throw failure;
  };

  /** Starts reading fd into buffer; the slot, or -errno. */
  watch(target: NativeReadTarget, fd: number, buffer: Buffer): number {
    const slot = this.free.pop() ?? this.targets.length;
    const err = this.addon.watch(slot, fd, buffer);
    if (err < 0) {
      this.free.push(slot);
      return err;
    }
    this.targets[slot] = target;
    return slot;
  }

  setBuffer(slot: number, buffer: Buffer): void {
    this.addon.setBuffer(slot, buffer);
  }

  pause(slot: number): void {
    this.addon.pause(slot);
  }

  /** 0, or -errno. */
  resume(slot: number): number {
    return this.addon.resume(slot);
  }

  unwatch(slot: number): void {
    this.addon.unwatch(slot);
    this.targets[slot] = undefined;
    (this.dispatching ? this.released : this.free).push(slot);
  }

  /** One write(2): bytes written (0 when the kernel's buffer is full), or -errno. */
  write(fd: number, bytes: Buffer): number {
    return this.addon.write(fd, bytes);
  }
}

/** undefined: not loaded yet; null: not built here. The addon can be set up once per process. */
let loaded: NativeIo | null | undefined;
let enabled = true;

/** The native reader, or undefined where it is not built or is turned off. */
export function nativeIo(): NativeIo | undefined {
  if (!enabled) return undefined;
  if (loaded === undefined) {
    const addon = loadAddon();
    loaded = addon === undefined ? null : new NativeIo(addon);
  }
  return loaded ?? undefined;
}

/** The config's `nativeIo`: sockets opened from now on are read natively (where built) or by node. */
export function useNativeIo(on: boolean): void {
  enabled = on;
}

/** Whether the addon is built and loads here, whether or not it is turned on. */
export function nativeIoAvailable(): boolean {
  return loadAddon() !== undefined;
}
