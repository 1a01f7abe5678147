import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Settings, in order of precedence (lowest first): config/default.yaml (or --config FILE),
 * TANDEM_* environment variables, command-line flags. Validated once at start so that a bad
 * key is reported with its name and the reason, before any socket is opened.
 */

/** Node's timers hold at most 2^31 - 1 ms (24.8 days); a longer delay would fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const TIMER_TOO_LONG = `at most ${MAX_TIMER_MS} ms (24.8 days, the longest timer node keeps)`;

export const MODES = ['source', 'dual-source', 'dual-target', 'target'] as const;
export type Mode = (typeof MODES)[number];

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected HOST:PORT, for example 127.0.0.1:6033')
  .refine((v) => Number(/:(\d+)$/.exec(v)?.[1] ?? 0) <= 65535, 'port must be 0 to 65535');

const mysqlUrl = z
  .string()
  .refine((v) => /^mysql:\/\//.test(v) && URL.canParse(v), 'expected mysql://user:pass@host:port/db');

export const configSchema = z
  .object({
    source: mysqlUrl.optional(),
    target: mysqlUrl.optional(),
    mode: z.enum(MODES).default('source'),
    listen: hostPort.default('127.0.0.1:6033'),
    admin: hostPort.default('127.0.0.1:6034'),
    stateDir: z.string().min(1).default('.tandem/state'),
    tls: z
      .object({ cert: z.string().min(1), key: z.string().min(1), ca: z.string().optional() })
      .strict()
      .optional(),
    allowLocalInfile: z.boolean().default(false),
    /** Read plain TCP sockets through the native reader where it is built (src/protocol/native-io.ts). */
    nativeIo: z.boolean().default(true),
    /** Largest logical packet accepted from a client, like the server's max_allowed_packet. */
    maxPacketSize: z
      .number()
      .int()
      .min(1024)
      .max(1024 ** 3)
      .default(64 * 1024 * 1024),
    timeouts: z
      .object({
        connectMs: z.number().int().positive().default(5000),
        handshakeMs: z.number().int().positive().default(10_000),
        /** Like the server's wait_timeout: an idle client is disconnected after this. */
        idleMs: z
          .number()
          .int()
          .positive()
          .max(MAX_TIMER_MS, TIMER_TOO_LONG)
          .default(8 * 3600 * 1000),
        /** A server that sends nothing for this long while a response is due is given up (error 2013). */
        serverMs: z
          .number()
          .int()
          .positive()
          .max(MAX_TIMER_MS, TIMER_TOO_LONG)
          .default(15 * 60 * 1000),
        /** SIGTERM: how long running statements may go on before the process exits. */
        shutdownMs: z.number().int().nonnegative().default(30_000),
      })
      .strict()
      .default({
        connectMs: 5000,
        handshakeMs: 10_000,
        idleMs: 8 * 3600 * 1000,
        serverMs: 15 * 60 * 1000,
        shutdownMs: 30_000,
      }),
    dualWrite: z
      .object({
        /** lenient: the primary's result stands and the miss is journaled; strict: the write fails and is rolled back. */
        policy: z.enum(['lenient', 'strict']).default('lenient'),
        /** A secondary slower than this is given up for the statement (journaled under lenient). */
        secondaryTimeoutMs: z.number().int().positive().default(5000),
        /** CREATE, ALTER, DROP, TRUNCATE, RENAME go to both servers; off when the target's schema is managed apart. */
        mirrorDdl: z.boolean().default(true),
      })
      .strict()
      .default({ policy: 'lenient', secondaryTimeoutMs: 5000, mirrorDdl: true }),
    scope: z
      .object({
        /** `schema.table` patterns with `*`; tables that match go to both servers. */
        include: z.array(z.string().min(1)).default(['*']),
        /** Patterns taken out of `include`: written to the source only. */
        exclude: z.array(z.string().min(1)).default([]),
        /** Names that differ on the target: `schemas: {shop: shop_v2}`, `tables: {shop.orders: orders_v2}`. */
        rename: z
          .object({
            schemas: z.record(z.string(), z.string().min(1)).default({}),
            tables: z
              .record(z.string().regex(/^[^.]+\.[^.]+$/, 'expected schema.table'), z.string().min(1))
              .default({}),
          })
          .strict()
          .default({ schemas: {}, tables: {} }),
      })
      .strict()
      .default({ include: ['*'], exclude: [], rename: { schemas: {}, tables: {} } }),
    /** Bearer token for the admin port (or TANDEM_ADMIN_TOKEN); required when it listens beyond loopback. */
    adminToken: z.string().min(16, 'use at least 16 characters').optional(),
    switch: z
      .object({
        /** Longest time a mode switch holds new transactions while running ones finish. */
        holdMs: z.number().int().positive().default(2000),
      })
      .strict()
      .default({ holdMs: 2000 }),
    control: z
      .object({
        /** Instances in front of the same servers share the mode through a table on the source. */
        enabled: z.boolean().default(true),
        schema: z.string().min(1).default('tandem_control'),
        /** How often an instance reads the control table: a switch reaches it within this. */
        pollMs: z.number().int().positive().default(250),
        /** This instance's name in the control table (default host name and listen address). */
        instanceId: z.string().min(1).optional(),
      })
      .strict()
      .default({ enabled: true, schema: 'tandem_control', pollMs: 250 }),
    verify: z
      .object({
        /** Column holding each table's last-change time for `--method incremental`: `{shop.orders: changed_at}`. */
        updateColumns: z
          .record(z.string().regex(/^[^.]+\.[^.]+$/, 'expected schema.table'), z.string().min(1))
          .default({}),
        /** The full compare sizes its chunks so that each takes about this long on the slower server. */
        chunkTimeMs: z.number().int().positive().default(500),
        /** Incremental: rows changed up to this long before the checkpoint are read again (late commits, clock skew). */
        overlapSeconds: z.number().nonnegative().default(60),
        /** `--follow`: pause between passes. */
        intervalSeconds: z.number().positive().default(5),
        /** Most rows compared per second per table (0: no limit). */
        maxRowsPerSecond: z.number().int().nonnegative().default(0),
      })
      .strict()
      .default({
        updateColumns: {},
        chunkTimeMs: 500,
        overlapSeconds: 60,
        intervalSeconds: 5,
        maxRowsPerSecond: 0,
      }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parsed form of a server URL such as mysql://user:pass@127.0.0.1:3306/db. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string | undefined;
}

