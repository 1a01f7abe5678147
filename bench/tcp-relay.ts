import { connect, createServer, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';

/**
 * The smallest useful TCP relay in node: accept, connect upstream, pipe both ways. It knows
 * nothing of MySQL, so its figures are the floor that any node proxy pays (event loop,
 * syscalls, buffer allocation) before it parses a single packet.
 *
 * As a program: node --import tsx bench/tcp-relay.ts --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT
 */

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(text: string): HostPort {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`expected HOST:PORT, got ${JSON.stringify(text)}`);
  }
  return { host: text.slice(0, i), port };
}

export function startTcpRelay(listen: HostPort, upstream: HostPort): Promise<Server> {
  const server = createServer({ noDelay: true }, (client) => {
    const backend = connect({ host: upstream.host, port: upstream.port, noDelay: true });
    // pipe() carries backpressure both ways, as a proxy must for large results.
    client.pipe(backend);
    backend.pipe(client);
    const close = (): void => {
      client.destroy();
      backend.destroy();
    };
    client.on('error', close);
    backend.on('error', close);
    client.on('close', close);
    backend.on('close', close);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const flag = (name: string): string => {
    const i = argv.indexOf(`--${name}`);
    const value = i >= 0 ? argv[i + 1] : undefined;
    if (value === undefined) throw new Error(`tcp-relay: --${name} HOST:PORT is required`);
    return value;
  };
  const server = await startTcpRelay(parseHostPort(flag('listen')), parseHostPort(flag('upstream')));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  });
}
