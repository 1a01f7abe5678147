import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checksum, count, exactRows, load, sql } from './load-helpers.js';

const source = inject('sourcePort');
const target = inject('targetPort');
const DB = 'load_copy';
/** Renamed on the target, which the shared servers need anyway: other files use their own names. */
const TDB = 'load_copy_t';

const TYPES_TABLE = `CREATE TABLE ${DB}.types (
  id INT PRIMARY KEY,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT, bu BIGINT UNSIGNED,
  de DECIMAL(30,10), fl FLOAT, db DOUBLE, bt BIT(13),
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(3), yr YEAR,
  ch CHAR(10), vc VARCHAR(100), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
  bin BINARY(4), vb VARBINARY(64), bl BLOB, lb LONGBLOB,
  en ENUM('small','medium','large'), st SET('a','b','c'),
  js JSON, pt POINT, uu UUID, ip INET6,
  gen INT AS (id * 2) VIRTUAL
)`;

const TYPES_ROWS = `INSERT INTO ${DB}.types (id, ti, si, mi, bi, bu, de, fl, db, bt, dt, dtm, ts, tm, yr, ch, vc, tx, l1,
    bin, vb, bl, lb, en, st, js, pt, uu, ip) VALUES
  (1, -128, 65535, -8388608, -9223372036854775808, 18446744073709551615, -12345678901234567890.0123456789,
    0.1, 0.30000000000000004, b'1010101010101', '1000-01-01', '2024-02-29 23:59:59.999999',
    '2038-01-19 03:14:07.999999', '-838:59:59.000', 1901, 'pad  ', 'quote '' and \\\\ backslash',
    'line\\nbreak\\ttab \\0 nul \\Z ctrl-z', 'café ñ', 0x00FF0A27, 0x0027005C, 0x00, REPEAT(0xAB, 70000),
    'medium', 'a,c', '{"k": [1, 2.50, "x"], "u": "\\\\u00e9"}', POINT(1.5, -2.25),
    '123e4567-e89b-12d3-a456-426614174000', '2001:db8::ff00:42:8329'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 127, 0, 8388607, 9223372036854775807, 0, 0.0000000001, 3.40282e38, -1.7976931348623157e308, b'0',
    '0000-00-00', '0000-00-00 00:00:00', '1970-01-01 00:00:01', '00:00:00.001', 2155, '', '', '', '',
    0x00000000, '', '', '', '', '', '[]', POINT(0, 0), '00000000-0000-0000-0000-000000000000', '::'),
  (4, 0, 1, 0, 0, 1, 1, 0.3333333432674408, 1e-300, b'1111111111111', '2020-02-29', '1969-12-31 23:59:59.5',
    '2021-03-28 01:30:00', '12:34:56.789', 2000, 'emoji', '😀 🎉 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', REPEAT('x', 70000), 'ÿ',
    0x7F800000, 0xFFFFFFFF, 0xDEADBEEF, 0xCAFEBABE, 'large', 'a,b,c', 'null', POINT(-180, 90),
    'ffffffff-ffff-ffff-ffff-ffffffffffff', '::ffff:192.0.2.1')`;

/** A million rows copied and checksummed beside other files' sysbench runs, on two cores. */
const MILLION_ROWS_MS = 180_000;

const TYPE_COLUMNS =
  'id, ti, si, mi, bi, bu, de, fl, db, bt, dt, dtm, ts, tm, yr, ch, vc, tx, l1, bin, vb, bl, lb, en, st, js, pt, uu, ip, gen';

