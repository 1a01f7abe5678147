import type { BackendLink, LinkCallback, LinkResponse, ResponseSink } from '../backend/backend-link.js';
import { type DualWriter, endsTransaction } from '../dualwrite/dual-writer.js';
import type { OrderClaim } from '../dualwrite/insert-order.js';
import { queryPayload } from '../dualwrite/pinning.js';
import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import { COM, CURSOR_TYPE, SERVER_STATUS } from '../protocol/constants.js';
import { MysqlError } from '../protocol/errors.js';
import { decodeErr, encodeErr } from '../protocol/packets/err.js';
import { decodeOk } from '../protocol/packets/ok.js';
import { decodeTextRows } from '../protocol/text-result.js';
import type { LexOptions } from '../sql/lexer.js';
import { hasRenames, type RenameMap, renameForTarget, targetSchema } from '../sql/rename.js';
import { replaceRowCount } from '../sql/rewrite-row-count.js';
import { findUuidCalls, replaceUuidCalls } from '../sql/rewrite-uuid.js';
import { type Admission, isDual, type Mode, type ModeController, primaryOf, secondaryOf } from './modes.js';
import {
  executeFor,
  executeTypes,
  LAST_PREPARED_STATEMENT,
  type PreparedStatement,
  prepareOkParams,
  withClientStatementId,
  withStatementId,
} from './prepared-statements.js';
import type { Scope } from './scope.js';
import type { StatementInfo } from './statement-info.js';

type ServerName = 'source' | 'target';

/** Told once when a client command is over: its response has reached the sink, or `err` stopped it. */
export type CommandDone = (err?: unknown) => void;

export interface RouterContext {
  readonly modes: ModeController;
  readonly writer: DualWriter;
  readonly classify: (sql: string, options?: LexOptions) => StatementInfo;
  readonly logger: Logger;
  /** DDL goes to both servers (dualWrite.mirrorDdl); when off, to the primary only. */
  readonly mirrorDdl: boolean;
  /** LOAD DATA LOCAL INFILE is relayed (single-server modes only). */
  readonly allowLocalInfile: boolean;
  /** Tables the migration covers; writes to the others go to the source only. */
  readonly scope: Scope;
  /** Schema and table names that differ on the target. */
  readonly renames: RenameMap;
  /** Opens tandem's own connection to the target, in the same session state as the client's. */
  readonly openTarget: (replay: readonly Buffer[]) => Promise<BackendLink>;
}

/** Statements whose session effect the secondary must share (SET, USE, ...), in order, for a late connection. */
const MAX_REPLAY = 256;

const NO_CLAIMS: readonly OrderClaim[] = Object.freeze([]);

const statementCounters = new Map<StatementInfo['kind'], Map<Mode, { inc(): void }>>();

/** tandem_statements_total, with its label children cached (by kind, then mode: no key string per statement). */
function countStatement(kind: StatementInfo['kind'], mode: Mode): void {
  let byMode = statementCounters.get(kind);
  if (!byMode) {
    byMode = new Map();
    statementCounters.set(kind, byMode);
  }
  let counter = byMode.get(mode);
  if (!counter) {
    counter = metrics.statements.child(kind, mode, primaryOf(mode));
    byMode.set(mode, counter);
  }
  counter.inc();
}

function localInfileRefusal(mode: Mode): string {
  return isDual(mode)
    ? 'tandem: LOAD DATA LOCAL INFILE cannot be mirrored to both servers; run it in mode source, or load with `tandem load`'
    : 'LOAD DATA LOCAL INFILE is disabled in tandem; set allowLocalInfile: true in its configuration to allow it';
}

const NO_BACKSLASH_ESCAPES: LexOptions = Object.freeze({ noBackslashEscapes: true });

/** The server function named in ER_UNKNOWN_STMT_HANDLER, per command. */
const STATEMENT_FUNCTION: Readonly<Record<number, string>> = {
  [COM.STMT_EXECUTE]: 'mysqld_stmt_execute',
  [COM.STMT_FETCH]: 'mysqld_stmt_fetch',
  [COM.STMT_RESET]: 'mysqld_stmt_reset',
};
const RECONNECT_INTERVAL_MS = 1000;

