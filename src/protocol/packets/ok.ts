import { CLIENT } from '../constants.js';
import { PacketReader } from '../packet-reader.js';
import { PacketWriter } from '../packet-writer.js';

/**
 * OK_Packet (header 0x00, or 0xfe when it ends a result set under CLIENT_DEPRECATE_EOF).
 * https://mariadb.com/kb/en/ok_packet/
 *   int<1>       header
 *   int<lenenc>  affected rows
 *   int<lenenc>  last insert id
 *   int<2>       server status flags (CLIENT_PROTOCOL_41)
 *   int<2>       warning count (CLIENT_PROTOCOL_41)
 *   string<lenenc>/string<EOF> info, then session state changes (CLIENT_SESSION_TRACK)
 */
export interface OkPacket {
  readonly affectedRows: number | bigint;
  readonly lastInsertId: number | bigint;
  readonly status: number;
  readonly warnings: number;
}

export function decodeOk(payload: Buffer): OkPacket {
  const r = new PacketReader(payload, 1);
  const affectedRows = r.lenencInt() ?? 0;
  const lastInsertId = r.lenencInt() ?? 0;
  const status = r.remaining >= 2 ? r.int2() : 0;
  const warnings = r.remaining >= 2 ? r.int2() : 0;
  return { affectedRows, lastInsertId, status, warnings };
}

export function encodeOk(
  ok: Partial<OkPacket> & { info?: string },
  seq: number,
  capabilities: number,
): Buffer {
  const w = new PacketWriter(16)
    .int1(0x00)
    .lenencInt(ok.affectedRows ?? 0)
    .lenencInt(ok.lastInsertId ?? 0)
    .int2(ok.status ?? 0)
    .int2(ok.warnings ?? 0);
  if (ok.info) {
    if (capabilities & CLIENT.SESSION_TRACK) w.lenencString(ok.info);
    else w.string(ok.info);
  }
  return w.toPacket(seq);
}

/**
 * EOF_Packet: int<1> 0xfe, int<2> warnings, int<2> status. Shorter than 9 bytes, which is how
 * it is told apart from a row that starts with a 0xfe length prefix.
 * https://mariadb.com/kb/en/eof_packet/
 */
export function isEofPacket(payload: Buffer): boolean {
  return payload.length > 0 && payload.length < 9 && payload[0] === 0xfe;
}

export function eofStatus(payload: Buffer): number {
  return payload.length >= 5 ? payload.readUInt16LE(3) : 0;
}

export function encodeEof(status: number, warnings: number, seq: number): Buffer {
  return new PacketWriter(5).int1(0xfe).int2(warnings).int2(status).toPacket(seq);
}
