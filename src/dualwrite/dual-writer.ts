import { type BackendLink, LinkLostError, type LinkResponse } from '../backend/backend-link.js';
import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import { COM } from '../protocol/constants.js';
import { MysqlError } from '../protocol/errors.js';
import { decodeErr, encodeErr } from '../protocol/packets/err.js';
import { decodeOk, type OkPacket } from '../protocol/packets/ok.js';
import { decodeTextRows } from '../protocol/text-result.js';
import { InsertOrder, InsertOrderTimeout, type OrderClaim } from './insert-order.js';
import { type MissedRows, missedRows } from './missed-keys.js';
import {
  type Pins,
  pinStatement,
  queryPayload,
  randomSeeds,
  takesSetStatement,
  timestampNow,
  wrappable,
} from './pinning.js';
import type { JournalEntry, RepairJournal } from './repair-journal.js';
import { UpsertRisk } from './upsert-risk.js';

export type FailurePolicy = 'lenient' | 'strict';

export interface WriteRequest {
  readonly primaryPayload: Buffer;
  readonly secondaryPayload: Buffer;
  /** Autocommit: wrap the statement in a transaction on the primary so its locks outlive the secondary's run. */
  readonly wrap: boolean;
  readonly usesRand: boolean;
  /** Why the secondary must not run this write (journaled under lenient, refused under strict). */
  readonly skipSecondary: string | undefined;
  /**
   * Why the secondary's copy may differ though it runs (a function that cannot be pinned): it
   * runs, so the row exists there, and is journaled for the replay to make exact.
   */
  readonly inexact: string | undefined;
  readonly schema: string | undefined;
  readonly tables: readonly string[];
  readonly fingerprint: string;
  /**
   * A bulk insert (INSERT ... SELECT) on a primary whose innodb_autoinc_lock_mode is 2: the ids
   * it generates need not be consecutive, so SET insert_id cannot give the secondary the same
   * ones. If it generated more than one, it is undone and refused.
   */
  readonly bulkIdsUnsafe: boolean;
  /** INSERT, REPLACE, LOAD DATA (or unknown): the statement may generate auto-increment ids. */
  readonly inserts: boolean;
  /** The statement calls LAST_INSERT_ID(): the secondary must see the primary's value. */
  readonly readsLastInsertId: boolean;
  /** The tables whose inserts this write must not overtake, or be overtaken by (insert-order.ts). */
  readonly order: readonly OrderClaim[];
}

interface SecondaryFailure {
  readonly reason: string;
  readonly txLost: boolean;
  /** A lock conflict on the secondary, not a fault: the write is undone on both and the client retries. */
  readonly conflict?: boolean;
}

export interface WriteOutcome {
  /** The response the client gets: the primary's, or an ERR packet under `strict`. */
  readonly bytes: Buffer;
  /**
   * Server status after the write, as the client sees it; undefined after an ERR packet, which
   * carries none (the session's status stands, but for `endedTransaction`).
   */
  readonly status: number | undefined;
  /** The primary's transaction is over: rolled back by the server (deadlock) or by tandem. */
  readonly endedTransaction: boolean;
  /** The secondary did not apply the write (journaled, or rolled back under strict). */
  readonly secondaryFailed: boolean;
  /** The secondary's transaction is gone (deadlock, lost connection): later statements of it must not run there. */
  readonly secondaryTxLost: boolean;
}

/** Secondary errors after which the server has rolled back the whole transaction. */
const TRANSACTION_ENDING_ERRORS = new Set([1213 /* ER_LOCK_DEADLOCK */, 1180 /* ER_ERROR_DURING_COMMIT */]);

/**
 * Lock waits on the secondary. A secondary can wait for a lock that its primary did not take
 * (gap locks differ with each server's purge state) while the holder waits on the primary for
 * this transaction: a deadlock across two servers that neither detects. The secondary's lock
 * wait is therefore kept short, and its timeout (or its own deadlock) is answered as a deadlock.
 */
const LOCK_CONFLICT_ERRORS = new Set([1205 /* ER_LOCK_WAIT_TIMEOUT */, 1213 /* ER_LOCK_DEADLOCK */]);