/**
 * Decides, per command, which server runs it: everything goes to the mode's primary (the read
 * server of every mode), and what changes data or session state goes to the secondary as well,
 * through the dual writer. One router per client session.
 */
export class SessionRouter implements Admission {
  /** Counted by the mode controller as inside a statement or a transaction (see ModeController). */
  admitted = false;
  private target: BackendLink | undefined;
  private targetOpening: Promise<void> | undefined;
  private lastTargetAttempt = 0;
  private status: number;
  private txMode: Mode;
  private readonly statements = new Map<number, PreparedStatement>();
  private nextStatementId = 1;
  /** tandem's id of the statement prepared last, which statement id -1 names; unset when that prepare failed. */
  private lastPrepared: number | undefined;
  private readonly replay: Buffer[] = [];
  private database: string | undefined;
  /** Tables written in the current transaction, journaled if the secondary loses it. */
  private readonly txTables = new Set<string>();
  private secondaryTxLost = false;
  private txWrote = false;
  private primaryRolledBack = false;
  /** The affected rows of the write just mirrored, for a ROW_COUNT() in the next statement. */
  private rowCount: bigint | undefined;
  private readonly lockModes = new WeakMap<BackendLink, number>();

  constructor(
    private readonly source: BackendLink,
    private readonly ctx: RouterContext,
    initialStatus: number,
    database: string | undefined,
  ) {
    this.status = initialStatus;
    this.txMode = ctx.modes.mode;
    this.database = database;
  }

  /**
   * The session's sql_mode as far as it changes how text splits into tokens: the server reports
   * NO_BACKSLASH_ESCAPES in every OK packet's status.
   */
  private lexOptions(): LexOptions | undefined {
    return this.status & SERVER_STATUS.NO_BACKSLASH_ESCAPES ? NO_BACKSLASH_ESCAPES : undefined;
  }

  get hasTarget(): boolean {
    return this.target !== undefined && !this.target.isBroken;
  }

  get inTransaction(): boolean {
    return (this.status & SERVER_STATUS.IN_TRANS) !== 0;
  }

  /** The mode this statement runs under: the transaction's own, or the current one between transactions. */
  private modeNow(): Mode {
    if (!this.inTransaction) this.txMode = this.ctx.modes.mode;
    return this.txMode;
  }

  private link(name: ServerName): BackendLink | undefined {
    return name === 'source' ? this.source : this.target;
  }

  /** The target link, opening (or reopening) it between transactions; undefined while it is down. */
  private async ensureTarget(wait: boolean): Promise<BackendLink | undefined> {
    if (this.target && !this.target.isBroken) return this.target;
    if (
      !this.targetOpening &&
      !this.inTransaction &&
      Date.now() - this.lastTargetAttempt >= RECONNECT_INTERVAL_MS
    ) {
      this.lastTargetAttempt = Date.now();
      this.target = undefined;
      this.targetOpening = this.ctx
        .openTarget(this.replay)
        .then((link) => {
          this.target = link;
          // Statements were prepared on the old connection; they are prepared again on first use.
          for (const s of this.statements.values()) {
            delete s.serverIds.target;
            delete s.typesSent.target;
          }
        })
        .catch((err: Error) => this.ctx.logger.warn({ err: err.message }, 'target connection failed'))
        .finally(() => {
          this.targetOpening = undefined;
        });
    }
    if (wait && this.targetOpening) await this.targetOpening;
    return this.target && !this.target.isBroken ? this.target : undefined;
  }

  /**
   * Runs one client command; `done` is called once when its response has reached the sink, or
   * with the error that stopped it. A callback, not a promise: in mode `source` most commands
   * complete in the server link's read callback, without a microtask hop (see relayDirect()).
   */
  handle(payload: Buffer, sink: ResponseSink, done: CommandDone): void {
    // Outside a transaction a statement waits while a mode switch is under way; inside one it
    // goes on under the mode the transaction began with.
    if (!this.inTransaction && !this.ctx.modes.tryAdmit(this)) {
      this.ctx.modes.admit(this).then(() => this.handleAdmitted(payload, sink, done), done);
      return;
    }
    this.handleAdmitted(payload, sink, done);
  }

