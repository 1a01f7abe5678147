import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClassifierCache } from '../../src/sql/classifier-cache.js';
import { classify } from '../../src/sql/classify.js';
import { fingerprint } from '../../src/sql/fingerprint.js';
import { tokenize } from '../../src/sql/lexer.js';

/** Pieces that stress the lexer: quotes, escapes, comment markers, executable comments. */
const SQL_PIECES = fc.constantFrom(
  "'",
  '"',
  '`',
  '\\',
  '/*',
  '*/',
  '/*!',
  '/*!50100',
  '/*M!',
  '--',
  '-- ',
  '#',
  '\n',
  ';',
  ' ',
  '@',
  '@@',
  '0x',
  "x'",
  "b'",
  '?',
  '(',
  ')',
  '.',
  '-',
  '1',
  '1.5e',
  'a',
  'SELECT',
  'INSERT',
  'INTO',
  'FROM',
  'WITH',
  'BEGIN',
  'END',
  'CREATE PROCEDURE',
  'SET',
  'é',
);

const ANY_TEXT = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.array(SQL_PIECES, { maxLength: 40 }).map((parts) => parts.join('')),
);

const LEX_MODES = fc.record({ ansiQuotes: fc.boolean(), noBackslashEscapes: fc.boolean() });

/** A literal as an application would send it. */
const LITERAL = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc
    .string({ unit: 'binary', maxLength: 30 })
    .map((s) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`),
  fc.string({ maxLength: 30 }).map((s) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => `X'${Buffer.from(b).toString('hex')}'`),
  fc.constant('?'),
);

/** Statement templates; each `$` is a literal. */
const TEMPLATES = [
  'SELECT * FROM shop.orders WHERE id = $ AND status = $',
  'SELECT a, b FROM t WHERE c IN ($, $, $) AND d > $ LIMIT $',
  "UPDATE t SET a = $, note = $ WHERE id = $ /* ';' */",
  'INSERT INTO t (a, b) VALUES ($, $), ($, $)',
  'INSERT INTO t (a, b) VALUES ($, NOW()) ON DUPLICATE KEY UPDATE b = $',
  'DELETE FROM t WHERE created < $ AND kind IN ($)',
  'SELECT $; UPDATE t SET a = $ WHERE b = $',
  '/*!40101 SET @saved = $ */; INSERT INTO log VALUES ($, @saved)',
  'SELECT * FROM t WHERE a = $ FOR UPDATE',
  'WITH x AS (SELECT id FROM a WHERE v = $) UPDATE b JOIN x ON b.id = x.id SET b.v = $',
  "CALL p($, $, 'x')",
  'SELECT a INTO @v FROM t WHERE b = $',
  'INSERT INTO t VALUES ($, $), ($, $), ($, $)',
  'SET autocommit = 1; UPDATE t SET a = $',
  'SELECT * FROM t WHERE a IN ($, $) AND b NOT IN ($) LIMIT $, $',
  "SELECT CAST($ AS DECIMAL(10, 2)) FROM t WHERE d > DATE '2024-01-01' - INTERVAL $ DAY AND e = $",
];

function fill(template: string, literals: readonly string[]): string {
  let k = 0;
  return template.replaceAll('$', () => literals[k++ % literals.length] ?? '1');
}

describe('properties', () => {
  it('the lexer never throws, whatever the text, and its tokens are ordered and inside the text', () => {
    fc.assert(
      fc.property(ANY_TEXT, LEX_MODES, (sql, mode) => {
        const { tokens } = tokenize(sql, mode);
        let end = 0;
        for (const t of tokens) {
          expect(t.start).toBeGreaterThanOrEqual(end);
          expect(t.end).toBeGreaterThan(t.start);
          end = t.end;
        }
        expect(end).toBeLessThanOrEqual(sql.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('fingerprint and classify never throw, whatever the text', () => {
    fc.assert(
      fc.property(ANY_TEXT, LEX_MODES, (sql, mode) => {
        fingerprint(sql, mode);
        const c = classify(sql, mode);
        expect(Object.isFrozen(c)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('the fingerprint of a template does not depend on its literal values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TEMPLATES),
        fc.array(LITERAL, { minLength: 6, maxLength: 6 }),
        fc.array(LITERAL, { minLength: 6, maxLength: 6 }),
        (template, a, b) => {
          expect(fingerprint(fill(template, a))).toBe(fingerprint(fill(template, b)));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('statements with the same fingerprint classify alike, so the cache may share one result', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TEMPLATES),
        fc.array(LITERAL, { minLength: 6, maxLength: 6 }),
        fc.array(LITERAL, { minLength: 6, maxLength: 6 }),
        (template, a, b) => {
          expect(classify(fill(template, a))).toEqual(classify(fill(template, b)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a cached classification equals an uncached one', () => {
    const cache = new ClassifierCache();
    fc.assert(
      fc.property(
        fc.constantFrom(...TEMPLATES),
        fc.array(LITERAL, { minLength: 6, maxLength: 6 }),
        (template, a) => {
          const sql = fill(template, a);
          expect(cache.classify(sql)).toEqual(classify(sql));
        },
      ),
      { numRuns: 200 },
    );
    expect(cache.stats().misses).toBeLessThanOrEqual(TEMPLATES.length);
  });
});
