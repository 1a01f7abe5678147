import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromEnv,
  loadConfig,
  parseHostPort,
  parseServerUrl,
  validateConfig,
} from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'tandem-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function yamlFile(text: string): string {
  const file = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Loads with an empty file and no environment unless given, so the host's TANDEM_* never leak in. */
function load(opts: { yaml?: string; env?: NodeJS.ProcessEnv; flags?: Record<string, unknown> } = {}) {
  return loadConfig({ file: yamlFile(opts.yaml ?? ''), env: opts.env ?? {}, flags: opts.flags ?? {} });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('apply when nothing is given', () => {
    const config = load();
    expect(config).toEqual({
      mode: 'source',
      listen: '127.0.0.1:6033',
      admin: '127.0.0.1:6034',
      stateDir: '.tandem/state',
      allowLocalInfile: false,
      nativeIo: true,
      maxPacketSize: 64 * 1024 * 1024,
      timeouts: {
        connectMs: 5000,
        handshakeMs: 10_000,
        idleMs: 8 * 3600 * 1000,
        serverMs: 15 * 60 * 1000,
        shutdownMs: 30_000,
      },
      dualWrite: { policy: 'lenient', secondaryTimeoutMs: 5000, mirrorDdl: true },
      scope: { include: ['*'], exclude: [], rename: { schemas: {}, tables: {} } },
      switch: { holdMs: 2000 },
      control: { enabled: true, schema: 'tandem_control', pollMs: 250 },
      verify: {
        updateColumns: {},
        chunkTimeMs: 500,
        overlapSeconds: 60,
        intervalSeconds: 5,
        maxRowsPerSecond: 0,
      },
      logLevel: 'info',
    });
    expect(config.source).toBeUndefined();
    expect(config.target).toBeUndefined();
  });

  it('config/default.yaml agrees with the schema defaults', () => {
    expect(loadConfig({ env: {} })).toEqual(validateConfig({}));
  });

  it('a partial timeouts section keeps the other timeouts at their defaults', () => {
    const config = load({ yaml: 'timeouts:\n  idleMs: 1000\n' });
    expect(config.timeouts).toEqual({ ...validateConfig({}).timeouts, idleMs: 1000 });
  });
});

describe('precedence: YAML file < TANDEM_* env < flags', () => {
  const yaml = [
    'mode: dual-source',
    'listen: 0.0.0.0:3307',
    'admin: 0.0.0.0:3308',
    'logLevel: warn',
    'timeouts:',
    '  connectMs: 1000',
    '  handshakeMs: 2000',
  ].join('\n');
  const env = {
    TANDEM_MODE: 'dual-target',
    TANDEM_LISTEN: '127.0.0.1:4000',
    TANDEM_TIMEOUTS__HANDSHAKE_MS: '3000',
  };

  it('takes the file over the defaults', () => {
    const config = load({ yaml });
    expect(config.mode).toBe('dual-source');
    expect(config.listen).toBe('0.0.0.0:3307');
    expect(config.timeouts.connectMs).toBe(1000);
  });

  it('takes env over the file, key by key, nested keys included', () => {
    const config = load({ yaml, env });
    expect(config.mode).toBe('dual-target');
    expect(config.listen).toBe('127.0.0.1:4000');
    expect(config.admin).toBe('0.0.0.0:3308');
    expect(config.logLevel).toBe('warn');
    expect(config.timeouts.connectMs).toBe(1000);
    expect(config.timeouts.handshakeMs).toBe(3000);
    expect(config.timeouts.idleMs).toBe(8 * 3600 * 1000);
  });

  it('takes flags over env and file', () => {
    const config = load({ yaml, env, flags: { mode: 'target', admin: '127.0.0.1:9000' } });
    expect(config.mode).toBe('target');
    expect(config.listen).toBe('127.0.0.1:4000');
    expect(config.admin).toBe('127.0.0.1:9000');
  });

  it('ignores flags that are undefined', () => {
    expect(load({ yaml, flags: { mode: undefined } }).mode).toBe('dual-source');
  });
});