export function parseServerUrl(url: string): ServerAddress {
  const u = new URL(url);
  return Object.freeze({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
  });
}

export function parseHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  return { host: value.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(value.slice(i + 1)) };
}

/** Environment variables: TANDEM_SOURCE, TANDEM_LOG_LEVEL, TANDEM_TIMEOUTS__CONNECT_MS, ... */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('TANDEM_') || raw === undefined || name === 'TANDEM_ADMIN_TOKEN') continue;
    const path = name
      .slice('TANDEM_'.length)
      .toLowerCase()
      .split('__')
      .map((part) => part.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
    let node = out;
    for (const key of path.slice(0, -1)) {
      node[key] = (node[key] as Record<string, unknown> | undefined) ?? {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = coerceScalar(raw);
  }
  return out;
}

function coerceScalar(raw: string): unknown {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (/^\s*[[{]/.test(raw)) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergeConfig(...layers: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k], v) : v;
    }
  }
  return out;
}

export function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist`);
  const doc: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc)) throw new ConfigError(`config file ${file}: expected a mapping at the top level`);
  return doc;
}

/** Validates merged layers; the error names each bad key and why it is bad. */
export function validateConfig(merged: Record<string, unknown>): Config {
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || '(top level)';
    return `  ${key}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

export interface LoadConfigOptions {
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly flags?: Record<string, unknown>;
}

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const defaultFile = new URL('../config/default.yaml', import.meta.url);
  const fileLayer = opts.file
    ? readConfigFile(opts.file)
    : existsSync(defaultFile)
      ? readConfigFile(fileURLToPath(defaultFile))
      : {};
  return validateConfig(mergeConfig(fileLayer, configFromEnv(opts.env ?? process.env), opts.flags ?? {}));
}