const BEGIN = queryPayload('BEGIN');
const COMMIT = queryPayload('COMMIT');
const ROLLBACK = queryPayload('ROLLBACK');
/** Seconds a secondary statement may wait for a lock (the server's smallest setting). */
const SECONDARY_LOCK_WAIT_S = 1;
const SAVEPOINT = queryPayload('SAVEPOINT tandem_bulk_insert');
const LAST_ID = queryPayload('SELECT LAST_INSERT_ID()');
/** Assignments merged into the SET before the statement: LAST_INSERT_ID() saved, then 0. */
const SAVE_AND_ZERO_LAST_ID = ['@tandem_last_insert_id = LAST_INSERT_ID()', 'last_insert_id = 0'];
/** ... and into the SET after it: given back, unless the statement generated an id. */
const RESTORE_LAST_ID = [
  'last_insert_id = IF(LAST_INSERT_ID() = 0, @tandem_last_insert_id, LAST_INSERT_ID())',
];
const RESTORE_SAVED_LAST_ID = queryPayload('SET last_insert_id = @tandem_last_insert_id');
const ROLLBACK_TO_SAVEPOINT = queryPayload('ROLLBACK TO SAVEPOINT tandem_bulk_insert');

/** The response's last OK packet. */
function okOf(r: LinkResponse): OkPacket | undefined {
  return r.tracker.lastOk ? decodeOk(r.tracker.lastOk) : undefined;
}

function generatedSeveralIds(r: LinkResponse): boolean {
  const ok = okOf(r);
  return ok !== undefined && BigInt(ok.lastInsertId) > 0n && BigInt(ok.affectedRows) > 1n;
}

/**
 * Runs one write on the primary, then on the secondary while the primary still holds the
 * statement's row locks, then (when it wrapped an autocommit statement) commits the primary,
 * with the secondary at the same time under lenient. Conflicting writes therefore reach both
 * servers in the same order. The client's result is always the primary's; what the secondary
 * misses is journaled (lenient) or undone (strict).
 *
 * Each server gets one pipelined batch per step. On MariaDB, pins ride in the statement itself
 * (`SET STATEMENT ... FOR`), which gives them back when it ends: an autocommit UPDATE costs the
 * primary BEGIN and the statement, the secondary BEGIN and the statement, then one COMMIT each.
 */
export class DualWriter {
  private readonly order = new InsertOrder();
  /** Which tables' upserts must be ordered against their inserts (asked by the router). */
  readonly upsertRisk = new UpsertRisk();