  private handleAdmitted(payload: Buffer, sink: ResponseSink, done: CommandDone): void {
    this.commandDone = done;
    let direct: boolean;
    try {
      direct = this.relayDirect(payload, sink);
    } catch (err) {
      this.settle(err);
      return;
    }
    if (!direct) this.route(payload, sink).then(this.settle, this.settle);
  }

  private commandDone: CommandDone | undefined;

  /** Ends the running command: the session is released between transactions, then told. */
  private readonly settle = (err?: unknown): void => {
    if (!this.inTransaction) this.ctx.modes.release(this);
    const done = this.commandDone!;
    this.commandDone = undefined;
    done(err);
  };

  private readonly directDone: LinkCallback = (err, r) => {
    if (r) this.track(r);
    this.settle(err);
  };

  /**
   * The hot path of mode `source`: a statement that needs nothing but the source is relayed
   * without the router's async steps. Anything else (session state, prepared statements not
   * yet on the source, dual modes) returns false and takes route().
   */
  private relayDirect(payload: Buffer, sink: ResponseSink): boolean {
    if (this.primaryRolledBack || this.modeNow() !== 'source') return false;
    const command = payload[0];
    if (command === COM.QUERY) {
      const info = this.ctx.classify(payload.toString('utf8', 1), this.lexOptions());
      if (info.kind === 'session' || info.localInfile || info.database !== undefined) return false;
      countStatement(info.kind, 'source');
      this.source.request(payload, sink, false, this.directDone);
      return true;
    }
    if (command === COM.STMT_EXECUTE) {
      const st = this.statementOf(payload);
      if (!st || st.serverIds.source === undefined) return false;
      this.noteTypes(payload, st);
      countStatement(st.info.kind, 'source');
      const cursor = (payload[5]! & CURSOR_TYPE.READ_ONLY) !== 0;
      this.source.request(this.executePayload(payload, st, 'source'), sink, cursor, this.directDone);
      return true;
    }
    return false;
  }

  /** Parameter types an execute carries are kept, for servers that have not seen them. */
  private noteTypes(payload: Buffer, st: PreparedStatement): void {
    const types = executeTypes(payload, st.params);
    if (types) {
      st.types = types;
      st.typesSent.source = false;
      st.typesSent.target = false;
    }
  }

  private async route(payload: Buffer, sink: ResponseSink): Promise<void> {
    const mode = this.modeNow();
    const primaryName = primaryOf(mode);
    const secondaryName = secondaryOf(mode);
    let primary = this.link(primaryName);
    if (primaryName === 'target') primary = await this.ensureTarget(true);
    if (!primary) {
      sink.write(
        encodeErr(new MysqlError('CR_CONN_HOST_ERROR', `tandem: the target server is unavailable`), 1),
      );
      return;
    }
    const secondary = secondaryName ? await this.secondaryLink(secondaryName) : undefined;
    await this.dispatch(payload, sink, mode, primary, secondary);
    if (this.primaryRolledBack) await this.afterPrimaryRollback(secondary);
  }

  private async dispatch(
    payload: Buffer,
    sink: ResponseSink,
    mode: Mode,
    primary: BackendLink,
    secondary: BackendLink | undefined,
  ): Promise<void> {
    const primaryName = primaryOf(mode);
    const secondaryName = secondaryOf(mode);
    const command = payload[0]!;
    // Only the statement right after a mirrored write may read its ROW_COUNT().
    const rowCount = this.rowCount;
    this.rowCount = undefined;
    switch (command) {
      case COM.QUERY:
        return this.query(payload, sink, mode, primary, secondary, rowCount);
      case COM.STMT_PREPARE:
        return this.prepare(payload, sink, primaryName, secondary ? secondaryName : undefined);
      case COM.STMT_EXECUTE:
        return this.execute(payload, sink, mode, primaryName);
      case COM.STMT_FETCH:
      case COM.STMT_RESET:
      case COM.STMT_SEND_LONG_DATA:
      case COM.STMT_CLOSE:
        return this.statementCommand(payload, sink, primaryName);
      case COM.INIT_DB:
      case COM.SET_OPTION:
      case COM.RESET_CONNECTION:
        if (command === COM.INIT_DB) this.database = payload.toString('utf8', 1);
        if (command === COM.RESET_CONNECTION) this.forgetSession();
        else this.remember(payload);
        return this.onBoth(payload, sink, primary, secondary);
      default:
        return this.track(await primary.send(this.out(primary, payload), sink));
    }
  }

