import { EventEmitter } from 'node:events';
import type { Mode } from '../config.js';

export type { Mode };

/** Which server leads in each mode: writes go there first, and the app gets its result. */
export function primaryOf(mode: Mode): 'source' | 'target' {
  return mode === 'source' || mode === 'dual-source' ? 'source' : 'target';
}

/** The other server of a dual mode; undefined in single-server modes. */
export function secondaryOf(mode: Mode): 'source' | 'target' | undefined {
  if (mode === 'dual-source') return 'target';
  if (mode === 'dual-target') return 'source';
  return undefined;
}

export function isDual(mode: Mode): boolean {
  return mode === 'dual-source' || mode === 'dual-target';
}

export interface ModeChange {
  readonly from: Mode;
  readonly to: Mode;
  readonly at: string;
  readonly requester: string;
}

/**
 * The current mode, the one internal API through which it changes. Sessions read it when a
 * transaction begins (or per statement in autocommit); a transaction in progress keeps the
 * mode it began with.
 */
export class ModeController extends EventEmitter<{ change: [ModeChange] }> {
  private current: Mode;
  readonly history: ModeChange[] = [];

  constructor(initial: Mode) {
    super();
    this.current = initial;
  }

  get mode(): Mode {
    return this.current;
  }

  set(to: Mode, requester = 'internal'): ModeChange {
    const change = { from: this.current, to, at: new Date().toISOString(), requester };
    this.current = to;
    this.history.push(change);
    this.emit('change', change);
    return change;
  }
}