describe('copy method', () => {
  beforeAll(async () => {
    await sql(source, `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
    await sql(target, `DROP DATABASE IF EXISTS ${TDB}`);
    await sql(
      source,
      `CREATE TABLE ${DB}.million (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(40) NOT NULL, pad VARCHAR(20), KEY k (k));
       INSERT INTO ${DB}.million SELECT seq, seq * 7919 % 1000003, SHA1(seq), IF(seq % 10 = 0, NULL, 'p') FROM ${DB}.seq_1_to_1000000`,
    );
    await sql(source, `SET SESSION sql_mode = ''; ${TYPES_TABLE}; ${TYPES_ROWS}`);
  });

  afterAll(async () => {
    await sql(source, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(target, `DROP DATABASE IF EXISTS ${TDB}`);
  });

  it(
    'copies a table of 1,000,000 rows and a table of every common type, and both compare equal',
    async () => {
      const summary = await load(source, target, {
        tables: [`${DB}.*`],
        rename: { schemas: { [DB]: TDB }, tables: {} },
        parallel: 2,
      });
      expect(summary.rows).toBe(1_000_004);
      expect(await count(target, `${TDB}.million`)).toBe(1_000_000);
      expect(await checksum(target, `${TDB}.million`)).toBe(await checksum(source, `${DB}.million`));
      expect(await checksum(target, `${TDB}.types`)).toBe(await checksum(source, `${DB}.types`));
      // Row by row as well, as the server prints each value: a checksum says equal, this says where not.
      expect(await exactRows(target, `${TDB}.types`, 'id')).toEqual(
        await exactRows(source, `${DB}.types`, 'id'),
      );
      const onTarget = await sql<{ fl: string; bt: string; gen: number }[]>(
        target,
        `SELECT CAST(fl AS DOUBLE) AS fl, HEX(bt) AS bt, gen FROM ${TDB}.types WHERE id = 4`,
      );
      // FLOAT survives exactly (a text dump gives 0.333333), BIT as bits, generated columns recomputed.
      expect(onTarget[0]).toEqual({ fl: 0.3333333432674408, bt: '1FFF', gen: 8 });
      const [cols] = await sql<{ n: number }[]>(
        target,
        `SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${TDB}' AND TABLE_NAME = 'types'`,
      );
      expect(Number(cols?.n)).toBe(TYPE_COLUMNS.split(',').length);
    },
    MILLION_ROWS_MS,
  );

  it('records the snapshot time and position where the reconciler picks them up', async () => {
    const { readSnapshotRecord } = await import('../../src/load/snapshot-record.js');
    const { freshStateDir } = await import('./load-helpers.js');
    const stateDir = freshStateDir();
    await sql(target, `DROP DATABASE IF EXISTS ${TDB}`);
    const before = (await sql<{ t: string }[]>(source, 'SELECT UNIX_TIMESTAMP(NOW(6)) AS t'))[0]!.t;
    await load(source, target, {
      tables: [`${DB}.types`],
      rename: { schemas: { [DB]: TDB }, tables: {} },
      stateDir,
    });
    const record = await readSnapshotRecord(stateDir);
    expect(record?.method).toBe('copy');
    expect(record?.completedAt).not.toBeNull();
    expect(Number(record?.snapshot.time.unix)).toBeGreaterThanOrEqual(Number(before));
    expect(Number(record?.snapshot.reconcileFrom.unix)).toBeLessThanOrEqual(
      Number(record?.snapshot.time.unix),
    );
    expect(record?.snapshot.lock).toBe('backup-stage');
    expect(record?.tables).toEqual([`${DB}.types`]);
  });

  it('defers secondary indexes to after the data, and adds them', async () => {
    await sql(target, `DROP DATABASE IF EXISTS ${TDB}`);
    await sql(
      source,
      `CREATE TABLE ${DB}.indexed (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(50) NOT NULL, n INT,
         UNIQUE KEY email (email), KEY n (n));
       INSERT INTO ${DB}.indexed (email, n) SELECT CONCAT('u', seq, '@x'), seq % 10 FROM ${DB}.seq_1_to_5000`,
    );
    await load(source, target, {
      tables: [`${DB}.indexed`],
      rename: { schemas: { [DB]: TDB }, tables: { [`${DB}.indexed`]: 'indexed_v2' } },
      deferIndexes: true,
    });
    const indexes = await sql<{ name: string }[]>(
      target,
      `SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = '${TDB}' AND TABLE_NAME = 'indexed_v2' ORDER BY 1`,
    );
    expect(indexes.map((i) => i.name)).toEqual(['email', 'n', 'PRIMARY']);
    expect(await checksum(target, `${TDB}.indexed_v2`)).toBe(await checksum(source, `${DB}.indexed`));
  });
});
