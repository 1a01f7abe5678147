import { constants, createHash, publicEncrypt } from 'node:crypto';

/**
 * caching_sha2_password, MySQL 8's default, client side.
 * https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html
 *
 * Flow after the scramble-based token (fast path):
 *   server: 0x01 0x03  fast_auth_success, an OK packet follows
 *   server: 0x01 0x04  perform_full_authentication; the client then sends
 *           - over TLS: the password and a NUL, in clear;
 *           - otherwise: 0x02 (request the public key), receives 0x01 + PEM key, and sends
 *             RSA-OAEP(password + NUL, XORed with the scramble).
 * Not testable here: no MySQL 8 server can run on this machine (MariaDB has no such plugin).
 */
export const CACHING_SHA2_PASSWORD = 'caching_sha2_password';
export const CACHING_SHA2 = {
  REQUEST_PUBLIC_KEY: 0x02,
  FAST_AUTH_SUCCESS: 0x03,
  PERFORM_FULL_AUTHENTICATION: 0x04,
} as const;

function sha256(...parts: Buffer[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** token = SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble) */
export function cachingSha2Token(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha256(Buffer.from(password, 'utf8'));
  const stage2 = sha256(stage1);
  const mix = sha256(stage2, scramble.subarray(0, 20));
  for (let i = 0; i < mix.length; i++) mix[i]! ^= stage1[i]!;
  return mix;
}

export function encryptPasswordWithPublicKey(password: string, scramble: Buffer, pem: string): Buffer {
  const clear = Buffer.from(`${password}\0`, 'utf8');
  for (let i = 0; i < clear.length; i++) clear[i]! ^= scramble[i % scramble.length]!;
  return publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING }, clear);
}
