import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepairJournal, readJournal } from '../../src/dualwrite/repair-journal.js';
import { differencesOf, newStateDir, onBoth, rowsOf, source, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_journal';

describe('the journal method', () => {
  const stateDir = newStateDir();
  const file = join(stateDir, 'repair-journal.jsonl');

  beforeAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
      CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10));
      CREATE TABLE b (id INT PRIMARY KEY, v VARCHAR(10));
      INSERT INTO a SELECT seq, 'x' FROM seq_1_to_50; INSERT INTO b SELECT seq, 'x' FROM seq_1_to_50`);
    // What two failed secondary writes left: keys known for one, only the statement for the other.
    await sql(target, `UPDATE ${DB}.a SET v = 'lost' WHERE id IN (3, 4); DELETE FROM ${DB}.b WHERE id = 7`);
    // In dual-target the source is the secondary: a row the source missed.
    await sql(source, `DELETE FROM ${DB}.a WHERE id = 40`);
    const journal = new RepairJournal(stateDir);
    const at = new Date().toISOString();
    await journal.append({
      at,
      server: 'target',
      schema: DB,
      tables: ['a'],
      reason: 'secondary timed out',
      keyColumns: ['id'],
      keys: [[3], [4], [5]],
    });
    await journal.append({
      at,
      server: 'target',
      schema: DB,
      tables: [`${DB}.b`],
      reason: 'secondary failed',
    });
    await journal.append({
      at,
      server: 'source',
      schema: DB,
      tables: ['a'],
      reason: 'x',
      keyColumns: ['id'],
      keys: [[40]],
    });
    await journal.close();
  });

  afterAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}`);
  });

  it('re-checks the journaled keys and tables only, and a dry run keeps the journal', async () => {
    // Outside the journal: not looked at by this method.
    await sql(target, `UPDATE ${DB}.a SET v = 'unseen' WHERE id = 30`);
    const r = await verify({ tables: [], method: 'journal', stateDir });
    expect(r.code).toBe(1);
    expect(differencesOf(r)).toEqual(['changed:3', 'changed:4', 'extra:40', 'missing:7']);
    expect(await readJournal(file)).toHaveLength(3);
    await sql(target, `UPDATE ${DB}.a SET v = 'x' WHERE id = 30`);
  });

  it('repairs each entry toward the server that missed it, and removes the entries it fixed', async () => {
    const r = await verify({ tables: [], method: 'journal', stateDir, fix: true });
    expect(r.code).toBe(0);
    expect(r.output).toContain('3 entries, 3 resolved and removed, 0 remaining');
    expect(await readJournal(file)).toEqual([]);
    // Row 40 was missed by the source (dual-target): the repair put it back there.
    expect(await rowsOf(source, `${DB}.a`)).toEqual(await rowsOf(target, `${DB}.a`));
    expect(await rowsOf(target, `${DB}.b`)).toEqual(await rowsOf(source, `${DB}.b`));
  });
});
