import { describe, expect, it } from 'vitest';
import { CLIENT, COM } from '../../src/protocol/constants.js';
import { ResponseTracker, type Verdict } from '../../src/protocol/response-tracker.js';

/**
 * ResponseTracker as a table: each case is a command, the packets a server answers it with
 * (first bytes in hex, and the declared length when the packet is larger than what is given),
 * and the verdict after each packet. The response ends exactly at its last packet.
 */

interface Packet {
  readonly hex: string;
  /** The packet's full length when only its start is given (rows of 16 MiB and more). */
  readonly length?: number;
}

interface Case {
  readonly name: string;
  readonly command: number;
  readonly deprecateEof: boolean;
  readonly cursor?: boolean;
  readonly packets: readonly (string | Packet)[];
  /** Verdicts, one per packet, space-separated. */
  readonly verdicts: string;
  /** Checked against the tracker once all packets are in. */
  readonly after?: Partial<{ statementId: number; resultSets: number; status: number; error: boolean }>;
  /** Called between packets, e.g. afterInfile() once the client's file is sent. */
  readonly between?: Readonly<Record<number, (t: ResponseTracker) => void>>;
}

// Packets, by what they are. Status flags: 0x0002 autocommit, 0x0008 more results, 0x0040 cursor, 0x0080 last row.
const OK = '00 00 00 0200 0000';
const OK_MORE = '00 00 00 0a00 0000';
const ERR = 'ff 2804 23 3432303030 73796e746178';
const EOF = 'fe 0000 0200';
const EOF_MORE = 'fe 0000 0a00';
const EOF_CURSOR = 'fe 0000 4200';
const EOF_LAST_ROW = 'fe 0000 8200';
/** The OK packet that ends a result set under CLIENT_DEPRECATE_EOF. */
const END_OK = 'fe 00 00 0200 0000';
const END_OK_MORE = 'fe 00 00 0a00 0000';
const COLUMN = '03 646566 01 64 01 74 01 74 01 63 01 63 0c 2d00 ff000000 fd 0000 00 0000';
const TEXT_ROW = '01 31 fb';
const EMPTY_STRING_ROW = '00';
const BINARY_ROW = '00 00 2a000000';
const count = (n: number) =>
  n < 251
    ? n.toString(16).padStart(2, '0')
    : `fc ${n
        .toString(16)
        .padStart(4, '0')
        .replace(/(..)(..)/, '$2$1')}`;
/** COM_STMT_PREPARE_OK: 0x00, int<4> statement id, int<2> columns, int<2> params, 0x00, int<2> warnings. */
const prepareOk = (id: number, columns: number, params: number) =>
  `00 ${hexLe(id, 4)} ${hexLe(columns, 2)} ${hexLe(params, 2)} 00 0000`;
const hexLe = (n: number, bytes: number) => {
  const b = Buffer.alloc(bytes);
  b.writeUIntLE(n, 0, bytes);
  return b.toString('hex');
};
const repeat = (n: number, packet: string) => Array.from({ length: n }, () => packet);