describe('environment variables', () => {
  it('TANDEM_TIMEOUTS__CONNECT_MS=100 maps to timeouts.connectMs', () => {
    expect(configFromEnv({ TANDEM_TIMEOUTS__CONNECT_MS: '100' })).toEqual({ timeouts: { connectMs: 100 } });
    expect(load({ env: { TANDEM_TIMEOUTS__CONNECT_MS: '100' } }).timeouts.connectMs).toBe(100);
  });

  it('maps snake case to camel case and coerces booleans and numbers', () => {
    const config = load({
      env: {
        TANDEM_STATE_DIR: '/var/lib/tandem',
        TANDEM_LOG_LEVEL: 'debug',
        TANDEM_ALLOW_LOCAL_INFILE: 'true',
        TANDEM_MAX_PACKET_SIZE: '1048576',
      },
    });
    expect(config.stateDir).toBe('/var/lib/tandem');
    expect(config.logLevel).toBe('debug');
    expect(config.allowLocalInfile).toBe(true);
    expect(config.maxPacketSize).toBe(1048576);
  });

  it('parses JSON for objects', () => {
    const config = load({ env: { TANDEM_DUAL_WRITE: '{"policy":"strict"}' } });
    expect(config.dualWrite.policy).toBe('strict');
  });

  it('ignores variables that are not TANDEM_*, and TANDEM_ADMIN_TOKEN', () => {
    expect(configFromEnv({ HOME: '/root', TANDEM_ADMIN_TOKEN: 'x', TANDEM_MODE: 'target' })).toEqual({
      mode: 'target',
    });
  });
});

describe('errors name the bad key', () => {
  it('an unknown top-level key', () => {
    const err = configError(() => load({ flags: { sourec: 'mysql://u:p@h/db' } }));
    expect(err.message).toContain('sourec');
  });

  it('an unknown key from the environment', () => {
    expect(configError(() => load({ env: { TANDEM_LISTEN_ADDR: 'x' } })).message).toContain('listenAddr');
  });

  it('an unknown nested key', () => {
    const err = configError(() => load({ yaml: 'timeouts:\n  conectMs: 5\n' }));
    expect(err.message).toContain('timeouts');
    expect(err.message).toContain('conectMs');
  });

  it('a bad mode', () => {
    const err = configError(() => load({ flags: { mode: 'bogus' } }));
    expect(err.message).toMatch(/^\s*mode: /m);
    expect(err.message).toContain('dual-source');
  });

  it.each(['localhost', '6033', '127.0.0.1:', 'host name:6033', '127.0.0.1:70000', '::1:6033'])(
    'a bad listen address %j',
    (listen) => {
      const err = configError(() => load({ flags: { listen } }));
      expect(err.message).toMatch(/^\s*listen: /m);
    },
  );

  it.each(['localhost:0', '0.0.0.0:6033', '[::1]:6033', 'db.internal:65535'])(
    'a good address %j',
    (admin) => {
      expect(load({ flags: { admin } }).admin).toBe(admin);
    },
  );

  it.each([
    'not a url',
    'postgres://u:p@127.0.0.1:5432/db',
    '127.0.0.1:3306',
    'mysql://u:p@127.0.0.1:99999/db',
  ])('a bad server URL %j', (source) => {
    const err = configError(() => load({ flags: { source } }));
    expect(err.message).toMatch(/^\s*source: /m);
    expect(err.message).toContain('mysql://');
  });

  it('a bad target URL from the environment', () => {
    const err = configError(() => load({ env: { TANDEM_TARGET: 'http://x' } }));
    expect(err.message).toMatch(/^\s*target: /m);
  });

  it('several bad keys at once, each on its own line', () => {
    const err = configError(() => load({ flags: { mode: 'x', listen: 'y' } }));
    expect(err.message).toMatch(/^\s*mode: /m);
    expect(err.message).toMatch(/^\s*listen: /m);
  });

  it('a missing config file', () => {
    const file = join(dir, 'missing.yaml');
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.message).toContain(file);
  });

  it('a config file that is not a mapping', () => {
    const file = yamlFile('- a\n- b\n');
    expect(configError(() => loadConfig({ file, env: {} })).message).toContain('mapping');
  });
});

describe('parseServerUrl', () => {
  it('decodes user, password and database', () => {
    expect(parseServerUrl('mysql://app%40corp:p%40ss%3Aw%2Fd@db.example:3307/shop%20db')).toEqual({
      host: 'db.example',
      port: 3307,
      user: 'app@corp',
      password: 'p@ss:w/d',
      database: 'shop db',
    });
  });

  it('defaults the port to 3306 and leaves the database undefined without a path', () => {
    expect(parseServerUrl('mysql://root@127.0.0.1')).toEqual({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      password: '',
      database: undefined,
    });
    expect(parseServerUrl('mysql://root@127.0.0.1/').database).toBeUndefined();
  });

  it('strips the brackets of an IPv6 host', () => {
    expect(parseServerUrl('mysql://u:p@[::1]:3306/db').host).toBe('::1');
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(parseServerUrl('mysql://u:p@h/db'))).toBe(true);
  });
});

describe('parseHostPort', () => {
  it('splits at the last colon and strips IPv6 brackets', () => {
    expect(parseHostPort('127.0.0.1:6033')).toEqual({ host: '127.0.0.1', port: 6033 });
    expect(parseHostPort('[::1]:0')).toEqual({ host: '::1', port: 0 });
  });
});
