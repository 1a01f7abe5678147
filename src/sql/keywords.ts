/**
 * Words reserved by both MySQL 8 and MariaDB 10/11: they can never be an unquoted name, so
 * their case carries no meaning. Words reserved by only one of them are left out, since the
 * other accepts them as names. The fingerprint folds the case of these words only and keeps
 * every other word as written, because table names are case-sensitive on most servers.
 * https://dev.mysql.com/doc/refman/8.0/en/keywords.html
 * https://mariadb.com/kb/en/reserved-words/
 */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(
  `accessible add all alter analyze and as asc asensitive before between bigint binary blob both by
  call cascade case change char character check collate column condition constraint continue
  convert create cross current_date current_time current_timestamp current_user cursor database
  databases day_hour day_microsecond day_minute day_second dec decimal declare default delayed
  delete desc describe deterministic distinct distinctrow div double drop dual each else elseif
  enclosed escaped exists exit explain false fetch float float4 float8 for force foreign from
  fulltext grant group having high_priority hour_microsecond hour_minute hour_second if ignore in
  index infile inner inout insensitive insert int int1 int2 int3 int4 int8 integer interval into is
  iterate join key keys kill leading leave left like limit linear lines load localtime
  localtimestamp lock long longblob longtext loop low_priority match maxvalue mediumblob mediumint
  mediumtext middleint minute_microsecond minute_second mod modifies natural not no_write_to_binlog
  null numeric on optimize option optionally or order out outer outfile partition precision primary
  procedure purge range read reads read_write real references regexp release rename repeat replace
  require resignal restrict return revoke right rlike rows schema schemas second_microsecond select
  sensitive separator set show signal smallint spatial specific sql sql_big_result
  sql_calc_found_rows sql_small_result sqlexception sqlstate sqlwarning ssl starting straight_join
  table terminated then tinyblob tinyint tinytext to trailing trigger true undo union unique unlock
  unsigned update usage use using utc_date utc_time utc_timestamp values varbinary varchar
  varcharacter varying when where while with write xor year_month zerofill`.split(/\s+/),
);

/** Unreserved words that the fingerprint must recognise (see fingerprint.ts). */
const OTHER_KNOWN_WORDS = ['value', 'autocommit', 'offset', 'fixed', 'datetime', 'time', 'timestamp'];

export interface KnownWord {
  /** Lower case. */
  readonly word: string;
  readonly reserved: boolean;
}

/** Known words by first letter and length (index `letter * 32 + length`): a lookup compares a few words. */
const MAX_KNOWN_LENGTH = 20;
const NONE: readonly KnownWord[] = [];
// Dense and without holes, so that a lookup never leaves the fast path.
const KNOWN_BY_START: (readonly KnownWord[])[] = Array.from({ length: 128 * 32 }, () => NONE);
for (const word of [...RESERVED_WORDS, ...OTHER_KNOWN_WORDS]) {
  const key = word.charCodeAt(0) * 32 + word.length;
  KNOWN_BY_START[key] = [...(KNOWN_BY_START[key] ?? NONE), { word, reserved: RESERVED_WORDS.has(word) }];
}

/**
 * The word `text[start, end)` when it is a reserved word or one of the few others the
 * fingerprint looks for, whatever its case; undefined otherwise. Allocates nothing: the
 * fingerprint calls it for every word of every statement.
 */
export function knownWord(text: string, start: number, end: number): KnownWord | undefined {
  const length = end - start;
  const first = text.charCodeAt(start) | 0x20;
  if (length > MAX_KNOWN_LENGTH || first >= 0x80) return undefined;
  const candidates = KNOWN_BY_START[first * 32 + length] ?? NONE;
  outer: for (let k = 0; k < candidates.length; k++) {
    const known = candidates[k] as KnownWord;
    const word = known.word;
    for (let i = 1; i < length; i++) {
      let c = text.charCodeAt(start + i);
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c !== word.charCodeAt(i)) continue outer;
    }
    return known;
  }
  return undefined;
}