  /** The secondary for a dual mode; a missing target is reopened in the background. */
  private async secondaryLink(name: ServerName): Promise<BackendLink | undefined> {
    if (name === 'source') return this.source;
    return this.ensureTarget(this.target === undefined && this.lastTargetAttempt === 0);
  }

  private track(r: LinkResponse): void {
    if (r.tracker.error) {
      // A deadlock on the primary ends its transaction; the secondary's half is rolled back
      // before the next command (see handle()).
      if (this.inTransaction && endsTransaction(r.tracker.error)) this.primaryRolledBack = true;
      return;
    }
    if (r.tracker.status || r.tracker.lastOk || r.tracker.resultSets) this.status = r.tracker.status;
  }

  private async afterPrimaryRollback(secondary: BackendLink | undefined): Promise<void> {
    this.primaryRolledBack = false;
    this.status &= ~SERVER_STATUS.IN_TRANS;
    if (secondary && !secondary.isBroken)
      await secondary.send(queryPayload('ROLLBACK')).catch(() => undefined);
    this.endOfStatement();
  }

  private async query(
    payload: Buffer,
    sink: ResponseSink,
    mode: Mode,
    primary: BackendLink,
    secondary: BackendLink | undefined,
    rowCount: bigint | undefined,
  ): Promise<void> {
    const sql = payload.toString('utf8', 1);
    const info = this.ctx.classify(sql, this.lexOptions());
    if (rowCount !== undefined) payload = this.withRowCount(payload, sql, rowCount);
    countStatement(info.kind, mode);
    if (info.localInfile && (!this.ctx.allowLocalInfile || isDual(mode))) {
      sink.write(encodeErr(new MysqlError('ER_NOT_ALLOWED_COMMAND', localInfileRefusal(mode)), 1));
      return;
    }
    if (info.kind === 'session') this.remember(payload);
    if (info.database !== undefined) this.database = info.database;
    // In every mode: a table's keys may change here, and the dual writer would not hear of it.
    if (info.kind === 'ddl') this.ctx.writer.upsertRisk.forget(this.database, info.tables);
    if (!isDual(mode)) return this.track(await primary.send(this.out(primary, payload), sink));
    switch (info.kind) {
      case 'read':
        if (info.intoVariable) return this.onBoth(payload, sink, primary, secondary);
        // A deadlock in SELECT ... FOR UPDATE is caught by track() and handled in handle().
        return this.track(await primary.send(this.out(primary, payload), sink));
      case 'other':
        // Administration (FLUSH, KILL, GRANT, ANALYZE, ...) concerns the server it is sent to.
        return this.track(await primary.send(this.out(primary, payload), sink));
      case 'ddl':
        if (!this.ctx.mirrorDdl) return this.track(await primary.send(this.out(primary, payload), sink));
        return this.write(payload, payload, info, sink, mode, primary, secondary);
      case 'transaction':
      case 'session':
        return this.onBoth(payload, sink, primary, secondary, info);
      default:
        if (info.rewriteUuids) {
          const rewritten = await this.withPrimaryUuids(payload, primary);
          return this.write(rewritten, rewritten, info, sink, mode, primary, secondary);
        }
        return this.write(payload, payload, info, sink, mode, primary, secondary);
    }
  }

  /**
   * After a mirrored write the server's ROW_COUNT() reports tandem's COMMIT or probe, so one
   * statement (not a multi-statement, whose later parts follow other statements) gets the
   * write's own count as a literal.
   */
  private withRowCount(payload: Buffer, sql: string, rowCount: bigint): Buffer {
    if (/;\s*\S/.test(sql)) return payload;
    const rewritten = replaceRowCount(sql, rowCount, this.lexOptions());
    return rewritten === undefined ? payload : queryPayload(rewritten);
  }

