import { describe, expect, it } from 'vitest';
import { pinStatement, queryPayload, takesSetStatement, wrappable } from '../../src/dualwrite/pinning.js';
import { fingerprint } from '../../src/sql/fingerprint.js';

const sql = (b: Buffer | undefined) => b?.toString('utf8', 1);

describe('pins around a statement', () => {
  const insert = queryPayload('INSERT INTO t (v) VALUES (1)');
  const pins = {
    timestamp: '1700000000.123456',
    insertId: 100,
    lastInsertId: '7',
    randSeeds: [1, 2] as const,
    lockWaitTimeout: 1,
  };

  it('wraps the scoped pins in SET STATEMENT and sets the sticky ones before', () => {
    const p = pinStatement(insert, pins, true);
    expect(p.before).toBe('SET last_insert_id = 7, rand_seed1 = 1, rand_seed2 = 2');
    expect(sql(p.statement)).toBe(
      'SET STATEMENT insert_id = 100, timestamp = 1700000000.123456, innodb_lock_wait_timeout = 1 ' +
        'FOR INSERT INTO t (v) VALUES (1)',
    );
    expect(p.after).toBeUndefined();
  });

  it('needs no command but the statement for a timestamp alone', () => {
    const p = pinStatement(insert, { timestamp: '1.000000' }, true);
    expect(p.before).toBeUndefined();
    expect(sql(p.statement)).toBe('SET STATEMENT timestamp = 1.000000 FOR INSERT INTO t (v) VALUES (1)');
    expect(p.after).toBeUndefined();
  });

  it('merges the caller assignments into one SET on each side', () => {
    const p = pinStatement(insert, { timestamp: '1.000000' }, true, ['a = 1', 'b = 2'], ['c = 3']);
    expect(p.before).toBe('SET a = 1, b = 2');
    expect(p.after).toBe('SET c = 3');
    const plain = pinStatement(insert, { timestamp: '1.000000' }, false, ['a = 1'], ['c = 3']);
    expect(plain.before).toBe('SET timestamp = 1.000000, a = 1');
    expect(plain.statement).toBe(insert);
    expect(plain.after).toBe('SET c = 3, insert_id = 0, timestamp = DEFAULT');
  });

  it('uses one SET before and one after without SET STATEMENT', () => {
    const p = pinStatement(insert, pins, false);
    expect(p.before).toBe(
      'SET insert_id = 100, timestamp = 1700000000.123456, innodb_lock_wait_timeout = 1, ' +
        'last_insert_id = 7, rand_seed1 = 1, rand_seed2 = 2',
    );
    expect(p.statement).toBe(insert);
    expect(p.after).toBe('SET insert_id = 0, timestamp = DEFAULT, innodb_lock_wait_timeout = DEFAULT');
  });
});

describe('which statements SET STATEMENT wraps', () => {
  const can = (text: string) => wrappable(queryPayload(text), fingerprint(text));

  it('takes one INSERT, UPDATE, DELETE or REPLACE', () => {
    expect(can('INSERT INTO t VALUES (1)')).toBe(true);
    expect(can('/* app */ update t set a = 1 where id = 2;')).toBe(true);
    expect(can('DELETE FROM t WHERE id = 1')).toBe(true);
    expect(can('REPLACE t VALUES (1)')).toBe(true);
    expect(can("INSERT INTO t VALUES ('a;b')")).toBe(true);
  });

  it('leaves everything else to plain SETs', () => {
    expect(can('INSERT INTO t VALUES (1); UPDATE t SET a = 1')).toBe(false);
    expect(can('SET STATEMENT max_statement_time = 1 FOR UPDATE t SET a = 1')).toBe(false);
    expect(can('WITH x AS (SELECT 1) UPDATE t SET a = 1')).toBe(false);
    expect(can('CREATE TABLE t (a INT)')).toBe(false);
    expect(can('LOAD DATA INFILE "f" INTO TABLE t')).toBe(false);
    const execute = Buffer.from([0x17, 1, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(wrappable(execute, 'insert into t values (?)')).toBe(false);
  });

  it('knows MariaDB from 10.1.2 by its version string', () => {
    expect(takesSetStatement('10.11.19-MariaDB-0+deb12u1')).toBe(true);
    expect(takesSetStatement('5.5.5-10.6.12-MariaDB-log')).toBe(true);
    expect(takesSetStatement('11.4.2-MariaDB')).toBe(true);
    expect(takesSetStatement('10.1.1-MariaDB')).toBe(false);
    expect(takesSetStatement('8.0.36')).toBe(false);
    expect(takesSetStatement('8.4.0-commercial')).toBe(false);
  });
});
