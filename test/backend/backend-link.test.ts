import { describe, expect, it } from 'vitest';
import { BackendLink, type ResponseSink } from '../../src/backend/backend-link.js';
import { ServerConnection } from '../../src/backend/server-connection.js';
import { PROXY_CAPABILITIES } from '../../src/protocol/constants.js';
import { comQuery } from '../harness/raw-client.js';
import { sharedPair } from '../harness/servers.js';

const source = sharedPair().source;

async function openLink(): Promise<BackendLink> {
  const conn = await ServerConnection.open(source.host, source.port, 'source', 5000);
  await conn.authenticate({
    user: 'root',
    password: '',
    database: 'mysql',
    capabilities: PROXY_CAPABILITIES,
    mariadbCapabilities: 0,
    collation: 45,
    maxPacketSize: 1 << 24,
  });
  return new BackendLink(conn, PROXY_CAPABILITIES & conn.greeting.capabilities, 10_000);
}

// About 3 MB of distinct rows: many reads into the link's reused 64 KiB buffer.
const BIG = comQuery(
  "SELECT seq, CONCAT(seq, ':', REPEAT(SHA2(seq, 256), 4)) FROM seq_1_to_10000 ORDER BY seq",
);

describe('BackendLink reading into a reused buffer', () => {
  it('leaves relayed bytes intact for a sink that keeps them and says so', async () => {
    const link = await openLink();
    try {
      const collected = await link.send(BIG);
      const kept: Buffer[] = [];
      const sink: ResponseSink = {
        // No copy: like a client socket whose kernel buffer is full, the bytes wait here.
        write: (bytes) => kept.push(bytes) > 0,
        holdsBytes: () => true,
      };
      await link.send(BIG, sink);
      const relayed = Buffer.concat(kept);
      expect(relayed.length).toBeGreaterThan(2_000_000);
      expect(relayed.equals(collected.bytes!)).toBe(true);
    } finally {
      link.close(true);
    }
  });
});
