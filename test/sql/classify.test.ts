import { describe, expect, it } from 'vitest';
import type { ClassificationFlags, StatementKind, TableRef } from '../../src/sql/classification.js';
import { classify } from '../../src/sql/classify.js';

type BooleanFlag = {
  [K in keyof ClassificationFlags]: ClassificationFlags[K] extends boolean ? K : never;
}[keyof ClassificationFlags];

const BOOLEAN_FLAGS: readonly BooleanFlag[] = [
  'unknown',
  'locking',
  'intoVariables',
  'intoFile',
  'implicitCommit',
  'temporaryTable',
  'insertSelect',
  'onDuplicateKeyUpdate',
  'ignore',
  'localInfile',
  'tablesGuessed',
];

interface Case {
  readonly sql: string;
  readonly kind: StatementKind;
  /** `schema.table:r` or `table:w`, in any order. */
  readonly tables?: readonly string[];
  /** Flags that are true; every other boolean flag must be false (tablesGuessed is not checked). */
  readonly flags?: readonly BooleanFlag[];
  readonly pinnable?: readonly string[];
  readonly unpinnable?: readonly string[];
  /** Kinds of the statements, when there are several. */
  readonly statements?: readonly StatementKind[];
}

function render(t: TableRef): string {
  return `${t.schema === undefined ? '' : `${t.schema}.`}${t.table}:${t.access === 'write' ? 'w' : 'r'}`;
}

