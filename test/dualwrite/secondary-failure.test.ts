import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailurePolicy } from '../../src/dualwrite/dual-writer.js';
import { replayJournal } from '../../src/dualwrite/journal-replay.js';
import { readJournal } from '../../src/dualwrite/repair-journal.js';
import { createLogger } from '../../src/log.js';
import { startTestProxy } from '../harness/proxy.js';
import { type ServerPair, startPair } from '../harness/servers.js';
import { compareDatabases, query, sleep, stateDir } from './compare.js';

/**
 * The target dies (SIGKILL) under a dual-source insert workload and comes back.
 *
 * lenient: the app sees no error, every write the target missed is in the repair journal, the
 * sessions reconnect to the restarted target by themselves, and `journal replay` levels the
 * tables. strict: writes fail while the target is down, and the source keeps none of them.
 *
 * These tests kill and restart a server, so they run on a pair of their own.
 */

const WORKERS = 4;
const SECONDARY_TIMEOUT_MS = 1000;
/** Sessions retry the target at most once a second (session-router.ts); writes go on meanwhile. */
const RECONNECT_GRACE_MS = 2500;

let pair: ServerPair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  await pair?.stop();
});

interface Outcome {
  readonly w: number;
  readonly i: number;
  readonly error: string | undefined;
  /** The workload's phase when the insert was sent and when its answer came. */
  readonly phase: string;
  readonly endPhase: string;
}

/** Autocommit single-row inserts from several connections, each row named by (w, i). */
class InsertLoad {
  readonly outcomes: Outcome[] = [];
  phase = 'before';
  private running = true;
  private readonly done: Promise<void>;

