import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { differencesOf, onBoth, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_million';
const T = `${DB}.events`;

describe('a 1,000,000-row table', () => {
  beforeAll(async () => {
    // Generated on each server by the server itself: seconds, not minutes.
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
      CREATE TABLE events (id INT PRIMARY KEY, kind SMALLINT NOT NULL, label VARCHAR(40) NOT NULL,
        amount DECIMAL(12,2), at DATETIME(6));
      INSERT INTO events SELECT seq, seq % 17, CONCAT('event ', seq), seq / 100,
        '2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_1000000`);
    await sql(
      target,
      `UPDATE ${T} SET amount = amount + 0.01 WHERE id = 123457;
       DELETE FROM ${T} WHERE id = 654321;
       INSERT INTO ${T} VALUES (1000001, 0, 'extra', NULL, NULL)`,
    );
  }, 120_000);

  afterAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}`);
  });

  it('is compared in full, and the three rows that differ are found among the million', async () => {
    const r = await verify({ tables: [T] });
    const outcome = r.summary.outcomes[0]!;
    expect(outcome.rowsCompared).toBe(1_000_000);
    expect(differencesOf(r)).toEqual(['changed:123457', 'extra:1000001', 'missing:654321']);
    // Only chunks with a difference were read row by row: the rest crossed as one sum each.
    console.log(
      `1,000,000 rows compared in ${outcome.seconds.toFixed(2)} s (${Math.round(outcome.rowsCompared / outcome.seconds)} rows/s)`,
    );
  }, 60_000);
});