  /** The statement with its UUID()/UUID_SHORT() calls replaced by values the primary generated. */
  private async withPrimaryUuids(payload: Buffer, primary: BackendLink): Promise<Buffer> {
    const sql = payload.toString('utf8', 1);
    const calls = findUuidCalls(sql);
    if (calls.length === 0) return payload;
    const r = await primary.send(queryPayload(`SELECT ${calls.map((c) => `${c.fn}()`).join(', ')}`));
    const values = decodeTextRows(r.bytes!, primary.capabilities)[0];
    if (!values || values.some((v) => v === null)) return payload;
    return queryPayload(replaceUuidCalls(sql, calls, values as string[]));
  }

  private async write(
    primaryPayload: Buffer,
    secondaryPayload: Buffer,
    info: StatementInfo,
    sink: ResponseSink,
    mode: Mode,
    primary: BackendLink,
    secondary: BackendLink | undefined,
  ): Promise<void> {
    if (this.ctx.scope.allOutside(info.tables, this.database)) {
      // Out of scope: the source alone keeps these tables, whichever server leads.
      const onSource = primary === this.source ? primaryPayload : secondaryPayload;
      return this.track(await this.source.send(onSource, sink));
    }
    const writer = this.ctx.writer;
    const secondaryName = secondaryOf(mode)!;
    const unpinnable =
      info.unpinnable.length > 0
        ? `${info.unpinnable.join(', ')} cannot be pinned on the secondary`
        : undefined;
    if (unpinnable && writer.policy === 'strict') {
      // Refused before anything runs: a DDL or non-transactional write could not be undone.
      sink.write(encodeErr(new MysqlError('ER_UNKNOWN_ERROR', `tandem: ${unpinnable} (policy strict)`), 1));
      return;
    }
    if (this.inTransaction) {
      this.txWrote = true;
      for (const t of info.tables) this.txTables.add(t);
    }
    const outcome = await writer.run(primary, secondary, secondaryName, {
      primaryPayload: this.out(primary, primaryPayload),
      secondaryPayload: secondary ? this.out(secondary, secondaryPayload) : secondaryPayload,
      wrap: info.kind === 'write' && !this.inTransaction && (this.status & SERVER_STATUS.AUTOCOMMIT) !== 0,
      usesRand: info.usesRand,
      skipSecondary: this.secondaryTxLost ? `the ${secondaryName} lost this transaction earlier` : undefined,
      inexact: unpinnable,
      schema: this.database,
      tables: info.tables,
      fingerprint: info.fingerprint,
      bulkIdsUnsafe: info.bulkInsert && (await this.autoincLockMode(primary)) === 2,
      inserts: info.inserts,
      readsLastInsertId: info.readsLastInsertId,
      order: info.inserts ? await this.insertOrder(info, primary) : NO_CLAIMS,
    });
    // After an ERR packet (no status flags) the session's status stands, or the next autocommit
    // write would not be wrapped; but a transaction the primary lost is over.
    if (outcome.status !== undefined) this.status = outcome.status;
    if (outcome.endedTransaction) this.status &= ~SERVER_STATUS.IN_TRANS;
    if (outcome.secondaryTxLost && this.inTransaction && !this.secondaryTxLost) {
      // What the secondary had applied of this transaction is gone with it.
      this.secondaryTxLost = true;
      await writer.record(
        secondaryName,
        this.database,
        [...this.txTables],
        info.fingerprint,
        'secondary transaction lost',
      );
    }
    this.endOfStatement();
    this.rowCount = affectedRowsOf(outcome.bytes);
    sink.write(outcome.bytes);
  }

  /** A command as `link`'s server knows its names: the target's, when the migration renames. */
  private out(link: BackendLink, payload: Buffer): Buffer {
    if (link !== this.target || !hasRenames(this.ctx.renames)) return payload;
    const command = payload[0];
    if (command === COM.INIT_DB) {
      return Buffer.concat([
        payload.subarray(0, 1),
        Buffer.from(targetSchema(this.ctx.renames, payload.toString('utf8', 1))),
      ]);
    }
    if (command !== COM.QUERY && command !== COM.STMT_PREPARE) return payload;
    const sql = payload.toString('utf8', 1);
    const renamed = renameForTarget(sql, this.ctx.renames, this.database);
    return renamed === sql ? payload : Buffer.concat([payload.subarray(0, 1), Buffer.from(renamed, 'utf8')]);
  }

