import { describe, expect, it } from 'vitest';
import { ClassifierCache } from '../../src/sql/classifier-cache.js';

describe('the classifier cache', () => {
  it('misses on a shape seen for the first time and hits on it afterwards', () => {
    const cache = new ClassifierCache();
    const first = cache.classify('SELECT * FROM t WHERE id = 1');
    const second = cache.classify('SELECT * FROM t WHERE id = 1');
    expect(second).toBe(first);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
  });

  it('hits for the same shape with other literals, spacing and comments', () => {
    const cache = new ClassifierCache();
    const first = cache.classify("UPDATE t SET a = 'x' WHERE id IN (1, 2, 3)");
    const second = cache.classify("update t  set a='a much longer value' /* c */ where id in (9)");
    expect(second).toBe(first);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('misses for another shape', () => {
    const cache = new ClassifierCache();
    cache.classify('SELECT a FROM t WHERE id = 1');
    cache.classify('SELECT a FROM u WHERE id = 1');
    cache.classify('DELETE FROM t WHERE id = 1');
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 3, size: 3 });
  });

  it('keeps autocommit = 0 and autocommit = 1 apart', () => {
    const cache = new ClassifierCache();
    const off = cache.classify('SET autocommit = 0');
    const on = cache.classify('SET autocommit = 1');
    expect(off.statements[0]?.session?.autocommit).toBe(false);
    expect(on.statements[0]?.session?.autocommit).toBe(true);
    expect(on.implicitCommit).toBe(true);
  });

  it('drops the least recently used shape when full', () => {
    const cache = new ClassifierCache({ maxEntries: 4 });
    for (const t of ['a', 'b', 'c', 'd']) cache.classify(`SELECT 1 FROM ${t}`);
    cache.classify('SELECT 1 FROM a'); // a is now the most recently used
    cache.classify('SELECT 1 FROM e'); // b goes
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 5, size: 4 });
    cache.classify('SELECT 1 FROM a');
    expect(cache.stats().hits).toBe(2);
    cache.classify('SELECT 1 FROM b');
    expect(cache.stats().misses).toBe(6);
  });

  it('does not reorder on a hit to a recently used shape, which costs a lookup only', () => {
    const cache = new ClassifierCache({ maxEntries: 4 });
    for (const t of ['a', 'b', 'c', 'd']) cache.classify(`SELECT 1 FROM ${t}`);
    cache.classify('SELECT 1 FROM d');
    cache.classify('SELECT 1 FROM e'); // a, the least recently used, goes
    cache.classify('SELECT 1 FROM d');
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 5, size: 4 });
    cache.classify('SELECT 1 FROM a');
    expect(cache.stats().misses).toBe(6);
  });

  it('counts unknown statements and reports each shape once, for a log line per fingerprint', () => {
    const reported: string[] = [];
    const cache = new ClassifierCache({ onUnknown: (c) => reported.push(c.fingerprint) });
    const result = cache.classify('FROBNICATE everything WITH 1');
    cache.classify('FROBNICATE everything WITH 2');
    cache.classify('SELECT 1');
    expect(result.kind).toBe('write');
    expect(result.unknown).toBe(true);
    expect(cache.stats().unknown).toBe(1);
    expect(reported).toEqual(['FROBNICATE everything with ?']);
  });

  it('classifies but does not keep a statement whose fingerprint is too long', () => {
    const cache = new ClassifierCache({ maxFingerprintLength: 50 });
    const sql = `SELECT ${Array.from({ length: 30 }, (_, i) => `c${i}`).join(', ')} FROM t`;
    expect(cache.classify(sql).tables).toEqual([{ table: 't', access: 'read' }]);
    expect(cache.classify(sql).kind).toBe('read');
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2, uncacheable: 2, size: 0 });
  });

  it('returns frozen results that callers cannot change for the next hit', () => {
    const cache = new ClassifierCache();
    const result = cache.classify('INSERT INTO t VALUES (NOW())');
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.tables)).toBe(true);
    expect(Object.isFrozen(result.tables[0])).toBe(true);
    expect(Object.isFrozen(result.statements[0])).toBe(true);
    expect(Object.isFrozen(result.pinnable)).toBe(true);
  });

  it('gives the fingerprint with the result, for logs', () => {
    const cache = new ClassifierCache();
    expect(cache.classify("SELECT * FROM t WHERE name = 'secret'").fingerprint).toBe(
      'select * from t where name = ?',
    );
  });

  it('shares one entry for a bulk insert of any number of rows', () => {
    const cache = new ClassifierCache();
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `(${i}, 'v${i}')`).join(', ');
    cache.classify(`INSERT INTO t (a, b) VALUES ${rows(2)}`);
    cache.classify(`INSERT INTO t (a, b) VALUES ${rows(500)}`);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
  });
});
