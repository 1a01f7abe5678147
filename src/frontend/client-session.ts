import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { BackendLink, LinkLostError, type ResponseSink } from '../backend/backend-link.js';
import { ServerConnection } from '../backend/server-connection.js';
import type { Config, ServerAddress } from '../config.js';
import type { Logger } from '../log.js';
import { CACHING_SHA2, encryptPasswordWithPublicKey } from '../protocol/auth/caching-sha2-password.js';
import { CLIENT, COM, PROXY_CAPABILITIES, PROXY_MARIADB_CAPABILITIES } from '../protocol/constants.js';
import { DirectWriter } from '../protocol/direct-writer.js';
import { MysqlError } from '../protocol/errors.js';
import { type LogicalPacket, PacketFramer, PacketTooLargeError, SequenceError } from '../protocol/framer.js';
import { MalformedPacketError } from '../protocol/packet-reader.js';
import { framePayload } from '../protocol/packet-writer.js';
import { decodeAuthSwitchRequest } from '../protocol/packets/auth-switch-request.js';
import { decodeChangeUser } from '../protocol/packets/change-user.js';
import { encodeErr } from '../protocol/packets/err.js';
import {
  decodeHandshakeResponse,
  isSslRequest,
  patchCapabilities,
  SSL_REQUEST_LENGTH,
} from '../protocol/packets/handshake-response.js';
import { encodeHandshakeV10 } from '../protocol/packets/handshake-v10.js';
import { decodeOk } from '../protocol/packets/ok.js';
import { ReadBuffer } from '../protocol/read-buffer.js';
import type { RouterContext } from '../routing/session-router.js';
import { SessionRouter } from '../routing/session-router.js';
import { refusedCommandMessage } from './refused-commands.js';
import { withReusedReads } from './reused-read-socket.js';
import { isTruncatedCommand } from './short-commands.js';

export interface SessionContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly source: ServerAddress;
  readonly secureContext: SecureContext | undefined;
  readonly isDraining: () => boolean;
  readonly onClose: (session: ClientSession) => void;
  readonly routing: Omit<RouterContext, 'logger' | 'openTarget'> & {
    readonly openTarget: (spec: TargetSessionSpec, replay: readonly Buffer[]) => Promise<BackendLink>;
  };
}

/** What tandem's own connection to the target copies from the client's session. */
export interface TargetSessionSpec {
  readonly capabilities: number;
  readonly mariadbCapabilities: number;
  readonly collation: number;
  readonly database: string | undefined;
  /** The client's source link, to read session settings the target must share. */
  readonly source: BackendLink;
}

/**
 * Connection phases, in order. One `switch` in `onClientPacket` decides what a client packet
 * means in each; a packet that does not fit its phase gets an ERR packet and ends this
 * connection only.
 */
type Phase =
  /** Connecting to the source; the client has not been greeted yet. */
  | 'connecting'
  /** Greeting sent; waiting for SSLRequest or HandshakeResponse41. */
  | 'greeted'
  /** Relaying the authentication exchange between client and source. */
  | 'auth'
  /** Waiting for a command. */
  | 'ready'
  /** A command's response is on its way. */
  | 'busy'
  | 'closed';

/** Commands queued while one is running (clients may pipeline); past this, reading pauses. */
const MAX_QUEUED_COMMANDS = 32;

/**
 * A client connection's read buffer: commands are small, and a large one (a BLOB, LOCAL INFILE
 * data) only takes more reads. Only the pages a read has written count in RSS.
 */
const CLIENT_READ_BYTES = 16 * 1024;

