import { constants, PerformanceObserver } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { noteServerRead } from '../../src/backend/read-garbage.js';

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

describe('dead read buffers', () => {
  it('are left to a young collection once 4 MiB have been read from servers, not before', async () => {
    let minor = 0;
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
          minor++;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      noteServerRead(2 * 1024 * 1024);
      await nextTurn();
      const before = minor;
      noteServerRead(2 * 1024 * 1024);
      await nextTurn();
      await nextTurn();
      expect(minor).toBeGreaterThan(before);
      // The count starts again: the next 2 MiB ask for nothing.
      const after = minor;
      noteServerRead(2 * 1024 * 1024);
      await nextTurn();
      await nextTurn();
      expect(minor).toBe(after);
    } finally {
      observer.disconnect();
    }
  });
});
