import { createHash } from 'node:crypto';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../src/index.js';
import { CLIENT, COM, CURSOR_TYPE, PROXY_CAPABILITIES } from '../../src/protocol/constants.js';
import { PacketWriter } from '../../src/protocol/packet-writer.js';
import { encodeHandshakeV10, type HandshakeV10 } from '../../src/protocol/packets/handshake-v10.js';
import { startTestProxy } from '../harness/proxy.js';
import {
  CLASSIC_CLIENT,
  comQuery,
  MODERN_CLIENT,
  RawClient,
  type RawPacket,
  textRows,
} from '../harness/raw-client.js';
import { sharedPair } from '../harness/servers.js';

/**
 * The same commands, in a fresh database each time, once straight to the source and once
 * through tandem: every response packet (sequence id and payload) must be the same bytes.
 * Nothing connection-specific is in the corpus (no CONNECTION_ID(), NOW(), processlist).
 */

const DB = 'frontend_byte_identical';
const source = sharedPair().source;
let proxy: RunningProxy;
let admin: Connection;

beforeAll(async () => {
  admin = await createConnection({ host: source.host, port: source.port, user: 'root' });
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(1000);
  await admin?.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin?.end();
});

// --- the corpus ------------------------------------------------------------------------------

const SETUP = [
  // Non-strict, so that out-of-range values are clipped with a warning instead of refused.
  "SET sql_mode = ''",
  "SET time_zone = '+00:00'",
  `CREATE TABLE ints (
     id INT PRIMARY KEY AUTO_INCREMENT,
     ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT,
     mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED)`,
  `INSERT INTO ints VALUES
     (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0),
     (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
      9223372036854775807, 18446744073709551615),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (4, 0, 1, -1, 2, -3, 4, -5, 6, -7, 8)`,
  `CREATE TABLE nums (
     id INT PRIMARY KEY, de DECIMAL(20,6), dw DECIMAL(65,30), f FLOAT, d DOUBLE,
     b1 BIT(1), b64 BIT(64))`,
  `INSERT INTO nums VALUES
     (1, -12345678901234.123456, 0.000000000000000000000000000001, 3.14159, 2.718281828459045,
      b'1', b'1111111111111111111111111111111111111111111111111111111111111111'),
     (2, 0, 99999999999999999999999999999999999.999999999999999999999999999999, -1.5e-38,
      1.7976931348623157e308, b'0', b'1010'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `CREATE TABLE times (
     id INT PRIMARY KEY, d DATE, t TIME(6), dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL,
     y YEAR, t0 TIME, dt0 DATETIME)`,
  `INSERT INTO times VALUES
     (1, '2024-02-29', '-838:59:59.000000', '1000-01-01 00:00:00.000000',
      '1970-01-01 00:00:01.000000', 1901, '00:00:00', '9999-12-31 23:59:59'),
     (2, '9999-12-31', '838:59:59.999999', '2024-06-30 12:34:56.789012',
      '2038-01-19 03:14:07.999999', 2155, '12:34:56', '2024-01-01 00:00:00'),
     (3, '0000-00-00', '00:00:00.000001', '0000-00-00 00:00:00.000000', NULL, 0, NULL, NULL),
     (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `CREATE TABLE strs (
     id INT PRIMARY KEY, c CHAR(10), v VARCHAR(255) UNIQUE, bn BINARY(4), vb VARBINARY(16),
     tx TEXT, bl BLOB, e ENUM('a','b','c'), st SET('x','y','z'), j JSON, g GEOMETRY,
     lt LONGTEXT, l1 CHAR(5) CHARACTER SET latin1)`,
  `INSERT INTO strs VALUES
     (1, 'abc', 'héllo wörld ✓ 🐬', x'00ff', x'deadbeef00', 'text', x'000102fffe', 'b', 'x,z',
      '{"a": [1, 2.5, "s"], "b": null}', ST_GeomFromText('POINT(1 2)'), REPEAT('L', 300), 'é'),
     (2, '', '', x'', x'', '', x'', 'a', '', '[]', ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
      '', ''),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  'CREATE TABLE empty_t (id INT PRIMARY KEY, v VARCHAR(10))',
  `CREATE PROCEDURE two_results()
   BEGIN
     SELECT id, ti FROM ints ORDER BY id;
     SELECT 'done' AS status;
   END`,
  'CREATE PROCEDURE p_out(IN a INT, OUT b INT) BEGIN SET b = a * 2; END',
];

const manyColumns = `SELECT ${Array.from({ length: 300 }, (_, i) => `${i} AS c${i}`).join(', ')}`;

const QUERIES = [
  // every column type, NULLs included
  'SELECT * FROM ints ORDER BY id',
  'SELECT * FROM nums ORDER BY id',
  'SELECT * FROM times ORDER BY id',
  'SELECT * FROM strs ORDER BY id',
  'SELECT id, ST_AsText(g), ST_X(g), JSON_EXTRACT(j, "$.a[1]"), JSON_TYPE(j) FROM strs ORDER BY id',
  'SELECT id, HEX(b64), b1 + 0, f * 2, d / 3 FROM nums ORDER BY id',
  "SELECT NULL, NULL AS n2, 1 + 1, 'abc', 3.14, 1e10, -0.0, 18446744073709551615, -9223372036854775808",
  "SELECT b'101', x'DEADBEEF', _latin1'caf\\xe9', CONVERT('é' USING latin1), _binary'raw'",
  "SELECT CAST('2024-02-29 12:34:56.789012' AS DATETIME(6)), CAST('-12:00:00.5' AS TIME(6)), DATE'2000-01-01'",
  "SELECT TIMESTAMP'2038-01-19 03:14:07', YEAR('2155-01-01'), MAKETIME(838, 59, 59)",
  "SELECT CAST(1 AS UNSIGNED), CAST(-1 AS SIGNED), CAST(1.5 AS DECIMAL(10,3)), CAST('x' AS BINARY(3))",
  'SELECT COUNT(*), SUM(i), AVG(bi), MIN(tu), MAX(bu), GROUP_CONCAT(id ORDER BY id) FROM ints',
  "SELECT e, st, e + 0, st + 0, FIND_IN_SET('z', st) FROM strs ORDER BY id",
  // empty results
  'SELECT * FROM ints WHERE id < 0',
  'SELECT * FROM empty_t',
  'SELECT * FROM ints LIMIT 0',
  // long values: lenenc boundaries, then rows of exactly 0xffffff bytes and over 16 MiB
  "SELECT REPEAT('a', 250), REPEAT('b', 251), REPEAT('c', 65535), REPEAT('d', 65536), REPEAT('e', 70000)",
  "SELECT REPEAT('f', 16777211)",
  "SELECT REPEAT('g', 16777225), 'after'",
  manyColumns,
  // writes: affected rows, insert ids, info strings
  'INSERT INTO ints (ti) VALUES (5)',
  'SELECT LAST_INSERT_ID()',
  'INSERT INTO ints (ti) VALUES (6), (7), (8)',
  'UPDATE ints SET ti = ti + 1 WHERE id > 4',
  'UPDATE ints SET ti = ti WHERE id = 1',
  "INSERT INTO empty_t VALUES (1, 'a') ON DUPLICATE KEY UPDATE v = 'b'",
  "INSERT INTO empty_t VALUES (1, 'a') ON DUPLICATE KEY UPDATE v = 'b'",
  "REPLACE INTO empty_t VALUES (1, 'c')",
  'DELETE FROM empty_t',
  'SELECT ROW_COUNT()',
  // warnings
  'INSERT INTO ints (id, ti, tu, si) VALUES (100, 1000, -5, 99999)',
  'SHOW WARNINGS',
  'SELECT @@warning_count',
  "SELECT CAST('12abc' AS SIGNED), CAST('x' AS DOUBLE)",
  'SHOW WARNINGS',
  'SHOW COUNT(*) WARNINGS',
  "INSERT INTO strs (id, c, e) VALUES (50, 'much too long for ten', 'nope')",
  'SHOW WARNINGS LIMIT 1',
  // errors
  'SELEC 1',
  'SELECT * FROM no_such_table',
  'SELECT no_such_column FROM ints',
  'INSERT INTO strs (id) VALUES (1)',
  "INSERT INTO strs (id, v) VALUES (60, '')",
  'SHOW ERRORS',
  'CREATE TABLE ints (x INT)',
  "SELECT JSON_EXTRACT('{', '$')",
  // several result sets
  "SELECT 1; SELECT 'two', 2; UPDATE ints SET ti = ti WHERE id = 1; SELECT * FROM empty_t",
  'SELECT 1; SELEC 2; SELECT 3',
  "SELECT * FROM ints WHERE id = 1; INSERT INTO empty_t VALUES (7, 'x'); DELETE FROM empty_t",
  'CALL two_results()',
  'CALL p_out(21, @b)',
  'SELECT @b',
  // SHOW, DESCRIBE, EXPLAIN
  'SHOW TABLES',
  'SHOW FULL COLUMNS FROM strs',
  'DESCRIBE ints',
  'DESC times',
  'SHOW CREATE TABLE nums',
  'SHOW CREATE PROCEDURE p_out',
  "SHOW VARIABLES LIKE 'sql_mode'",
  "SHOW SESSION VARIABLES WHERE Variable_name IN ('time_zone', 'autocommit')",
  `SHOW DATABASES LIKE '${DB}'`,
  'EXPLAIN SELECT * FROM ints WHERE id = 2',
  "EXPLAIN SELECT * FROM strs WHERE v = 'x'",
  "SHOW CHARACTER SET LIKE 'utf8mb4'",
  // session and transactions
  "SET @x = 5, @y = 'why'",
  'SELECT @x, @y, @nothing',
  'BEGIN',
  "INSERT INTO empty_t VALUES (2, 'tx')",
  'SELECT * FROM empty_t',
  'ROLLBACK',
  'SELECT * FROM empty_t',
  'SET autocommit = 0',
  'SET autocommit = 1',
  'SET NAMES latin1',
  'SELECT v FROM strs WHERE id = 1',
  'SET NAMES utf8mb4',
  'USE information_schema',
  `USE ${DB}`,
  'SELECT DATABASE(), VERSION()',
  'DO 1',
  'SELECT SLEEP(0)',
];

// --- binary protocol -------------------------------------------------------------------------

type Param = null | number | string | Buffer | { readonly longData: true };
const LONG = { longData: true } as const;

/** COM_STMT_PREPARE: int<1> 0x16, string<EOF> statement. */
function comStmtPrepare(sql: string): Buffer {
  return new PacketWriter().int1(COM.STMT_PREPARE).string(sql).payload();
}

/**
 * COM_STMT_EXECUTE. https://mariadb.com/kb/en/com_stmt_execute/
 *   int<1> 0x17, int<4> statement id, int<1> flags, int<4> iteration count (1),
 *   then with parameters: NULL bitmap, int<1> new-params-bound (1), int<2> type per parameter,
 *   values (none for NULL and for parameters sent with COM_STMT_SEND_LONG_DATA)
 */
function comStmtExecute(
  id: number,
  params: readonly Param[] = [],
  flags: number = CURSOR_TYPE.NO_CURSOR,
): Buffer {
  const w = new PacketWriter().int1(COM.STMT_EXECUTE).int4(id).int1(flags).int4(1);
  if (params.length === 0) return w.payload();
  const bitmap = Buffer.alloc((params.length + 7) >> 3);
  params.forEach((p, i) => {
    if (p === null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  w.bytes(bitmap).int1(1);
  for (const p of params) {
    if (p === null)
      w.int2(0x06); // MYSQL_TYPE_NULL
    else if (typeof p === 'number')
      w.int2(0x08); // MYSQL_TYPE_LONGLONG
    else if (typeof p === 'string')
      w.int2(0xfd); // MYSQL_TYPE_VAR_STRING
    else w.int2(0xfc); // MYSQL_TYPE_BLOB
  }
  for (const p of params) {
    if (typeof p === 'number') w.int8(BigInt.asUintN(64, BigInt(p)));
    else if (typeof p === 'string') w.lenencString(p);
    else if (Buffer.isBuffer(p)) w.lenencBytes(p);
  }
  return w.payload();
}

function stmtCommand(command: number, id: number, ...rest: Buffer[]): Buffer {
  const w = new PacketWriter().int1(command).int4(id);
  for (const b of rest) w.bytes(b);
  return w.payload();
}

function int4(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function int2(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

// --- recording and comparing -----------------------------------------------------------------

/**
 * Errors whose message names a statement id. tandem hands out its own ids, so through it the
 * server's message names the server's id, not the client's (a known, cosmetic difference).
 */
const STATEMENT_ERRORS = new Set([
  1243, // ER_UNKNOWN_STMT_HANDLER
  1421, // ER_STMT_HAS_NO_OPEN_CURSOR
]);

/**
 * How a packet is compared: 'bytes' exactly; 'digits' with every number blurred (uptime and
 * counters); a statement id: exactly, but for that id, which differs per connection (tandem
 * numbers statements itself, from 1; the server's counter is not reset between connections).
 */
type Blur = 'bytes' | 'digits' | { readonly statementId: number };

interface Recorder {
  add(label: string, packets: readonly RawPacket[], blur?: Blur): void;
}

/** One line per packet: small ones in hex, large ones by length and digest, so that a diff reads well. */
function describePacket(p: RawPacket, blur: Blur): string {
  let payload = p.payload;
  if (blur === 'digits') return `${p.seq} ${payload.toString('latin1').replace(/\d+(\.\d+)?/g, 'N')}`;
  if (blur !== 'bytes') {
    if (payload[0] === 0x00 && payload.length === 12 && payload.readUInt32LE(1) === blur.statementId) {
      payload = Buffer.from(payload);
      payload.fill(0, 1, 5); // COM_STMT_PREPARE_OK: int<4> statement id
    } else if (payload[0] === 0xff && STATEMENT_ERRORS.has(payload.readUInt16LE(1))) {
      const message = payload.toString('utf8', 9).replace(/\(\d+\)/, '(<statement id>)');
      return `${p.seq} ${payload.subarray(0, 9).toString('hex')} ${message}`;
    }
  }
  if (payload.length <= 2048) return `${p.seq} ${payload.toString('hex')}`;
  const digest = createHash('sha256').update(payload).digest('hex').slice(0, 16);
  return `${p.seq} [${payload.length} bytes, sha256 ${digest}, starts ${payload.subarray(0, 8).toString('hex')}]`;
}

type Script = (c: RawClient, rec: Recorder) => Promise<void>;

interface Record {
  readonly label: string;
  readonly packets: readonly string[];
}

async function freshDatabase(): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB}`);
}