/^\s*(?:(?:\/\*[\s\S]*?\*\/|#[^\n]*\n|--\s[^\n]*\n)\s*)*load\s+data\s+(?:\w+\s+)*?local\s/i;

let nextSessionId = 1;

export class ClientSession {
  readonly id = nextSessionId++;
  private phase: Phase = 'connecting';
  private client: Socket;
  /** Writes to `client`: straight to the kernel when the socket is plain TCP. */
  private writer: DirectWriter;
  private readonly framer: PacketFramer;
  private backend: ServerConnection | undefined;
  private source: BackendLink | undefined;
  private router: SessionRouter | undefined;
  private turnLink: BackendLink | undefined;
  private mariadbCapabilities = 0;
  private collation = 0;
  private readonly log: Logger;
  private readonly openedAt = Date.now();
  private user = '';
  private database: string | undefined;
  /** Capabilities in force between client and source after the handshake. */
  private capabilities = 0;
  private tls = false;
  // Sequence ids during authentication: the two legs drift apart when the client uses TLS.
  private clientSeq = 0;
  private backendSeq = 0;
  private authPlugin = '';
  private authScramble: Buffer = Buffer.alloc(0);
  private sha2FullAuth: 'no' | 'await-password' | 'await-key' = 'no';
  private sha2Password = '';
  /** What the client may send while a response is under way. */
  private awaitingClient: 'none' | 'infile' | 'auth' = 'none';
  private readonly queue: LogicalPacket[] = [];
  /** Reading from the client is paused because MAX_QUEUED_COMMANDS are waiting. */
  private readingPaused = false;
  /** Pauses and resumes reading from the client: its ReadBuffer, or the socket read by 'data'. */
  private reading: { pause(): unknown; resume(): unknown };
  private handshakeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private closeReason = 'client quit';

  constructor(
    socket: Socket,
    private readonly ctx: SessionContext,
  ) {
    this.framer = new PacketFramer(ctx.config.maxPacketSize);
    this.log = ctx.logger.child({ conn: this.id });
    // The socket arrives paused (the listener's pauseOnConnect). Without TLS it is read into a
    // reused buffer; a TLS socket (a wrapper around this one) is read through 'data'.
    const reads = new ReadBuffer(CLIENT_READ_BYTES, (chunk) => this.onClientData(chunk));
    const reusing = ctx.secureContext ? undefined : withReusedReads(socket, reads);
    this.client = reusing ?? socket;
    this.writer = new DirectWriter(this.client, this.onDrain);
    this.client.setNoDelay(true);
    this.attachClient(this.client, reusing === undefined);
    this.reading = reusing === undefined ? socket : reads;
    if (reusing === undefined) socket.resume();
    else reads.start(reusing);
  }

  get serverLinks(): { source: number; target: number } {
    return {
      source: this.source && !this.source.isBroken ? 1 : 0,
      target: this.router?.hasTarget ? 1 : 0,
    };
  }

  get isIdle(): boolean {
    return this.phase === 'ready' && this.queue.length === 0;
  }

  async start(): Promise<void> {
    const { config, source } = this.ctx;
    this.log.info({ client: `${this.client.remoteAddress}:${this.client.remotePort}` }, 'connection open');
    this.handshakeTimer = setTimeout(
      () =>
        this.fatal(new MysqlError('ER_HANDSHAKE_ERROR', 'Bad handshake: timed out', true), this.clientSeq),
      config.timeouts.handshakeMs,
    );
    try {
      this.backend = await ServerConnection.open(
        source.host,
        source.port,
        'source',
        config.timeouts.connectMs,
      );
    } catch (err) {
      this.fatal(asMysqlError(err), 0);
      return;
    }
    if (this.phase === 'closed') {
      this.backend.destroy();
      return;
    }
    this.watchBackend(this.backend);
    const g = this.backend.greeting;
    let capabilities = g.capabilities & PROXY_CAPABILITIES & ~CLIENT.SSL;
    if (this.ctx.secureContext) capabilities |= CLIENT.SSL;
    if (!config.allowLocalInfile) capabilities &= ~CLIENT.LOCAL_FILES;
    this.capabilities = capabilities >>> 0;
    this.authPlugin = g.authPlugin;
    this.authScramble = g.scramble;
    this.phase = 'greeted';
    this.client.write(
      encodeHandshakeV10({
        ...g,
        capabilities: this.capabilities,
        mariadbCapabilities: g.mariadbCapabilities & PROXY_MARIADB_CAPABILITIES,
      }),
    );
    this.clientSeq = 1;
  }

  private attachClient(socket: Socket, dataEvents: boolean): void {
    if (dataEvents) socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A client hanging up is normal, not an error worth a log line.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE')
        this.log.warn({ err: err.message }, 'client socket error');
    });
    socket.on('close', () => this.close(this.phase === 'closed' ? this.closeReason : 'client hung up'));
  }

  private readonly onDrain = (): void => this.router?.resume();

  private watchBackend(backend: ServerConnection): void {
    backend.socket.on('close', () => {
      // Between commands a lost source ends the session, as a direct connection would end.
      if (this.phase === 'ready' || this.phase === 'greeted') {
        this.closeReason = 'source server closed the connection';
        this.endClient();
      }
    });
    backend.socket.on('error', (err) => this.log.warn({ err: err.message }, 'source socket error'));
  }

  private onClientData(chunk: Buffer): void {
    let packets: LogicalPacket[];
    try {
      packets = this.framer.push(chunk);
    } catch (err) {
      if (err instanceof PacketTooLargeError) {
        this.fatal(
          new MysqlError(
            'ER_NET_PACKET_TOO_LARGE',
            "Got a packet bigger than 'max_allowed_packet' bytes",
            true,
          ),
          err.seq + 1,
        );
      } else if (err instanceof SequenceError) {
        this.fatal(
          new MysqlError('ER_NET_PACKETS_OUT_OF_ORDER', 'Got packets out of order', true),
          err.seq + 1,
        );
      } else throw err;
      return;
    }
    for (const p of packets) {
      if (this.phase === 'closed') return;
      try {
        this.onClientPacket(p);
      } catch (err) {
        if (err instanceof MalformedPacketError || err instanceof MysqlError) {
          this.fatal(
            err instanceof MysqlError
              ? err
              : new MysqlError('ER_MALFORMED_PACKET', 'Malformed communication packet', true),
            p.lastSeq + 1,
          );
          return;
        }
        // A fault of tandem's own, met while handling this packet: it ends this connection,
        // not the process that serves every other one.
        this.onCommandFailed(err);
        return;
      }
    }
  }

  private onClientPacket(p: LogicalPacket): void {
    switch (this.phase) {
      case 'connecting':
        throw new MysqlError('ER_HANDSHAKE_ERROR', 'Bad handshake: client spoke before the greeting', true);
      case 'greeted':
        this.onHandshakeResponse(p);
        return;
      case 'auth':
        this.onClientAuthPacket(p);
        return;
      case 'ready':
        // The idle timer is pushed back when the command is over (becomeReady); firing meanwhile,
        // it finds the session busy and does nothing.
        this.dispatch(p);
        return;
      case 'busy':
        this.onClientPacketWhileBusy(p);
        return;
      case 'closed':
        return;
    }
  }

  private onHandshakeResponse(p: LogicalPacket): void {
    const payload = p.payload;
    this.clientSeq = (p.lastSeq + 1) & 0xff;
    if (payload.length === SSL_REQUEST_LENGTH && isSslRequest(payload)) {
      if (!this.ctx.secureContext || this.tls) {
        throw new MysqlError('ER_HANDSHAKE_ERROR', 'Bad handshake: TLS is not configured on tandem', true);
      }
      this.upgradeToTls();
      return;
    }
    let response: ReturnType<typeof decodeHandshakeResponse>;
    try {
      response = decodeHandshakeResponse(payload);
    } catch (err) {
      throw new MysqlError('ER_HANDSHAKE_ERROR', `Bad handshake: ${(err as Error).message}`, true);
    }
    this.user = response.user;
    this.database = response.database;
    // The source sees the client's own capabilities, minus what tandem does not relay.
    const g = this.backend!.greeting;
    const capabilities = (response.capabilities & this.capabilities & ~CLIENT.SSL & ~CLIENT.COMPRESS) >>> 0;
    const mariadb = response.mariadbCapabilities & g.mariadbCapabilities & PROXY_MARIADB_CAPABILITIES;
    const forwarded = Buffer.from(payload);
    patchCapabilities(forwarded, capabilities, mariadb);
    this.capabilities = capabilities;
    this.mariadbCapabilities = mariadb;
    this.collation = response.collation;
    if (response.authPlugin) this.authPlugin = response.authPlugin;
    this.phase = 'auth';
    this.backendSeq = 1;
    this.sendToBackend(forwarded);
    void this.relayAuthentication();
  }

  private upgradeToTls(): void {
    const raw = this.client;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('drain');
    // A client may send its ClientHello right behind the SSLRequest (mysql2 does), so both can
    // arrive in one chunk: the framer then holds the start of the TLS handshake. It never takes it
    // for a whole packet (a record header 16 03 01..03 read as int<3> promises 0x010316 bytes or
    // more, longer than a TLS record), so it is all in the remainder. Put it back into the paused
    // socket: TLSSocket reads a wrapped socket's buffered bytes before its own.
    const early = this.framer.takeRemainder();
    raw.pause();
    if (early.length > 0) raw.unshift(early);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.ctx.secureContext! });
    this.client = secure;
    this.reading = secure;
    this.writer = new DirectWriter(secure, this.onDrain, true);
    this.tls = true;
    this.attachClient(secure, true);
  }

  private sendToBackend(payload: Buffer): void {
    this.backend!.writePacket(payload, this.backendSeq);
    this.backendSeq = (this.backendSeq + Math.floor(payload.length / 0xffffff) + 1) & 0xff;
  }

  private sendToClient(payload: Buffer): void {
    this.client.write(framePayload(payload, this.clientSeq));
    this.clientSeq = (this.clientSeq + Math.floor(payload.length / 0xffffff) + 1) & 0xff;
  }

  /** Server side of the authentication exchange, relayed packet by packet until OK or ERR. */
  private async relayAuthentication(): Promise<void> {
    const backend = this.backend!;
    try {
      for (;;) {
        const p = await backend.readPacket();
        if (this.phase === 'closed') return;
        this.backendSeq = (p.lastSeq + 1) & 0xff;
        const head = p.payload[0];
        if (head === 0xfe) {
          const sw = decodeAuthSwitchRequest(p.payload);
          this.authPlugin = sw.plugin;
          this.authScramble = sw.data;
        } else if (head === 0x01 && this.sha2FullAuth === 'await-key') {
          // The source's RSA key, asked for on behalf of a TLS client that sent its password in clear.
          const pem = p.payload.subarray(1).toString('utf8');
          this.sendToBackend(encryptPasswordWithPublicKey(this.sha2Password, this.authScramble, pem));
          this.sha2Password = '';
          this.sha2FullAuth = 'no';
          continue;
        } else if (
          head === 0x01 &&
          this.tls &&
          this.authPlugin === 'caching_sha2_password' &&
          p.payload[1] === CACHING_SHA2.PERFORM_FULL_AUTHENTICATION
        ) {
          // Over TLS the client answers with its password in clear; tandem's leg to the source is
          // plain, so tandem encrypts it with the source's public key instead of relaying it.
          this.sha2FullAuth = 'await-password';
        }
        this.sendToClient(p.payload);
        if (head === 0x00) {
          this.enterCommandPhase(backend, p.payload);
          return;
        }
        if (head === 0xff) {
          this.closeReason = 'authentication refused by source';
          this.endClient();
          return;
        }
      }
    } catch (err) {
      this.fatal(asMysqlError(err), this.clientSeq);
    }
  }

  private onClientAuthPacket(p: LogicalPacket): void {
    this.clientSeq = (p.lastSeq + 1) & 0xff;
    if (this.sha2FullAuth === 'await-password') {
      const clear = p.payload;
      this.sha2Password = clear
        .subarray(0, clear.length > 0 && clear[clear.length - 1] === 0 ? -1 : undefined)
        .toString();
      this.sha2FullAuth = 'await-key';
      this.sendToBackend(Buffer.from([CACHING_SHA2.REQUEST_PUBLIC_KEY]));
      return;
    }
    this.sendToBackend(p.payload);
  }

  private enterCommandPhase(backend: ServerConnection, ok: Buffer): void {
    clearTimeout(this.handshakeTimer);
    this.log.info({ user: this.user, db: this.database, tls: this.tls }, 'authenticated');
    this.source = new BackendLink(backend, this.capabilities, this.ctx.config.timeouts.serverMs);
    this.router = new SessionRouter(
      this.source,
      {
        ...this.ctx.routing,
        logger: this.log,
        openTarget: (replay) => this.ctx.routing.openTarget(this.targetSpec(), replay),
      },
      decodeOk(ok).status,
      this.database,
    );
    this.becomeReady();
  }

  private targetSpec(): TargetSessionSpec {
    return {
      capabilities: this.capabilities,
      mariadbCapabilities: this.mariadbCapabilities,
      collation: this.collation,
      database: this.database,
      source: this.source!,
    };
  }

  private dispatch(p: LogicalPacket): void {
    const payload = p.payload;
    if (p.seq !== 0) {
      throw new MysqlError('ER_NET_PACKETS_OUT_OF_ORDER', 'Got packets out of order', true);
    }
    if (payload.length === 0) throw new MalformedPacketError('empty command packet');
    const command = payload[0]!;
    if (isTruncatedCommand(payload))
      throw new MalformedPacketError('statement command shorter than its fixed fields');
    const refused = refusedCommandMessage(command);
    if (refused) {
      this.client.write(encodeErr(new MysqlError('ER_UNKNOWN_COM_ERROR', refused), 1));
      return;
    }
    if (command === COM.QUIT) {
      this.closeReason = 'client quit';
      this.endClient();
      return;
    }
    this.phase = 'busy';
    if (command === COM.CHANGE_USER) this.changeUser(payload).then(this.commandDone, this.commandDone);
    else this.router!.handle(payload, this.sink, this.commandDone);
  }

  private readonly commandDone = (err?: unknown): void => {
    if (err === undefined) this.onCommandDone();
    else this.onCommandFailed(err);
  };

  /** The client's answer is relayed to the source, which checks the new user; the target follows. */
  private async changeUser(payload: Buffer): Promise<void> {
    const r = await this.source!.send(payload, this.sink);
    if (r.tracker.error) return;
    const change = decodeChangeUser(payload, this.capabilities);
    this.user = change.user;
    this.database = change.database;
    await this.router!.afterChangeUser(change.database);
  }

  private readonly sink: ResponseSink = {
    write: (bytes) => this.writer.write(bytes),
    // TLS encrypts the bytes; whether it may hold them unencrypted meanwhile is node's affair,
    // so they are taken as held.
    holdsBytes: () => this.tls || this.writer.holdsBytes,
    onClientTurn: (verdict, link) => {
      this.awaitingClient = verdict;
      this.turnLink = link;
    },
  };

  private onClientPacketWhileBusy(p: LogicalPacket): void {
    if (this.awaitingClient !== 'none' && this.turnLink) {
      const link = this.turnLink;
      if (this.awaitingClient === 'auth' || p.payload.length === 0) {
        this.awaitingClient = 'none';
        this.turnLink = undefined;
      }
      link.sendClientData(p.payload, p.seq);
      return;
    }
    this.queue.push(p);
    if (this.queue.length >= MAX_QUEUED_COMMANDS && !this.readingPaused) {
      this.readingPaused = true;
      this.reading.pause();
    }
  }

  private onCommandDone(): void {
    if (this.phase !== 'busy') return;
    this.awaitingClient = 'none';
    this.turnLink = undefined;
    this.becomeReady();
  }

  private onCommandFailed(err: unknown): void {
    if (this.phase === 'closed') return;
    if (err instanceof LinkLostError) {
      if (err.midPacket) {
        // Half a packet is already on its way to the client: an ERR packet would be read as its
        // rest. Closing is the only clean signal left.
        this.closeReason = err.message;
        this.client.destroy();
        this.close(err.message);
        return;
      }
      this.fatal(err, err.lastSeq);
      return;
    }
    this.log.error({ err: (err as Error).stack ?? String(err) }, 'command failed inside tandem');
    this.fatal(
      new MysqlError('ER_UNKNOWN_ERROR', `tandem: internal error (${(err as Error).message})`, true),
      1,
    );
  }

  private becomeReady(): void {
    this.phase = 'ready';
    if (this.ctx.isDraining()) {
      this.closeReason = 'tandem is shutting down';
      this.shutdownIdle();
      return;
    }
    while (this.phase === 'ready' && this.queue.length > 0) {
      const next = this.queue.shift()!;
      try {
        this.dispatch(next);
      } catch (err) {
        this.fatal(asMysqlError(err), next.lastSeq + 1);
        return;
      }
    }
    // Only a pause of tandem's own is undone: Socket.resume() per command was 1 % of user CPU.
    if (this.readingPaused && this.queue.length < MAX_QUEUED_COMMANDS) {
      this.readingPaused = false;
      this.reading.resume();
    }
    if (this.phase === 'ready') this.countCommandDone();
  }

  /**
   * Counts the command as done and, after the first, keeps the idle check ticking. No timer is
   * pushed back per command (a refresh re-inserts it into node's timer list, measurable per
   * point select): a tick every quarter of idleMs notes whether a command ended since the last
   * one, and the fourth quiet tick in a row closes the session, idle then for at least idleMs
   * and less than 1.25 x idleMs.
   */
  private countCommandDone(): void {
    this.commandsDone++;
    if (this.idleTimer) return;
    this.idleTimer = setInterval(this.idleTick, Math.max(1, Math.floor(this.ctx.config.timeouts.idleMs / 4)));
    this.idleTimer.unref();
  }

  private commandsDone = 0;
  private commandsSeen = -1;
  private quietTicks = 0;

  private readonly idleTick = (): void => {
    // Busy sessions are not idle: only time between commands counts.
    if (this.phase !== 'ready' || this.commandsDone !== this.commandsSeen) {
      this.commandsSeen = this.commandsDone;
      this.quietTicks = 0;
      return;
    }
    if (++this.quietTicks < 4) return;
    clearInterval(this.idleTimer);
    this.closeReason = 'idle timeout';
    this.shutdownIdle();
  };

  /** Sends an ERR packet and, for a fatal error, closes this connection (and only this one). */
  private fatal(err: MysqlError, seq: number): void {
    if (this.phase === 'closed') return;
    this.log.info({ errno: err.errno, err: err.message }, 'closing connection on error');
    this.closeReason = err.message;
    this.client.write(encodeErr(err, seq & 0xff));
    this.endClient();
  }

  /** Closes an idle session cleanly (shutdown, idle timeout). */
  shutdownIdle(): void {
    if (this.phase !== 'ready' && this.phase !== 'greeted' && this.phase !== 'connecting') return;
    this.endClient();
  }

  private endClient(): void {
    if (this.phase !== 'closed') this.close(this.closeReason);
    this.client.end();
    setTimeout(() => this.client.destroy(), 1000).unref();
  }

  /** Drops the connection at once (shutdown deadline passed). */
  destroy(reason: string): void {
    this.closeReason = reason;
    this.client.destroy();
    this.close(reason);
  }

  private close(reason: string): void {
    if (this.phase === 'closed') return;
    const wasBusy = this.phase === 'busy';
    this.phase = 'closed';
    clearTimeout(this.handshakeTimer);
    clearInterval(this.idleTimer);
    // Mid-response a server connection is in an unknown state; otherwise it gets COM_QUIT.
    if (this.source) this.source.close(wasBusy);
    else this.backend?.destroy();
    this.router?.close();
    this.log.info({ user: this.user, reason, durationMs: Date.now() - this.openedAt }, 'connection closed');
    this.ctx.onClose(this);
  }
}

function asMysqlError(err: unknown): MysqlError {
  if (err instanceof MysqlError) return err;
  return new MysqlError('CR_SERVER_LOST', `Lost connection to server (${(err as Error).message})`, true);
}