  constructor(
    private readonly journal: RepairJournal,
    readonly policy: FailurePolicy,
    private readonly secondaryTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  async run(
    primary: BackendLink,
    secondary: BackendLink | undefined,
    secondaryName: 'source' | 'target',
    req: WriteRequest,
  ): Promise<WriteOutcome> {
    if (req.order.length === 0) return this.runInOrder(primary, secondary, secondaryName, req, undefined);
    let leave: () => void;
    try {
      // As long as the secondary may take: the same bound on how long the app can be held.
      leave = await this.order.enter(req.order, this.secondaryTimeoutMs);
    } catch (err) {
      if (!(err instanceof InsertOrderTimeout)) throw err;
      // Nothing has run on either server: as InnoDB's own lock wait timeout, the statement fails
      // and the transaction stands.
      this.log.info({ table: err.table }, 'insert waited too long for an upsert to reach the secondary');
      const e = new MysqlError(
        'ER_LOCK_WAIT_TIMEOUT',
        `Lock wait timeout exceeded; try restarting transaction (tandem: ${err.message})`,
      );
      return outcome(encodeErr(e, 1), undefined, undefined);
    }
    try {
      return await this.runInOrder(primary, secondary, secondaryName, req, leave);
    } finally {
      leave();
    }
  }

  /** `leave`: called once the secondary has run the statement (later inserts may go then). */
  private async runInOrder(
    primary: BackendLink,
    secondary: BackendLink | undefined,
    secondaryName: 'source' | 'target',
    req: WriteRequest,
    leave: (() => void) | undefined,
  ): Promise<WriteOutcome> {
    const timestamp = timestampNow();
    const randSeeds = req.usesRand ? randomSeeds() : undefined;
    // Whether the statement generated ids: the OK packet cannot say, as it also reports explicit
    // ids and, for an upsert that only updated, an updated row's id. LAST_INSERT_ID() moves only
    // when ids are generated, but may land on its old value (another table's id), so it is set
    // to 0 around the statement and given back afterwards, all in the same round trip. A
    // statement that reads LAST_INSERT_ID() must see the real value: then before and after are
    // compared instead, and where they are equal (the new id is the old value) the OK packet's
    // id decides: pinned when it is that value. Pinning an id that was not generated (an
    // explicit one, an upsert's updated row) changes nothing on a secondary that generates none.
    const probe = req.inserts || req.bulkIdsUnsafe;
    const reset = probe && !req.readsLastInsertId;
    const pinned = pinStatement(
      req.primaryPayload,
      { timestamp, randSeeds },
      takesSetStatement(primary.conn.greeting.serverVersion) &&
        wrappable(req.primaryPayload, req.fingerprint),
      reset ? SAVE_AND_ZERO_LAST_ID : [],
      reset ? RESTORE_LAST_ID : [],
    );
    // Pipelined: one round trip (and one write) for BEGIN, the pins, the statement, the probe
    // and the unpin; with SET STATEMENT, pins and unpin travel inside the statement.
    primary.batch();
    const begun = req.wrap ? primary.send(BEGIN) : undefined;
    const saved = req.bulkIdsUnsafe && !req.wrap ? primary.send(SAVEPOINT) : undefined;
    const before = pinned.before === undefined ? undefined : primary.send(queryPayload(pinned.before));
    const idBefore = req.readsLastInsertId || (probe && !reset) ? primary.send(LAST_ID) : undefined;
    const statement = primary.send(pinned.statement);
    const idAfter = probe ? primary.send(LAST_ID) : undefined;
    const after = pinned.after === undefined ? undefined : primary.send(queryPayload(pinned.after));
    await Promise.all([begun, saved, before, after]);
    const result = await statement;
    if (result.tracker.error) {
      if (req.wrap) await primary.send(ROLLBACK);
      else if (await transactionEnded(primary, result.tracker.error)) {
        // The primary rolled the whole transaction back: so must the secondary, or its half
        // would be committed by the next statement that ends a transaction there.
        if (secondary && !secondary.isBroken) await secondary.send(ROLLBACK).catch(() => undefined);
        return { ...outcome(result.bytes!, undefined, undefined), endedTransaction: true };
      }
      return outcome(result.bytes!, undefined, undefined);
    }
    const lastId = async (r: Promise<LinkResponse>) =>
      decodeTextRows((await r).bytes!, primary.capabilities)[0]?.[0];
    const idWas = idBefore && (await lastId(idBefore));
    const idIs = idAfter && (await lastId(idAfter));
    const generated = reset
      ? idIs !== undefined && idIs !== '0'
      : idBefore !== undefined &&
        (idIs !== idWas ||
          (idIs !== undefined && idIs !== '0' && String(okOf(result)?.lastInsertId) === idIs));
    if (req.bulkIdsUnsafe && generated && generatedSeveralIds(result)) {
      const undone = await primary.send(req.wrap ? ROLLBACK : ROLLBACK_TO_SAVEPOINT);
      // A rollback leaves LAST_INSERT_ID() where the refused statement put it; the secondary never
      // ran that statement, so a later INSERT ... VALUES (LAST_INSERT_ID()) would differ.
      await primary.send(
        reset ? RESTORE_SAVED_LAST_ID : queryPayload(`DO LAST_INSERT_ID(${BigInt(idWas ?? 0)})`),
      );
      const err = new MysqlError(
        'ER_UNKNOWN_ERROR',
        'tandem: this INSERT ... SELECT generated auto-increment ids under innodb_autoinc_lock_mode = 2, ' +
          'which does not make them consecutive, so the secondary cannot be given the same ids; ' +
          'it was rolled back. Insert the ids explicitly, or run the primary with innodb_autoinc_lock_mode = 1.',
      );
      return outcome(encodeErr(err, 1), undone.tracker.status, undefined);
    }

    // An autocommit write under lenient runs in a transaction on the secondary too, so that both
    // servers commit at once (one round trip, both syncs overlapping) instead of the secondary's
    // commit and then the primary's. The order of conflicting writes does not change: the
    // secondary has run the statement, and holds its row locks until its COMMIT, before either
    // server commits; the next writer of those rows gets them on the primary only when the
    // primary commits, and then waits on the secondary until this COMMIT there. Under strict the
    // secondary commits alone first, so that its failure can still undo the primary.
    const together = req.wrap && this.policy === 'lenient';
    let failure: SecondaryFailure | undefined = req.skipSecondary
      ? { reason: req.skipSecondary, txLost: false }
      : undefined;
    let secondaryOpen = false;
    // One time limit for everything the secondary does for this write, its COMMIT included.
    const deadline = performance.now() + this.secondaryTimeoutMs;
    if (!failure && (!secondary || secondary.isBroken)) {
      failure = { reason: `${secondaryName} server unavailable`, txLost: true };
    } else if (!failure && secondary) {
      const ok = okOf(result);
      const pins: Pins = {
        timestamp,
        randSeeds,
        insertId: generated ? ok?.lastInsertId : undefined,
        lastInsertId: req.readsLastInsertId && idWas ? idWas : undefined,
        lockWaitTimeout: SECONDARY_LOCK_WAIT_S,
      };
      secondaryOpen = together;
      const run = this.runOnSecondary(secondary, req, ok, pins, together);
      failure = await this.withinTimeout(secondary, run);
    }
    leave?.();

    if (failure?.conflict) return this.deadlock(primary, secondary, failure.reason);
    // The rows this statement wrote, for a journal entry about it alone: not when the secondary
    // lost a transaction that holds earlier writes too.
    const journal = (reason: string, f?: SecondaryFailure): Promise<void> => {
      const rows =
        f?.txLost && !req.wrap
          ? undefined
          : rowsWritten(req, generated ? String(okOf(result)?.lastInsertId ?? '') : undefined);
      return this.record(secondaryName, req.schema, req.tables, req.fingerprint, reason, rows);
    };
    if (!failure && req.inexact) await journal(req.inexact);
    if (failure) {
      if (this.policy === 'strict') return this.undo(primary, secondary, req, secondaryName, failure.reason);
      await journal(failure.reason, failure);
    }
    if (!req.wrap) return outcome(result.bytes!, result.tracker.status, failure);
    const committing = primary.send(COMMIT);
    // The secondary's half: its failure was journaled above, what it applied stays (as an
    // autocommit statement's would); a lost link has nothing left to commit.
    const secondaryCommit =
      secondaryOpen && secondary && !secondary.isBroken
        ? failure
          ? secondary.send(COMMIT).then(
              () => undefined,
              () => undefined,
            )
          : this.withinTimeout(secondary, commitOn(secondary), deadline - performance.now())
        : undefined;
    const [committed, secondaryCommitFailure] = await Promise.all([committing, secondaryCommit]);
    if (committed.tracker.error) {
      // The secondary has the row and the primary does not: the journal must say so.
      const why = `primary COMMIT failed: ${decodeErr(committed.tracker.error).message}`;
      await journal(why);
      return outcome(committed.bytes!, undefined, { reason: why, txLost: false });
    }
    if (secondaryCommitFailure) {
      // Journaled before the client learns that its write stands.
      failure = secondaryCommitFailure;
      await journal(failure.reason);
    }
    const status = committed.tracker.status;
    return outcome(withFinalStatus(result.bytes!, status), status, failure && { ...failure, txLost: false });
  }

  /**
   * Returns why the secondary failed, or undefined when it applied the write the same way.
   * `open`: BEGIN first, and leave the transaction for the caller to commit.
   */
  private async runOnSecondary(
    secondary: BackendLink,
    req: WriteRequest,
    ok: OkPacket | undefined,
    pins: Pins,
    open: boolean,
  ): Promise<SecondaryFailure | undefined> {
    try {
      const pinned = pinStatement(
        req.secondaryPayload,
        pins,
        takesSetStatement(secondary.conn.greeting.serverVersion) &&
          wrappable(req.secondaryPayload, req.fingerprint),
      );
      secondary.batch();
      const begun = open ? secondary.send(BEGIN) : undefined;
      const before = pinned.before === undefined ? undefined : secondary.send(queryPayload(pinned.before));
      const statement = secondary.send(pinned.statement);
      const after = pinned.after === undefined ? undefined : secondary.send(queryPayload(pinned.after));
      await Promise.all([begun, before, after]);
      const r = await statement;
      if (r.tracker.error) {
        const e = decodeErr(r.tracker.error);
        return {
          reason: `${secondary.label} error ${e.errno} (${e.sqlState}): ${e.message}`,
          txLost: TRANSACTION_ENDING_ERRORS.has(e.errno),
          conflict: LOCK_CONFLICT_ERRORS.has(e.errno),
        };
      }
      const sok = okOf(r);
      if (ok && sok && BigInt(ok.affectedRows) !== BigInt(sok.affectedRows)) {
        return {
          reason: `affected rows differ: ${ok.affectedRows} on the primary, ${sok.affectedRows} on the ${secondary.label}`,
          txLost: false,
        };
      }
      return undefined;
    } catch (err) {
      if (err instanceof LinkLostError) return { reason: err.message, txLost: true };
      throw err;
    }
  }

  /** A secondary that does not answer in time is dropped (it reconnects later), never waited for. */
  private async withinTimeout(
    secondary: BackendLink,
    run: Promise<SecondaryFailure | undefined>,
    ms = this.secondaryTimeoutMs,
  ): Promise<SecondaryFailure | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<SecondaryFailure>((resolve) => {
      timer = setTimeout(
        () => {
          secondary.close(true);
          const reason = `${secondary.label} did not answer within ${this.secondaryTimeoutMs} ms`;
          resolve({ reason, txLost: true });
        },
        Math.max(0, ms),
      );
    });
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Both servers roll the transaction back and the client gets ER_LOCK_DEADLOCK, which it retries. */
  private async deadlock(
    primary: BackendLink,
    secondary: BackendLink | undefined,
    reason: string,
  ): Promise<WriteOutcome> {
    const rolledBack = await primary.send(ROLLBACK);
    if (secondary && !secondary.isBroken) await secondary.send(ROLLBACK).catch(() => undefined);
    this.log.info({ reason }, 'lock conflict across servers; transaction rolled back on both');
    // A client retries a deadlock at once; answering after a short random pause lets the
    // transaction that waited behind this one take the lock first, instead of starving.
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 45));
    const err = new MysqlError(
      'ER_LOCK_DEADLOCK',
      `Deadlock found when trying to get lock; try restarting transaction (tandem: ${reason})`,
    );
    return {
      bytes: encodeErr(err, 1),
      status: rolledBack.tracker.status,
      endedTransaction: true,
      secondaryFailed: false,
      secondaryTxLost: false,
    };
  }

  private async undo(
    primary: BackendLink,
    secondary: BackendLink | undefined,
    req: WriteRequest,
    secondaryName: string,
    failure: string,
  ): Promise<WriteOutcome> {
    const rolledBack = await primary.send(ROLLBACK);
    if (secondary && !secondary.isBroken) await secondary.send(ROLLBACK).catch(() => undefined);
    this.log.warn({ fingerprint: req.fingerprint, failure }, 'secondary failed; write rolled back (strict)');
    const err = new MysqlError(
      'ER_UNKNOWN_ERROR',
      `tandem: the write failed on the ${secondaryName} server (${failure}); the transaction was rolled back on both servers (policy strict)`,
    );
    return {
      bytes: encodeErr(err, 1),
      status: rolledBack.tracker.status,
      endedTransaction: true,
      secondaryFailed: true,
      secondaryTxLost: true,
    };
  }

  /** Journals what the secondary missed; resolves once it is on disk. */
  async record(
    server: 'source' | 'target',
    schema: string | undefined,
    tables: readonly string[],
    statement: string,
    reason: string,
    rows?: MissedRows,
  ): Promise<void> {
    const entry: JournalEntry = {
      at: new Date().toISOString(),
      server,
      schema,
      tables,
      reason,
      statement,
      ...(rows && {
        keyColumns: rows.columns,
        keys: rows.rows,
        assigned: rows.assigned,
        otherUniqueKeys: rows.otherUniqueKeys,
        ...(rows.insertId !== undefined && { insertId: rows.insertId }),
      }),
    };
    metrics.secondaryErrors.labels(server).inc();
    await this.journal.append(entry);
    this.log.warn({ server, tables, reason }, 'secondary missed a write; journaled');
  }
}

