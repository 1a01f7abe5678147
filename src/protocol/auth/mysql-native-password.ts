import { createHash } from 'node:crypto';

/**
 * mysql_native_password: the client proves it knows the password without sending it.
 *   token = SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password)))
 * An empty password sends an empty token.
 * https://mariadb.com/kb/en/connection/#mysql_native_password-plugin
 */
export const NATIVE_PASSWORD = 'mysql_native_password';

function sha1(...parts: Buffer[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function nativePasswordToken(password: string, scramble: Buffer): Buffer {
  if (password === '') return Buffer.alloc(0);
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const stage2 = sha1(stage1);
  const mix = sha1(scramble.subarray(0, 20), stage2);
  for (let i = 0; i < mix.length; i++) mix[i]! ^= stage1[i]!;
  return mix;
}

/** Server side: checks a client's token against the password (used when tandem checks `users`). */
export function verifyNativePassword(password: string, scramble: Buffer, token: Buffer): boolean {
  const expected = nativePasswordToken(password, scramble);
  return expected.length === token.length && expected.equals(token);
}
