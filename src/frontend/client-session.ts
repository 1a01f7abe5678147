import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { ServerConnection } from '../backend/server-connection.js';
import type { Config, ServerAddress } from '../config.js';
import type { Logger } from '../log.js';
import { CACHING_SHA2, encryptPasswordWithPublicKey } from '../protocol/auth/caching-sha2-password.js';
import {
  CLIENT,
  COM,
  CURSOR_TYPE,
  PROXY_CAPABILITIES,
  PROXY_MARIADB_CAPABILITIES,
} from '../protocol/constants.js';
import { MysqlError } from '../protocol/errors.js';
import { type LogicalPacket, PacketFramer, PacketTooLargeError, SequenceError } from '../protocol/framer.js';
import { MalformedPacketError } from '../protocol/packet-reader.js';
import { framePayload } from '../protocol/packet-writer.js';
import { decodeAuthSwitchRequest } from '../protocol/packets/auth-switch-request.js';
import { encodeErr } from '../protocol/packets/err.js';
import {
  decodeHandshakeResponse,
  isSslRequest,
  patchCapabilities,
  SSL_REQUEST_LENGTH,
} from '../protocol/packets/handshake-response.js';
import { encodeHandshakeV10 } from '../protocol/packets/handshake-v10.js';
import { ResponseTracker, type Verdict } from '../protocol/response-tracker.js';
import { refusedCommandMessage } from './refused-commands.js';
import { ResponseRelay } from './response-relay.js';

export interface SessionContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly source: ServerAddress;
  readonly secureContext: SecureContext | undefined;
  readonly isDraining: () => boolean;
  readonly onClose: (session: ClientSession) => void;
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

