/**
 * Keeps the order of inserts into one table the same on the secondary as on the primary where
 * row locks do not.
 *
 * An INSERT ... ON DUPLICATE KEY UPDATE that generates ids, on a table with a unique key beside
 * its auto-increment key, tries an id for each row before it finds the row's duplicate, and then
 * gives the id back: the primary keeps no row and no lock at that id. Another session may insert
 * a row with that id on the primary right after: with an explicit id under any
 * innodb_autoinc_lock_mode, and with a generated one under lock mode 0, whose counter moves only
 * past ids that were kept (modes 1 and 2 move it past every id handed out, so a generated id
 * never repeats one). If that insert reaches the secondary first, the upsert's copy, pinned to
 * the primary's ids, tries the same id there, meets the new row as a duplicate of its key and
 * updates it instead of the row the primary updated: a divergence that no affected-rows count
 * shows. MySQL calls this statement unsafe for statement-based replication
 * (ER_BINLOG_UNSAFE_INSERT_TWO_KEYS) for the same reason.
 *
 * So such an upsert holds its table here from the start of its primary run to the end of its
 * secondary run, against every insert that could take such an id: one that may give the
 * auto-increment column a value (its column list names it, or it has none), and under lock mode 0
 * every insert. Each insert into the table holds it for the same span, so that an upsert waits
 * for the inserts under way it must not run beside, and those that begin after it wait for it.
 * Other inserts never wait for each other.
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

export interface OrderClaim {
  /** `schema.table`, lower case. */
  readonly table: string;
  /** The columns the statement gives values (lower case); undefined: any column. */
  readonly columns: readonly string[] | undefined;
  /** Set for an upsert that can try ids it gives back (see above). */
  readonly upsert?: {
    /** The table's auto-increment column, lower case. */
    readonly idColumn: string;
    /** Lock mode 0 (or unknown): a generated id can be one it gave back, so no insert may run beside it. */
    readonly everyInsert: boolean;
  };
}

/** Whether `a` is an upsert that `b` could take an id from. */
function covers(a: OrderClaim, b: OrderClaim): boolean {
  const u = a.upsert;
  return u !== undefined && (u.everyInsert || b.columns === undefined || b.columns.includes(u.idColumn));
}

function conflict(a: OrderClaim, b: OrderClaim): boolean {
  return covers(a, b) || covers(b, a);
}

interface Waiter {
  readonly claim: OrderClaim;
  readonly grant: () => void;
}

interface TableTurn {
  readonly holders: OrderClaim[];
  /** First come, first served: an entrant waits behind a waiter it conflicts with. */
  readonly queue: Waiter[];
}

export class InsertOrder {
  private readonly turns = new Map<string, TableTurn>();

  /**
   * Enters every claim (one per table; in name order, so that two statements cannot wait for
   * each other) and resolves with the function that leaves them; rejects with
   * InsertOrderTimeout after `limitMs`, holding nothing. Uncontended, it enters at once without
   * a timer.
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
      t = { holders: [], queue: [] };
      this.turns.set(table, t);
    }
    return t;
  }

  private tryEnter(claim: OrderClaim): boolean {
    const t = this.turn(claim.table);
    if (t.holders.some((h) => conflict(claim, h)) || t.queue.some((w) => conflict(claim, w.claim)))
      return false;
    t.holders.push(claim);
    return true;
  }

  private wait(claim: OrderClaim, ms: number): Promise<void> {
    const t = this.turn(claim.table);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        claim,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(
        () => {
          const at = t.queue.indexOf(waiter);
          if (at >= 0) t.queue.splice(at, 1);
          // It may have held back entrants behind it that conflict with it alone: they may go now.
          this.admit(claim.table, t);
          reject(new InsertOrderTimeout(claim.table, Math.round(ms)));
        },
        Math.max(0, ms),
      );
      t.queue.push(waiter);
    });
  }

  private leave(claim: OrderClaim): void {
    const t = this.turns.get(claim.table);
    if (!t) return;
    const at = t.holders.indexOf(claim);
    if (at >= 0) t.holders.splice(at, 1);
    this.admit(claim.table, t);
  }

  /** Lets in, in order, each waiter that conflicts with no holder and no waiter ahead of it. */
  private admit(table: string, t: TableTurn): void {
    for (let i = 0; i < t.queue.length; i++) {
      const w = t.queue[i]!;
      if (t.holders.some((h) => conflict(w.claim, h))) continue;
      if (t.queue.slice(0, i).some((ahead) => conflict(w.claim, ahead.claim))) continue;
      t.queue.splice(i--, 1);
      t.holders.push(w.claim);
      w.grant();
    }
    if (t.holders.length === 0 && t.queue.length === 0) this.turns.delete(table);
  }
}

/** One claim per table, in name order: the union of its columns, and its upserts' demands. */
function merged(claims: readonly OrderClaim[]): OrderClaim[] {
  const byTable = new Map<string, OrderClaim>();
  for (const c of claims) {
    const had = byTable.get(c.table);
    if (!had) {
      byTable.set(c.table, c);
      continue;
    }
    const columns =
      had.columns === undefined || c.columns === undefined
        ? undefined
        : [...new Set([...had.columns, ...c.columns])];
    const upsert =
      had.upsert && c.upsert
        ? { idColumn: had.upsert.idColumn, everyInsert: true }
        : (had.upsert ?? c.upsert);
    byTable.set(c.table, { table: c.table, columns, ...(upsert && { upsert }) });
  }
  return [...byTable.values()].sort((a, b) => (a.table < b.table ? -1 : 1));
}