async function record(port: number, capabilities: number, script: Script): Promise<Record[]> {
  await freshDatabase();
  const c = await RawClient.connect('127.0.0.1', port, { database: DB, capabilities });
  const out: Record[] = [
    { label: 'authentication OK', packets: [describePacket({ seq: 0, payload: c.authOk }, 'bytes')] },
  ];
  try {
    await script(c, {
      add: (label, packets, blur = 'bytes') =>
        out.push({ label, packets: packets.map((p) => describePacket(p, blur)) }),
    });
    // Nothing may follow the last response: the next command's answer comes first.
    await c.sync();
  } finally {
    c.quit();
  }
  return out;
}

async function compare(capabilities: number, script: Script): Promise<Record[]> {
  const direct = await record(source.port, capabilities, script);
  const proxied = await record(proxy.port, capabilities, script);
  expect(proxied).toEqual(direct);
  return direct;
}

async function runQueries(c: RawClient, rec: Recorder, statements: readonly string[]): Promise<void> {
  for (const sql of statements) {
    rec.add(sql, await c.query(sql));
    await c.sync();
  }
}

const textCorpus: Script = async (c, rec) => {
  await runQueries(c, rec, SETUP);
  await runQueries(c, rec, QUERIES);
};

/** Statement id from a COM_STMT_PREPARE_OK: int<1> 0x00, int<4> statement id. */
function statementId(packets: readonly RawPacket[]): number {
  const ok = packets[0]!.payload;
  if (ok[0] !== 0x00) throw new Error(`prepare failed: ${ok.toString('latin1')}`);
  return ok.readUInt32LE(1);
}

