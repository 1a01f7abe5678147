import { describe, expect, it } from 'vitest';
import { CLIENT, MARIADB_CLIENT, SERVER_STATUS } from '../../src/protocol/constants.js';
import { decodeAuthSwitchRequest } from '../../src/protocol/packets/auth-switch-request.js';
import { decodeErr, encodeErr } from '../../src/protocol/packets/err.js';
import {
  decodeHandshakeResponse,
  encodeHandshakeResponse,
  isSslRequest,
  patchCapabilities,
} from '../../src/protocol/packets/handshake-response.js';
import { decodeHandshakeV10, encodeHandshakeV10 } from '../../src/protocol/packets/handshake-v10.js';
import { decodeOk, encodeEof, encodeOk, eofStatus, isEofPacket } from '../../src/protocol/packets/ok.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Strips the 4-byte header of a captured packet. */
const payloadOf = (packet: Buffer): Buffer => packet.subarray(4);

/**
 * Captured from MariaDB 10.11.19 (Debian 12) on 127.0.0.1: its initial handshake, as sent.
 * Capabilities 0x81fff7fe (no CLIENT_LONG_PASSWORD: MariaDB extended capabilities 0x1d follow),
 * collation 45 (utf8mb4_general_ci), status 0x0002 (autocommit), a 21-byte scramble length.
 */
const MARIADB_GREETING = hex(`
  64000000 0a
  352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100 06000000
  5a43217654224722 00 fef7 2d 0200 ff81 15 000000000000 1d000000
  6e2a25774b5032485242347a 00
  6d7973716c5f6e61746976655f70617373776f726400`);

/**
 * Captured from the `mariadb` command-line client (libmariadb 3.3.20) answering a MariaDB
 * greeting: no database, an empty password, connection attributes.
 */
const MARIADB_CLI_RESPONSE = hex(`
  bc000001 84a2bf00 00000010 21 00000000000000000000000000000000000000 1d000000
  726f6f7400 00 6d7973716c5f6e61746976655f70617373776f726400
  7f035f6f73054c696e75780c5f636c69656e745f6e616d650a6c69626d617269616462045f7069640532353238310f5f636c69656e
  745f76657273696f6e06332e332e3230095f706c6174666f726d067838365f36340c70726f6772616d5f6e616d65056d7973716c0c
  5f7365727665725f686f7374093132372e302e302e31`);

describe('initial handshake (protocol version 10)', () => {
  it('decodes a real MariaDB greeting', () => {
    const g = decodeHandshakeV10(payloadOf(MARIADB_GREETING));
    expect(g).toEqual({
      serverVersion: '5.5.5-10.11.19-MariaDB-0+deb12u1',
      connectionId: 6,
      scramble: hex('5a43217654224722 6e2a25774b5032485242347a'),
      capabilities: 0x81fff7fe,
      mariadbCapabilities:
        MARIADB_CLIENT.PROGRESS |
        MARIADB_CLIENT.STMT_BULK_OPERATIONS |
        MARIADB_CLIENT.EXTENDED_TYPE_INFO |
        MARIADB_CLIENT.CACHE_METADATA,
      collation: 45,
      status: SERVER_STATUS.AUTOCOMMIT,
      authPlugin: 'mysql_native_password',
    });
    expect(g.capabilities & CLIENT.LONG_PASSWORD).toBe(0);
    expect(g.capabilities & CLIENT.DEPRECATE_EOF).not.toBe(0);
  });

  it('encodes it back to the same bytes', () => {
    const g = decodeHandshakeV10(payloadOf(MARIADB_GREETING));
    expect(encodeHandshakeV10(g, 0).toString('hex')).toBe(MARIADB_GREETING.toString('hex'));
  });

  it('writes zeros instead of MariaDB capabilities when CLIENT_LONG_PASSWORD is set', () => {
    const g = decodeHandshakeV10(payloadOf(MARIADB_GREETING));
    const encoded = encodeHandshakeV10({ ...g, capabilities: g.capabilities | CLIENT.LONG_PASSWORD });
    const again = decodeHandshakeV10(payloadOf(encoded));
    expect(again.mariadbCapabilities).toBe(0);
    expect(again.scramble.equals(g.scramble)).toBe(true);
  });

  it('refuses another protocol version', () => {
    const v9 = Buffer.from(payloadOf(MARIADB_GREETING));
    v9[0] = 9;
    expect(() => decodeHandshakeV10(v9)).toThrow(/protocol version 9/);
  });
});