const LOAD_DATA_LOCAL =
  /^\s*(?:(?:\/\*[\s\S]*?\*\/|#[^\n]*\n|--\s[^\n]*\n)\s*)*load\s+data\s+(?:\w+\s+)*?local\s/i;

let nextSessionId = 1;

export class ClientSession {
  readonly id = nextSessionId++;
  private phase: Phase = 'connecting';
  private client: Socket;
  private readonly framer: PacketFramer;
  private backend: ServerConnection | undefined;
  private relay: ResponseRelay | undefined;
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
  private handshakeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private serverTimer: NodeJS.Timeout | undefined;
  private backendPaused = false;
  private closeReason = 'client quit';

  constructor(
    socket: Socket,
    private readonly ctx: SessionContext,
  ) {
    this.client = socket;
    this.framer = new PacketFramer(ctx.config.maxPacketSize);
    this.log = ctx.logger.child({ conn: this.id });
    socket.setNoDelay(true);
    this.attachClient(socket);
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

  private attachClient(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A client hanging up is normal, not an error worth a log line.
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE')
        this.log.warn({ err: err.message }, 'client socket error');
    });
    socket.on('close', () => this.close(this.phase === 'closed' ? this.closeReason : 'client hung up'));
    socket.on('drain', () => {
      if (this.backendPaused) {
        this.backendPaused = false;
        this.backend?.socket.resume();
      }
    });
  }

  private watchBackend(backend: ServerConnection): void {
    backend.socket.on('close', () => this.onBackendGone('source server closed the connection'));
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
          this.clientSeq,
        );
      } else if (err instanceof SequenceError) {
        this.fatal(
          new MysqlError('ER_NET_PACKETS_OUT_OF_ORDER', 'Got packets out of order', true),
          this.clientSeq,
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
        throw err;
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
        this.resetIdleTimer();
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
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.ctx.secureContext! });
    this.client = secure;
    this.tls = true;
    this.attachClient(secure);
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
          this.enterCommandPhase(backend);
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

  private enterCommandPhase(backend: ServerConnection): void {
    clearTimeout(this.handshakeTimer);
    this.log.info({ user: this.user, db: this.database, tls: this.tls }, 'authenticated');
    const rest = backend.detach();
    this.relay = new ResponseRelay(
      (bytes) => this.forwardToClient(bytes),
      (verdict) => this.onVerdict(verdict),
    );
    backend.socket.on('data', (chunk: Buffer) => {
      this.armServerTimer();
      this.relay!.push(chunk);
    });
    if (rest.length > 0) this.relay.push(rest);
    this.becomeReady();
  }

  private forwardToClient(bytes: Buffer): void {
    if (!this.client.write(bytes) && !this.backendPaused) {
      // Backpressure: a slow client pauses the source socket, so no result piles up here.
      this.backendPaused = true;
      this.backend?.socket.pause();
    }
  }

  private dispatch(p: LogicalPacket): void {
    const payload = p.payload;
    if (p.seq !== 0) {
      throw new MysqlError('ER_NET_PACKETS_OUT_OF_ORDER', 'Got packets out of order', true);
    }
    if (payload.length === 0) throw new MalformedPacketError('empty command packet');
    const command = payload[0]!;
    const refused = refusedCommandMessage(command);
    if (refused) {
      this.client.write(encodeErr(new MysqlError('ER_UNKNOWN_COM_ERROR', refused), 1));
      return;
    }
    if (command === COM.QUIT) {
      this.closeReason = 'client quit';
      this.backend!.socket.end(framePayload(payload, 0));
      this.endClient();
      return;
    }
    if (
      command === COM.QUERY &&
      !this.ctx.config.allowLocalInfile &&
      LOAD_DATA_LOCAL.test(payload.toString('latin1', 1, Math.min(payload.length, 4096)))
    ) {
      this.client.write(
        encodeErr(
          new MysqlError(
            'ER_NOT_ALLOWED_COMMAND',
            'LOAD DATA LOCAL INFILE is disabled in tandem; set allowLocalInfile: true in its configuration to allow it',
          ),
          1,
        ),
      );
      return;
    }
    const cursor =
      command === COM.STMT_EXECUTE && payload.length > 5 && (payload[5]! & CURSOR_TYPE.READ_ONLY) !== 0;
    const tracker = new ResponseTracker(command, this.capabilities, cursor);
    this.backend!.socket.write(framePayload(payload, 0));
    if (tracker.isDone) return; // COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA: no response
    this.phase = 'busy';
    clearTimeout(this.idleTimer);
    this.relay!.expect(tracker);
    if (!tracker.isDone) this.armServerTimer();
  }

  private onClientPacketWhileBusy(p: LogicalPacket): void {
    if (this.awaitingClient === 'infile' || this.awaitingClient === 'auth') {
      this.backend!.socket.write(framePayload(p.payload, p.seq));
      if (this.awaitingClient === 'infile' && p.payload.length > 0) return;
      if (this.awaitingClient === 'infile') this.relay!.tracker!.afterInfile();
      this.awaitingClient = 'none';
      this.armServerTimer();
      return;
    }
    this.queue.push(p);
    if (this.queue.length >= MAX_QUEUED_COMMANDS) this.client.pause();
  }

  private onVerdict(verdict: Exclude<Verdict, 'more'>): void {
    if (verdict === 'infile' || verdict === 'auth') {
      this.awaitingClient = verdict;
      clearTimeout(this.serverTimer);
      return;
    }
    this.awaitingClient = 'none';
    clearTimeout(this.serverTimer);
    this.becomeReady();
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
    if (this.queue.length < MAX_QUEUED_COMMANDS) this.client.resume();
    if (this.phase === 'ready') this.resetIdleTimer();
  }

  private resetIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.closeReason = 'idle timeout';
      this.shutdownIdle();
    }, this.ctx.config.timeouts.idleMs);
  }

  private armServerTimer(): void {
    clearTimeout(this.serverTimer);
    if (this.phase !== 'busy' || this.awaitingClient !== 'none') return;
    const ms = this.ctx.config.timeouts.serverMs;
    this.serverTimer = setTimeout(
      () => this.onBackendGone(`source server did not answer within ${ms} ms`),
      ms,
    );
  }

  private onBackendGone(why: string): void {
    if (this.phase === 'closed') return;
    if (this.phase === 'busy' || this.phase === 'auth' || this.phase === 'connecting') {
      const seq = this.phase === 'busy' ? (this.relay!.lastSeq + 1) & 0xff : this.clientSeq;
      if (this.relay?.midPacket) {
        // Half a packet is already on its way to the client: an ERR packet would be read as its
        // rest. Closing is the only clean signal left.
        this.closeReason = why;
        this.client.destroy();
        this.close(why);
        return;
      }
      this.fatal(
        new MysqlError('CR_SERVER_LOST', `Lost connection to server during query (${why})`, true),
        seq,
      );
      return;
    }
    this.closeReason = why;
    this.endClient();
  }

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
    clearTimeout(this.idleTimer);
    clearTimeout(this.serverTimer);
    const backend = this.backend;
    if (backend && !backend.socket.destroyed) {
      // Mid-response the source connection is in an unknown state; otherwise say goodbye.
      if (wasBusy) backend.destroy();
      else backend.socket.end(framePayload(Buffer.from([COM.QUIT]), 0));
    }
    this.log.info({ user: this.user, reason, durationMs: Date.now() - this.openedAt }, 'connection closed');
    this.ctx.onClose(this);
  }
}

function asMysqlError(err: unknown): MysqlError {
  if (err instanceof MysqlError) return err;
  return new MysqlError('CR_SERVER_LOST', `Lost connection to server (${(err as Error).message})`, true);
}