const binaryCorpus: Script = async (c, rec) => {
  await runQueries(c, rec, SETUP);
  const prepare = async (sql: string): Promise<number> => {
    const packets = await c.command(comStmtPrepare(sql));
    const id = packets[0]!.payload[0] === 0x00 ? statementId(packets) : -1;
    rec.add(`prepare ${sql}`, packets, { statementId: id });
    return id;
  };
  const execute = async (id: number, params: readonly Param[] = [], label = ''): Promise<void> => {
    rec.add(`execute ${label}`, await c.command(comStmtExecute(id, params)), { statementId: id });
    await c.sync();
  };

  const byId = await prepare('SELECT * FROM ints WHERE id >= ? ORDER BY id');
  await execute(byId, [0]);
  await execute(byId, [3]);
  await execute(byId, [null]);
  for (const table of ['nums', 'times', 'strs'])
    await execute(await prepare(`SELECT * FROM ${table} ORDER BY id`));
  await execute(await prepare('SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? + 1 AS e'), [
    42,
    'héllo',
    null,
    Buffer.from([0, 0xff]),
    -9007199254740991,
  ]);
  await execute(await prepare('SELECT * FROM ints WHERE id < 0'));
  await execute(await prepare("SELECT REPEAT('r', 70000), REPEAT(?, 3)"), ['xy']);

  const insert = await prepare('INSERT INTO strs (id, v) VALUES (?, ?)');
  await execute(insert, [100, 'p1'], 'insert');
  await execute(insert, [100, 'p2'], 'duplicate key');
  await execute(await prepare('INSERT INTO ints (id, ti) VALUES (?, ?)'), [50, 1000], 'warning');
  await prepare('SELEC ?');
  await prepare('SELECT * FROM no_such_table WHERE id = ?');
  await execute(await prepare('CALL two_results()'), [], 'several result sets');
  await execute(await prepare('CALL p_out(?, ?)'), [21, null], 'OUT parameters');

  // A read-only cursor: metadata first, then rows by COM_STMT_FETCH (int<4> id, int<4> rows).
  const cursor = await prepare('SELECT id, v FROM strs ORDER BY id');
  const ofCursor = { statementId: cursor };
  const executeCursor = comStmtExecute(cursor, [], CURSOR_TYPE.READ_ONLY);
  rec.add('execute with cursor', await c.command(executeCursor, { cursor: true }), ofCursor);
  rec.add('fetch 2', await c.command(stmtCommand(COM.STMT_FETCH, cursor, int4(2))), ofCursor);
  rec.add('fetch 100', await c.command(stmtCommand(COM.STMT_FETCH, cursor, int4(100))), ofCursor);
  rec.add('fetch after the end', await c.command(stmtCommand(COM.STMT_FETCH, cursor, int4(1))), ofCursor);
  await c.sync();

  // COM_STMT_SEND_LONG_DATA: int<1> 0x18, int<4> id, int<2> parameter, string<EOF> data; no response.
  const long = await prepare('INSERT INTO strs (id, lt) VALUES (?, ?)');
  for (const chunk of ['first chunk ', 'z'.repeat(100_000)]) {
    rec.add(
      'send long data',
      await c.command(stmtCommand(COM.STMT_SEND_LONG_DATA, long, int2(1), Buffer.from(chunk))),
    );
  }
  await execute(long, [200, LONG], 'with long data');
  rec.add('long data stored', await c.query('SELECT id, LENGTH(lt), LEFT(lt, 14) FROM strs WHERE id = 200'));
  rec.add('reset', await c.command(stmtCommand(COM.STMT_RESET, long)), { statementId: long });
  rec.add('reset unknown statement', await c.command(stmtCommand(COM.STMT_RESET, 9999)));
  rec.add('close', await c.command(stmtCommand(COM.STMT_CLOSE, long)), { statementId: long });
  await execute(long, [201, 'gone'], 'after close');
};

