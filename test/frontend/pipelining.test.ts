import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';
import { CLASSIC_CLIENT, comQuery, RawClient, textRows } from '../harness/raw-client.js';
import { sharedPair } from '../harness/servers.js';

/**
 * A client may write many commands before reading any answer. Past 32 queued commands the
 * session pauses its reads (so a flood cannot grow its queue without bound) and resumes them
 * once the queue has room: every command is answered, in order, and the connection goes on.
 */

const source = sharedPair().source;
let proxy: Awaited<ReturnType<typeof startTestProxy>>;

beforeAll(async () => {
  proxy = await startTestProxy(source.url);
});

afterAll(async () => {
  await proxy?.close(500);
});

describe('pipelined commands', () => {
  for (const [label, capabilities] of [
    ['with CLIENT_DEPRECATE_EOF', undefined],
    ['with EOF packets', CLASSIC_CLIENT],
  ] as const) {
    it(`are all answered in order past the queue limit, and reading resumes after it (${label})`, async () => {
      const c = await RawClient.connect('127.0.0.1', proxy.port, capabilities ? { capabilities } : {});
      try {
        for (let round = 0; round < 3; round++) {
          const n = 200;
          const answers = await c.pipeline(
            Array.from({ length: n }, (_, i) => comQuery(`SELECT ${round * n + i}`)),
          );
          expect(answers.map((packets) => textRows(packets, c.deprecateEof)[0]![0])).toEqual(
            Array.from({ length: n }, (_, i) => String(round * n + i)),
          );
        }
        expect(textRows(await c.query("SELECT 'after the flood'"), c.deprecateEof)).toEqual([
          ['after the flood'],
        ]);
        await c.sync();
      } finally {
        c.quit();
      }
    });
  }
});