describe('handshake response (HandshakeResponse41)', () => {
  it('decodes a real response of the mariadb client', () => {
    expect(decodeHandshakeResponse(payloadOf(MARIADB_CLI_RESPONSE))).toEqual({
      capabilities: 0x00bfa284,
      maxPacketSize: 0x10000000,
      collation: 33,
      mariadbCapabilities: 0x1d,
      user: 'root',
      authResponse: Buffer.alloc(0),
      database: undefined,
      authPlugin: 'mysql_native_password',
    });
  });

  it('round-trips through encodeHandshakeResponse, with a database and a token', () => {
    const input = {
      capabilities:
        CLIENT.PROTOCOL_41 |
        CLIENT.SECURE_CONNECTION |
        CLIENT.PLUGIN_AUTH |
        CLIENT.CONNECT_WITH_DB |
        CLIENT.CONNECT_ATTRS |
        CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA,
      mariadbCapabilities: MARIADB_CLIENT.EXTENDED_TYPE_INFO,
      maxPacketSize: 1 << 24,
      collation: 45,
      user: 'app',
      authResponse: hex('00112233445566778899aabbccddeeff00112233'),
      database: 'shop',
      authPlugin: 'mysql_native_password',
      attributes: { _client_name: 'test' },
    };
    const packet = encodeHandshakeResponse(input, 1);
    expect(packet[3]).toBe(1);
    expect(decodeHandshakeResponse(payloadOf(packet))).toEqual({
      capabilities: input.capabilities,
      maxPacketSize: input.maxPacketSize,
      collation: 45,
      mariadbCapabilities: MARIADB_CLIENT.EXTENDED_TYPE_INFO,
      user: 'app',
      authResponse: input.authResponse,
      database: 'shop',
      authPlugin: 'mysql_native_password',
    });
  });

  it('reads an auth response with a 1-byte length when lenenc client data is not set', () => {
    const packet = encodeHandshakeResponse(
      {
        capabilities: CLIENT.LONG_PASSWORD | CLIENT.PROTOCOL_41 | CLIENT.SECURE_CONNECTION,
        mariadbCapabilities: MARIADB_CLIENT.PROGRESS,
        maxPacketSize: 0,
        collation: 8,
        user: 'u',
        authResponse: hex('abcd'),
        database: undefined,
        authPlugin: 'mysql_native_password',
      },
      1,
    );
    const r = decodeHandshakeResponse(payloadOf(packet));
    expect(r.authResponse.toString('hex')).toBe('abcd');
    expect(r.mariadbCapabilities).toBe(0); // CLIENT_LONG_PASSWORD set: the field is filler
    expect(r.authPlugin).toBeUndefined();
  });

  it('refuses a pre-4.1 response and a truncated one', () => {
    expect(() => decodeHandshakeResponse(hex('00000000 00000000 21'))).toThrow(/4\.1/);
    expect(() => decodeHandshakeResponse(payloadOf(MARIADB_CLI_RESPONSE).subarray(0, 40))).toThrow();
  });

  it('tells an SSLRequest by its 32 bytes and CLIENT_SSL', () => {
    const ssl = Buffer.alloc(32);
    ssl.writeUInt32LE(CLIENT.PROTOCOL_41 | CLIENT.SSL);
    expect(isSslRequest(ssl)).toBe(true);
    ssl.writeUInt32LE(CLIENT.PROTOCOL_41);
    expect(isSslRequest(ssl)).toBe(false);
    expect(isSslRequest(payloadOf(MARIADB_CLI_RESPONSE))).toBe(false);
  });

  it('patches capabilities in place, and MariaDB capabilities only when CLIENT_LONG_PASSWORD is unset', () => {
    const p = Buffer.from(payloadOf(MARIADB_CLI_RESPONSE));
    patchCapabilities(p, 0x00a0a204, MARIADB_CLIENT.EXTENDED_TYPE_INFO);
    expect(decodeHandshakeResponse(p)).toMatchObject({
      capabilities: 0x00a0a204,
      mariadbCapabilities: MARIADB_CLIENT.EXTENDED_TYPE_INFO,
      user: 'root',
    });
    patchCapabilities(p, 0x00a0a205, 0x1f);
    expect(p.readUInt32LE(28)).toBe(MARIADB_CLIENT.EXTENDED_TYPE_INFO);
  });
});

