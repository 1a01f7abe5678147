import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigInput, mergeConfig, validateConfig } from '../../src/config.js';
import { type RunningProxy, startProxy } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import { saveVerification } from '../../src/verify/verification-record.js';

/**
 * Starts tandem in this process on a free port in front of `source` (a mysql:// URL).
 * Logs are silent unless TANDEM_TEST_LOG names a level. Each proxy gets a state directory of
 * its own unless one is given, so that no saved mode or journal leaks from one test to another,
 * and follows no fleet (the control table) unless a test turns `control` on: test files share
 * the source server, and one file's switches must not reach another's proxies.
 */
export async function startTestProxy(
  source: string,
  overrides: Partial<ConfigInput> = {},
): Promise<RunningProxy & { url: string }> {
  const config = validateConfig(
    mergeConfig(
      {
        source,
        listen: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        stateDir: mkdtempSync(join(tmpdir(), 'tandem-state-')),
        control: { enabled: false },
        logLevel: process.env.TANDEM_TEST_LOG ?? 'silent',
      },
      overrides as Record<string, unknown>,
    ),
  );
  const proxy = await startProxy(config, createLogger(config.logLevel));
  return Object.assign(proxy, { url: `mysql://root@127.0.0.1:${proxy.port}/` });
}

/** Stores a clean verification in `stateDir`, as a `tandem verify` pass that found nothing would. */
export async function markVerified(stateDir: string): Promise<void> {
  const now = new Date().toISOString();
  await saveVerification(stateDir, {
    method: 'full',
    startedAt: now,
    finishedAt: now,
    clean: true,
    fix: false,
    tables: 0,
    rowsCompared: 0,
    differing: 0,
    fixed: 0,
    errors: 0,
  });
}
