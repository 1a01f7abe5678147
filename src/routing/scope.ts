/**
 * Which tables the migration covers. Patterns are `schema.table` with `*` as a wildcard
 * (`shop.*`, `*.audit_log`, `*`); a table is in scope when an include pattern matches it and no
 * exclude pattern does. Tables out of scope are written to the source only.
 */
export class Scope {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  readonly everything: boolean;

  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = include.map(toRegExp);
    this.exclude = exclude.map(toRegExp);
    this.everything = exclude.length === 0 && include.some((p) => p === '*' || p === '*.*');
  }

  covers(qualifiedOrBare: string, database: string | undefined): boolean {
    if (this.everything) return true;
    const name = qualifiedOrBare.includes('.') ? qualifiedOrBare : `${database ?? ''}.${qualifiedOrBare}`;
    return this.include.some((r) => r.test(name)) && !this.exclude.some((r) => r.test(name));
  }

  /** A write whose tables are all out of scope (and known: an empty list is never out of scope). */
  allOutside(tables: readonly string[], database: string | undefined): boolean {
    return !this.everything && tables.length > 0 && tables.every((t) => !this.covers(t, database));
  }
}

function toRegExp(pattern: string): RegExp {
  const full = pattern.includes('.') ? pattern : pattern === '*' ? '*.*' : `*.${pattern}`;
  const body = full
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 'i');
}