/** The rows a one-table text statement names (missed-keys.ts); `insertId` when it generated ids. */
function rowsWritten(req: WriteRequest, insertId: string | undefined): MissedRows | undefined {
  if (req.tables.length !== 1 || req.primaryPayload[0] !== COM.QUERY) return undefined;
  return missedRows(req.primaryPayload.toString('utf8', 1), insertId || undefined);
}

/** An ERR packet after which the server has rolled back the whole transaction. */
export function endsTransaction(err: Buffer): boolean {
  return TRANSACTION_ENDING_ERRORS.has(decodeErr(err).errno);
}

/**
 * Errors after which the transaction may or may not survive: 1467 is how InnoDB reports a
 * deadlock on the auto-increment lock (transaction gone) but also an exhausted id range (it
 * stays); 1205 ends it only under innodb_rollback_on_timeout. The primary is asked.
 */
const MAYBE_TRANSACTION_ENDING = new Set([
  1205 /* ER_LOCK_WAIT_TIMEOUT */, 1467 /* ER_AUTOINC_READ_FAILED */,
]);

/** COMMIT on the secondary: why it failed, or undefined. */
async function commitOn(secondary: BackendLink): Promise<SecondaryFailure | undefined> {
  try {
    const r = await secondary.send(COMMIT);
    if (!r.tracker.error) return undefined;
    const e = decodeErr(r.tracker.error);
    return {
      reason: `${secondary.label} COMMIT failed: error ${e.errno} (${e.sqlState}): ${e.message}`,
      txLost: true,
    };
  } catch (err) {
    if (err instanceof LinkLostError) return { reason: err.message, txLost: true };
    throw err;
  }
}

