import { CLIENT } from '../constants.js';
import { PacketReader } from '../packet-reader.js';
import { PacketWriter } from '../packet-writer.js';

/**
 * Initial handshake packet, protocol version 10, sent by the server.
 * https://mariadb.com/kb/en/connection/#initial-handshake-packet
 *   int<1>      protocol version (10)
 *   string<NUL> server version
 *   int<4>      connection id
 *   string[8]   scramble, part 1
 *   int<1>      filler
 *   int<2>      capabilities, lower 2 bytes
 *   int<1>      default collation
 *   int<2>      status flags
 *   int<2>      capabilities, upper 2 bytes
 *   int<1>      scramble length (CLIENT_PLUGIN_AUTH) or 0
 *   string[6]   filler
 *   int<4>      MariaDB extended capabilities when CLIENT_LONG_PASSWORD is unset, else filler
 *   string[n]   scramble, part 2: max(12, scramble length - 9) bytes, then a NUL (CLIENT_SECURE_CONNECTION)
 *   string<NUL> authentication plugin name (CLIENT_PLUGIN_AUTH)
 */
export interface HandshakeV10 {
  readonly serverVersion: string;
  readonly connectionId: number;
  /** The 20-byte nonce, without the trailing NUL. */
  readonly scramble: Buffer;
  readonly capabilities: number;
  readonly mariadbCapabilities: number;
  readonly collation: number;
  readonly status: number;
  readonly authPlugin: string;
}

export function decodeHandshakeV10(payload: Buffer): HandshakeV10 {
  const r = new PacketReader(payload);
  const protocol = r.int1();
  if (protocol !== 10) throw new Error(`unsupported handshake protocol version ${protocol}`);
  const serverVersion = r.nulString();
  const connectionId = r.int4();
  const part1 = r.bytes(8);
  r.advance(1);
  let capabilities = r.int2();
  const collation = r.int1();
  const status = r.int2();
  capabilities = (capabilities | (r.int2() << 16)) >>> 0;
  const scrambleLength = r.int1();
  r.advance(6);
  const ext = r.int4();
  const mariadbCapabilities = capabilities & CLIENT.LONG_PASSWORD ? 0 : ext;
  let part2: Buffer = Buffer.alloc(0);
  if (capabilities & CLIENT.SECURE_CONNECTION) {
    const n = Math.max(12, scrambleLength - 9);
    part2 = r.bytes(n);
    if (r.remaining > 0 && payload[r.offset] === 0) r.advance(1);
  }
  let authPlugin = 'mysql_native_password';
  if (capabilities & CLIENT.PLUGIN_AUTH && r.remaining > 0) {
    const end = payload.indexOf(0, r.offset);
    authPlugin = payload.subarray(r.offset, end < 0 ? payload.length : end).toString('utf8');
  }
  return {
    serverVersion,
    connectionId,
    scramble: Buffer.concat([part1, part2]),
    capabilities,
    mariadbCapabilities,
    collation,
    status,
    authPlugin,
  };
}

export function encodeHandshakeV10(h: HandshakeV10, seq = 0): Buffer {
  const w = new PacketWriter(128)
    .int1(10)
    .nulString(h.serverVersion)
    .int4(h.connectionId)
    .bytes(h.scramble.subarray(0, 8))
    .int1(0)
    .int2(h.capabilities & 0xffff)
    .int1(h.collation)
    .int2(h.status)
    .int2(h.capabilities >>> 16)
    .int1(h.capabilities & CLIENT.PLUGIN_AUTH ? h.scramble.length + 1 : 0)
    .zeros(6)
    .int4(h.capabilities & CLIENT.LONG_PASSWORD ? 0 : h.mariadbCapabilities);
  if (h.capabilities & CLIENT.SECURE_CONNECTION) {
    const part2 = h.scramble.subarray(8);
    w.bytes(part2);
    if (part2.length < 12) w.zeros(12 - part2.length);
    w.int1(0);
  }
  if (h.capabilities & CLIENT.PLUGIN_AUTH) w.nulString(h.authPlugin);
  return w.toPacket(seq);
}
