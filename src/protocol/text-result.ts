import { CLIENT } from './constants.js';
import { PacketReader } from './packet-reader.js';

/**
 * Decodes a small collected text-protocol result set (COM_QUERY) into rows of strings, for
 * tandem's own control queries (server settings). Never used on the app's results, which are
 * relayed raw. https://mariadb.com/kb/en/result-set-packets/
 */
export function decodeTextRows(bytes: Buffer, capabilities: number): (string | null)[][] {
  const packets: Buffer[] = [];
  let off = 0;
  while (off + 4 <= bytes.length) {
    const len = bytes.readUIntLE(off, 3);
    packets.push(bytes.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  const first = packets[0];
  if (!first || first[0] === 0x00 || first[0] === 0xff) return [];
  const columns = new PacketReader(first).lenencNumber();
  let i = 1 + columns;
  if (!(capabilities & CLIENT.DEPRECATE_EOF)) i++;
  const rows: (string | null)[][] = [];
  for (; i < packets.length; i++) {
    const p = packets[i]!;
    if ((p[0] === 0xfe && p.length < 0xffffff) || p[0] === 0xff) break;
    const r = new PacketReader(p);
    const row: (string | null)[] = [];
    for (let c = 0; c < columns; c++) {
      if (p[r.offset] === 0xfb) {
        r.advance(1);
        row.push(null);
      } else row.push(r.lenencString());
    }
    rows.push(row);
  }
  return rows;
}