  /**
   * What an inserting statement claims of its tables (dualwrite/insert-order.ts): the columns
   * it gives values, and for an upsert of a table where it can try ids it gives back, that
   * table's id column and whether the primary's lock mode lets a generated id repeat one. The
   * source is asked for the table's keys, in both dual modes: it has the source's names.
   */
  private async insertOrder(info: StatementInfo, primary: BackendLink): Promise<OrderClaim[]> {
    const claims: OrderClaim[] = [];
    for (const name of info.tables) {
      const dot = name.indexOf('.');
      const schema = dot >= 0 ? name.slice(0, dot) : this.database;
      const table = dot >= 0 ? name.slice(dot + 1) : name;
      // No database: the servers refuse the statement, and it inserts nothing.
      if (schema === undefined) continue;
      const key = `${schema}.${table}`.toLowerCase();
      const idColumn = info.upserts ? await this.ctx.writer.upsertRisk.of(this.source, schema, table) : null;
      if (idColumn === null) {
        claims.push({ table: key, columns: info.insertColumns });
        continue;
      }
      // Unknown shape (undefined): ordered against every insert, the safe side.
      const everyInsert = idColumn === undefined || (await this.autoincLockMode(primary)) === 0;
      claims.push({
        table: key,
        columns: info.insertColumns,
        upsert: { idColumn: idColumn ?? '', everyInsert },
      });
    }
    return claims;
  }

  /** The primary's innodb_autoinc_lock_mode, read once per server and session (only for bulk inserts). */
  private async autoincLockMode(link: BackendLink): Promise<number> {
    const known = this.lockModes.get(link);
    if (known !== undefined) return known;
    const r = await link.send(queryPayload('SELECT @@GLOBAL.innodb_autoinc_lock_mode'));
    const mode = Number(decodeTextRows(r.bytes!, link.capabilities)[0]?.[0] ?? 1);
    this.lockModes.set(link, mode);
    return mode;
  }

  /** Between transactions the per-transaction state starts afresh. */
  private endOfStatement(): void {
    if (this.inTransaction) return;
    this.txTables.clear();
    this.txWrote = false;
    this.secondaryTxLost = false;
  }

  /**
   * Transaction control and session state: primary first, then the secondary; the client gets the
   * primary's answer. Transaction control that fails on the primary (or that ends a transaction
   * the secondary already lost) rolls the secondary back; a COMMIT the secondary refuses is journaled.
   */
  private async onBoth(
    payload: Buffer,
    sink: ResponseSink,
    primary: BackendLink,
    secondary: BackendLink | undefined,
    info?: StatementInfo,
  ): Promise<void> {
    const control = info?.kind === 'transaction';
    const commits = control && info?.endsWith === 'commit' && this.inTransaction && this.txWrote;
    const secondaryGone = !secondary || secondary.isBroken || this.secondaryTxLost;
    const secondaryName = secondaryOf(this.txMode)!;
    if (commits && secondaryGone && this.ctx.writer.policy === 'strict') {
      // The secondary cannot commit what the primary would: under strict nothing is committed.
      const rolledBack = await primary.send(queryPayload('ROLLBACK'));
      this.status = rolledBack.tracker.status & ~SERVER_STATUS.IN_TRANS;
      this.endOfStatement();
      const why = `the ${secondaryName} lost this transaction before its COMMIT`;
      sink.write(
        encodeErr(
          new MysqlError('ER_UNKNOWN_ERROR', `tandem: ${why}; it was rolled back (policy strict)`),
          1,
        ),
      );
      return;
    }
    const r = await primary.send(this.out(primary, payload));
    this.track(r);
    let secondaryMissed: string | undefined;
    if (secondary && !secondary.isBroken && (control || !r.tracker.error)) {
      const rollback = control && (r.tracker.error !== undefined || this.secondaryTxLost);
      const s = await secondary
        .send(rollback ? queryPayload('ROLLBACK') : this.out(secondary, payload))
        .catch((err: Error) => err);
      if (s instanceof Error) secondaryMissed = s.message;
      else if (s.tracker.error && !rollback) {
        const e = decodeErr(s.tracker.error);
        this.ctx.logger.warn(
          { errno: e.errno, err: e.message },
          'secondary refused a statement the primary ran',
        );
        secondaryMissed = e.message;
      }
    } else if (!secondary || secondary.isBroken || this.secondaryTxLost) {
      // Asked again, not `secondaryGone`: the link may have gone while the primary answered.
      secondaryMissed = `${secondaryName} server unavailable`;
    }
    if (commits && !r.tracker.error && secondaryMissed && !this.secondaryTxLost) {
      // Committed on the primary only: the journal must name every table the transaction wrote.
      await this.ctx.writer.record(
        secondaryName,
        this.database,
        [...this.txTables],
        info!.fingerprint,
        secondaryMissed,
      );
    }
    this.endOfStatement();
    sink.write(r.bytes!);
  }

