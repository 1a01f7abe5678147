import { type ConfigInput, mergeConfig, validateConfig } from '../../src/config.js';
import { type RunningProxy, startProxy } from '../../src/index.js';
import { createLogger } from '../../src/log.js';

/**
 * Starts tandem in this process on a free port in front of `source` (a mysql:// URL).
 * Logs are silent unless TANDEM_TEST_LOG names a level.
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
        logLevel: process.env.TANDEM_TEST_LOG ?? 'silent',
      },
      overrides as Record<string, unknown>,
    ),
  );
  const proxy = await startProxy(config, createLogger(config.logLevel));
  return Object.assign(proxy, { url: `mysql://root@127.0.0.1:${proxy.port}/` });
}
