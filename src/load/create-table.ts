import { type RenameMap, targetSchema } from '../sql/rename.js';
import { qualified, quoteName } from './render-values.js';
import type { SourceTable } from './source-catalog.js';

/**
 * The target's CREATE TABLE, made from the source's SHOW CREATE TABLE: the target's schema and
 * table name, foreign keys pointing at renamed parents, and (with --defer-indexes) the
 * secondary indexes and foreign keys taken out, to be added in one ALTER TABLE after the data:
 * InnoDB then builds each index by a sort instead of one random insert per row.
 *
 * SHOW CREATE TABLE prints one definition per line, names always backquoted, so the lines can
 * be told apart by their first words.
 */

export interface TargetDdl {
  /** CREATE TABLE IF NOT EXISTS: a table that dual writes or an earlier run created is kept. */
  readonly create: string;
  /** `ADD KEY ...`, `ADD CONSTRAINT ... FOREIGN KEY ...` clauses, empty unless deferring. */
  readonly deferred: readonly string[];
}

const INDEX_LINE = /^(UNIQUE KEY|KEY|FULLTEXT KEY|SPATIAL KEY|VECTOR KEY|INDEX)\s+`((?:[^`]|``)*)`\s*\((.*)$/;
const FOREIGN_KEY_LINE = /^CONSTRAINT\s+`(?:[^`]|``)*`\s+FOREIGN KEY\b/;
const REFERENCES = /\bREFERENCES\s+`((?:[^`]|``)*)`(?:\.`((?:[^`]|``)*)`)?/;

function unquote(name: string): string {
  return name.replace(/``/g, '`');
}

/** A foreign key's parent as the target knows it (same-schema parents stay unqualified). */
function renameReference(line: string, sourceSchema: string, rename: RenameMap): string {
  return line.replace(REFERENCES, (_all, first: string, second: string | undefined) => {
    const [schema, table] =
      second === undefined ? [sourceSchema, unquote(first)] : [unquote(first), unquote(second)];
    const parent = rename.tables[`${schema}.${table}`] ?? table;
    return second === undefined && targetSchema(rename, schema) === targetSchema(rename, sourceSchema)
      ? `REFERENCES ${quoteName(parent)}`
      : `REFERENCES ${qualified(targetSchema(rename, schema), parent)}`;
  });
}

export function targetDdl(
  showCreate: string,
  table: SourceTable,
  rename: RenameMap,
  deferIndexes: boolean,
  autoIncrementColumn: string | undefined,
): TargetDdl {
  const lines = showCreate.split('\n');
  const header = lines[0] ?? '';
  if (!/^CREATE TABLE `/.test(header)) throw new Error(`unexpected SHOW CREATE TABLE output: ${header}`);
  let close = lines.length - 1;
  while (close > 0 && !lines[close]!.startsWith(')')) close--;
  const body = lines.slice(1, close).map((l) => l.trim().replace(/,$/, ''));
  const kept: string[] = [];
  const deferred: string[] = [];
  for (const raw of body) {
    const line = FOREIGN_KEY_LINE.test(raw) ? renameReference(raw, table.source.schema, rename) : raw;
    const index = INDEX_LINE.exec(line);
    const firstColumn = index ? /^`((?:[^`]|``)*)`/.exec(index[3] ?? '')?.[1] : undefined;
    const deferrable =
      deferIndexes &&
      ((index !== null &&
        unquote(index[2] ?? '') !== table.keyIndex &&
        // InnoDB needs an index that starts with the AUTO_INCREMENT column at all times.
        (firstColumn === undefined || unquote(firstColumn) !== autoIncrementColumn)) ||
        FOREIGN_KEY_LINE.test(line));
    if (deferrable) deferred.push(`ADD ${line}`);
    else kept.push(line);
  }
  const create = [
    `CREATE TABLE IF NOT EXISTS ${qualified(table.target.schema, table.target.table)} (`,
    kept.map((l) => `  ${l}`).join(',\n'),
    lines.slice(close).join('\n'),
  ].join('\n');
  return { create, deferred };
}

/** The index or constraint name of a deferred clause, to skip those a killed run already added. */
export function deferredName(clause: string): string | undefined {
  const m =
    /^ADD (?:CONSTRAINT|UNIQUE KEY|KEY|FULLTEXT KEY|SPATIAL KEY|VECTOR KEY|INDEX)\s+`((?:[^`]|``)*)`/.exec(
      clause,
    );
  return m ? unquote(m[1] ?? '') : undefined;
}
