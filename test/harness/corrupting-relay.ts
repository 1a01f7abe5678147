import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real server that, when told, hands its client something else in
 * place of the server's next answer: how a test shows what tandem does with a response it
 * cannot follow, which no healthy MariaDB sends.
 */
export interface RelayedConnection {
  /** The next chunk from the server is dropped and `bytes` sent instead. */
  replaceNextAnswer(bytes: Buffer): void;
}

export interface CorruptingRelay {
  readonly port: number;
  /** Connections in the order they were opened. */
  readonly connections: readonly RelayedConnection[];
  close(): Promise<void>;
}

export async function startCorruptingRelay(host: string, port: number): Promise<CorruptingRelay> {
  const connections: RelayedConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host, port });
    sockets.add(client).add(upstream);
    let replacement: Buffer | undefined;
    connections.push({
      replaceNextAnswer: (bytes) => {
        replacement = bytes;
      },
    });
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (replacement) {
        client.write(replacement);
        replacement = undefined;
      } else client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