  private async prepare(
    payload: Buffer,
    sink: ResponseSink,
    primaryName: ServerName,
    secondaryName: ServerName | undefined,
  ): Promise<void> {
    const sql = Buffer.from(payload.subarray(1));
    let info = this.ctx.classify(sql.toString('utf8'), this.lexOptions());
    if (info.rewriteUuids) {
      // A prepared statement's text is fixed: its UUID() calls cannot become literals.
      info = {
        ...info,
        rewriteUuids: false,
        unpinnable: [...info.unpinnable, 'UUID() in a prepared statement'],
      };
    }
    const primary = this.link(primaryName)!;
    const r = await primary.send(this.out(primary, payload));
    if (r.tracker.error) {
      // As on the server, a failed prepare leaves no "last statement" for id -1.
      this.lastPrepared = undefined;
      sink.write(r.bytes!);
      return;
    }
    const st: PreparedStatement = {
      clientId: this.nextStatementId++,
      sql,
      info,
      params: prepareOkParams(r.bytes!),
      serverIds: { [primaryName]: r.tracker.statementId! },
      types: undefined,
      typesSent: {},
    };
    this.statements.set(st.clientId, st);
    this.lastPrepared = st.clientId;
    if (secondaryName && info.kind !== 'read') await this.prepareOn(st, secondaryName);
    sink.write(withClientStatementId(r.bytes!, st.clientId));
  }

  /** Prepares a statement on a server that has not seen it yet; false when that fails. */
  private async prepareOn(st: PreparedStatement, server: ServerName): Promise<boolean> {
    if (st.serverIds[server] !== undefined) return true;
    const link = this.link(server);
    if (!link || link.isBroken) return false;
    const r = await link
      .send(this.out(link, Buffer.concat([Buffer.from([COM.STMT_PREPARE]), st.sql])))
      .catch(() => undefined);
    if (!r || r.tracker.error) return false;
    st.serverIds[server] = r.tracker.statementId!;
    st.typesSent[server] = false;
    return true;
  }

  /** The statement a COM_STMT_* command names by its int<4> id at offset 1. */
  private statementOf(payload: Buffer): PreparedStatement | undefined {
    const id = payload.readUInt32LE(1);
    return this.statements.get(id === LAST_PREPARED_STATEMENT ? (this.lastPrepared ?? id) : id);
  }

  private executePayload(payload: Buffer, st: PreparedStatement, server: ServerName): Buffer {
    const types = st.typesSent[server] ? undefined : st.types;
    st.typesSent[server] = true;
    return executeFor(payload, st.serverIds[server]!, st.params, types);
  }

  private async execute(
    payload: Buffer,
    sink: ResponseSink,
    mode: Mode,
    primaryName: ServerName,
  ): Promise<void> {
    const st = this.statementOf(payload);
    if (!st) return this.unknownStatement(payload, sink);
    this.noteTypes(payload, st);
    countStatement(st.info.kind, mode);
    const cursor = (payload[5]! & CURSOR_TYPE.READ_ONLY) !== 0;
    const primary = this.link(primaryName)!;
    if (!(await this.prepareOn(st, primaryName))) {
      sink.write(
        encodeErr(
          new MysqlError('CR_SERVER_LOST', `tandem: could not prepare the statement on ${primaryName}`),
          1,
        ),
      );
      return;
    }
    const secondaryName = secondaryOf(mode);
    if (!secondaryName || st.info.kind === 'read') {
      return this.track(await primary.send(this.executePayload(payload, st, primaryName), sink, cursor));
    }
    const secondary = this.link(secondaryName);
    const onSecondary = secondary && !secondary.isBroken && (await this.prepareOn(st, secondaryName));
    const primaryPayload = this.executePayload(payload, st, primaryName);
    const secondaryPayload = onSecondary ? this.executePayload(payload, st, secondaryName) : payload;
    return this.write(
      primaryPayload,
      secondaryPayload,
      st.info,
      sink,
      mode,
      primary,
      onSecondary ? secondary : undefined,
    );
  }

