import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { buildAdminServer, isLoopback } from './admin/admin-server.js';
import { Fleet } from './admin/fleet.js';
import { type Config, MODES, parseHostPort, parseServerUrl } from './config.js';
import { RepairJournal } from './dualwrite/repair-journal.js';
import { Listener } from './frontend/listener.js';
import { LoadJob } from './load/load-job.js';
import type { Logger } from './log.js';
import { metrics } from './metrics.js';
import { nativeIo, useNativeIo } from './protocol/native-io.js';
import { loadModeState, saveModeState } from './routing/mode-store.js';
import { type Mode, type ModeChange, ModeController } from './routing/modes.js';
import { loadVerification, verificationProblem } from './verify/verification-record.js';

export interface RunningProxy {
  /** The MySQL listener's bound address (port 0 in the config picks a free one). */
  readonly host: string;
  readonly port: number;
  /** The admin HTTP port's bound port. */
  readonly adminPort: number;
  /** The current mode; `modes.set()` switches at once, `switchMode()` safely. */
  readonly modes: ModeController;
  readonly journal: RepairJournal;
  /** The initial load run in this process (POST/GET/DELETE /load). */
  readonly load: LoadJob;
  /** Switches as PUT /mode does: transition rules, preconditions, running transactions let finish. */
  switchMode(to: string, opts?: { force?: boolean; requester?: string }): Promise<ModeChange>;
  status(): Promise<Record<string, unknown>>;
  /** Client connections open now. */
  connectionCount(): number;
  /** Stops accepting, lets running statements finish until the deadline, then closes the rest. */
  close(deadlineMs?: number): Promise<void>;
}

/** Latency per server in ms: the histogram's finite buckets (cumulative) and p50/p95 from them. */
interface LatencySummary {
  p50: number | null;
  p95: number | null;
  count: number;
  /** [upper bound in ms, observations at or below it], cumulative as in Prometheus. */
  buckets: [number, number][];
}

/** The q-quantile of cumulative buckets, interpolated within a bucket as histogram_quantile does. */
function bucketQuantile(q: number, buckets: [number, number][], count: number): number | null {
  if (count <= 0) return null;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const [upper, cumulative] of buckets) {
    if (cumulative >= rank) {
      const ms = lower + ((upper - lower) * (rank - below)) / Math.max(cumulative - below, 1e-9);
      return Math.round(ms * 1000) / 1000;
    }
    lower = upper;
    below = cumulative;
  }
  return lower; // in the +Inf bucket: the largest finite bound, as Prometheus answers
}

