import type { TestProject } from 'vitest/node';
import { cleanupStaleTestDirs, type ServerPair, startPair } from './servers.js';

/**
 * One source and one target for the whole run, for tests that only need servers to talk to.
 * Test files run in parallel against them, so each file uses its own database names; a test
 * that kills, pauses or restarts a server starts its own with startServer().
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Port of the shared source server on 127.0.0.1 (user root, empty password). */
    sourcePort: number;
    /** Port of the shared target server on 127.0.0.1 (user root, empty password). */
    targetPort: number;
  }
}

let pair: ServerPair | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  cleanupStaleTestDirs();
  pair = await startPair();
  project.provide('sourcePort', pair.source.port);
  project.provide('targetPort', pair.target.port);
  return async () => {
    await pair?.stop();
    pair = undefined;
  };
}