const CASES: readonly Case[] = [
  // Reads
  { sql: 'SELECT 1', kind: 'read' },
  { sql: 'SELECT * FROM t WHERE id = 1', kind: 'read', tables: ['t:r'] },
  {
    sql: 'select a, b from shop.orders o join shop.customers c on o.cid = c.id',
    kind: 'read',
    tables: ['shop.orders:r', 'shop.customers:r'],
  },
  { sql: 'SELECT * FROM `my db`.`my table` WHERE `a b` = 1', kind: 'read', tables: ['my db.my table:r'] },
  { sql: 'SELECT * FROM `db.with.dots`.`t.x`', kind: 'read', tables: ['db.with.dots.t.x:r'] },
  { sql: 'SELECT * FROM `we``ird`', kind: 'read', tables: ['we`ird:r'] },
  { sql: 'SELECT * FROM Users', kind: 'read', tables: ['Users:r'] },
  {
    sql: 'SELECT * FROM t1, t2 AS b, db.t3 c WHERE t1.id = b.id',
    kind: 'read',
    tables: ['t1:r', 't2:r', 'db.t3:r'],
  },
  {
    sql: 'SELECT * FROM a LEFT JOIN b USING (id) NATURAL JOIN c',
    kind: 'read',
    tables: ['a:r', 'b:r', 'c:r'],
  },
  {
    sql: 'SELECT * FROM t WHERE id IN (SELECT tid FROM u WHERE x = ?)',
    kind: 'read',
    tables: ['t:r', 'u:r'],
  },
  { sql: 'SELECT * FROM (SELECT * FROM t) AS d JOIN u ON d.id = u.id', kind: 'read', tables: ['t:r', 'u:r'] },
  { sql: 'SELECT EXTRACT(YEAR FROM created) FROM t', kind: 'read', tables: ['t:r'] },
  { sql: 'SELECT TRIM(LEADING 0 FROM code), SUBSTRING(s FROM 2) FROM t', kind: 'read', tables: ['t:r'] },
  { sql: '(SELECT a FROM t1) UNION ALL (SELECT a FROM t2)', kind: 'read', tables: ['t1:r', 't2:r'] },
  { sql: 'SELECT * FROM t USE INDEX (i) WHERE a = 1', kind: 'read', tables: ['t:r'] },
  { sql: 'SELECT * FROM t PARTITION (p0) WHERE a = 1', kind: 'read', tables: ['t:r'] },
  { sql: 'SELECT 1 FROM DUAL', kind: 'read' },
  { sql: 'SELECT * FROM information_schema.tables', kind: 'read', tables: ['information_schema.tables:r'] },
  {
    sql: 'WITH x AS (SELECT id FROM a) SELECT * FROM x JOIN b ON x.id = b.id',
    kind: 'read',
    tables: ['a:r', 'b:r'],
  },
  {
    sql: 'WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT * FROM c',
    kind: 'read',
  },
  { sql: 'SHOW TABLES', kind: 'read' },
  { sql: 'SHOW FULL COLUMNS FROM t FROM db', kind: 'read', tables: ['db.t:r'] },
  { sql: 'SHOW CREATE TABLE db.t', kind: 'read', tables: ['db.t:r'] },
  { sql: 'DESCRIBE t', kind: 'read', tables: ['t:r'] },
  { sql: 'DESC db.t', kind: 'read', tables: ['db.t:r'] },
  { sql: 'EXPLAIN SELECT * FROM t', kind: 'read', tables: ['t:r'] },
  { sql: 'EXPLAIN UPDATE t SET a = NOW()', kind: 'read', tables: ['t:r'] },
  { sql: 'HELP contents', kind: 'read' },
  { sql: 'CHECKSUM TABLE a, b', kind: 'read', tables: ['a:r', 'b:r'] },
  { sql: 'DO SLEEP(1)', kind: 'read' },
  { sql: 'SELECT * FROM t WHERE id = ? AND name LIKE ? LIMIT ?', kind: 'read', tables: ['t:r'] },
  // Comments and executable comments
  { sql: '/* leading */ SELECT 1 -- trailing', kind: 'read' },
  { sql: '# hash comment\nSELECT * FROM t', kind: 'read', tables: ['t:r'] },
  { sql: '/*!40000 ALTER TABLE t DISABLE KEYS */', kind: 'ddl', tables: ['t:w'], flags: ['implicitCommit'] },
  { sql: '/*!50100 UPDATE t SET a = 1 */', kind: 'write', tables: ['t:w'] },
  { sql: 'SELECT /*! STRAIGHT_JOIN */ * FROM a, b', kind: 'read', tables: ['a:r', 'b:r'] },
  { sql: '/*M!100100 DELETE FROM t */', kind: 'write', tables: ['t:w'] },
  { sql: '/* DELETE FROM t */ SELECT 1', kind: 'read' },
  { sql: 'SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t', kind: 'read', tables: ['t:r'] },
  // Locking and INTO
  { sql: 'SELECT * FROM t WHERE id = 1 FOR UPDATE', kind: 'read', tables: ['t:r'], flags: ['locking'] },
  {
    sql: 'SELECT * FROM t WHERE id = 1 FOR UPDATE SKIP LOCKED',
    kind: 'read',
    tables: ['t:r'],
    flags: ['locking'],
  },
  { sql: 'SELECT * FROM t LOCK IN SHARE MODE', kind: 'read', tables: ['t:r'], flags: ['locking'] },
  { sql: 'SELECT * FROM t FOR SHARE', kind: 'read', tables: ['t:r'], flags: ['locking'] },
  { sql: "SELECT GET_LOCK('job', 10)", kind: 'read', flags: ['locking'] },
  { sql: 'SELECT a INTO @v FROM t WHERE id = 1', kind: 'read', tables: ['t:r'], flags: ['intoVariables'] },
  { sql: 'SELECT a, b FROM t LIMIT 1 INTO @x, @y', kind: 'read', tables: ['t:r'], flags: ['intoVariables'] },
  { sql: 'SELECT @n := COUNT(*) FROM t', kind: 'read', tables: ['t:r'], flags: ['intoVariables'] },
  { sql: "SELECT * INTO OUTFILE '/tmp/t.csv' FROM t", kind: 'read', tables: ['t:r'], flags: ['intoFile'] },
  { sql: "SELECT a INTO DUMPFILE '/tmp/a' FROM t", kind: 'read', tables: ['t:r'], flags: ['intoFile'] },
  // Writes
  { sql: 'INSERT INTO t (a, b) VALUES (1, 2), (3, 4)', kind: 'write', tables: ['t:w'] },
  { sql: 'INSERT t SET a = 1', kind: 'write', tables: ['t:w'] },
  { sql: 'INSERT INTO db.t VALUES (?, ?)', kind: 'write', tables: ['db.t:w'] },
  { sql: 'INSERT IGNORE INTO t VALUES (1)', kind: 'write', tables: ['t:w'], flags: ['ignore'] },
  {
    sql: 'INSERT INTO t SELECT * FROM u WHERE x > 1',
    kind: 'write',
    tables: ['t:w', 'u:r'],
    flags: ['insertSelect'],
  },
  {
    sql: 'INSERT INTO t (a) (SELECT a FROM u)',
    kind: 'write',
    tables: ['t:w', 'u:r'],
    flags: ['insertSelect'],
  },
  { sql: 'REPLACE INTO t SELECT * FROM u', kind: 'write', tables: ['t:w', 'u:r'], flags: ['insertSelect'] },
  { sql: 'INSERT INTO t VALUES ((SELECT MAX(id) FROM u))', kind: 'write', tables: ['t:w', 'u:r'] },
  {
    sql: 'INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1',
    kind: 'write',
    tables: ['t:w'],
    flags: ['onDuplicateKeyUpdate'],
  },
  {
    sql: 'INSERT INTO t (a) VALUES (1) AS new ON DUPLICATE KEY UPDATE a = new.a',
    kind: 'write',
    tables: ['t:w'],
    flags: ['onDuplicateKeyUpdate'],
  },
  { sql: 'REPLACE INTO t (id, a) VALUES (1, 2)', kind: 'write', tables: ['t:w'] },
  { sql: 'INSERT INTO t (a) VALUES (?) RETURNING id', kind: 'write', tables: ['t:w'] },
  { sql: 'UPDATE t SET a = 1 WHERE id = 2', kind: 'write', tables: ['t:w'] },
  { sql: 'UPDATE IGNORE t SET a = 1', kind: 'write', tables: ['t:w'], flags: ['ignore'] },
  { sql: 'UPDATE `a`.`b` SET c = (SELECT MAX(x) FROM d)', kind: 'write', tables: ['a.b:w', 'd:r'] },
  { sql: 'UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = t2.a', kind: 'write', tables: ['t1:w', 't2:w'] },
  { sql: 'UPDATE t SET a = a + 1 ORDER BY id LIMIT 1', kind: 'write', tables: ['t:w'] },
  { sql: 'DELETE FROM t WHERE id = 1', kind: 'write', tables: ['t:w'] },
  {
    sql: 'DELETE LOW_PRIORITY QUICK IGNORE FROM t WHERE a = 1',
    kind: 'write',
    tables: ['t:w'],
    flags: ['ignore'],
  },
  { sql: 'DELETE a FROM t AS a JOIN u AS b ON a.id = b.id', kind: 'write', tables: ['t:w', 'u:r'] },
  {
    sql: 'DELETE t1, t2 FROM t1 JOIN t2 JOIN t3 WHERE t1.id = t2.id',
    kind: 'write',
    tables: ['t1:w', 't2:w', 't3:r'],
  },
  { sql: 'DELETE FROM t1 USING t1 JOIN t2 ON t1.id = t2.id', kind: 'write', tables: ['t1:w', 't2:r'] },
  {
    sql: 'WITH x AS (SELECT id FROM a) UPDATE b JOIN x ON b.id = x.id SET b.v = 1',
    kind: 'write',
    tables: ['a:r', 'b:w'],
  },
  {
    sql: 'WITH x AS (SELECT id FROM a) DELETE FROM b WHERE id IN (SELECT id FROM x)',
    kind: 'write',
    tables: ['a:r', 'b:w'],
  },
  { sql: 'CALL shop.refresh(1, ?)', kind: 'write' },
  { sql: "LOAD DATA INFILE '/tmp/t.csv' INTO TABLE t", kind: 'write', tables: ['t:w'] },
  {
    sql: "LOAD DATA LOCAL INFILE 'x.csv' IGNORE INTO TABLE db.t FIELDS TERMINATED BY ',' IGNORE 1 LINES (@a, b) SET c = @a",
    kind: 'write',
    tables: ['db.t:w'],
    flags: ['ignore', 'localInfile'],
  },
  { sql: 'SET STATEMENT max_statement_time = 1 FOR UPDATE t SET a = 1', kind: 'write', tables: ['t:w'] },
  { sql: 'ANALYZE DELETE FROM t WHERE a = 1', kind: 'write', tables: ['t:w'] },
  { sql: 'EXPLAIN ANALYZE UPDATE t SET a = 1', kind: 'write', tables: ['t:w'] },
  { sql: 'EXECUTE stmt USING @a', kind: 'write', unpinnable: ['@a'] },
  { sql: 'BEGIN NOT ATOMIC INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); END', kind: 'write' },
  // Non-deterministic functions
  {
    sql: 'INSERT INTO t (a, b) VALUES (NOW(), CURRENT_TIMESTAMP)',
    kind: 'write',
    tables: ['t:w'],
    pinnable: ['NOW', 'CURRENT_TIMESTAMP'],
  },
  {
    sql: 'UPDATE t SET a = RAND(), b = RAND(7), c = UNIX_TIMESTAMP(), d = UNIX_TIMESTAMP(e)',
    kind: 'write',
    tables: ['t:w'],
    pinnable: ['RAND', 'UNIX_TIMESTAMP'],
  },
  {
    sql: 'INSERT INTO t VALUES (UUID(), UUID_SHORT(), CURDATE(), UTC_TIMESTAMP())',
    kind: 'write',
    tables: ['t:w'],
    pinnable: ['UUID', 'UUID_SHORT', 'CURDATE', 'UTC_TIMESTAMP'],
  },
  {
    sql: 'INSERT INTO c (pid) VALUES (LAST_INSERT_ID())',
    kind: 'write',
    tables: ['c:w'],
    pinnable: ['LAST_INSERT_ID'],
  },
  {
    sql: 'UPDATE seq SET id = LAST_INSERT_ID(id + 1)',
    kind: 'write',
    tables: ['seq:w'],
    pinnable: ['LAST_INSERT_ID(expr)'],
  },
  {
    sql: 'INSERT INTO t VALUES (SYSDATE(), CONNECTION_ID())',
    kind: 'write',
    tables: ['t:w'],
    unpinnable: ['SYSDATE', 'CONNECTION_ID'],
  },
  { sql: 'UPDATE t SET a = @x WHERE id = @id', kind: 'write', tables: ['t:w'], unpinnable: ['@x', '@id'] },
  {
    sql: 'INSERT INTO log VALUES (FOUND_ROWS(), ROW_COUNT(), USER())',
    kind: 'write',
    tables: ['log:w'],
    unpinnable: ['FOUND_ROWS', 'ROW_COUNT', 'USER'],
  },
  { sql: 'UPDATE t SET a = SLEEP(1)', kind: 'write', tables: ['t:w'], unpinnable: ['SLEEP'] },
  { sql: 'UPDATE t SET host = @@hostname', kind: 'write', tables: ['t:w'], unpinnable: ['@@hostname'] },
  { sql: 'SELECT NOW(), SYSDATE(), @x FROM t', kind: 'read', tables: ['t:r'] },
  { sql: 'UPDATE t SET a = shop.now()', kind: 'write', tables: ['t:w'] },
  // Prepared-statement text
  { sql: 'UPDATE t SET a = ? WHERE id IN (?, ?, ?)', kind: 'write', tables: ['t:w'] },
  { sql: 'INSERT INTO t (a, b, c) VALUES (?, ?, NOW())', kind: 'write', tables: ['t:w'], pinnable: ['NOW'] },
  // DDL
  {
    sql: 'CREATE TABLE t (id INT PRIMARY KEY, d DATETIME DEFAULT CURRENT_TIMESTAMP)',
    kind: 'ddl',
    tables: ['t:w'],
    flags: ['implicitCommit'],
    pinnable: ['CURRENT_TIMESTAMP'],
  },
  {
    sql: 'CREATE TABLE IF NOT EXISTS db.t LIKE db.src',
    kind: 'ddl',
    tables: ['db.t:w', 'db.src:r'],
    flags: ['implicitCommit'],
  },
  {
    sql: 'CREATE TABLE n AS SELECT * FROM o JOIN p USING (id)',
    kind: 'ddl',
    tables: ['n:w', 'o:r', 'p:r'],
    flags: ['implicitCommit', 'insertSelect'],
  },
  { sql: 'CREATE TEMPORARY TABLE tmp (id INT)', kind: 'ddl', tables: ['tmp:w'], flags: ['temporaryTable'] },
  { sql: 'DROP TEMPORARY TABLE IF EXISTS tmp', kind: 'ddl', tables: ['tmp:w'], flags: ['temporaryTable'] },
  {
    sql: 'CREATE OR REPLACE VIEW v AS SELECT a FROM t',
    kind: 'ddl',
    tables: ['v:w', 't:r'],
    flags: ['implicitCommit'],
  },
  { sql: 'CREATE UNIQUE INDEX i ON t (a)', kind: 'ddl', tables: ['t:w'], flags: ['implicitCommit'] },
  { sql: 'DROP INDEX i ON db.t', kind: 'ddl', tables: ['db.t:w'], flags: ['implicitCommit'] },
  { sql: 'ALTER TABLE a.b ADD COLUMN c INT', kind: 'ddl', tables: ['a.b:w'], flags: ['implicitCommit'] },
  { sql: 'ALTER TABLE t RENAME TO u', kind: 'ddl', tables: ['t:w', 'u:w'], flags: ['implicitCommit'] },
  {
    sql: 'ALTER ONLINE IGNORE TABLE t ADD UNIQUE (a)',
    kind: 'ddl',
    tables: ['t:w'],
    flags: ['implicitCommit', 'ignore'],
  },
  { sql: 'DROP TABLE IF EXISTS a, db.b', kind: 'ddl', tables: ['a:w', 'db.b:w'], flags: ['implicitCommit'] },
  { sql: 'TRUNCATE TABLE t', kind: 'ddl', tables: ['t:w'], flags: ['implicitCommit'] },
  { sql: 'TRUNCATE db.t', kind: 'ddl', tables: ['db.t:w'], flags: ['implicitCommit'] },
  {
    sql: 'RENAME TABLE a TO b, c TO d',
    kind: 'ddl',
    tables: ['a:w', 'b:w', 'c:w', 'd:w'],
    flags: ['implicitCommit'],
  },
  { sql: 'CREATE DATABASE shop', kind: 'ddl', flags: ['implicitCommit'] },
  {
    sql: 'CREATE DEFINER = `root`@`localhost` PROCEDURE p() BEGIN UPDATE t SET a = NOW(); SELECT 1; END',
    kind: 'ddl',
    flags: ['implicitCommit'],
  },
  {
    sql: 'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = NOW()',
    kind: 'ddl',
    tables: ['t:w'],
    flags: ['implicitCommit'],
  },
  // Transactions
  { sql: 'BEGIN', kind: 'transaction', flags: ['implicitCommit'] },
  { sql: 'BEGIN WORK', kind: 'transaction', flags: ['implicitCommit'] },
  { sql: 'START TRANSACTION WITH CONSISTENT SNAPSHOT', kind: 'transaction', flags: ['implicitCommit'] },
  { sql: 'COMMIT', kind: 'transaction' },
  { sql: 'ROLLBACK', kind: 'transaction' },
  { sql: 'ROLLBACK TO SAVEPOINT sp1', kind: 'transaction' },
  { sql: 'SAVEPOINT sp1', kind: 'transaction' },
  { sql: 'RELEASE SAVEPOINT sp1', kind: 'transaction' },
  { sql: "XA START 'x1'", kind: 'transaction' },
  // Session
  { sql: 'SET autocommit = 0', kind: 'session' },
  { sql: 'SET autocommit = 1', kind: 'session', flags: ['implicitCommit'] },
  { sql: 'SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci', kind: 'session' },
  { sql: 'SET CHARACTER SET utf8', kind: 'session' },
  { sql: "SET SESSION sql_mode = 'STRICT_TRANS_TABLES', @@session.time_zone = '+00:00'", kind: 'session' },
  { sql: 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED', kind: 'session' },
  { sql: 'SET @x = NOW()', kind: 'session', pinnable: ['NOW'] },
  { sql: 'USE shop', kind: 'session' },
  {
    sql: 'LOCK TABLES t READ, u AS x WRITE',
    kind: 'session',
    tables: ['t:r', 'u:w'],
    flags: ['implicitCommit'],
  },
  { sql: 'UNLOCK TABLES', kind: 'session', flags: ['implicitCommit'] },
  { sql: "PREPARE s FROM 'SELECT * FROM t WHERE id = ?'", kind: 'session' },
  { sql: 'DEALLOCATE PREPARE s', kind: 'session' },
  { sql: '/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE=NO_AUTO_VALUE_ON_ZERO */', kind: 'session' },
  // Other
  { sql: "GRANT SELECT ON shop.* TO 'app'@'%'", kind: 'other', flags: ['implicitCommit'] },
  { sql: "CREATE USER 'app'@'%' IDENTIFIED BY 'x'", kind: 'other', flags: ['implicitCommit'] },
  { sql: 'FLUSH TABLES', kind: 'other', flags: ['implicitCommit'] },
  { sql: 'KILL 42', kind: 'other' },
  { sql: 'OPTIMIZE TABLE t', kind: 'other', flags: ['implicitCommit'] },
  // Multi-statements
  { sql: "SELECT ';' ; UPDATE t SET a = 1", kind: 'write', tables: ['t:w'], statements: ['read', 'write'] },
  {
    sql: 'SELECT \'a;b\', "c;d", `e;f` FROM t; SELECT 2',
    kind: 'read',
    tables: ['t:r'],
    statements: ['read', 'read'],
  },
  {
    sql: 'SELECT 1 /* ; DELETE FROM t */; -- ; DROP TABLE t\n SELECT 2',
    kind: 'read',
    statements: ['read', 'read'],
  },
  {
    sql: 'BEGIN; INSERT INTO t VALUES (1); COMMIT;',
    kind: 'write',
    tables: ['t:w'],
    statements: ['transaction', 'write', 'transaction'],
    flags: ['implicitCommit'],
  },
  { sql: 'USE db; SELECT * FROM t', kind: 'session', tables: ['t:r'], statements: ['session', 'read'] },
  {
    sql: 'CREATE TABLE x (id INT); DROP TABLE y',
    kind: 'ddl',
    tables: ['x:w', 'y:w'],
    statements: ['ddl', 'ddl'],
    flags: ['implicitCommit'],
  },
  // Unclassifiable
  { sql: 'FROBNICATE the database', kind: 'write', flags: ['unknown'] },
  { sql: "SELECT 'unterminated", kind: 'write', flags: ['unknown'] },
  { sql: 'SELECT 1 /* unterminated', kind: 'write', flags: ['unknown'] },
  { sql: '+-*/', kind: 'write', flags: ['unknown'] },
];

describe('classify', () => {
  it('has a table of at least 80 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(80);
  });

  it.each(CASES)('classifies $sql as $kind', (c) => {
    const result = classify(c.sql);
    expect(result.kind).toBe(c.kind);
    expect(result.tables.map(render).sort()).toEqual([...(c.tables ?? [])].sort());
    const trueFlags = BOOLEAN_FLAGS.filter((f) => f !== 'tablesGuessed' && result[f]);
    expect(trueFlags.sort()).toEqual([...(c.flags ?? [])].sort());
    expect([...result.pinnable].sort()).toEqual([...(c.pinnable ?? [])].sort());
    expect([...result.unpinnable].sort()).toEqual([...(c.unpinnable ?? [])].sort());
    if (c.statements) expect(result.statements.map((s) => s.kind)).toEqual(c.statements);
    else if (c.sql.trim() !== '') expect(result.statements).toHaveLength(1);
  });
});