const otherCommands: Script = async (c, rec) => {
  await runQueries(c, rec, SETUP.slice(0, 4));
  const one = async (label: string, payload: Buffer, blur: Blur = 'bytes'): Promise<void> => {
    rec.add(label, await c.command(payload), blur);
    await c.sync();
  };
  const cmd = (command: number, body = ''): Buffer => new PacketWriter().int1(command).string(body).payload();
  await one('COM_PING', cmd(COM.PING));
  // COM_FIELD_LIST: int<1> 0x04, string<NUL> table, string<EOF> wildcard
  await one('COM_FIELD_LIST ints', cmd(COM.FIELD_LIST, 'ints\0'));
  await one('COM_FIELD_LIST with wildcard', cmd(COM.FIELD_LIST, 'ints\0b%'));
  await one('COM_FIELD_LIST unknown table', cmd(COM.FIELD_LIST, 'no_such_table\0'));
  await one('COM_STATISTICS', cmd(COM.STATISTICS), 'digits');
  await one('COM_INIT_DB', cmd(COM.INIT_DB, 'information_schema'));
  await one('COM_INIT_DB back', cmd(COM.INIT_DB, DB));
  await one('COM_INIT_DB unknown database', cmd(COM.INIT_DB, 'no_such_database_here'));
  // COM_SET_OPTION: int<1> 0x1b, int<2> 0 MYSQL_OPTION_MULTI_STATEMENTS_ON, 1 _OFF
  await one('COM_SET_OPTION multi statements off', Buffer.from([COM.SET_OPTION, 1, 0]));
  await one('multi statement refused', comQuery('SELECT 1; SELECT 2'));
  await one('COM_SET_OPTION multi statements on', Buffer.from([COM.SET_OPTION, 0, 0]));
  await one('multi statement allowed', comQuery('SELECT 1; SELECT 2'));
  await one('COM_SET_OPTION unknown option', Buffer.from([COM.SET_OPTION, 9, 0]));

  // COM_CHANGE_USER: int<1> 0x11, string<NUL> user, int<1> auth length + data, string<NUL> database,
  // int<2> collation, string<NUL> plugin, string<lenenc> attributes. The server answers with an
  // authentication switch whose scramble is new each time (masked), then OK.
  c.send(
    new PacketWriter()
      .int1(COM.CHANGE_USER)
      .nulString('root')
      .int1(0)
      .nulString('information_schema')
      .int2(45)
      .nulString('mysql_native_password')
      .lenencBytes(Buffer.alloc(0))
      .payload(),
  );
  const changeUser: RawPacket[] = [await c.read()];
  if (changeUser[0]!.payload[0] === 0xfe) {
    const sw = changeUser[0]!;
    changeUser[0] = { seq: sw.seq, payload: sw.payload.subarray(0, sw.payload.indexOf(0) + 1) };
    c.send(Buffer.alloc(0), sw.seq + 1); // the empty password's token is empty
    changeUser.push(await c.read());
  }
  rec.add('COM_CHANGE_USER', changeUser);
  await one('after COM_CHANGE_USER', comQuery('SELECT DATABASE(), CURRENT_USER()'));
  await one('COM_INIT_DB after change user', cmd(COM.INIT_DB, DB));

  // Statements of 16 MiB and more from the client: continued packets towards the server.
  const lengthOf = (payloadLength: number) =>
    comQuery(`SELECT LENGTH('${'s'.repeat(payloadLength - 1 - "SELECT LENGTH('')".length)}')`);
  const exact = lengthOf(0xffffff);
  expect(exact).toHaveLength(0xffffff);
  await one('a statement of exactly 0xffffff bytes', exact);
  await one('a statement of 0xffffff + 100 bytes', lengthOf(0xffffff + 100));

  // Pipelined: three commands written at once, answered in order.
  const piped = await c.pipeline([comQuery('SELECT 1'), comQuery('SELEC 2'), comQuery("SELECT 'three', 3")]);
  for (const [i, packets] of piped.entries()) rec.add(`pipelined ${i}`, packets);
  await c.sync();

  await one('set a user variable', comQuery("SET @kept = 'before reset'"));
  await one('COM_RESET_CONNECTION', cmd(COM.RESET_CONNECTION));
  await one('user variable gone after reset', comQuery('SELECT @kept, @@sql_mode'));
};

