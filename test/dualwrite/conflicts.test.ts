import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/config.js';
import { startTestProxy } from '../harness/proxy.js';
import { sharedPair } from '../harness/servers.js';
import {
  compareDatabases,
  ER_DUP_ENTRY,
  ER_LOCK_DEADLOCK,
  ER_LOCK_WAIT_TIMEOUT,
  errnoOf,
  query,
  sleep,
  stateDir,
} from './compare.js';

/**
 * Conflicting writes: 16 connections through tandem for 10 s on the same five rows, each
 * writing its own literal values, deleting and re-inserting rows (explicit ids and
 * auto-increment ids), in autocommit and in explicit transactions. Ordered mirroring must apply
 * them in the same order on both servers, so that the tables end equal without any repair:
 * the repair journal stays empty.
 *
 * The servers' own deadlocks (1213) and duplicate keys (1062) reach the app, as they would
 * without tandem: the workers retry deadlocked work. After a deadlock the server has already
 * rolled the transaction back, so half of the workers send ROLLBACK first (as most frameworks
 * do) and half begin the next transaction at once (which is just as valid).
 */

const { source, target } = sharedPair();
const WORKERS = 16;
const DURATION_MS = 10_000;
const ROWS = 5;
/**
 * Past the deadline, the workers' statements in flight must end within this (then work that
 * fails is given up): a few of the primary's 5 s lock waits, but no hang.
 */
const STALL_MS = 40_000;
/** Deadlocked work is retried, as apps do; on a busy machine a hot row can take many tries. */
const MAX_ATTEMPTS = 1000;

interface Stats {
  statements: number;
  transactions: number;
  rolledBack: number;
  deadlocks: number;
  duplicates: number;
  lockWaitTimeouts: number;
}

/** What happened between two snapshots of the counters. */
function since(now: Stats, then: Stats | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(now) as (keyof Stats)[]) out[k] = now[k] - (then?.[k] ?? 0);
  return out;
}

/** An error the server may give any client on these rows; anything else fails the test. */
class Retry extends Error {}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function row(): number {
  return 1 + Math.floor(Math.random() * ROWS);
}

/** Each worker's statement in flight (or last), for a report when they stall. */
const inFlight = new Map<mysql.Connection, string>();
/** Each worker's tries of its current step, for the same report: a livelock retries, a hang does not. */
const attempts = new Map<mysql.Connection, number>();

async function run(c: mysql.Connection, stats: Stats, sql: string, params: unknown[] = []): Promise<void> {
  inFlight.set(c, `${sql}${params.length ? ` ${JSON.stringify(params)}` : ''}`);
  try {
    await c.query(sql, params);
    stats.statements++;
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === ER_DUP_ENTRY) {
      // A row re-inserted by another worker first: the statement failed on the primary only.
      stats.duplicates++;
      return;
    }
    if (errno === ER_LOCK_DEADLOCK) {
      stats.deadlocks++;
      throw new Retry('deadlock');
    }
    if (errno === ER_LOCK_WAIT_TIMEOUT) {
      stats.lockWaitTimeouts++;
      throw new Retry('lock wait timeout');
    }
    throw err;
  }
}

/** One write on the hot rows, with literal values unique to this worker and step. */
function hotWrite(worker: number, step: number): [string, unknown[]][] {
  const id = row();
  const v = `w${worker}-${step}`;
  switch (Math.floor(Math.random() * 9)) {
    case 0:
      return [['UPDATE hot SET v = ?, n = n + 1 WHERE id = ?', [v, id]]];
    case 1:
      return [[`UPDATE hot SET v = '${v}', n = ${step} WHERE id IN (${id}, ${row()})`, []]];
    case 2:
      return [
        ['DELETE FROM hot WHERE id = ?', [id]],
        ['INSERT INTO hot (id, v) VALUES (?, ?)', [id, v]],
      ];
    case 3:
      return [[`REPLACE INTO hot (id, v, n) VALUES (${id}, '${v}', ${step})`, []]];
    case 4:
      return [
        ['INSERT INTO hot (id, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v), n = n + 1', [id, v]],
      ];
    case 5:
      return [['INSERT INTO hot_auto (slot, v) VALUES (?, ?)', [id, v]]];
    case 6:
      return [[`INSERT INTO hot_auto (slot, v) VALUES (${id}, '${v}a'), (${row()}, '${v}b')`, []]];
    case 7:
      return [['UPDATE hot_auto SET v = ? WHERE slot = ?', [v, id]]];
    default:
      return [
        ['DELETE FROM hot_auto WHERE slot = ?', [id]],
        // An explicit id in the auto-increment table, among generated ones.
        ['INSERT INTO hot_auto (id, slot, v) VALUES (?, ?, ?)', [id, id, v]],
      ];
  }
}

