import type { StatementInfo } from './statement-info.js';

/** Interim: first-keyword preview, until the sql/ classifier is wired in. */
export function classifyStatement(sql: string): StatementInfo {
  const text = sql.replace(/^(\s|\/\*(?!!)[\s\S]*?\*\/|#[^\n]*\n|--\s[^\n]*\n)+/, '');
  const word = (/^[A-Za-z]+/.exec(text)?.[0] ?? '').toUpperCase();
  let kind: StatementInfo['kind'] = 'write';
  if (['SELECT', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'HELP'].includes(word)) kind = 'read';
  else if (['BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'XA'].includes(word))
    kind = 'transaction';
  else if (['SET', 'USE', 'LOCK', 'UNLOCK'].includes(word)) kind = 'session';
  else if (['CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'RENAME'].includes(word)) kind = 'ddl';
  const upper = text.toUpperCase();
  const unpinnable = ['SYSDATE(', 'CONNECTION_ID(', 'UUID(', 'UUID_SHORT('].filter((f) => upper.includes(f));
  return {
    kind,
    tables: [],
    fingerprint: text.slice(0, 200),
    usesRand: upper.includes('RAND('),
    unpinnable: kind === 'read' ? [] : unpinnable.map((f) => `${f})`),
    intoVariable: kind === 'read' && /\bINTO\s+@/i.test(text),
    bulkInsert: /^(INSERT|REPLACE)\b[\s\S]*\bSELECT\b/i.test(text),
    localInfile: /^LOAD\s+DATA\s+(\w+\s+)*?LOCAL\b/i.test(text),
    endsWith:
      word === 'COMMIT' || word === 'BEGIN' || /^START\s+TRANSACTION/i.test(text)
        ? 'commit'
        : word === 'ROLLBACK' && !/^ROLLBACK\s+(WORK\s+)?TO\b/i.test(text)
          ? 'rollback'
          : undefined,
    database: word === 'USE' ? text.slice(3).trim().replace(/[`;]/g, '') : undefined,
  };
}
