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
  // Harder shapes
  {
    sql: 'SELECT * FROM t1 JOIN (t2 JOIN t3 ON t2.a = t3.a) ON t1.a = t2.a',
    kind: 'read',
    tables: ['t1:r', 't2:r', 't3:r'],
  },
  { sql: 'SELECT a, COUNT(*) FROM t GROUP BY a WITH ROLLUP', kind: 'read', tables: ['t:r'] },
  { sql: "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) AS jt", kind: 'read' },
  { sql: 'SELECT * FROM t1 STRAIGHT_JOIN t2 ON t1.a = t2.a', kind: 'read', tables: ['t1:r', 't2:r'] },
  { sql: "SELECT * FROM t WHERE x = 'it''s -- no comment; really' AND y = 1", kind: 'read', tables: ['t:r'] },
  {
    sql: 'SELECT `alias`.`x` FROM `db`.`t` AS `alias` WHERE `alias`.`y` = 1',
    kind: 'read',
    tables: ['db.t:r'],
  },
  { sql: 'SELECT * FROM db.order', kind: 'read', tables: ['db.order:r'] },
  { sql: 'SELECT * FROM status JOIN `select` ON 1', kind: 'read', tables: ['status:r', 'select:r'] },
  { sql: 'TABLE t', kind: 'read', tables: ['t:r'] },
  { sql: 'SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP NOW() WHERE a = 1', kind: 'read', tables: ['t:r'] },
  {
    sql: 'SELECT a FROM t1 UNION SELECT a FROM t2 ORDER BY a LIMIT 10 OFFSET 5',
    kind: 'read',
    tables: ['t1:r', 't2:r'],
  },
  { sql: 'INSERT INTO t SET a = (SELECT MAX(a) FROM t2)', kind: 'write', tables: ['t:w', 't2:r'] },
  { sql: 'INSERT LOW_PRIORITY IGNORE INTO t VALUES (1)', kind: 'write', tables: ['t:w'], flags: ['ignore'] },
  {
    sql: 'INSERT INTO t (a, b) SELECT a, NOW() FROM u',
    kind: 'write',
    tables: ['t:w', 'u:r'],
    flags: ['insertSelect'],
    pinnable: ['NOW'],
  },
  { sql: 'INSERT INTO `order` (`from`, `select`) VALUES (1, 2)', kind: 'write', tables: ['order:w'] },
  {
    sql: 'INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE b = (SELECT c FROM u)',
    kind: 'write',
    tables: ['t:w', 'u:r'],
    flags: ['onDuplicateKeyUpdate'],
  },
  {
    sql: 'UPDATE t SET a = 1 WHERE b IN (SELECT c FROM (SELECT c FROM v) x)',
    kind: 'write',
    tables: ['t:w', 'v:r'],
  },
  { sql: 'UPDATE t SET a = CASE WHEN b THEN 1 ELSE 2 END', kind: 'write', tables: ['t:w'] },
  {
    sql: 'DELETE t1 FROM t1 LEFT JOIN t2 USING (id) WHERE t2.id IS NULL',
    kind: 'write',
    tables: ['t1:w', 't2:r'],
  },
  { sql: 'REPLACE t SET a = 1', kind: 'write', tables: ['t:w'] },
  {
    sql: 'CREATE TABLE t (a INT) SELECT b FROM u',
    kind: 'ddl',
    tables: ['t:w', 'u:r'],
    flags: ['implicitCommit', 'insertSelect'],
  },
  {
    sql: "CREATE TABLE IF NOT EXISTS t (id INT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='x'",
    kind: 'ddl',
    tables: ['t:w'],
    flags: ['implicitCommit'],
  },
  {
    sql: 'CREATE TABLE t (id INT) WITH SYSTEM VERSIONING',
    kind: 'ddl',
    tables: ['t:w'],
    flags: ['implicitCommit'],
  },
  {
    sql: 'ALTER TABLE t ADD INDEX (a), ALGORITHM=INPLACE, LOCK=NONE',
    kind: 'ddl',
    tables: ['t:w'],
    flags: ['implicitCommit'],
  },
  { sql: 'DROP VIEW IF EXISTS v1, v2', kind: 'ddl', tables: ['v1:w', 'v2:w'], flags: ['implicitCommit'] },
  {
    sql: 'CREATE SEQUENCE s START WITH 1 INCREMENT BY 1',
    kind: 'ddl',
    tables: ['s:w'],
    flags: ['implicitCommit'],
  },
  { sql: 'SET @@GLOBAL.max_connections = 1000', kind: 'session' },
  { sql: "SET sql_mode = (SELECT REPLACE(@@sql_mode, 'ONLY_FULL_GROUP_BY', ''))", kind: 'session' },
  { sql: 'COMMIT AND CHAIN', kind: 'transaction' },
  {
    sql: "/*!40101 SET NAMES utf8 */;\n/*!40103 SET TIME_ZONE='+00:00' */;",
    kind: 'session',
    statements: ['session', 'session'],
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

describe('classify, in detail', () => {
  it('gives the sub-kind of transaction statements', () => {
    const action = (sql: string) => classify(sql).statements[0]?.transaction;
    expect(action('START TRANSACTION READ ONLY')).toMatchObject({ action: 'begin', readOnly: true });
    expect(action('START TRANSACTION WITH CONSISTENT SNAPSHOT')).toMatchObject({ consistentSnapshot: true });
    expect(action('COMMIT AND CHAIN')).toMatchObject({ action: 'commit', chain: true, release: false });
    expect(action('ROLLBACK AND NO CHAIN NO RELEASE')).toMatchObject({
      action: 'rollback',
      chain: false,
      release: false,
    });
    expect(action('ROLLBACK WORK TO SAVEPOINT sp')).toMatchObject({ action: 'rollback-to-savepoint' });
    expect(action('RELEASE SAVEPOINT sp')).toMatchObject({ action: 'release-savepoint' });
    expect(action("XA END 'x'")).toMatchObject({ action: 'xa-end' });
    expect(classify('SAVEPOINT `my sp`').statements[0]?.name).toEqual({ name: 'my sp' });
  });

  it('lists the variables a SET assigns, with their scope, and autocommit when it is a constant', () => {
    const session = classify(
      "SET SESSION sql_mode = '', @@global.max_connections = 5, @User = 1, time_zone = '+00:00'",
    ).statements[0]?.session;
    expect(session?.action).toBe('set');
    expect(session?.variables).toEqual([
      { scope: 'session', name: 'sql_mode' },
      { scope: 'global', name: 'max_connections' },
      { scope: 'user', name: 'user' },
      { scope: 'session', name: 'time_zone' },
    ]);
    expect(classify('SET autocommit = OFF').statements[0]?.session?.autocommit).toBe(false);
    expect(classify("SET @@session.autocommit = 'ON'").statements[0]?.session?.autocommit).toBe(true);
    expect(classify('SET autocommit = @x').statements[0]?.session?.autocommit).toBeUndefined();
    expect(classify('SET GLOBAL autocommit = 0').statements[0]?.session?.autocommit).toBeUndefined();
  });

  it('tells SET NAMES, SET CHARACTER SET and SET TRANSACTION apart', () => {
    const action = (sql: string) => classify(sql).statements[0]?.session?.action;
    expect(action("SET NAMES 'utf8mb4'")).toBe('set-names');
    expect(action('SET CHARSET utf8')).toBe('set-character-set');
    expect(action('SET SESSION TRANSACTION READ ONLY')).toBe('set-transaction');
  });

  it('names the schema of USE, the routine of CALL and the prepared statement', () => {
    expect(classify('USE `shop db`').statements[0]?.name).toEqual({ name: 'shop db' });
    expect(classify('CALL shop.refresh()').statements[0]?.name).toEqual({ schema: 'shop', name: 'refresh' });
    expect(classify("PREPARE s1 FROM 'SELECT 1'").statements[0]?.name).toEqual({ name: 's1' });
    expect(classify('EXECUTE s1').statements[0]?.name).toEqual({ name: 's1' });
  });

  it('gives the verb of each statement', () => {
    expect(
      classify('LOAD DATA INFILE "x" INTO TABLE t; WITH a AS (SELECT 1) DELETE FROM t').statements.map(
        (s) => s.verb,
      ),
    ).toEqual(['LOAD DATA', 'DELETE']);
  });

  it('lists the pins a write needs', () => {
    expect([...classify('INSERT INTO t VALUES (NOW(), RAND(), UUID())').pins].sort()).toEqual([
      'rand-seed',
      'timestamp',
      'uuid',
    ]);
  });

  it('lists user variables read and assigned', () => {
    const [read, write] = classify('SELECT @a := MAX(id) FROM t; INSERT INTO u VALUES (@a, @b)').statements;
    expect(read?.assignsVariables).toEqual(['@a']);
    expect(write?.readsVariables).toEqual(['@a', '@b']);
    expect(classify('SET @x = 1, @y = @x').statements[0]?.assignsVariables).toEqual(['@x', '@y']);
  });

  it('reads "..." as a name under ANSI_QUOTES', () => {
    const result = classify('SELECT "a" FROM "my db"."t"', { ansiQuotes: true });
    expect(result.tables).toEqual([{ schema: 'my db', table: 't', access: 'read' }]);
  });

  it('sees the second statement that NO_BACKSLASH_ESCAPES makes of a backslash before a quote', () => {
    const sql = "SELECT 'a\\'; DELETE FROM t; -- '";
    expect(classify(sql).kind).toBe('read');
    const nbe = classify(sql, { noBackslashEscapes: true });
    expect(nbe.kind).toBe('write');
    expect(nbe.statements.map((s) => s.kind)).toEqual(['read', 'write']);
    expect(nbe.tables).toEqual([{ table: 't', access: 'write' }]);
  });

  it('gives an empty text no statement', () => {
    expect(classify('  /* nothing */ ; ')).toMatchObject({ kind: 'other', statements: [], unknown: false });
  });

  it('returns frozen objects all the way down', () => {
    const result = classify('SET NAMES utf8; LOCK TABLES t WRITE; SAVEPOINT a');
    const frozen = (o: unknown): boolean =>
      typeof o !== 'object' || o === null || (Object.isFrozen(o) && Object.values(o).every(frozen));
    expect(frozen(result)).toBe(true);
  });

  it('carries the fingerprint, free of literals', () => {
    expect(classify("UPDATE users SET password = 'hunter2' WHERE id = 7").fingerprint).toBe(
      'update users set password = ? where id = ?',
    );
  });

  it.each([
    ["INSERT INTO t (u, v) VALUES (1, 'a')", ['u', 'v']],
    ['INSERT IGNORE INTO db.t (`ID`, t.u) VALUES (1, 2)', ['id', 'u']],
    ['INSERT t PARTITION (p1) (a) VALUES (1)', ['a']],
    ['INSERT INTO t (a) SELECT 1', ['a']],
    ['REPLACE INTO t (id, v) VALUES (1, 2)', ['id', 'v']],
    ['INSERT INTO t (u, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = 1', ['u', 'v']],
    ['INSERT INTO t VALUES (1)', undefined],
    ['INSERT INTO t (SELECT 1)', undefined],
    ['INSERT INTO t SET a = 1', undefined],
    ['UPDATE t SET a = 1', undefined],
  ])('reads the columns %s gives values: %j', (sql, columns) => {
    expect(classify(sql).statements[0]?.insertColumns).toEqual(columns);
  });
});