async function transactionEnded(primary: BackendLink, err: Buffer): Promise<boolean> {
  if (endsTransaction(err)) return true;
  if (!MAYBE_TRANSACTION_ENDING.has(decodeErr(err).errno)) return false;
  const r = await primary.send(queryPayload('SELECT @@in_transaction'));
  return decodeTextRows(r.bytes!, primary.capabilities)[0]?.[0] === '0';
}

function outcome(
  bytes: Buffer,
  status: number | undefined,
  failure: SecondaryFailure | undefined,
): WriteOutcome {
  return {
    bytes,
    status,
    endedTransaction: false,
    secondaryFailed: failure !== undefined,
    secondaryTxLost: failure?.txLost ?? false,
  };
}

/**
 * Rewrites the status flags of a response's last packet (an OK or EOF packet), so that a
 * statement tandem wrapped in BEGIN/COMMIT reports the status after the commit.
 * OK: int<1> header, int<lenenc> affected rows, int<lenenc> last insert id, int<2> status.
 */
export function withFinalStatus(bytes: Buffer, status: number): Buffer {
  let off = 0;
  let last = -1;
  while (off + 4 <= bytes.length) {
    last = off;
    off += 4 + bytes.readUIntLE(off, 3);
  }
  if (last < 0) return bytes;
  const head = bytes[last + 4];
  const out = Buffer.from(bytes);
  if (head === 0xfe && bytes.readUIntLE(last, 3) < 9) {
    out.writeUInt16LE(status, last + 4 + 3);
    return out;
  }
  if (head !== 0x00 && head !== 0xfe) return bytes;
  let p = last + 5;
  for (let i = 0; i < 2; i++) {
    const b = out[p]!;
    p += b < 0xfb ? 1 : b === 0xfc ? 3 : b === 0xfd ? 4 : 9;
  }
  out.writeUInt16LE(status, p);
  return out;
}