const CASES: readonly Case[] = [
  // --- COM_QUERY ---
  { name: 'an OK', command: COM.QUERY, deprecateEof: false, packets: [OK], verdicts: 'done' },
  {
    name: 'an ERR',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [ERR],
    verdicts: 'done',
    after: { error: true },
  },
  {
    name: 'a result set with EOF packets',
    command: COM.QUERY,
    deprecateEof: false,
    packets: [count(2), COLUMN, COLUMN, EOF, TEXT_ROW, EMPTY_STRING_ROW, EOF],
    verdicts: 'more more more more more more done',
    after: { resultSets: 1, status: 2 },
  },
  {
    name: 'a result set under CLIENT_DEPRECATE_EOF (no EOF after the columns, an OK at the end)',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [count(2), COLUMN, COLUMN, TEXT_ROW, EMPTY_STRING_ROW, END_OK],
    verdicts: 'more more more more more done',
    after: { resultSets: 1, status: 2 },
  },
  {
    name: 'an empty result set with EOF packets',
    command: COM.QUERY,
    deprecateEof: false,
    packets: [count(1), COLUMN, EOF, EOF],
    verdicts: 'more more more done',
  },
  {
    name: 'an empty result set under CLIENT_DEPRECATE_EOF',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [count(1), COLUMN, END_OK],
    verdicts: 'more more done',
  },
  {
    name: 'a result set of 251 columns (count as int<lenenc> fc fb00)',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [count(251), ...repeat(251, COLUMN), TEXT_ROW, END_OK],
    verdicts: `${'more '.repeat(253)}done`,
  },
  {
    name: 'a row that starts with 0xfe but is 9 bytes or more, with EOF packets',
    command: COM.QUERY,
    deprecateEof: false,
    packets: [count(1), COLUMN, EOF, { hex: 'fe 0000000001000000', length: 9 + 0x1000000 }, EOF],
    verdicts: 'more more more more done',
  },
  {
    name: 'a row that starts with 0xfe and is 16 MiB or more, under CLIENT_DEPRECATE_EOF',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [count(1), COLUMN, { hex: 'fe 0000000001000000', length: 0xffffff }, END_OK],
    verdicts: 'more more more done',
  },
  {
    name: 'an ERR in the middle of the rows (a killed query)',
    command: COM.QUERY,
    deprecateEof: false,
    packets: [count(1), COLUMN, EOF, TEXT_ROW, ERR],
    verdicts: 'more more more more done',
    after: { error: true },
  },
  {
    name: 'several results: OK, result set, OK (multi-statements)',
    command: COM.QUERY,
    deprecateEof: false,
    packets: [OK_MORE, count(1), COLUMN, EOF, TEXT_ROW, EOF_MORE, OK],
    verdicts: 'more more more more more more done',
    after: { resultSets: 1 },
  },
  {
    name: 'a CALL: two result sets and the final OK, under CLIENT_DEPRECATE_EOF',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [count(1), COLUMN, TEXT_ROW, END_OK_MORE, count(1), COLUMN, END_OK_MORE, OK],
    verdicts: 'more more more more more more more done',
    after: { resultSets: 2 },
  },
  {
    name: 'several results ending with an ERR',
    command: COM.QUERY,
    deprecateEof: true,
    packets: [OK_MORE, ERR],
    verdicts: 'more done',
    after: { error: true },
  },
  {
    name: 'a LOCAL INFILE request, then the OK once the client sent its file',
    command: COM.QUERY,
    deprecateEof: false,
    packets: ['fb 2f746d702f66696c652e637376', OK],
    verdicts: 'infile done',
    between: { 1: (t) => t.afterInfile() },
  },
  // --- COM_STMT_PREPARE ---
  {
    name: 'a prepare with 2 parameters and 1 column, with EOF packets',
    command: COM.STMT_PREPARE,
    deprecateEof: false,
    packets: [prepareOk(7, 1, 2), COLUMN, COLUMN, EOF, COLUMN, EOF],
    verdicts: 'more more more more more done',
    after: { statementId: 7 },
  },
  {
    name: 'a prepare with 2 parameters and 1 column, under CLIENT_DEPRECATE_EOF',
    command: COM.STMT_PREPARE,
    deprecateEof: true,
    packets: [prepareOk(8, 1, 2), COLUMN, COLUMN, COLUMN],
    verdicts: 'more more more done',
    after: { statementId: 8 },
  },
  {
    name: 'a prepare with parameters only',
    command: COM.STMT_PREPARE,
    deprecateEof: false,
    packets: [prepareOk(9, 0, 1), COLUMN, EOF],
    verdicts: 'more more done',
  },
  {
    name: 'a prepare with columns only',
    command: COM.STMT_PREPARE,
    deprecateEof: false,
    packets: [prepareOk(10, 2, 0), COLUMN, COLUMN, EOF],
    verdicts: 'more more more done',
  },
  {
    name: 'a prepare with neither',
    command: COM.STMT_PREPARE,
    deprecateEof: false,
    packets: [prepareOk(0x01020304, 0, 0)],
    verdicts: 'done',
    after: { statementId: 0x01020304 },
  },
  {
    name: 'a prepare that fails',
    command: COM.STMT_PREPARE,
    deprecateEof: true,
    packets: [ERR],
    verdicts: 'done',
    after: { error: true },
  },
  // --- COM_STMT_EXECUTE and COM_STMT_FETCH ---
  {
    name: 'an execute with binary rows (which start with 0x00)',
    command: COM.STMT_EXECUTE,
    deprecateEof: false,
    packets: [count(1), COLUMN, EOF, BINARY_ROW, BINARY_ROW, EOF],
    verdicts: 'more more more more more done',
  },
  {
    name: 'an execute with binary rows under CLIENT_DEPRECATE_EOF',
    command: COM.STMT_EXECUTE,
    deprecateEof: true,
    packets: [count(1), COLUMN, BINARY_ROW, END_OK],
    verdicts: 'more more more done',
  },
  {
    name: 'an execute of an INSERT',
    command: COM.STMT_EXECUTE,
    deprecateEof: true,
    packets: [OK],
    verdicts: 'done',
  },
  {
    name: 'an execute with OUT parameters (a result set flagged PS_OUT_PARAMS, then the OK)',
    command: COM.STMT_EXECUTE,
    deprecateEof: false,
    packets: [count(1), COLUMN, EOF, BINARY_ROW, 'fe 0000 0a10', OK],
    verdicts: 'more more more more more done',
  },
  {
    name: 'a cursor execute: metadata only, ended by an EOF with SERVER_STATUS_CURSOR_EXISTS',
    command: COM.STMT_EXECUTE,
    deprecateEof: false,
    cursor: true,
    packets: [count(2), COLUMN, COLUMN, EOF_CURSOR],
    verdicts: 'more more more done',
  },
  {
    name: 'a cursor execute under CLIENT_DEPRECATE_EOF, which still ends with an EOF',
    command: COM.STMT_EXECUTE,
    deprecateEof: true,
    cursor: true,
    packets: [count(1), COLUMN, EOF_CURSOR],
    verdicts: 'more more done',
  },
  {
    name: 'a cursor execute the server answers without a cursor (rows follow)',
    command: COM.STMT_EXECUTE,
    deprecateEof: false,
    cursor: true,
    packets: [count(1), COLUMN, EOF, BINARY_ROW, EOF],
    verdicts: 'more more more more done',
  },
  {
    name: 'a fetch of some rows',
    command: COM.STMT_FETCH,
    deprecateEof: false,
    packets: [BINARY_ROW, BINARY_ROW, EOF_CURSOR],
    verdicts: 'more more done',
  },
  {
    name: 'a fetch of the last rows',
    command: COM.STMT_FETCH,
    deprecateEof: true,
    packets: [BINARY_ROW, 'fe 00 00 8200 0000'],
    verdicts: 'more done',
    after: { status: 0x82 },
  },
  {
    name: 'a fetch after the last row',
    command: COM.STMT_FETCH,
    deprecateEof: false,
    packets: [EOF_LAST_ROW],
    verdicts: 'done',
  },
  {
    name: 'a fetch without an open cursor',
    command: COM.STMT_FETCH,
    deprecateEof: false,
    packets: [ERR],
    verdicts: 'done',
    after: { error: true },
  },
  // --- the other commands ---
  {
    name: 'a field list',
    command: COM.FIELD_LIST,
    deprecateEof: false,
    packets: [COLUMN, COLUMN, EOF],
    verdicts: 'more more done',
  },
  {
    name: 'a field list under CLIENT_DEPRECATE_EOF (still an EOF at the end)',
    command: COM.FIELD_LIST,
    deprecateEof: true,
    packets: [COLUMN, EOF],
    verdicts: 'more done',
  },
  {
    name: 'a field list of an unknown table',
    command: COM.FIELD_LIST,
    deprecateEof: false,
    packets: [ERR],
    verdicts: 'done',
    after: { error: true },
  },
  {
    name: 'a change user with an authentication switch and more data',
    command: COM.CHANGE_USER,
    deprecateEof: true,
    packets: [
      'fe 6d7973716c5f6e61746976655f70617373776f726400 3132333435363738393031323334353637383930 00',
      '01 03',
      OK,
    ],
    verdicts: 'auth auth done',
  },
  {
    name: 'a change user that is refused',
    command: COM.CHANGE_USER,
    deprecateEof: false,
    packets: [ERR],
    verdicts: 'done',
    after: { error: true },
  },
  { name: 'a ping', command: COM.PING, deprecateEof: true, packets: [OK], verdicts: 'done' },
  {
    name: 'statistics (a bare string)',
    command: COM.STATISTICS,
    deprecateEof: false,
    packets: [Buffer.from('Uptime: 12  Threads: 1').toString('hex')],
    verdicts: 'done',
  },
  {
    name: 'a set option (an EOF)',
    command: COM.SET_OPTION,
    deprecateEof: false,
    packets: [EOF],
    verdicts: 'done',
  },
  {
    name: 'an init db that fails',
    command: COM.INIT_DB,
    deprecateEof: false,
    packets: [ERR],
    verdicts: 'done',
    after: { error: true },
  },
  {
    name: 'a reset connection',
    command: COM.RESET_CONNECTION,
    deprecateEof: true,
    packets: [OK],
    verdicts: 'done',
  },
];

