import { PacketReader } from '../packet-reader.js';
import { PacketWriter } from '../packet-writer.js';

/**
 * ERR_Packet. https://mariadb.com/kb/en/err_packet/
 *   int<1>     0xff header
 *   int<2>     error code
 *   string[1]  '#' SQL state marker (CLIENT_PROTOCOL_41)
 *   string[5]  SQL state
 *   string<EOF> message
 */
export interface ErrPacket {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

export function encodeErr(err: ErrPacket, seq: number): Buffer {
  return new PacketWriter(16 + err.message.length * 3)
    .int1(0xff)
    .int2(err.errno)
    .string('#')
    .string(err.sqlState.padEnd(5, '0').slice(0, 5))
    .string(err.message)
    .toPacket(seq);
}

export function decodeErr(payload: Buffer): ErrPacket {
  const r = new PacketReader(payload, 1);
  const errno = r.int2();
  let sqlState = 'HY000';
  if (r.remaining > 0 && payload[r.offset] === 0x23 /* '#' */) {
    r.advance(1);
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: r.restString() };
}
