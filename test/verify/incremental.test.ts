import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { differencesOf, newStateDir, onBoth, rowsOf, source, sql, target, verify } from './verify-helpers.js';

const DB = 'vf_incr';
const T = `${DB}.orders`;

function checkpoints(stateDir: string): Record<string, { column: string; value: string }> {
  return JSON.parse(readFileSync(join(stateDir, 'verify-checkpoints.json'), 'utf8'));
}

describe('the incremental method (update time)', () => {
  beforeEach(async () => {
    // Stamps without fractions: several rows share each second, as busy tables do.
    await onBoth(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}; USE ${DB};
      CREATE TABLE orders (id INT PRIMARY KEY, state VARCHAR(10) NOT NULL, update_time DATETIME NOT NULL,
        KEY (update_time));
      INSERT INTO orders SELECT seq, 'new', '2024-05-01 10:00:00' + INTERVAL (seq DIV 4) SECOND FROM seq_1_to_12`);
  });

  afterAll(async () => {
    await onBoth(`DROP DATABASE IF EXISTS ${DB}`);
  });

  it('starts a table with no checkpoint at the load snapshot recorded by tandem load', async () => {
    const stateDir = newStateDir();
    // As `tandem load` records it: rows stamped before the snapshot came with the load itself.
    const at = { serverLocal: '2024-05-01 10:00:02', utc: '2024-05-01T10:00:02.000000Z', unix: '1714557602' };
    writeFileSync(
      join(stateDir, 'load-snapshot.json'),
      JSON.stringify({ version: 1, snapshot: { time: at, reconcileFrom: at }, runs: [], tables: [T] }),
    );
    await sql(target, `UPDATE ${T} SET state = 'old' WHERE id IN (1, 12)`);
    const r = await verify({ tables: [T], method: 'incremental', stateDir, overlapSeconds: 0 });
    // id 1 (10:00:00) is before the snapshot, left to a full compare; id 12 (10:00:03) after it.
    expect(differencesOf(r)).toEqual(['changed:12']);
    expect(r.output).toContain('load snapshot');
  });

  it('stores the largest update time seen as the checkpoint, durably, on --fix passes only', async () => {
    const stateDir = newStateDir();
    await verify({ tables: [T], method: 'incremental', stateDir });
    expect(() => checkpoints(stateDir)).toThrow(); // a dry run moves nothing
    await verify({ tables: [T], method: 'incremental', stateDir, fix: true });
    expect(checkpoints(stateDir)[T]).toMatchObject({ column: 'update_time', value: '2024-05-01 10:00:03' });
  });

  it('never misses a row stamped in the same second as the checkpoint, even with no overlap', async () => {
    const stateDir = newStateDir();
    await verify({ tables: [T], method: 'incremental', stateDir, fix: true, overlapSeconds: 0 });
    // Committed after the pass, stamped in the checkpoint's own second.
    await sql(source, `UPDATE ${T} SET state = 'paid' WHERE id = 12`);
    await sql(source, `INSERT INTO ${T} VALUES (13, 'new', '2024-05-01 10:00:03')`);
    const r = await verify({ tables: [T], method: 'incremental', stateDir, fix: true, overlapSeconds: 0 });
    expect(differencesOf(r)).toEqual(['changed:12', 'missing:13']);
    expect(await rowsOf(target, T)).toEqual(await rowsOf(source, T));
  });

  it('re-reads the overlap, so a row stamped by a clock that runs behind is still found', async () => {
    const stateDir = newStateDir();
    await verify({ tables: [T], method: 'incremental', stateDir, fix: true });
    // An application server 30 s behind stamps a change after the checkpoint was taken.
    await sql(source, `UPDATE ${T} SET state = 'late', update_time = '2024-05-01 09:59:33' WHERE id = 5`);
    const without = await verify({ tables: [T], method: 'incremental', stateDir, overlapSeconds: 0 });
    expect(differencesOf(without)).toEqual([]);
    const r = await verify({ tables: [T], method: 'incremental', stateDir, fix: true, overlapSeconds: 60 });
    expect(differencesOf(r)).toEqual(['changed:5']);
  });

  it('reads the update column named in the config for the table', async () => {
    await onBoth(`ALTER TABLE ${T} CHANGE update_time changed_on DATETIME NOT NULL`);
    const stateDir = newStateDir();
    const updateColumns = { [T]: 'changed_on' };
    await verify({ tables: [T], method: 'incremental', stateDir, fix: true, updateColumns });
    await sql(source, `UPDATE ${T} SET state = 'x', changed_on = '2024-05-01 11:00:00' WHERE id = 1`);
    const r = await verify({ tables: [T], method: 'incremental', stateDir, fix: true, updateColumns });
    expect(differencesOf(r)).toEqual(['changed:1']);
    expect(checkpoints(stateDir)[T]).toMatchObject({ column: 'changed_on', value: '2024-05-01 11:00:00' });
  });

  it('skips a table without an update column, saying which method to use', async () => {
    await onBoth(`ALTER TABLE ${T} DROP COLUMN update_time`);
    const r = await verify({ tables: [T], method: 'incremental' });
    expect(r.code).toBe(0);
    expect(r.output).toContain('no update column');
  });
});
