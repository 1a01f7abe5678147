import { CLIENT } from '../constants.js';
import { PacketReader } from '../packet-reader.js';

/**
 * COM_CHANGE_USER. https://mariadb.com/kb/en/com_change_user/
 *   int<1>      0x11
 *   string<NUL> user
 *   auth data:  int<1> length + bytes (CLIENT_SECURE_CONNECTION), else string<NUL>
 *   string<NUL> database
 *   int<2>      collation (when more data follows)
 *   string<NUL> authentication plugin (CLIENT_PLUGIN_AUTH)
 *   string<lenenc> connection attributes (CLIENT_CONNECT_ATTRS)
 */
export interface ChangeUser {
  readonly user: string;
  readonly database: string | undefined;
  readonly collation: number | undefined;
}

export function decodeChangeUser(payload: Buffer, capabilities: number): ChangeUser {
  const r = new PacketReader(payload, 1);
  const user = r.nulString();
  if (capabilities & CLIENT.SECURE_CONNECTION) r.advance(r.int1());
  else r.nulBytes();
  const db = r.remaining > 0 ? r.nulString() : '';
  const collation = r.remaining >= 2 ? r.int2() : undefined;
  return { user, database: db === '' ? undefined : db, collation };
}
