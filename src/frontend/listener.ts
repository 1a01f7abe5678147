import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { openTargetLink } from '../backend/target-link.js';
import { type Config, parseHostPort, parseServerUrl } from '../config.js';
import { DualWriter } from '../dualwrite/dual-writer.js';
import type { RepairJournal } from '../dualwrite/repair-journal.js';
import type { Logger } from '../log.js';
import { StatementClassifier } from '../routing/classify-statement.js';
import type { ModeController } from '../routing/modes.js';
import { Scope } from '../routing/scope.js';
import { ClientSession, type SessionContext } from './client-session.js';

/** The MySQL listener: accepts clients and runs one session per connection. */
export class Listener {
  private readonly server: Server;
  private readonly sessions = new Set<ClientSession>();
  private draining = false;
  private readonly secureContext: SecureContext | undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    modes: ModeController,
    journal: RepairJournal,
  ) {
    const tls = config.tls;
    this.secureContext = tls
      ? createSecureContext({
          cert: readFileSync(tls.cert),
          key: readFileSync(tls.key),
          ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
        })
      : undefined;
    const source = parseServerUrl(config.source!);
    const classifier = new StatementClassifier(logger);
    const routing: SessionContext['routing'] = {
      modes,
      writer: new DualWriter(journal, config.dualWrite.policy, config.dualWrite.secondaryTimeoutMs, logger),
      classify: (sql, options) => classifier.classify(sql, options),
      mirrorDdl: config.dualWrite.mirrorDdl,
      allowLocalInfile: config.allowLocalInfile,
      scope: new Scope(config.scope.include, config.scope.exclude),
      renames: config.scope.rename,
      openTarget: (spec, replay) => openTargetLink(config, spec, replay, logger),
    };
    // Paused on connect: the session decides how the socket is read (reused-read-socket.ts).
    this.server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
      if (this.draining) {
        socket.destroy();
        return;
      }
      const session = new ClientSession(socket, {
        config,
        logger,
        source,
        secureContext: this.secureContext,
        isDraining: () => this.draining,
        onClose: (s) => this.sessions.delete(s),
        routing,
      });
      this.sessions.add(session);
      void session.start();
    });
  }

  listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseHostPort(this.config.listen);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, backlog: 4096 }, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') resolve({ host: addr.address, port: addr.port });
        else reject(new Error('listener has no address'));
      });
    });
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** tandem's connections to each server (one to the source per session, one to the target once opened). */
  serverConnections(): { source: number; target: number } {
    let source = 0;
    let target = 0;
    for (const s of this.sessions) {
      const links = s.serverLinks;
      source += links.source;
      target += links.target;
    }
    return { source, target };
  }

  /**
   * Stops accepting; idle sessions close now, busy ones once their statement's response is
   * complete; whatever is still open at the deadline is dropped.
   */
  async close(deadlineMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) if (s.isIdle) s.shutdownIdle();
    const end = Date.now() + deadlineMs;
    while (this.sessions.size > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      for (const s of this.sessions) if (s.isIdle) s.shutdownIdle();
    }
    for (const s of this.sessions) s.destroy('shutdown deadline passed');
    this.logger.info({ dropped: this.sessions.size }, 'listener closed');
    await closed;
  }
}
