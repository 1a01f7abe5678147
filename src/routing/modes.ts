import { EventEmitter } from 'node:events';
import { MODES, type Mode } from '../config.js';

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

export function isMode(value: unknown): value is Mode {
  return typeof value === 'string' && (MODES as readonly string[]).includes(value);
}

/**
 * The migration's phases in order: each step can be taken back, except the last, after which
 * the source no longer receives writes and is stale.
 */
const ALLOWED: Readonly<Record<Mode, readonly Mode[]>> = {
  source: ['dual-source'],
  'dual-source': ['source', 'dual-target'],
  'dual-target': ['dual-source', 'target'],
  target: [],
};

export interface ModeChange {
  readonly from: Mode;
  readonly to: Mode;
  readonly at: string;
  readonly requester: string;
  readonly forced: boolean;
  /** How long new transactions were held back while running ones finished. */
  readonly heldMs: number;
}

export class TransitionRefused extends Error {
  override readonly name = 'TransitionRefused';
  constructor(
    message: string,
    /** 400: the request itself is wrong; 409: it conflicts with the state of the migration. */
    readonly status: 400 | 409,
  ) {
    super(message);
  }
}

export interface SwitchOptions {
  readonly requester?: string;
  readonly force?: boolean;
  /** Longest time new transactions are held back while running ones finish. */
  readonly holdMs: number;
  /** Checks that must pass at the moment of the switch (the way back works, the journal is empty...). */
  readonly precondition?: (from: Mode, to: Mode) => Promise<string | undefined>;
  /** Makes the switch the fleet's decision (control table) just before the local flip; throws to refuse. */
  readonly decide?: (to: Mode, requester: string) => Promise<void>;
}

/** Why `from` -> `to` is refused by the phase rules, or undefined when allowed. */
export function transitionProblem(from: Mode, to: Mode): string | undefined {
  if (from === to) return undefined;
  if (ALLOWED[from].includes(to)) return undefined;
  if (from === 'target') {
    return 'the source has received no writes since the switch to target and is stale; going back would lose them (use force to override)';
  }
  return `${from} -> ${to} skips a phase; allowed from ${from}: ${ALLOWED[from].join(', ') || 'none'}`;
}

/** A session as the mode controller counts it: admitted between admit() and release(). */
export interface Admission {
  admitted: boolean;
}

/**
 * The current mode, and the one API through which it changes. Sessions take part in a switch:
 * a session announces each statement it starts outside a transaction (`admit`) and says when it
 * is outside one again (`release`). A switch holds new statements at the gate, waits for the
 * running transactions to finish under the old mode, flips, and opens the gate; if they do not
 * finish in time, nothing changes.
 */
export class ModeController extends EventEmitter<{ change: [ModeChange] }> {
  private current: Mode;
  readonly history: ModeChange[] = [];
  /** Sessions admitted and not yet released. A count, not a Set: admit and release run per statement. */
  private active = 0;
  private gate: Promise<void> | undefined;
  private idle: (() => void) | undefined;
  lastHeldMs = 0;

  constructor(initial: Mode, history: readonly ModeChange[] = []) {
    super();
    this.current = initial;
    this.history.push(...history);
  }

  get mode(): Mode {
    return this.current;
  }

  get switching(): boolean {
    return this.gate !== undefined;
  }

  /** Sessions now inside a statement or a transaction. */
  get activeSessions(): number {
    return this.active;
  }

  /** admit() without waiting: false while a switch is under way (then call admit()). */
  tryAdmit(session: Admission): boolean {
    if (this.gate) return false;
    this.enter(session);
    return true;
  }

  /** A session starts a statement outside a transaction: it waits while a switch is under way. */
  async admit(session: Admission): Promise<void> {
    while (this.gate) await this.gate;
    this.enter(session);
  }

  /** The session is outside any transaction again (or gone). */
  release(session: Admission): void {
    if (!session.admitted) return;
    session.admitted = false;
    if (--this.active === 0) this.idle?.();
  }

  private enter(session: Admission): void {
    if (session.admitted) return;
    session.admitted = true;
    this.active++;
  }

  /** Switches at once, without holding anything (start-up, followers applying a decided switch). */
  set(to: Mode, requester = 'internal', heldMs = 0, forced = false): ModeChange {
    const change: ModeChange = {
      from: this.current,
      to,
      at: new Date().toISOString(),
      requester,
      forced,
      heldMs,
    };
    this.current = to;
    this.lastHeldMs = heldMs;
    this.history.push(change);
    this.emit('change', change);
    return change;
  }

  async switchTo(to: Mode, opts: SwitchOptions): Promise<ModeChange> {
    if (!isMode(to))
      throw new TransitionRefused(`unknown mode ${JSON.stringify(to)}; modes: ${MODES.join(', ')}`, 400);
    const from = this.current;
    const problem = transitionProblem(from, to);
    if (problem && !opts.force) throw new TransitionRefused(problem, 409);
    if (this.gate) throw new TransitionRefused('another mode switch is under way', 409);
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const started = performance.now();
    try {
      const finished = await this.waitForIdle(opts.holdMs);
      if (!finished) {
        throw new TransitionRefused(
          `${this.active} transaction(s) still running after ${opts.holdMs} ms; the mode stays ${from}`,
          409,
        );
      }
      const blocked = opts.force ? undefined : await opts.precondition?.(from, to);
      if (blocked) throw new TransitionRefused(blocked, 409);
      await opts.decide?.(to, opts.requester ?? 'unknown');
      return this.set(to, opts.requester ?? 'unknown', Math.round(performance.now() - started), !!opts.force);
    } finally {
      this.gate = undefined;
      this.idle = undefined;
      open();
    }
  }

  private waitForIdle(ms: number): Promise<boolean> {
    if (this.active === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.idle = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
