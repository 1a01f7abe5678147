import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupLoad } from '../../src/load/backup-load.js';
import { dumpLoad } from '../../src/load/dump-load.js';
import { readSnapshotRecord } from '../../src/load/snapshot-record.js';
import { findTool } from '../../src/load/tool-path.js';
import { Scope } from '../../src/routing/scope.js';
import { type ServerPair, startPair } from '../harness/servers.js';
import { tandemLoad } from './cli-child.js';
import { checksum, freshStateDir, load, sql, url } from './load-helpers.js';

/** Servers of this file's own, with a binary log, so that each method has a position to record. */

const DB = 'load_methods';
const mariabackup = findTool(['mariadb-backup', 'mariabackup']);

describe('load methods', () => {
  let pair: ServerPair;

  beforeAll(async () => {
    pair = await startPair({ serverArgs: ['--log-bin=mysql-bin', '--server-id=1'] });
    await sql(
      pair.source.port,
      `CREATE DATABASE ${DB};
       CREATE TABLE ${DB}.orders (id INT PRIMARY KEY AUTO_INCREMENT, amount DECIMAL(10,2), note VARCHAR(40),
         placed DATETIME(6), raw VARBINARY(16), KEY placed (placed));
       INSERT INTO ${DB}.orders (amount, note, placed, raw)
         SELECT seq / 7, CONCAT('n''', seq), '2024-01-01' + INTERVAL seq SECOND, UNHEX(MD5(seq)) FROM ${DB}.seq_1_to_20000;
       CREATE TABLE ${DB}.skipped (id INT PRIMARY KEY)`,
    );
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('copy records the binlog position and GTID of its snapshot', async () => {
    const stateDir = freshStateDir();
    const [status] = await sql<{ File: string; Position: number }[]>(pair.source.port, 'SHOW MASTER STATUS');
    await load(pair.source.port, pair.target.port, {
      tables: [`${DB}.orders`],
      rename: { schemas: { [DB]: 'copied' }, tables: {} },
      stateDir,
    });
    const record = await readSnapshotRecord(stateDir);
    // Nothing is written to the source meanwhile, so the snapshot is at the current position.
    expect(record?.snapshot.binlog).toEqual({ file: status?.File, position: Number(status?.Position) });
    expect(record?.snapshot.gtidBinlogPos).toMatch(/^0-1-\d+$/);
    expect(await checksum(pair.target.port, 'copied.orders')).toBe(
      await checksum(pair.source.port, `${DB}.orders`),
    );
  });

  it('mysqldump pipes mariadb-dump into mariadb with the speed-ups, renames the schema, and records the position', async () => {
    const stateDir = freshStateDir();
    const summary = await dumpLoad({
      source: url(pair.source.port),
      target: url(pair.target.port),
      stateDir,
      scope: new Scope([`${DB}.*`], [`${DB}.skipped`]),
      only: undefined,
      rename: { schemas: { [DB]: 'dumped' }, tables: {} },
      controlSchema: 'tandem_control',
      speedUps: true,
      fastDurability: false,
      signal: new AbortController().signal,
      say: () => undefined,
      progress: { write: () => undefined },
    });
    expect(summary.tables).toBe(1);
    expect(summary.snapshot.binlog?.file).toMatch(/^mysql-bin\.\d+$/);
    expect(summary.snapshot.gtidBinlogPos).toMatch(/^0-1-\d+$/);
    expect((await readSnapshotRecord(stateDir))?.method).toBe('mysqldump');
    expect(await checksum(pair.target.port, 'dumped.orders')).toBe(
      await checksum(pair.source.port, `${DB}.orders`),
    );
    const tables = await sql<unknown[]>(pair.target.port, "SHOW TABLES FROM dumped LIKE 'skipped'");
    expect(tables).toHaveLength(0);
    // The speed-ups include sql_log_bin = 0: the target's binary log holds none of the rows.
    const events = await sql<{ Info: string }[]>(
      pair.target.port,
      "SHOW BINLOG EVENTS IN 'mysql-bin.000001'",
    );
    expect(events.some((e) => /dumped/.test(e.Info))).toBe(false);
  });

  it('mariabackup refuses with exit code 2, saying what is missing, when it cannot run here', async () => {
    const r = await tandemLoad(
      [
        '--method',
        'mariabackup',
        '--source',
        'mysql://root@db.example.invalid:3306/',
        '--target',
        url(pair.target.port),
      ],
      { MARIABACKUP: '/nonexistent/mariabackup' },
    ).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mariabackup is not installed/);
    expect(r.stderr).toMatch(/is not on this host/);
  });

  it.skipIf(!mariabackup)(
    'mariabackup takes and prepares a backup beside the source and prints the restore steps and binlog position',
    async () => {
      const stateDir = freshStateDir();
      const text = await backupLoad({
        source: url(pair.source.port),
        target: url(pair.target.port),
        stateDir,
        say: () => undefined,
      });
      expect(text).toMatch(/binlog position of the backup: mysql-bin\.\d+:\d+ \(GTID 0-1-\d+\)/);
      expect(text).toMatch(/mariabackup --copy-back --target-dir=/);
      const dir = /taken and prepared in [\d.]+ s: (\S+)/.exec(text)?.[1] ?? '';
      const checkpoints = await readFile(join(dir, 'xtrabackup_checkpoints'), 'utf8').catch(() =>
        readFile(join(dir, 'mariadb_backup_checkpoints'), 'utf8'),
      );
      expect(checkpoints).toMatch(/backup_type = (log-applied|full-prepared)/);
      expect(existsSync(join(dir, DB, 'orders.ibd'))).toBe(true);
      expect((await readSnapshotRecord(stateDir))?.snapshot.binlog?.file).toMatch(/^mysql-bin\./);
    },
  );
});
