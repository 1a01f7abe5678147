import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MODES } from '../config.js';
import { type LoadJob, LoadRequestError } from '../load/load-job.js';
import type { Logger } from '../log.js';
import { metrics, registry } from '../metrics.js';
import { isMode, type ModeChange, TransitionRefused } from '../routing/modes.js';
import { dashboardHtml } from './dashboard.js';

/** What the admin port reads and changes; implemented by the running proxy. */
export interface AdminTarget {
  status(): Promise<Record<string, unknown>>;
  switchMode(to: string, opts: { force: boolean; requester: string }): Promise<ModeChange>;
  /** Sets the gauges that are read, not counted (connections, journal, mode). */
  refreshGauges(): Promise<void>;
  /** The initial load run in this process. */
  readonly load: Pick<LoadJob, 'start' | 'stop' | 'status'>;
}

/** Paths served without the token: probes and scrapers carry none. */
const OPEN_PATHS = new Set(['/healthz', '/metrics']);

function tokenMatches(header: string | undefined, query: string | undefined, token: string): boolean {
  // The dashboard page is opened by a browser, which cannot add a header: ?token= stands in.
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : (query ?? ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The admin HTTP API: GET /status, PUT /mode, GET /metrics, GET /healthz, GET / (dashboard),
 * POST /load (start the initial load, 202), GET /load (its progress), DELETE /load (stop it).
 * JSON in and out; errors as `{ error, message }` with 400 (bad request), 401 (token), 409 (refused).
 */
export function buildAdminServer(
  target: AdminTarget,
  opts: { token: string | undefined; logger: Logger },
): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? '';
    if (!opts.token || OPEN_PATHS.has(path)) return;
    const query = (req.query as { token?: string } | undefined)?.token;
    if (!tokenMatches(req.headers.authorization, query, opts.token)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'a valid bearer token is required' });
    }
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof TransitionRefused)
      return reply.code(err.status).send({ error: 'refused', message: err.message });
    if (err instanceof LoadRequestError)
      return reply
        .code(err.status)
        .send({ error: err.status === 409 ? 'refused' : 'bad request', message: err.message });
    if (
      err.statusCode === 400 ||
      err.name === 'SyntaxError' ||
      (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY'
    ) {
      return reply.code(400).send({ error: 'bad request', message: err.message });
    }
    if (err.statusCode && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: 'bad request', message: err.message });
    opts.logger.error({ err: err.message }, 'admin request failed');
    return reply.code(500).send({ error: 'internal', message: err.message });
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/status', async () => target.status());

  app.get('/mode', async () => ({ mode: (await target.status()).mode }));

  app.put('/mode', async (req, reply) => {
    const body = req.body as { mode?: unknown; force?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !isMode(body.mode)) {
      return reply.code(400).send({
        error: 'bad request',
        message: `expected {"mode": one of ${MODES.join(', ')}}, got ${JSON.stringify(body?.mode ?? body ?? null)}`,
      });
    }
    const requester = String(req.headers['x-requester'] ?? `${req.ip}`);
    const change = await target.switchMode(body.mode, { force: body.force === true, requester });
    opts.logger.info({ ...change }, 'mode switched');
    return { ...(await target.status()), switched: change };
  });

  app.get('/load', async () => target.load.status());

  app.post('/load', async (req, reply) => {
    const started = await target.load.start(req.body);
    return reply.code(202).send(started);
  });

  app.delete('/load', async () => target.load.stop());

  app.get('/metrics', async (_req, reply) => {
    await target.refreshGauges();
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });

  app.get('/', async (_req, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').send(dashboardHtml()),
  );

  return app;
}

export { metrics };
