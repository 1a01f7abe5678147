import type { Pin } from './classification.js';
import { type Token, TokenType } from './lexer.js';
import { isOp } from './token-reader.js';

/**
 * Functions and variables whose value differs between the primary and the secondary, as
 * MySQL's statement-based replication sees them: what the binlog carries an event for
 * (SET timestamp, RAND seeds, insert and last-insert ids) can be pinned on the secondary;
 * the rest cannot.
 * https://dev.mysql.com/doc/refman/8.0/en/replication-rbr-safe-unsafe.html
 * https://mariadb.com/kb/en/unsafe-statements-for-statement-based-replication/
 */

/** Pinnable functions and the pin each needs (`undefined`: deterministic given equal rows). */
export const PINNABLE_FUNCTIONS: Readonly<Record<string, Pin>> = {
  now: 'timestamp',
  current_timestamp: 'timestamp',
  localtime: 'timestamp',
  localtimestamp: 'timestamp',
  curdate: 'timestamp',
  current_date: 'timestamp',
  curtime: 'timestamp',
  current_time: 'timestamp',
  utc_timestamp: 'timestamp',
  utc_date: 'timestamp',
  utc_time: 'timestamp',
  unix_timestamp: 'timestamp',
  rand: 'rand-seed',
  uuid: 'uuid',
  uuid_short: 'uuid-short',
  last_insert_id: 'last-insert-id',
};

/** Functions the primary's time pins also when written without parentheses. */
const TIME_KEYWORDS = new Set([
  'current_timestamp',
  'current_date',
  'current_time',
  'localtime',
  'localtimestamp',
  'utc_timestamp',
  'utc_date',
  'utc_time',
]);

/** Only the argument-less call is non-deterministic: UNIX_TIMESTAMP(col) and RAND(seed) are not. */
const NO_ARGUMENTS_ONLY = new Set(['unix_timestamp', 'rand']);

export const UNPINNABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'sysdate',
  'connection_id',
  'found_rows',
  'row_count',
  'get_lock',
  'release_lock',
  'release_all_locks',
  'is_free_lock',
  'is_used_lock',
  'sleep',
  'benchmark',
  'user',
  'current_user',
  'session_user',
  'system_user',
  'current_role',
  'version',
  'random_bytes',
  'load_file',
  'master_pos_wait',
  'master_gtid_wait',
  'source_pos_wait',
  'sys_guid',
  'uuid_v4',
  'uuid_v7',
]);

/** Named locks live on one server: the statement must go where the session's locks are. */
const LOCK_FUNCTIONS = new Set([
  'get_lock',
  'release_lock',
  'release_all_locks',
  'is_free_lock',
  'is_used_lock',
]);

/** System variables that differ from server to server. */
const SERVER_VARIABLES = new Set([
  'hostname',
  'server_id',
  'server_uuid',
  'version',
  'version_comment',
  'port',
  'socket',
  'datadir',
  'basedir',
  'pseudo_thread_id',
]);

export interface Nondeterminism {
  readonly pinnable: string[];
  readonly pins: Pin[];
  readonly unpinnable: string[];
  /** A lock function is called. */
  readonly locking: boolean;
  /** User variables read (`@x`, lower case). */
  readonly readsVariables: string[];
  /** User variables assigned (`@x := ...`, or where `assigned` says so), lower case. */
  readonly assignsVariables: string[];
}

/**
 * Scans for non-deterministic functions and variables. `assigned(i)` says whether the user
 * variable at `i` is being assigned (SELECT ... INTO @x, LOAD DATA's column list).
 */
export function scanNondeterminism(
  tokens: readonly Token[],
  assigned: (i: number) => boolean,
): Nondeterminism {
  const pinnable = new Set<string>();
  const pins = new Set<Pin>();
  const unpinnable = new Set<string>();
  const reads = new Set<string>();
  const assigns = new Set<string>();
  let locking = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.type === TokenType.UserVariable) {
      const name = t.text.toLowerCase();
      if (isOp(tokens[i + 1], ':=') || assigned(i)) assigns.add(name);
      else reads.add(name);
      continue;
    }
    if (t.type === TokenType.SystemVariable) {
      const name = t.text
        .slice(2)
        .toLowerCase()
        .replace(/^(global|session|local)\./, '');
      if (SERVER_VARIABLES.has(name) && !isOp(tokens[i + 1], '=') && !isOp(tokens[i + 1], ':=')) {
        unpinnable.add(`@@${name}`);
      }
      continue;
    }
    // A function after a dot is a stored function of some schema, not the built-in.
    if (t.type !== TokenType.Word || isOp(tokens[i - 1], '.')) continue;
    const call = isOp(tokens[i + 1], '(');
    const empty = call && isOp(tokens[i + 2], ')');
    const fn = t.lower;
    if (call || TIME_KEYWORDS.has(fn)) {
      const pin = PINNABLE_FUNCTIONS[fn];
      if (pin !== undefined && (empty || !call || !NO_ARGUMENTS_ONLY.has(fn))) {
        if (fn === 'last_insert_id' && !empty) {
          // LAST_INSERT_ID(expr) sets the value the session reads back; nothing to pin.
          pinnable.add('LAST_INSERT_ID(expr)');
        } else {
          pinnable.add(fn.toUpperCase());
          pins.add(pin);
        }
        continue;
      }
    }
    if ((call || fn === 'current_user' || fn === 'current_role') && UNPINNABLE_FUNCTIONS.has(fn)) {
      unpinnable.add(fn.toUpperCase());
      if (LOCK_FUNCTIONS.has(fn)) locking = true;
    }
  }
  return {
    pinnable: [...pinnable],
    pins: [...pins],
    unpinnable: [...unpinnable],
    locking,
    readsVariables: [...reads],
    assignsVariables: [...assigns],
  };
}