  constructor(conns: mysql.Connection[], table: string) {
    this.done = Promise.all(
      conns.map(async (c, w) => {
        for (let i = 0; this.running; i++) {
          const phase = this.phase;
          try {
            await c.query(`INSERT INTO ${table} (w, i) VALUES (?, ?)`, [w, i]);
            this.outcomes.push({ w, i, error: undefined, phase, endPhase: this.phase });
          } catch (err) {
            this.outcomes.push({ w, i, error: (err as Error).message, phase, endPhase: this.phase });
            // A client backs off after an error instead of spinning.
            await sleep(20);
          }
        }
      }),
    ).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  errors(): Outcome[] {
    return this.outcomes.filter((o) => o.error !== undefined);
  }
}

async function keys(port: number, db: string, table: string): Promise<Set<string>> {
  const rows = await query<{ w: number; i: number }[]>(
    { host: '127.0.0.1', port },
    `SELECT w, i FROM ${db}.${table}`,
  );
  return new Set(rows.map((r) => `${r.w}:${r.i}`));
}

async function setUp(policy: FailurePolicy, db: string) {
  const dir = stateDir();
  const proxy = await startTestProxy(pair.source.url, {
    target: pair.target.url,
    mode: 'dual-source',
    stateDir: dir,
    dualWrite: { policy, secondaryTimeoutMs: SECONDARY_TIMEOUT_MS },
  });
  const setup = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
  await setup.query(`CREATE DATABASE ${db}`);
  await setup.query(`USE ${db}`);
  await setup.query(
    `CREATE TABLE ins (id BIGINT AUTO_INCREMENT PRIMARY KEY, w INT NOT NULL, i INT NOT NULL,
      at DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6), UNIQUE KEY (w, i))`,
  );
  await setup.query('CREATE TABLE tx (id BIGINT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL)');
  await setup.end();
  const conns = await Promise.all(
    Array.from({ length: WORKERS }, () =>
      mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root', database: db }),
    ),
  );
  return {
    proxy,
    dir,
    conns,
    close: async () => {
      for (const c of conns) await c.end().catch(() => undefined);
      await proxy.close(1000);
    },
  };
}

describe('policy lenient', () => {
  it('keeps answering the app while the target is killed, journals every miss, reconnects, and replay levels the tables', async () => {
    const db = 'dw_fail_lenient';
    const { proxy, dir, conns, close } = await setUp('lenient', db);
    const started = Date.now();
    try {
      const load = new InsertLoad(conns, 'ins');
      await sleep(1000);
      load.phase = 'down';
      await pair.target.kill();
      await sleep(2000);
      const depthWhileDown = proxy.journal.depth;
      load.phase = 'restarting';
      await pair.target.restart();
      await sleep(RECONNECT_GRACE_MS);
      await load.stop();

      expect(load.errors()).toEqual([]);
      expect(depthWhileDown).toBeGreaterThan(0);
      const entries = await readJournal(proxy.journal.file);
      expect(entries.length).toBe(proxy.journal.depth);
      expect(entries.every((e) => e.server === 'target' && e.schema === db)).toBe(true);
      // Each entry names its row: the id the INSERT generated, so replay repairs rows, not tables.
      expect(entries.filter((e) => e.insertId === undefined)).toEqual([]);

      // Every row the target lacks was a journaled write: at least one entry per missing row.
      const onSource = await keys(pair.source.port, db, 'ins');
      const onTarget = await keys(pair.target.port, db, 'ins');
      const missing = [...onSource].filter((k) => !onTarget.has(k));
      expect(missing.length).toBeGreaterThan(0);
      expect(proxy.journal.depth).toBeGreaterThanOrEqual(missing.length);

      // The sessions are back on the target: new writes reach it and journal nothing.
      const depth = proxy.journal.depth;
      const after = await Promise.all(
        conns.map(async (c, w) => {
          const ids: number[] = [];
          for (let i = 0; i < 20; i++) {
            const [r] = await c.query('INSERT INTO ins (w, i) VALUES (?, ?)', [w, 1_000_000 + i]);
            ids.push((r as mysql.ResultSetHeader).insertId);
          }
          return ids;
        }),
      );
      expect(proxy.journal.depth).toBe(depth);
      const targetIds = await query<{ id: string }[]>(
        pair.target,
        `SELECT id FROM ${db}.ins WHERE i >= 1000000 ORDER BY id`,
      );
      expect(targetIds.map((r) => Number(r.id))).toEqual(after.flat().sort((a, b) => a - b));

      // journal replay, as `tandem journal replay` runs it, makes the tables equal again, while
      // the app goes on writing the same rows through tandem: a repair must never put an older
      // row back over a write mirrored meanwhile.
      let writing = true;
      const ids = (await query<{ id: string }[]>(pair.source, `SELECT id FROM ${db}.ins`)).map((r) => r.id);
      const during = conns.map(async (c, w) => {
        for (let i = 0; writing; i++) {
          const id = ids[(w * 7919 + i * 104729) % ids.length];
          await c.query('UPDATE ins SET at = NOW(6) WHERE id = ?', [id]);
          await c.query('INSERT INTO ins (w, i) VALUES (?, ?)', [w, 2_000_000 + i]);
        }
      });
      const replay = await replayJournal({
        source: pair.source.url,
        target: pair.target.url,
        stateDir: dir,
        logger: createLogger('silent'),
      });
      writing = false;
      await Promise.all(during);
      expect(replay.remaining).toBe(0);
      // Only the journaled rows were compared (the ids the inserts generated, the updates' ids),
      // not the whole table.
      expect(replay.tables).toHaveLength(1);
      const keyless = (await readJournal(proxy.journal.file)).filter((e) => !e.keys && !e.insertId);
      expect(keyless).toEqual([]);
      expect(replay.tables[0]!.rowsCompared).toBeLessThan(ids.length);
      const { diffs, rows } = await compareDatabases(pair.source, pair.target, db);
      expect(diffs).toEqual([]);
      console.log(
        `secondary failure, lenient: ${JSON.stringify({
          writes: load.outcomes.length,
          rows,
          missedByTarget: missing.length,
          journal: depth,
          replayed: replay.fixed,
          ms: Date.now() - started,
        })}`,
      );
    } finally {
      await close();
    }
  }, 60_000);

  it('journals a transaction whose target died before its COMMIT', async () => {
    const db = 'dw_fail_lenient_tx';
    const { proxy, conns, close } = await setUp('lenient', db);
    try {
      const [c] = conns;
      await c!.query('BEGIN');
      await c!.query("INSERT INTO tx (v) VALUES ('a'), ('b')");
      await c!.query("UPDATE tx SET v = 'c' WHERE v = 'a'");
      const depth = proxy.journal.depth;
      // The target applied both statements but had not committed them when it died.
      await pair.target.kill();
      await c!.query('COMMIT');
      expect(await query(pair.source, `SELECT v FROM ${db}.tx ORDER BY id`)).toEqual([
        { v: 'c' },
        { v: 'b' },
      ]);
      await pair.target.restart();
      expect(await query(pair.target, `SELECT v FROM ${db}.tx ORDER BY id`)).toEqual([]);
      // The target lost a committed transaction: the journal must say so.
      expect(proxy.journal.depth).toBeGreaterThan(depth);
    } finally {
      if (!pair.target.running) await pair.target.restart();
      await close();
    }
  }, 60_000);
});

describe('policy strict', () => {
  it('fails writes while the target is down and keeps none of them on the source', async () => {
    const db = 'dw_fail_strict';
    const { conns, close } = await setUp('strict', db);
    try {
      const load = new InsertLoad(conns, 'ins');
      await sleep(1000);
      load.phase = 'down';
      await pair.target.kill();
      await sleep(2000);
      load.phase = 'restarting';
      await pair.target.restart();
      await sleep(RECONNECT_GRACE_MS);
      load.phase = 'after';
      await sleep(1000);
      await load.stop();

      const failed = load.errors();
      // Inserts sent before the kill may fail when their answer comes after it; none that ended before.
      expect(failed.filter((o) => o.endPhase === 'before')).toEqual([]);
      expect(failed.filter((o) => o.phase === 'down').length).toBeGreaterThan(0);
      for (const o of failed) expect(o.error).toMatch(/^tandem: .*strict|Lost connection|unavailable/);
      // Once the sessions are back on the target, writes succeed again.
      const after = load.outcomes.filter((o) => o.phase === 'after' && o.endPhase === 'after');
      expect(after.length).toBeGreaterThan(0);
      expect(after.filter((o) => o.error)).toEqual([]);

      const onSource = await keys(pair.source.port, db, 'ins');
      const onTarget = await keys(pair.target.port, db, 'ins');
      const failedOnSource = failed.filter((o) => onSource.has(`${o.w}:${o.i}`));
      expect(failedOnSource).toEqual([]);
      // Every write the app was told succeeded is on both servers.
      const acked = load.outcomes.filter((o) => !o.error).map((o) => `${o.w}:${o.i}`);
      expect(acked.filter((k) => !onSource.has(k))).toEqual([]);
      expect(acked.filter((k) => !onTarget.has(k))).toEqual([]);
      console.log(
        `secondary failure, strict: ${JSON.stringify({ writes: load.outcomes.length, acked: acked.length, failed: failed.length })}`,
      );
    } finally {
      await close();
    }
  }, 60_000);

  it('fails a COMMIT whose target died in the transaction, and the source keeps none of it', async () => {
    const db = 'dw_fail_strict_tx';
    const { conns, close } = await setUp('strict', db);
    try {
      const [c] = conns;
      await c!.query('BEGIN');
      await c!.query("INSERT INTO tx (v) VALUES ('a'), ('b')");
      await pair.target.kill();
      await expect(c!.query('COMMIT')).rejects.toThrow(/tandem: .*strict/);
      expect(await query(pair.source, `SELECT v FROM ${db}.tx`)).toEqual([]);
    } finally {
      if (!pair.target.running) await pair.target.restart();
      await close();
    }
  }, 60_000);
});
