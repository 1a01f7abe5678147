import { describe, expect, it } from 'vitest';
import { MalformedPacketError, PacketReader } from '../../src/protocol/packet-reader.js';
import { PacketWriter } from '../../src/protocol/packet-writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** int<lenenc> at every width boundary. https://mariadb.com/kb/en/protocol-data-types/#length-encoded-integers */
const LENENC: readonly [string, number | bigint, string][] = [
  ['zero', 0, '00'],
  ['250, the largest single byte', 250, 'fa'],
  ['251, the first with a 0xfc prefix', 251, 'fc fb00'],
  ['0xffff, the largest int<2>', 0xffff, 'fc ffff'],
  ['0x10000, the first with a 0xfd prefix', 0x10000, 'fd 000001'],
  ['0xffffff, the largest int<3>', 0xffffff, 'fd ffffff'],
  ['0x1000000, the first with a 0xfe prefix', 0x1000000, 'fe 00000001 00000000'],
  ['2^53 - 1, the largest safe integer', Number.MAX_SAFE_INTEGER, 'fe ffffffff ffff1f00'],
  ['2^53, returned as a bigint', 2n ** 53n, 'fe 00000000 00002000'],
  ['2^64 - 1', 2n ** 64n - 1n, 'fe ffffffff ffffffff'],
];

describe('int<lenenc>', () => {
  it.each(LENENC)('writes %s as its hex fixture', (_, value, fixture) => {
    expect(new PacketWriter().lenencInt(value).payload().toString('hex')).toBe(hex(fixture).toString('hex'));
  });

  it.each(LENENC)('reads %s back from its hex fixture, consuming exactly its bytes', (_, value, fixture) => {
    const r = new PacketReader(Buffer.concat([hex(fixture), hex('aa')]));
    expect(r.lenencInt()).toBe(value);
    expect(r.int1()).toBe(0xaa);
    expect(r.remaining).toBe(0);
  });

  it('writes a bigint below 2^53 as the number would be written', () => {
    expect(new PacketWriter().lenencInt(251n).payload()).toEqual(new PacketWriter().lenencInt(251).payload());
  });

  it('reads 0xfb as NULL', () => {
    expect(new PacketReader(hex('fb')).lenencInt()).toBeNull();
  });

  it('refuses 0xff, which is no int<lenenc> prefix', () => {
    expect(() => new PacketReader(hex('ff')).lenencInt()).toThrow(MalformedPacketError);
  });

  it('refuses a length that is NULL or beyond 2^53 where a length is required', () => {
    expect(() => new PacketReader(hex('fb')).lenencNumber()).toThrow(MalformedPacketError);
    expect(() => new PacketReader(hex('fe 00000000 00002000')).lenencNumber()).toThrow(MalformedPacketError);
  });

  it.each([
    ['fc', 'a 0xfc prefix without its 2 bytes'],
    ['fc ff', 'a 0xfc prefix with 1 byte'],
    ['fd ffff', 'a 0xfd prefix with 2 bytes'],
    ['fe ffffffff ffffff', 'a 0xfe prefix with 7 bytes'],
  ])('refuses %s (%s)', (fixture) => {
    expect(() => new PacketReader(hex(fixture)).lenencInt()).toThrow(MalformedPacketError);
  });
});

describe('string<lenenc> at the length boundaries', () => {
  it.each([0, 250, 251, 0xffff, 0x10000])('round-trips a string of %i bytes with the right prefix', (n) => {
    const s = 'x'.repeat(n);
    const payload = new PacketWriter().lenencString(s).payload();
    const prefix = n < 251 ? 1 : n <= 0xffff ? 3 : 4;
    expect(payload.length).toBe(prefix + n);
    const r = new PacketReader(payload);
    expect(r.lenencString()).toBe(s);
    expect(r.remaining).toBe(0);
  });

  it('refuses a string<lenenc> longer than the packet', () => {
    expect(() => new PacketReader(hex('05 6162')).lenencBytes()).toThrow(MalformedPacketError);
  });
});

describe('fixed-width integers and strings', () => {
  it('writes int<1..8> little-endian', () => {
    const payload = new PacketWriter()
      .int1(0x1ff)
      .int2(0x1234)
      .int3(0xabcdef)
      .int4(0xdeadbeef)
      .int8(2n ** 63n);
    expect(payload.payload().toString('hex')).toBe(
      'ff' + '3412' + 'efcdab' + 'efbeadde' + '0000000000000080',
    );
  });

  it('reads int<1..8> back', () => {
    const r = new PacketReader(hex('ff 3412 efcdab efbeadde 0000000000000080'));
    expect([r.int1(), r.int2(), r.int3(), r.int4(), r.int8()]).toEqual([
      0xff,
      0x1234,
      0xabcdef,
      0xdeadbeef,
      2n ** 63n,
    ]);
  });

  it('reads string<NUL>, string<fix>, string<EOF>', () => {
    const r = new PacketReader(hex('616263 00 6465 666768'));
    expect(r.nulString()).toBe('abc');
    expect(r.bytes(2).toString()).toBe('de');
    expect(r.restString()).toBe('fgh');
    expect(r.restBytes()).toHaveLength(0);
  });

  it('refuses a string<NUL> without its NUL and a read past the end', () => {
    expect(() => new PacketReader(hex('6162')).nulString()).toThrow(MalformedPacketError);
    expect(() => new PacketReader(hex('010203')).int4()).toThrow(MalformedPacketError);
    expect(() => new PacketReader(hex('01')).advance(2)).toThrow(MalformedPacketError);
  });

  it('writes string<NUL>, zeros and bytes, growing past its first allocation', () => {
    const w = new PacketWriter(2).nulString('héllo').zeros(3).bytes(hex('0102')).string('z'.repeat(200));
    const payload = w.payload();
    expect(payload.subarray(0, 12).toString('hex')).toBe('68c3a96c6c6f00' + '000000' + '0102');
    expect(payload).toHaveLength(12 + 200);
  });
});

describe('PacketWriter.toPacket', () => {
  it('prepends int<3> length and int<1> sequence id', () => {
    expect(new PacketWriter().int1(0x0e).toPacket(0).toString('hex')).toBe('010000000e');
    // the sequence id wraps: 0x1ff goes out as 0xff
    expect(new PacketWriter().string('abc').toPacket(0x1ff).toString('hex')).toBe('030000ff616263');
  });

  it('writes an empty payload as a bare header', () => {
    expect(new PacketWriter().toPacket(3).toString('hex')).toBe('00000003');
  });

  it('frames a payload of 0xffffff bytes and more as continued packets', () => {
    const packet = new PacketWriter(0xffffff).zeros(0xffffff).toPacket(7);
    expect(packet).toHaveLength(4 + 0xffffff + 4);
    expect(packet.subarray(0, 4).toString('hex')).toBe('ffffff07');
    expect(packet.subarray(4 + 0xffffff).toString('hex')).toBe('00000008');
  });
});