  /** COM_STMT_FETCH, _RESET, _SEND_LONG_DATA, _CLOSE: to each server that has the statement. */
  private async statementCommand(
    payload: Buffer,
    sink: ResponseSink,
    primaryName: ServerName,
  ): Promise<void> {
    const command = payload[0]!;
    const st = this.statementOf(payload);
    if (!st) return this.unknownStatement(payload, sink);
    if (command === COM.STMT_CLOSE) this.statements.delete(st.clientId);
    const others = (['source', 'target'] as const).filter(
      (s) => s !== primaryName && st.serverIds[s] !== undefined,
    );
    for (const name of others) {
      const link = this.link(name);
      if (command === COM.STMT_FETCH || !link || link.isBroken) continue;
      await link.send(withStatementId(payload, st.serverIds[name]!)).catch(() => undefined);
    }
    if (command === COM.STMT_RESET) {
      st.typesSent.source = false;
      st.typesSent.target = false;
    }
    const id = st.serverIds[primaryName];
    if (id === undefined) {
      if (command === COM.STMT_CLOSE || command === COM.STMT_SEND_LONG_DATA) return;
      if (!(await this.prepareOn(st, primaryName))) return this.unknownStatement(payload, sink);
    }
    const cursor = command === COM.STMT_FETCH;
    this.track(
      await this.link(primaryName)!.send(withStatementId(payload, st.serverIds[primaryName]!), sink, cursor),
    );
  }

  /**
   * A statement id tandem never handed out (or already closed): answered as the server answers,
   * ER_UNKNOWN_STMT_HANDLER; close and long data have no answer, as on a server.
   */
  private unknownStatement(payload: Buffer, sink: ResponseSink): void {
    const command = payload[0]!;
    const name = STATEMENT_FUNCTION[command];
    if (!name) return;
    const id = payload.length >= 5 ? payload.readUInt32LE(1) : 0;
    sink.write(
      encodeErr(
        new MysqlError(
          'ER_UNKNOWN_STMT_HANDLER',
          `Unknown prepared statement handler (${id}) given to ${name}`,
        ),
        1,
      ),
    );
  }

  private remember(payload: Buffer): void {
    this.replay.push(Buffer.from(payload));
    if (this.replay.length > MAX_REPLAY) this.replay.shift();
  }

  private forgetSession(): void {
    this.replay.length = 0;
    this.statements.clear();
    this.lastPrepared = undefined;
  }

  /** COM_CHANGE_USER went through on the source: the target session starts afresh too. */
  async afterChangeUser(database: string | undefined): Promise<void> {
    this.forgetSession();
    this.database = database;
    const target = this.target;
    if (!target || target.isBroken) return;
    await target.send(Buffer.from([COM.RESET_CONNECTION])).catch(() => undefined);
    if (database) {
      const initDb = Buffer.concat([Buffer.from([COM.INIT_DB]), Buffer.from(database, 'utf8')]);
      this.remember(initDb);
      await target.send(this.out(target, initDb)).catch(() => undefined);
    }
  }

  /** The client drained: links paused for backpressure read again. */
  resume(): void {
    this.source.resume();
    this.target?.resume();
  }

  close(): void {
    this.ctx.modes.release(this);
    this.target?.close();
  }
}

/** The affected rows of a response that is one OK packet (the write's), else undefined. */
function affectedRowsOf(response: Buffer): bigint | undefined {
  if (response.length < 5 || response[4] !== 0x00) return undefined;
  const len = response.readUIntLE(0, 3);
  if (response.length !== 4 + len) return undefined;
  return BigInt(decodeOk(response.subarray(4)).affectedRows);
}