describe('OK, ERR and EOF packets', () => {
  // OK after `INSERT ... VALUES (1),(2),(3)` into an auto-increment table: 3 rows, id 300,
  // autocommit, 1 warning, info "Records: 3  Duplicates: 0  Warnings: 1" (string<EOF>, no SESSION_TRACK).
  const OK = hex(
    '00 03 fc2c01 0200 0100 5265636f7264733a203320204475706c6963617465733a203020205761726e696e67733a2031',
  );

  it('decodes an OK packet', () => {
    expect(decodeOk(OK)).toEqual({ affectedRows: 3, lastInsertId: 300, status: 2, warnings: 1 });
  });

  it('decodes the OK packet that ends a result under CLIENT_DEPRECATE_EOF (header 0xfe)', () => {
    expect(decodeOk(hex('fe 00 00 2200 0000'))).toEqual({
      affectedRows: 0,
      lastInsertId: 0,
      status: SERVER_STATUS.AUTOCOMMIT | 0x20,
      warnings: 0,
    });
  });

  it('decodes a large insert id and affected rows', () => {
    expect(decodeOk(hex('00 fe0000000001000000 fe0000000000002000 0000 0000'))).toMatchObject({
      affectedRows: 2 ** 32,
      lastInsertId: 2n ** 53n,
    });
  });

  it('encodes OK packets, with the info as string<lenenc> under CLIENT_SESSION_TRACK', () => {
    expect(encodeOk({ affectedRows: 1, status: 2 }, 1, 0).toString('hex')).toBe('0700000100010002000000');
    expect(encodeOk({ info: 'hi' }, 2, CLIENT.SESSION_TRACK).toString('hex')).toBe(
      '0a00000200000000000000026869',
    );
    expect(encodeOk({ info: 'hi' }, 2, 0).toString('hex')).toBe('09000002000000000000006869');
  });

  // ERR from MariaDB for `SELECT * FROM no_such_table` in database `d`.
  const ERR = hex(
    'ff 7a04 23 3432533032 5461626c652027642e6e6f5f737563685f7461626c652720646f65736e2774206578697374',
  );

  it('decodes an ERR packet', () => {
    expect(decodeErr(ERR)).toEqual({
      errno: 1146,
      sqlState: '42S02',
      message: "Table 'd.no_such_table' doesn't exist",
    });
  });

  it('decodes an ERR packet without SQL state (sent before the handshake)', () => {
    expect(decodeErr(hex('ff 1004 546f6f206d616e7920636f6e6e656374696f6e73'))).toEqual({
      errno: 1040,
      sqlState: 'HY000',
      message: 'Too many connections',
    });
  });

  it('encodes an ERR packet that decodes to the same', () => {
    const packet = encodeErr(
      { errno: 1146, sqlState: '42S02', message: "Table 'd.no_such_table' doesn't exist" },
      1,
    );
    expect(packet.subarray(0, 4).toString('hex')).toBe(`${ERR.length.toString(16)}000001`);
    expect(payloadOf(packet).toString('hex')).toBe(ERR.toString('hex'));
  });

  it('pads or cuts a SQL state to 5 characters', () => {
    expect(decodeErr(payloadOf(encodeErr({ errno: 1, sqlState: 'HY', message: '' }, 1))).sqlState).toBe(
      'HY000',
    );
    expect(decodeErr(payloadOf(encodeErr({ errno: 1, sqlState: 'HY0001', message: '' }, 1))).sqlState).toBe(
      'HY000',
    );
  });

  it('tells an EOF packet from a row that starts with 0xfe by its length', () => {
    expect(isEofPacket(hex('fe 0000 0200'))).toBe(true);
    expect(isEofPacket(hex('fe'))).toBe(true);
    expect(isEofPacket(hex('fe 0000000000000000'))).toBe(false); // 9 bytes: an int<lenenc> of 8 bytes
    expect(isEofPacket(hex('00 0000 0200'))).toBe(false);
    expect(isEofPacket(Buffer.alloc(0))).toBe(false);
  });

  it('encodes an EOF packet and reads its status back', () => {
    const eof = encodeEof(SERVER_STATUS.MORE_RESULTS_EXISTS | SERVER_STATUS.AUTOCOMMIT, 3, 5);
    expect(eof.toString('hex')).toBe('05000005fe03000a00');
    expect(eofStatus(payloadOf(eof))).toBe(0x0a);
  });
});

describe('authentication switch request', () => {
  it('decodes the plugin name and the scramble without its trailing NUL', () => {
    const payload = hex(
      'fe 6d7973716c5f6e61746976655f70617373776f726400 3132333435363738393031323334353637383930 00',
    );
    expect(decodeAuthSwitchRequest(payload)).toEqual({
      plugin: 'mysql_native_password',
      data: Buffer.from('12345678901234567890'),
    });
  });
});