// --- the tests -------------------------------------------------------------------------------

const PROFILES = [
  ['with CLIENT_DEPRECATE_EOF', MODERN_CLIENT],
  ['without CLIENT_DEPRECATE_EOF', MODERN_CLIENT & ~CLIENT.DEPRECATE_EOF],
  ['as a MySQL 5.x client (EOF packets, no MariaDB extensions)', CLASSIC_CLIENT],
] as const;

describe('responses through tandem are byte-identical to the source', () => {
  it('greets with the source greeting, but for connection id, scramble and what tandem does not relay', async () => {
    const direct = await RawClient.connect(source.host, source.port);
    const proxied = await RawClient.connect('127.0.0.1', proxy.port);
    try {
      const masked = (g: HandshakeV10, capabilities: number, mariadb: number) =>
        encodeHandshakeV10({
          ...g,
          connectionId: 0,
          scramble: Buffer.alloc(20),
          capabilities,
          mariadbCapabilities: mariadb,
        }).toString('hex');
      const d = direct.greeting;
      const p = proxied.greeting;
      expect(p.capabilities).toBe(
        (d.capabilities & PROXY_CAPABILITIES & ~CLIENT.SSL & ~CLIENT.LOCAL_FILES) >>> 0,
      );
      expect(masked(p, 0, 0)).toBe(masked(d, 0, 0));
      expect(p.scramble).toHaveLength(20);
      expect(p.scramble.equals(d.scramble)).toBe(false);
    } finally {
      direct.quit();
      proxied.quit();
    }
  });

  it(`covers at least 60 statements`, () => {
    expect(SETUP.length + QUERIES.length).toBeGreaterThanOrEqual(60);
  });

  for (const [name, capabilities] of PROFILES) {
    it(`for the text protocol corpus, ${name}`, async () => {
      const records = await compare(capabilities, textCorpus);
      // The corpus did what it says: a warning, an error, a multi-result, a 16 MiB row.
      const find = (label: string) => records.find((r) => r.label === label)!.packets;
      expect(find('SELEC 1')[0]).toMatch(/^1 ff2804/); // ER_PARSE_ERROR 1064
      expect(find('INSERT INTO strs (id) VALUES (1)')[0]).toMatch(/^1 ff2604/); // ER_DUP_ENTRY 1062
      expect(find('SELECT * FROM no_such_table')[0]).toMatch(/^1 ff7a04/); // ER_NO_SUCH_TABLE 1146
      expect(find("SELECT REPEAT('g', 16777225), 'after'").some((l) => l.includes('16777240 bytes'))).toBe(
        true,
      );
      expect(find('CALL two_results()').length).toBeGreaterThan(8);
    });
  }

  it('agrees on what the corpus returns (sanity check of the raw client)', async () => {
    await freshDatabase();
    const c = await RawClient.connect('127.0.0.1', proxy.port, { database: DB });
    try {
      for (const sql of SETUP) await c.query(sql);
      const rows = textRows(
        await c.query('SELECT id, bu, v FROM ints JOIN strs USING (id) ORDER BY id'),
        true,
      );
      expect(rows).toEqual([
        ['1', '0', 'héllo wörld ✓ 🐬'],
        ['2', '18446744073709551615', ''],
        ['3', null, null],
      ]);
    } finally {
      c.quit();
    }
  });

  for (const [name, capabilities] of PROFILES.slice(0, 2)) {
    it(`for prepared statements (binary protocol, cursors, long data), ${name}`, async () => {
      await compare(capabilities, binaryCorpus);
    });
  }

  it('for the other commands: field list, statistics, ping, init db, change user, set option, reset connection, 16 MiB statements, pipelining', async () => {
    const records = await compare(MODERN_CLIENT, otherCommands);
    expect(records.find((r) => r.label === 'COM_STATISTICS')!.packets[0]).toMatch(/^1 Uptime: N/);
  });
});
