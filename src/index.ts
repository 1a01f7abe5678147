import type { Config } from './config.js';
import { RepairJournal } from './dualwrite/repair-journal.js';
import { Listener } from './frontend/listener.js';
import type { Logger } from './log.js';
import { ModeController } from './routing/modes.js';

export interface RunningProxy {
  /** The MySQL listener's bound address (port 0 in the config picks a free one). */
  readonly host: string;
  readonly port: number;
  /** The current mode; `modes.set()` switches it. */
  readonly modes: ModeController;
  readonly journal: RepairJournal;
  /** Client connections open now. */
  connectionCount(): number;
  /** Stops accepting, lets running statements finish until the deadline, then closes the rest. */
  close(deadlineMs?: number): Promise<void>;
}

export async function startProxy(config: Config, logger: Logger): Promise<RunningProxy> {
  if (!config.source)
    throw new Error('a source server is required (--source mysql://user:pass@host:port/db)');
  const modes = new ModeController(config.mode);
  const journal = new RepairJournal(config.stateDir);
  await journal.load();
  const listener = new Listener(config, logger, modes, journal);
  const { host, port } = await listener.listen();
  return {
    host,
    port,
    modes,
    journal,
    connectionCount: () => listener.connectionCount,
    close: async (deadlineMs = config.timeouts.shutdownMs) => {
      await listener.close(deadlineMs);
      await journal.close();
    },
  };
}
