import type { Logger } from '../log.js';
import { metrics } from '../metrics.js';
import type { Classification } from '../sql/classification.js';
import { ClassifierCache } from '../sql/classifier-cache.js';
import type { LexOptions } from '../sql/lexer.js';
import type { StatementInfo } from './statement-info.js';

/**
 * What routing needs of a statement, from the sql/ classifier. One cache per process: a
 * statement shape is classified once; its StatementInfo is derived once per shape too.
 */
export class StatementClassifier {
  readonly cache = new ClassifierCache();
  private readonly derived = new WeakMap<Classification, StatementInfo>();
  private readonly reported = new Set<string>();

  constructor(private readonly log?: Logger) {}

  classify(sql: string, options?: LexOptions): StatementInfo {
    const c = this.cache.classify(sql, options);
    let info = this.derived.get(c);
    if (!info) {
      info = toStatementInfo(c);
      this.derived.set(c, info);
      if (c.unknown && !this.reported.has(c.fingerprint) && this.reported.size < 10_000) {
        // Once per shape (the cache's `unknown` counter counts them): the fingerprint has no literals.
        this.reported.add(c.fingerprint);
        metrics.unclassified.inc();
        this.log?.warn({ fingerprint: c.fingerprint }, 'statement not classified; treated as a write');
      }
    }
    return info;
  }
}

export function toStatementInfo(c: Classification): StatementInfo {
  const first = c.statements[0];
  const actions = c.statements.map((s) => s.transaction?.action);
  const unpinnable = c.unpinnable.filter(
    // User variables are set on both servers (SET and SELECT ... INTO are mirrored), so reading one is safe.
    (f) => !f.startsWith('@'),
  );
  const uuids = c.pins.includes('uuid') || c.pins.includes('uuid-short');
  const once = c.statements.length === 1 && /^(INSERT|REPLACE)\b/.test(first?.verb ?? '') && !c.insertSelect;
  if (uuids && !once) {
    // Evaluated once per row (UPDATE ... SET u = UUID(), INSERT ... SELECT UUID()): no literal can stand in.
    if (c.pins.includes('uuid')) unpinnable.push('UUID()');
    if (c.pins.includes('uuid-short')) unpinnable.push('UUID_SHORT()');
  }
  if (c.statements.some((s) => s.verb.startsWith('LOAD')) && !c.localInfile) {
    unpinnable.push("LOAD DATA INFILE (the file is on the primary's host)");
  }
  return Object.freeze({
    kind: c.unknown ? 'write' : c.kind,
    tables: Object.freeze(
      c.tables
        .filter((t) => t.access === 'write')
        .map((t) => (t.schema ? `${t.schema}.${t.table}` : t.table)),
    ),
    fingerprint: c.fingerprint,
    usesRand: c.pins.includes('rand-seed'),
    inserts: c.unknown || c.statements.some((s) => /^(INSERT|REPLACE|LOAD)\b/.test(s.verb)),
    readsLastInsertId: c.pins.includes('last-insert-id'),
    rewriteUuids: uuids && once,
    unpinnable: Object.freeze(unpinnable),
    intoVariable: c.intoVariables,
    localInfile: c.localInfile,
    bulkInsert: c.insertSelect,
    upserts: c.onDuplicateKeyUpdate,
    insertColumns: c.statements.length === 1 ? first?.insertColumns : undefined,
    endsWith: actions.some((a) => a === 'commit' || a === 'begin')
      ? 'commit'
      : actions.includes('rollback')
        ? 'rollback'
        : undefined,
    database: first?.session?.action === 'use' ? first.name?.name : undefined,
  } satisfies StatementInfo);
}
