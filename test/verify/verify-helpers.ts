import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { inject } from 'vitest';
import { runVerify, type VerifyRunOptions } from '../../src/verify/run-verify.js';
import type { PassSummary } from '../../src/verify/verify-report.js';

/**
 * The shared source and target, reached directly: every difference in these tests is made
 * "behind tandem's back", as a statement outside the proxy or a failed dual write would.
 */
export const source = `mysql://root@127.0.0.1:${inject('sourcePort')}/`;
export const target = `mysql://root@127.0.0.1:${inject('targetPort')}/`;

export async function sql(url: string, statements: string): Promise<unknown> {
  const c = await mysql.createConnection({
    uri: url,
    multipleStatements: true,
    dateStrings: true,
    jsonStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  try {
    const [r] = await c.query(statements);
    return r;
  } finally {
    await c.end();
  }
}

export async function onBoth(statements: string): Promise<void> {
  await Promise.all([sql(source, statements), sql(target, statements)]);
}

/** Rows as both servers hold them, for "the target now equals the source". */
export async function rowsOf(url: string, table: string): Promise<unknown> {
  return sql(url, `SELECT * FROM ${table} ORDER BY 1`);
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface VerifyResult {
  readonly code: number;
  readonly summary: PassSummary;
  /** The summary table as an operator sees it. */
  readonly output: string;
}

export function newStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'tandem-verify-'));
}

/** One pass of `tandem verify` in this process. */
export async function verify(
  options: Partial<VerifyRunOptions> & { tables: string[] },
): Promise<VerifyResult> {
  const out = new Collect();
  let summary: PassSummary | undefined;
  const code = await runVerify({
    source,
    target,
    method: 'full',
    fix: false,
    follow: false,
    stateDir: options.stateDir ?? newStateDir(),
    from: 'source',
    scope: { include: ['*'], exclude: [], rename: { schemas: {}, tables: {} } },
    chunkTimeMs: 500,
    maxRowsPerSecond: 0,
    overlapSeconds: 60,
    intervalSeconds: 1,
    updateColumns: {},
    recheckMs: 50,
    out,
    err: new Collect(),
    tty: false,
    ...options,
    onPass: (s) => {
      summary = s;
      options.onPass?.(s);
    },
  });
  return { code, summary: summary!, output: out.text };
}

/** The differences of a pass as `kind:key` strings, sorted: easy to read in an assertion. */
export function differencesOf(result: VerifyResult): string[] {
  return result.summary.outcomes
    .flatMap((o) => o.differences.map((d) => `${d.kind}:${Object.values(d.key).join(',')}`))
    .sort();
}
