import { CLIENT } from '../constants.js';
import { PacketReader } from '../packet-reader.js';
import { PacketWriter } from '../packet-writer.js';

/**
 * HandshakeResponse41, and SSLRequest (its first 32 bytes alone).
 * https://mariadb.com/kb/en/connection/#handshake-response-packet
 *   int<4>      client capabilities
 *   int<4>      max packet size
 *   int<1>      client collation
 *   string[19]  filler
 *   int<4>      MariaDB extended capabilities when CLIENT_LONG_PASSWORD is unset, else filler
 *   string<NUL> user name
 *   auth data:  string<lenenc> (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA), int<1> length + bytes
 *               (CLIENT_SECURE_CONNECTION), or string<NUL>
 *   string<NUL> database (CLIENT_CONNECT_WITH_DB)
 *   string<NUL> authentication plugin name (CLIENT_PLUGIN_AUTH)
 *   string<lenenc> connection attributes (CLIENT_CONNECT_ATTRS)
 */
export const SSL_REQUEST_LENGTH = 32;
export const MARIADB_CAPS_OFFSET = 28;

export interface HandshakeResponse {
  readonly capabilities: number;
  readonly maxPacketSize: number;
  readonly collation: number;
  readonly mariadbCapabilities: number;
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database: string | undefined;
  readonly authPlugin: string | undefined;
}

export function isSslRequest(payload: Buffer): boolean {
  return payload.length === SSL_REQUEST_LENGTH && (payload.readUInt32LE(0) & CLIENT.SSL) !== 0;
}

export function decodeHandshakeResponse(payload: Buffer): HandshakeResponse {
  const r = new PacketReader(payload);
  const capabilities = r.int4();
  if (!(capabilities & CLIENT.PROTOCOL_41)) throw new Error('client does not speak protocol 4.1');
  const maxPacketSize = r.int4();
  const collation = r.int1();
  r.advance(19);
  const ext = r.int4();
  const user = r.nulString();
  let authResponse: Buffer;
  if (capabilities & CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = r.lenencBytes();
  else if (capabilities & CLIENT.SECURE_CONNECTION) authResponse = r.bytes(r.int1());
  else authResponse = r.nulBytes();
  const database = capabilities & CLIENT.CONNECT_WITH_DB && r.remaining > 0 ? r.nulString() : undefined;
  const authPlugin = capabilities & CLIENT.PLUGIN_AUTH && r.remaining > 0 ? r.nulString() : undefined;
  return {
    capabilities,
    maxPacketSize,
    collation,
    mariadbCapabilities: capabilities & CLIENT.LONG_PASSWORD ? 0 : ext,
    user,
    authResponse,
    database,
    authPlugin,
  };
}

/** Rewrites the capability fields of a client's handshake response (or SSLRequest) in place. */
export function patchCapabilities(payload: Buffer, capabilities: number, mariadbCapabilities: number): void {
  payload.writeUInt32LE(capabilities >>> 0, 0);
  if (!(capabilities & CLIENT.LONG_PASSWORD))
    payload.writeUInt32LE(mariadbCapabilities >>> 0, MARIADB_CAPS_OFFSET);
}

export interface HandshakeResponseInput {
  readonly capabilities: number;
  readonly mariadbCapabilities: number;
  readonly maxPacketSize: number;
  readonly collation: number;
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database: string | undefined;
  readonly authPlugin: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export function encodeHandshakeResponse(h: HandshakeResponseInput, seq: number): Buffer {
  const w = new PacketWriter(128)
    .int4(h.capabilities)
    .int4(h.maxPacketSize)
    .int1(h.collation)
    .zeros(19)
    .int4(h.capabilities & CLIENT.LONG_PASSWORD ? 0 : h.mariadbCapabilities)
    .nulString(h.user);
  if (h.capabilities & CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA) w.lenencBytes(h.authResponse);
  else w.int1(h.authResponse.length).bytes(h.authResponse);
  if (h.capabilities & CLIENT.CONNECT_WITH_DB) w.nulString(h.database ?? '');
  if (h.capabilities & CLIENT.PLUGIN_AUTH) w.nulString(h.authPlugin);
  if (h.capabilities & CLIENT.CONNECT_ATTRS) {
    const attrs = new PacketWriter(64);
    for (const [k, v] of Object.entries(h.attributes ?? {})) attrs.lenencString(k).lenencString(v);
    w.lenencBytes(attrs.payload());
  }
  return w.toPacket(seq);
}
