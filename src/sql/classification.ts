/**
 * What the router and the dual writer learn of a statement. A Classification depends only on
 * the statement's fingerprint (literals do not change it), so one is computed per statement
 * shape, cached and shared: every object here is frozen.
 */

/**
 * - `read`: returns data and changes nothing (SELECT, SHOW, DESCRIBE, EXPLAIN, ...);
 * - `write`: changes rows (INSERT, UPDATE, DELETE, REPLACE, LOAD DATA, CALL, ...), and
 *   whatever could not be classified;
 * - `ddl`: changes the schema (CREATE, ALTER, DROP, TRUNCATE, RENAME);
 * - `transaction`: BEGIN, COMMIT, ROLLBACK, savepoints, XA;
 * - `session`: changes the session only (SET, USE, LOCK TABLES, PREPARE, ...);
 * - `other`: administration (GRANT, FLUSH, KILL, OPTIMIZE TABLE, ...).
 */
export type StatementKind = 'read' | 'write' | 'ddl' | 'transaction' | 'session' | 'other';

/**
 * For a multi-statement text, the kind that decides where it goes: a write anywhere makes the
 * text a write. From strongest to weakest.
 */
export const KIND_STRENGTH: readonly StatementKind[] = [
  'write',
  'ddl',
  'transaction',
  'session',
  'other',
  'read',
];

export interface TableRef {
  /** The schema when the statement names one (`db.t`); otherwise the session's current schema. */
  readonly schema?: string;
  readonly table: string;
  /** `write` when the statement may change the table's rows or definition. */
  readonly access: 'read' | 'write';
}

/** A schema, savepoint, prepared statement or routine that a statement names. */
export interface ObjectName {
  readonly schema?: string;
  readonly name: string;
}

export type TransactionAction =
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'savepoint'
  | 'rollback-to-savepoint'
  | 'release-savepoint'
  | 'xa-start'
  | 'xa-end'
  | 'xa-prepare'
  | 'xa-commit'
  | 'xa-rollback'
  | 'xa-recover';

export interface TransactionControl {
  readonly action: TransactionAction;
  /** START TRANSACTION READ ONLY */
  readonly readOnly: boolean;
  /** START TRANSACTION WITH CONSISTENT SNAPSHOT */
  readonly consistentSnapshot: boolean;
  /** COMMIT AND CHAIN, ROLLBACK AND CHAIN: a new transaction begins at once. */
  readonly chain: boolean;
  /** COMMIT RELEASE, ROLLBACK RELEASE: the server closes the connection. */
  readonly release: boolean;
}

export type SessionAction =
  | 'use'
  | 'set'
  | 'set-names'
  | 'set-character-set'
  | 'set-transaction'
  | 'set-role'
  | 'lock-tables'
  | 'unlock-tables'
  | 'prepare'
  | 'deallocate';

export type VariableScope = 'session' | 'global' | 'user';

export interface VariableAssignment {
  readonly scope: VariableScope;
  /** Lower case, without `@`/`@@` and scope prefix. */
  readonly name: string;
}

export interface SessionChange {
  readonly action: SessionAction;
  /** Variables a SET assigns, in order (`SET NAMES` and `SET CHARACTER SET` are not listed). */
  readonly variables: readonly VariableAssignment[];
  /** SET autocommit = 0|1|ON|OFF: the value when it is a constant. */
  readonly autocommit?: boolean;
}

/** What the dual writer sets on the secondary so that a function returns the primary's value. */
export type Pin = 'timestamp' | 'rand-seed' | 'uuid' | 'uuid-short' | 'last-insert-id';

/** Properties that the dual writer needs; for a multi-statement text, each is any statement's. */
export interface ClassificationFlags {
  /** Could not be classified; treated as a write. */
  readonly unknown: boolean;
  /** Takes locks the transaction keeps: SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE, GET_LOCK(). */
  readonly locking: boolean;
  /** SELECT ... INTO @var, or a read that assigns `@var := ...`: the value exists on one server only. */
  readonly intoVariables: boolean;
  /** SELECT ... INTO OUTFILE / DUMPFILE: writes a file on the server. */
  readonly intoFile: boolean;
  /** Commits the open transaction first (DDL, LOCK TABLES, BEGIN, SET autocommit = 1, ...). */
  readonly implicitCommit: boolean;
  /** CREATE / DROP TEMPORARY TABLE: session state, no implicit commit. */
  readonly temporaryTable: boolean;
  /** Rows come from a query (INSERT/REPLACE ... SELECT, CREATE TABLE ... SELECT): a bulk insert for auto-increment. */
  readonly insertSelect: boolean;
  readonly onDuplicateKeyUpdate: boolean;
  /** INSERT IGNORE, UPDATE IGNORE, DELETE IGNORE, LOAD DATA ... IGNORE INTO */
  readonly ignore: boolean;
  /** LOAD DATA LOCAL INFILE: the client sends the file over the connection. */
  readonly localInfile: boolean;
  /** Tables come from a token scan because the parser failed or was not run: may be incomplete. */
  readonly tablesGuessed: boolean;
  /**
   * Non-deterministic functions the secondary can be made to repeat (upper case: `NOW`,
   * `RAND`, `UUID`, `LAST_INSERT_ID`, `LAST_INSERT_ID(expr)`, ...). Listed for statements
   * that are mirrored (not for reads).
   */
  readonly pinnable: readonly string[];
  /** What the pinnable functions need set on the secondary. */
  readonly pins: readonly Pin[];
  /** What the secondary cannot repeat: `SYSDATE`, `CONNECTION_ID`, `@var` reads, ... (not for reads). */
  readonly unpinnable: readonly string[];
}

export interface StatementClassification extends ClassificationFlags {
  readonly kind: StatementKind;
  /** Leading keywords in upper case: `SELECT`, `INSERT`, `LOAD DATA`, `START TRANSACTION`, `SET`, ... */
  readonly verb: string;
  readonly tables: readonly TableRef[];
  /** USE's schema, a savepoint, a prepared statement, CALL's routine, a created database or routine. */
  readonly name?: ObjectName;
  readonly transaction?: TransactionControl;
  readonly session?: SessionChange;
  /** User variables the statement assigns (`@x`, lower case). */
  readonly assignsVariables: readonly string[];
  /**
   * User variables the statement reads (`@x`, lower case). A mirrored write that reads one is
   * only safe when every assignment of it ran on both servers; the session knows.
   */
  readonly readsVariables: readonly string[];
  /** INSERT/REPLACE (col, ...): the columns it gives values, lower-cased; absent: any column. */
  readonly insertColumns?: readonly string[];
}

export interface Classification extends ClassificationFlags {
  /** The strongest kind among the statements (see KIND_STRENGTH); `other` for an empty text. */
  readonly kind: StatementKind;
  readonly statements: readonly StatementClassification[];
  /** Every table of every statement, once; `write` wins over `read`. */
  readonly tables: readonly TableRef[];
  /** More than one statement. */
  readonly multiStatement: boolean;
  /** The shape of the text (see fingerprint.ts): safe to log. */
  readonly fingerprint: string;
}