const bytes = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('ResponseTracker', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('follows %s', (_, c) => {
    const tracker = new ResponseTracker(
      c.command,
      c.deprecateEof ? CLIENT.DEPRECATE_EOF : 0,
      c.cursor ?? false,
    );
    const verdicts: Verdict[] = [];
    c.packets.forEach((p, i) => {
      c.between?.[i]?.(tracker);
      const packet = typeof p === 'string' ? { hex: p } : p;
      const payload = bytes(packet.hex);
      verdicts.push(tracker.onPacket(payload, packet.length ?? payload.length));
    });
    expect(verdicts.join(' ')).toBe(c.verdicts);
    expect(tracker.isDone).toBe(true);
    if (c.after?.statementId !== undefined) expect(tracker.statementId).toBe(c.after.statementId);
    if (c.after?.resultSets !== undefined) expect(tracker.resultSets).toBe(c.after.resultSets);
    if (c.after?.status !== undefined) expect(tracker.status).toBe(c.after.status);
    expect(tracker.error !== undefined).toBe(c.after?.error ?? false);
  });

  it.each([
    ['COM_STMT_CLOSE', COM.STMT_CLOSE],
    ['COM_STMT_SEND_LONG_DATA', COM.STMT_SEND_LONG_DATA],
    ['COM_QUIT', COM.QUIT],
  ])('expects no response to %s', (_, command) => {
    const tracker = new ResponseTracker(command, CLIENT.DEPRECATE_EOF);
    expect(tracker.expectsResponse).toBe(false);
    expect(tracker.isDone).toBe(true);
  });

  it('refuses a packet after the end of the response', () => {
    const tracker = new ResponseTracker(COM.PING, 0);
    tracker.onPacket(bytes(OK), 7);
    expect(() => tracker.onPacket(bytes(OK), 7)).toThrow(/after the end/);
  });

  it('keeps the last OK packet for its affected rows and insert id', () => {
    const tracker = new ResponseTracker(COM.QUERY, 0);
    const ok = bytes('00 03 fc2c01 0200 0000');
    tracker.onPacket(ok, ok.length);
    expect(tracker.lastOk?.equals(ok)).toBe(true);
  });

  it('tells the binary protocol by its command', () => {
    expect(new ResponseTracker(COM.STMT_EXECUTE, 0).isBinary).toBe(true);
    expect(new ResponseTracker(COM.STMT_FETCH, 0).isBinary).toBe(true);
    expect(new ResponseTracker(COM.QUERY, 0).isBinary).toBe(false);
  });
});
