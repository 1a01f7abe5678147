/**
 * What the router and the dual writer need to know of a statement; derived from the sql/
 * classifier's result (see classify-statement.ts), so that routing does not depend on its shape.
 */
export interface StatementInfo {
  readonly kind: 'read' | 'write' | 'ddl' | 'transaction' | 'session' | 'other';
  /** Tables touched, as `schema.table` or `table`. */
  readonly tables: readonly string[];
  /** The statement with literals replaced: safe to log and journal. */
  readonly fingerprint: string;
  readonly usesRand: boolean;
  /** INSERT, REPLACE, LOAD DATA (or not classified): may generate auto-increment ids. */
  readonly inserts: boolean;
  /** Calls LAST_INSERT_ID(): the secondary must see the primary's value. */
  readonly readsLastInsertId: boolean;
  /** Non-deterministic calls that cannot be pinned on the secondary (SYSDATE(), UUID(), ...). */
  readonly unpinnable: readonly string[];
  /**
   * UUID() / UUID_SHORT() in a statement that evaluates each call once (INSERT/REPLACE ... VALUES):
   * the primary's values go into the text as literals. Elsewhere they are in `unpinnable`.
   */
  readonly rewriteUuids: boolean;
  /** SELECT ... INTO @var: the variable must exist on both servers. */
  readonly intoVariable: boolean;
  readonly localInfile: boolean;
  /** INSERT/REPLACE ... SELECT: InnoDB hands out its ids as a bulk insert. */
  readonly bulkInsert: boolean;
  /** INSERT ... ON DUPLICATE KEY UPDATE: may try ids it gives back (dualwrite/insert-order.ts). */
  readonly upserts: boolean;
  /** One INSERT/REPLACE (col, ...): the columns it gives values, lower-cased; undefined: any. */
  readonly insertColumns: readonly string[] | undefined;
  /**
   * Transaction control that ends the open transaction by committing it: COMMIT, and BEGIN /
   * START TRANSACTION (which commit an open one first). ROLLBACK ends it without.
   */
  readonly endsWith: 'commit' | 'rollback' | undefined;
  /** `USE db`: the schema the session moves to. */
  readonly database: string | undefined;
}