async function worker(port: number, db: string, w: number, deadline: number, stats: Stats): Promise<void> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database: db });
  // A cycle across the two servers that the secondary's short lock wait does not break (a
  // secondary transaction that holds gap locks its primary did not take, while its primary
  // waits) lasts until the primary's lock wait times out: 5 s here, as an app may set it,
  // instead of the default 50. Known limitation, see the issue notes.
  await c.query('SET SESSION innodb_lock_wait_timeout = 5');
  const rollbackAfterDeadlock = w % 2 === 0;
  try {
    for (let step = 0; Date.now() < deadline; step++) {
      const explicit = Math.random() < 0.4;
      const writes = explicit
        ? Array.from({ length: 2 + Math.floor(Math.random() * 3) }, () => hotWrite(w, step)).flat()
        : hotWrite(w, step);
      for (let attempt = 0; ; attempt++) {
        attempts.set(c, attempt);
        try {
          if (explicit) {
            await run(c, stats, pick(['BEGIN', 'START TRANSACTION']));
            for (const [sql, params] of writes) await run(c, stats, sql, params);
            if (Math.random() < 0.15) {
              await run(c, stats, 'ROLLBACK');
              stats.rolledBack++;
            } else await run(c, stats, 'COMMIT');
            stats.transactions++;
          } else {
            for (const [sql, params] of writes) await run(c, stats, sql, params);
          }
          break;
        } catch (err) {
          if (!(err instanceof Retry) || attempt >= MAX_ATTEMPTS) throw err;
          if (Date.now() >= deadline) {
            // The workload is over: work that failed is given up, not retried. On two cores
            // shared with other test files, 16 workers on five rows can queue behind each
            // other's 5 s lock waits for minutes (seen: 99 statements in 40 s, each after
            // several tries); a hang, not that, is what the watchdog is for.
            if (explicit) await c.query('ROLLBACK');
            break;
          }
          if (explicit && rollbackAfterDeadlock) await c.query('ROLLBACK');
          // Jittered backoff, as a client retrying deadlocks does.
          await sleep(Math.random() * 5 * Math.min(attempt + 1, 10));
        }
      }
    }
  } finally {
    inFlight.delete(c);
    attempts.delete(c);
    await c.end();
  }
}

let proxy: Awaited<ReturnType<typeof startTestProxy>> | undefined;

afterAll(async () => {
  await proxy?.close(1000);
});

describe('conflicting writes from many connections', () => {
  it.each<[Mode]>([['dual-source'], ['dual-target']])(
    'leave the tables equal on both servers without any repair in %s mode',
    async (mode) => {
      const db = `dw_conflicts_${mode.replace('-', '_')}`;
      for (const server of [source, target]) await query(server, `DROP DATABASE IF EXISTS ${db}`);
      const dir = stateDir();
      proxy = await startTestProxy(source.url, { target: target.url, mode, stateDir: dir });
      const setup = await mysql.createConnection({ host: '127.0.0.1', port: proxy.port, user: 'root' });
      await setup.query(`CREATE DATABASE ${db}`);
      await setup.query(`USE ${db}`);
      await setup.query(
        `CREATE TABLE hot (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL, n INT NOT NULL DEFAULT 0,
          changed DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))`,
      );
      await setup.query(
        `CREATE TABLE hot_auto (id INT AUTO_INCREMENT PRIMARY KEY, slot INT NOT NULL, v VARCHAR(40) NOT NULL,
          created DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6), KEY (slot))`,
      );
      await setup.query(
        `INSERT INTO hot (id, v) VALUES ${Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'seed')`).join(', ')}`,
      );
      await setup.end();

      const stats: Stats = {
        statements: 0,
        transactions: 0,
        rolledBack: 0,
        deadlocks: 0,
        duplicates: 0,
        lockWaitTimeouts: 0,
      };
      const started = Date.now();
      const deadline = started + DURATION_MS;
      const port = proxy.port;
      inFlight.clear();
      let watchdog: NodeJS.Timeout | undefined;
      let atDeadline: Stats | undefined;
      const snapshot = setTimeout(() => {
        atDeadline = { ...stats };
      }, DURATION_MS);
      const stalled = new Promise<never>((_, reject) => {
        watchdog = setTimeout(() => {
          const stuck = [...inFlight.entries()]
            .map(([c, sql]) => `  ${sql} (try ${(attempts.get(c) ?? 0) + 1})`)
            .join('\n');
          reject(
            new Error(
              `workers still busy ${STALL_MS} ms after the deadline; since the deadline ` +
                `${JSON.stringify(since(stats, atDeadline))}; statements in flight:\n${stuck}`,
            ),
          );
        }, DURATION_MS + STALL_MS);
      });
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(port, db, w, deadline, stats));
      try {
        await Promise.race([Promise.all(workers), stalled]);
      } catch (err) {
        // Closing tandem ends the stalled sessions, and so the workers.
        await proxy.close(1000);
        proxy = undefined;
        await Promise.allSettled(workers);
        throw err;
      } finally {
        clearTimeout(watchdog);
        clearTimeout(snapshot);
      }
      const elapsed = Date.now() - started;

      const { diffs, rows } = await compareDatabases(source, target, db);
      const journal = proxy.journal.depth;
      await proxy.close(1000);
      proxy = undefined;
      console.log(`conflicts ${mode}: ${JSON.stringify({ ...stats, rows, elapsedMs: elapsed, journal })}`);
      expect(diffs).toEqual([]);
      // The reasons, so that a failure says what the secondary missed and why.
      const missed =
        journal === 0 ? [] : (await readFile(join(dir, 'repair-journal.jsonl'), 'utf8')).split('\n');
      expect(missed.filter(Boolean)).toEqual([]);
      // A floor only: throughput depends on the machine (about 3000 statements in 10 s on two idle cores).
      expect(stats.statements).toBeGreaterThan(100);
      expect(stats.transactions).toBeGreaterThan(0);
    },
    DURATION_MS + STALL_MS + 30_000,
  );
});
