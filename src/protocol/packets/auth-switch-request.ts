import { PacketReader } from '../packet-reader.js';

/**
 * AuthSwitchRequest: the server asks the client to authenticate again with another plugin.
 * https://mariadb.com/kb/en/connection/#authentication-switch-request
 *   int<1>      0xfe
 *   string<NUL> plugin name
 *   string<EOF> plugin data (for the scramble-based plugins: 20 bytes and a NUL)
 */
export interface AuthSwitchRequest {
  readonly plugin: string;
  readonly data: Buffer;
}

export function decodeAuthSwitchRequest(payload: Buffer): AuthSwitchRequest {
  const r = new PacketReader(payload, 1);
  const plugin = r.nulString();
  let data = r.restBytes();
  if (data.length > 0 && data[data.length - 1] === 0) data = data.subarray(0, data.length - 1);
  return { plugin, data };
}
