import type { Connection } from 'mysql2/promise';
import { connectTo, isAccessDenied } from './connect.js';

/**
 * A loading session on the target skips what the source already guarantees: the rows were
 * unique and their foreign keys held when the source accepted them, and the target's binary
 * log need not carry a copy that its replicas would rather take from their own load.
 */

export interface TargetSessionNotes {
  /** Set when sql_log_bin could not be turned off (it needs SUPER or BINLOG ADMIN). */
  binlogKept: boolean;
}

export async function openLoadingSession(url: string, notes: TargetSessionNotes): Promise<Connection> {
  // Without FOUND_ROWS, a row that ON DUPLICATE KEY UPDATE left alone counts 0, an insert 1.
  const conn = await connectTo(url, { flags: ['-FOUND_ROWS'] });
  // +00:00: TIMESTAMP literals were rendered in UTC on the source. NO_AUTO_VALUE_ON_ZERO: an id
  // of 0 stays 0. Not strict: a source may hold values that only a lax sql_mode accepts (an
  // ENUM's '' error value, invalid dates), and they must load as they are; the warnings such a
  // value raises are read after each statement instead (table-copy.ts).
  await conn.query(
    "SET SESSION time_zone = '+00:00', " +
      "sql_mode = 'NO_AUTO_VALUE_ON_ZERO,ALLOW_INVALID_DATES,NO_ENGINE_SUBSTITUTION', " +
      'unique_checks = 0, foreign_key_checks = 0',
  );
  try {
    await conn.query('SET SESSION sql_log_bin = 0');
  } catch (err) {
    if (!isAccessDenied(err)) throw err;
    notes.binlogKept = true;
  }
  return conn;
}
