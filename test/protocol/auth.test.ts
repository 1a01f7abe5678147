import { constants, generateKeyPairSync, privateDecrypt, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cachingSha2Token,
  encryptPasswordWithPublicKey,
} from '../../src/protocol/auth/caching-sha2-password.js';
import { nativePasswordToken, verifyNativePassword } from '../../src/protocol/auth/mysql-native-password.js';

// mysql2's own plugins serve as an independent implementation to check against.
// (Loaded by path: mysql2's package exports do not list these files.)
const require = createRequire(import.meta.url);
const mysql2Lib = join(require.resolve('mysql2'), '..', 'lib');
const mysql2Auth41 = require(join(mysql2Lib, 'auth_41.js')) as {
  calculateToken(password: string, scramble1: Buffer, scramble2: Buffer): Buffer;
};
const mysql2Sha2 = require(join(mysql2Lib, 'auth_plugins', 'caching_sha2_password.js')) as (
  options?: object,
) => (args: { connection: { config: { password: string } } }) => (data: Buffer) => Buffer | null;

describe('mysql_native_password', () => {
  it('computes the token mysql2 computes, and verifies it', () => {
    for (const password of ['secret', 'pässwörd', 'x'.repeat(100)]) {
      const scramble = randomBytes(20);
      const ours = nativePasswordToken(password, scramble);
      expect(
        ours.equals(mysql2Auth41.calculateToken(password, scramble.subarray(0, 8), scramble.subarray(8))),
      ).toBe(true);
      expect(verifyNativePassword(password, scramble, ours)).toBe(true);
      expect(verifyNativePassword(`${password}!`, scramble, ours)).toBe(false);
    }
  });

  it('sends an empty token for an empty password', () => {
    expect(nativePasswordToken('', randomBytes(20)).length).toBe(0);
  });
});

describe('caching_sha2_password', () => {
  it('computes the scramble token mysql2 computes', () => {
    for (const password of ['secret', 'pässwörd']) {
      const scramble = randomBytes(20);
      const plugin = mysql2Sha2()({ connection: { config: { password } } });
      const theirs = plugin(scramble);
      expect(cachingSha2Token(password, scramble).equals(theirs!)).toBe(true);
    }
  });

  it('encrypts the password with RSA-OAEP over password+NUL XOR the scramble, as the server expects', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const scramble = randomBytes(20);
    const sealed = encryptPasswordWithPublicKey('a-longer-password-than-20-bytes', scramble, pem);
    const clear = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING }, sealed);
    for (let i = 0; i < clear.length; i++) clear[i]! ^= scramble[i % scramble.length]!;
    expect(clear.toString()).toBe('a-longer-password-than-20-bytes\0');
  });
});