async function latencySummary(): Promise<Record<string, LatencySummary>> {
  const out: Record<string, LatencySummary> = {
    source: { p50: null, p95: null, count: 0, buckets: [] },
    target: { p50: null, p95: null, count: 0, buckets: [] },
  };
  for (const v of (await metrics.serverLatency.get()).values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const labels = v.labels as { server?: string; le?: string | number };
    const server = String(labels.server);
    out[server] ??= { p50: null, p95: null, count: 0, buckets: [] };
    const s = out[server];
    if (labels.le === '+Inf') s.count = v.value;
    else s.buckets.push([Math.round(Number(labels.le) * 1e6) / 1e3, v.value]);
  }
  for (const s of Object.values(out)) {
    s.buckets.sort((a, b) => a[0] - b[0]);
    s.p50 = bucketQuantile(0.5, s.buckets, s.count);
    s.p95 = bucketQuantile(0.95, s.buckets, s.count);
  }
  return out;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** A server answers a ping with the account of its URL, within the connect timeout. */
async function reachable(url: string, timeoutMs: number): Promise<string | undefined> {
  const a = parseServerUrl(url);
  try {
    // mysql2 is loaded only here (a switch), not on the proxy's start-up.
    const { default: mysql } = await import('mysql2/promise');
    const c = await mysql.createConnection({
      host: a.host,
      port: a.port,
      user: a.user,
      password: a.password,
      connectTimeout: timeoutMs,
    });
    await c.ping();
    await c.end();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function startProxy(config: Config, logger: Logger): Promise<RunningProxy> {
  if (!config.source)
    throw new StartupError('a source server is required (--source mysql://user:pass@host:port/db)');
  const adminToken = process.env.TANDEM_ADMIN_TOKEN ?? config.adminToken;
  const admin = parseHostPort(config.admin);
  if (!isLoopback(admin.host) && !adminToken) {
    throw new StartupError(
      `the admin port ${config.admin} is reachable beyond this machine, and no admin token is set: ` +
        'set TANDEM_ADMIN_TOKEN (or adminToken in the config), or listen on 127.0.0.1',
    );
  }
  useNativeIo(config.nativeIo);
  if (config.nativeIo && nativeIo() === undefined)
    logger.warn('the native socket reader is not built (npm install builds it): node reads every socket');
  const saved = await loadModeState(config.stateDir);
  if (saved && saved.mode !== config.mode) {
    logger.warn(
      { saved: saved.mode, configured: config.mode },
      'resuming the mode saved in the state directory',
    );
  }
  const modes = new ModeController(saved?.mode ?? config.mode, saved?.history ?? []);
  let saving = Promise.resolve();
  modes.on('change', (change) => {
    logger.info({ ...change }, 'mode changed');
    saving = saving.then(() => saveModeState(config.stateDir, { mode: change.to, history: modes.history }));
  });
  const journal = new RepairJournal(config.stateDir);
  await journal.load();
  // Before the listener accepts anyone: an instance that was down resumes the fleet's mode.
  let fleet: Fleet | undefined;
  if (config.control.enabled) {
    try {
      fleet = await Fleet.join({
        source: config.source,
        schema: config.control.schema,
        pollMs: config.control.pollMs,
        holdMs: config.switch.holdMs,
        logger,
        modes,
        instanceId:
          config.control.instanceId ??
          `${hostname()}/${config.listen}${config.listen.endsWith(':0') ? `/${process.pid}` : ''}`,
        listen: config.listen,
        admin: config.admin,
      });
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        'control table unavailable: this instance follows no fleet',
      );
    }
  }
  const listener = new Listener(config, logger, modes, journal);
  const load = new LoadJob(config, logger);
  const { host, port } = await listener.listen();

  const precondition = async (from: Mode, to: Mode): Promise<string | undefined> => {
    if (from === 'dual-source' && to === 'dual-target') {
      await journal.load(); // `tandem journal replay` may have emptied it from another process
      if (journal.depth > 0) {
        return `the repair journal holds ${journal.depth} entries: run \`tandem journal replay\` first (or force)`;
      }
      // Written by `tandem verify` (another process): read at each attempt. A verification that
      // began before dual writes did may have passed a range that was written afterwards. Dual
      // writes begin when dual-source is entered from source; a return from dual-target keeps
      // them running, so it does not call for a new verification.
      const since = [...modes.history]
        .reverse()
        .find((c) => c.to === 'dual-source' && c.from === 'source')?.at;
      const problem = verificationProblem(await loadVerification(config.stateDir), since);
      if (problem) return problem;
    }
    // The way back must work before the way forward is taken: both servers answer.
    for (const [name, url] of [
      ['source', config.source],
      ['target', config.target],
    ] as const) {
      if (to === 'source' && name === 'target') continue;
      if (!url) return `no ${name} server is configured`;
      const problem = await reachable(url, config.timeouts.connectMs);
      if (problem) return `the ${name} server does not answer: ${problem}`;
    }
    return undefined;
  };

  const switchMode = async (to: string, opts: { force?: boolean; requester?: string } = {}) => {
    const change = await modes.switchTo(to as Mode, {
      force: opts.force ?? false,
      requester: opts.requester ?? 'internal',
      holdMs: config.switch.holdMs,
      precondition,
      decide: fleet ? (mode, requester) => fleet.decide(mode, requester) : undefined,
    });
    await saving;
    if (change.forced) logger.warn({ ...change }, 'forced mode switch');
    return change;
  };

  const status = async (): Promise<Record<string, unknown>> => {
    const statements: Record<string, number> = {};
    for (const v of (await metrics.statements.get()).values) {
      const server = String(v.labels.server);
      statements[server] = (statements[server] ?? 0) + v.value;
    }
    const last = modes.history[modes.history.length - 1];
    return {
      mode: modes.mode,
      switching: modes.switching,
      epoch: fleet?.epoch ?? modes.history.length,
      instances: fleet ? await fleet.instances() : [],
      connections: listener.connectionCount,
      activeSessions: modes.activeSessions,
      lastSwitch: last,
      lastSwitchHeldMs: modes.lastHeldMs,
      history: modes.history.slice(-20),
      journal: { depth: journal.depth, bytes: journal.size },
      statements,
      latencyMs: await latencySummary(),
      policy: config.dualWrite.policy,
      verification: (await loadVerification(config.stateDir)) ?? null,
      load: load.status(),
    };
  };

  const refreshGauges = async () => {
    metrics.clientConnections.set(listener.connectionCount);
    const servers = listener.serverConnections();
    metrics.serverConnections.labels('source').set(servers.source);
    metrics.serverConnections.labels('target').set(servers.target);
    metrics.journalDepth.set(journal.depth);
    metrics.journalBytes.set(journal.size);
    for (const m of MODES) metrics.mode.labels(m).set(m === modes.mode ? 1 : 0);
    metrics.switchHoldSeconds.set(modes.lastHeldMs / 1000);
    metrics.epoch.set(fleet?.epoch ?? modes.history.length);
    const verified = await loadVerification(config.stateDir);
    metrics.verifyClean.set(verified ? (verified.clean ? 1 : 0) : -1);
    metrics.verifyTimestamp.set(verified ? Date.parse(verified.finishedAt) / 1000 : 0);
    metrics.verifyRows.set(verified?.rowsCompared ?? 0);
    metrics.verifyDiffering.set(verified?.differing ?? 0);
    metrics.verifyFixed.set(verified?.fixed ?? 0);
    metrics.verifyErrors.set(verified?.errors ?? 0);
    const l = load.status();
    metrics.loadRunning.set(l.state === 'running' ? 1 : 0);
    // Reset first: a new load's tables replace the last one's.
    metrics.loadRows.reset();
    metrics.loadRowsEstimated.reset();
    metrics.loadTableDone.reset();
    if (l.unit === 'rows') {
      for (const t of l.tables) {
        metrics.loadRows.labels(t.table).set(t.rows);
        metrics.loadRowsEstimated.labels(t.table).set(t.estimate);
        metrics.loadTableDone.labels(t.table).set(t.done ? 1 : 0);
      }
    }
    metrics.loadRowsPerSecond.set(l.overall.rowsPerSecond);
    metrics.loadEtaSeconds.set(l.state !== 'running' ? 0 : (l.overall.etaSeconds ?? -1));
    metrics.loadBytes.set(l.overall.bytes);
    metrics.loadFinishedTimestamp.set(l.finishedAt ? Date.parse(l.finishedAt) / 1000 : 0);
    metrics.loadFailed.set(l.state === 'failed' ? 1 : 0);
  };

  const app = buildAdminServer({ status, switchMode, refreshGauges, load }, { token: adminToken, logger });
  try {
    await app.listen({ host: admin.host, port: admin.port });
  } catch (err) {
    await listener.close(0);
    throw new StartupError(`admin port ${config.admin}: ${(err as Error).message}`);
  }
  const adminPort = (app.server.address() as AddressInfo).port;

  return {
    host,
    port,
    adminPort,
    modes,
    journal,
    load,
    switchMode,
    status,
    connectionCount: () => listener.connectionCount,
    close: async (deadlineMs = config.timeouts.shutdownMs) => {
      await app.close();
      // A running load stops as DELETE /load stops it: checkpoint saved, target settings restored.
      await load.close();
      await fleet?.close();
      await listener.close(deadlineMs);
      await journal.close();
      await saving;
    },
  };
}
