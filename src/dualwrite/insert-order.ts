/**
 * Keeps the order of inserts into one table the same on the secondary as on the primary where
 * row locks do not.
 *
 * An INSERT ... ON DUPLICATE KEY UPDATE that generates ids, on a table with a unique key beside
 * its auto-increment key, tries an id for each row before it finds the row's duplicate, and then
 * gives the id back: the primary keeps no row and no lock at that id. Another session may insert
 * a row with that id on the primary right after (under lock mode 0 the next generated id is that
 * same one; under any mode an explicit id can be). If that insert reaches the secondary first,
 * the upsert's copy, pinned to the primary's ids, tries the same id there, meets the new row as
 * a duplicate of its key and updates it instead of the row the primary updated: a divergence that
 * no affected-rows count shows. MySQL calls this statement unsafe for statement-based replication
 * (ER_BINLOG_UNSAFE_INSERT_TWO_KEYS) for the same reason.
 *
 * So such an upsert holds its table here exclusively from the start of its primary run to the end
 * of its secondary run, and every insert into the table holds it shared for the same span: an
 * insert that begins on the primary after the upsert waits until the upsert's copy has run, and
 * the upsert waits for inserts already under way. Plain inserts never wait for each other.
 */

/** Waited longer than the limit: the statement has run nowhere (answered as ER_LOCK_WAIT_TIMEOUT). */
export class InsertOrderTimeout extends Error {
  constructor(
    readonly table: string,
    readonly ms: number,
  ) {
    super(`waited ${ms} ms for an upsert of ${table} to reach the secondary`);
  }
}

interface Waiter {
  readonly exclusive: boolean;
  readonly grant: () => void;
}

interface TableTurn {
  shared: number;
  exclusive: boolean;
  /** First come, first served: a shared entrant queues behind a waiting exclusive one. */
  readonly queue: Waiter[];
}

export interface OrderClaim {
  readonly table: string;
  readonly exclusive: boolean;
}

export class InsertOrder {
  private readonly turns = new Map<string, TableTurn>();

  /**
   * Enters every claim (one per table, exclusive if any of its claims is; in name order, so that
   * two statements cannot wait for each other) and resolves with the function that leaves them;
   * rejects with InsertOrderTimeout after `limitMs`, holding nothing. Uncontended, it enters at
   * once without a timer.
   */
  async enter(claims: readonly OrderClaim[], limitMs: number): Promise<() => void> {
    const sorted = claims.length > 1 ? merged(claims) : claims;
    const held: OrderClaim[] = [];
    const leave = () => {
      for (const c of held.splice(0)) this.leave(c);
    };
    const deadline = performance.now() + limitMs;
    try {
      for (const claim of sorted) {
        if (!this.tryEnter(claim)) await this.wait(claim, deadline - performance.now());
        held.push(claim);
      }
    } catch (err) {
      leave();
      throw err;
    }
    return leave;
  }

  /** Tables with a holder or a waiter (for tests and metrics). */
  get busy(): number {
    return this.turns.size;
  }

  private turn(table: string): TableTurn {
    let t = this.turns.get(table);
    if (!t) {
      t = { shared: 0, exclusive: false, queue: [] };
      this.turns.set(table, t);
    }
    return t;
  }

  private tryEnter({ table, exclusive }: OrderClaim): boolean {
    const t = this.turn(table);
    if (t.exclusive || t.queue.length > 0 || (exclusive && t.shared > 0)) return false;
    if (exclusive) t.exclusive = true;
    else t.shared++;
    return true;
  }

  private wait({ table, exclusive }: OrderClaim, ms: number): Promise<void> {
    const t = this.turn(table);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        exclusive,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(
        () => {
          const at = t.queue.indexOf(waiter);
          if (at >= 0) t.queue.splice(at, 1);
          // A waiting exclusive entrant may have held shared ones back: they may go now.
          this.admit(table, t);
          reject(new InsertOrderTimeout(table, Math.round(ms)));
        },
        Math.max(0, ms),
      );
      t.queue.push(waiter);
    });
  }

  private leave({ table, exclusive }: OrderClaim): void {
    const t = this.turns.get(table);
    if (!t) return;
    if (exclusive) t.exclusive = false;
    else t.shared--;
    this.admit(table, t);
  }

  /** Lets the waiters at the head of the queue in: shared ones together, an exclusive one alone. */
  private admit(table: string, t: TableTurn): void {
    while (!t.exclusive && t.queue.length > 0) {
      const next = t.queue[0]!;
      if (next.exclusive && t.shared > 0) break;
      t.queue.shift();
      if (next.exclusive) t.exclusive = true;
      else t.shared++;
      next.grant();
    }
    if (!t.exclusive && t.shared === 0 && t.queue.length === 0) this.turns.delete(table);
  }
}

/** One claim per table, exclusive if any of its claims is, in name order. */
function merged(claims: readonly OrderClaim[]): OrderClaim[] {
  const byTable = new Map<string, boolean>();
  for (const c of claims) byTable.set(c.table, (byTable.get(c.table) ?? false) || c.exclusive);
  return [...byTable]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([table, exclusive]) => ({ table, exclusive }));
}
