import type { Config } from './config.js';
import { Listener } from './frontend/listener.js';
import type { Logger } from './log.js';

export interface RunningProxy {
  /** The MySQL listener's bound address (port 0 in the config picks a free one). */
  readonly host: string;
  readonly port: number;
  /** Client connections open now. */
  connectionCount(): number;
  /** Stops accepting, lets running statements finish until the deadline, then closes the rest. */
  close(deadlineMs?: number): Promise<void>;
}

export async function startProxy(config: Config, logger: Logger): Promise<RunningProxy> {
  if (!config.source)
    throw new Error('a source server is required (--source mysql://user:pass@host:port/db)');
  const listener = new Listener(config, logger);
  const { host, port } = await listener.listen();
  return {
    host,
    port,
    connectionCount: () => listener.connectionCount,
    close: (deadlineMs = config.timeouts.shutdownMs) => listener.close(deadlineMs),
  };
}
