import { hostname } from 'node:os';
import type { Connection } from 'mysql2/promise';
import { parseServerUrl } from '../config.js';
import type { Logger } from '../log.js';
import { isMode, type Mode, type ModeController, TransitionRefused } from '../routing/modes.js';
import { quoteName } from '../sql/identifiers.js';

/**
 * Several tandem instances in front of the same servers agree on the mode through a small
 * control table on the source: one row with the mode and an epoch that every switch raises.
 * A switch is decided by a compare-and-set on the epoch (two instances cannot both win); every
 * instance polls the row and applies a newer epoch the same way a local switch is applied,
 * and records the epoch it has applied in `instances`.
 */
export interface FleetOptions {
  readonly source: string;
  readonly schema: string;
  readonly pollMs: number;
  readonly holdMs: number;
  readonly logger: Logger;
  readonly modes: ModeController;
  /** Shown in `instances`, and the requester of switches this instance applies. */
  readonly instanceId: string;
  readonly listen: string;
  readonly admin: string;
}

export interface FleetInstance {
  readonly instance: string;
  readonly host: string;
  readonly listen: string;
  readonly admin: string;
  readonly mode: string;
  readonly epoch: number;
  readonly seenAt: string;
}

export class Fleet {
  private conn: Connection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** The epoch this instance has applied. */
  epoch = 0;

  private constructor(private readonly opts: FleetOptions) {}

  /**
   * Connects, creates the control table if needed, and applies the fleet's mode before the
   * instance accepts clients: a stale instance that restarts starts in the current mode.
   */
  static async join(opts: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(opts);
    await fleet.connect();
    const s = quoteName(opts.schema);
    const c = fleet.conn!;
    await c.query(`CREATE DATABASE IF NOT EXISTS ${s}`);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${s}.mode (id TINYINT PRIMARY KEY, mode VARCHAR(16) NOT NULL,
        epoch BIGINT NOT NULL, changed_at DATETIME(6) NOT NULL, requester VARCHAR(255) NOT NULL) ENGINE=InnoDB`,
    );
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${s}.instances (instance VARCHAR(128) PRIMARY KEY, host VARCHAR(255) NOT NULL,
        listen VARCHAR(255) NOT NULL, admin VARCHAR(255) NOT NULL, mode VARCHAR(16) NOT NULL,
        epoch BIGINT NOT NULL, seen_at DATETIME(6) NOT NULL) ENGINE=InnoDB`,
    );
    await c.query(`INSERT IGNORE INTO ${s}.mode VALUES (1, ?, 0, NOW(6), ?)`, [
      opts.modes.mode,
      opts.instanceId,
    ]);
    const row = await fleet.read();
    if (row && row.mode !== opts.modes.mode) {
      // The fleet's decision outranks this instance's --mode: two instances in front of the same
      // servers must never route differently. Said loudly, since it overrides what was asked.
      opts.logger.warn(
        { mode: row.mode, asked: opts.modes.mode, epoch: row.epoch, schema: opts.schema },
        `taking the fleet's mode ${row.mode} from the control table instead of ${opts.modes.mode}; change it with \`tandem mode set\` (or give this instance its own control.schema)`,
      );
      opts.modes.set(row.mode, `fleet (epoch ${row.epoch})`);
    }
    fleet.epoch = row?.epoch ?? 0;
    await fleet.report();
    fleet.timer = setInterval(() => void fleet.poll(), opts.pollMs);
    fleet.timer.unref();
    return fleet;
  }

  private async connect(): Promise<void> {
    const { default: mysql } = await import('mysql2/promise');
    const a = parseServerUrl(this.opts.source);
    this.conn = await mysql.createConnection({
      host: a.host,
      port: a.port,
      user: a.user,
      password: a.password,
      connectTimeout: 5000,
    });
    this.conn.on('error', () => {
      this.conn = undefined;
    });
  }

  private async read(): Promise<{ mode: Mode; epoch: number } | undefined> {
    if (!this.conn) await this.connect();
    const [rows] = await this.conn!.query(
      `SELECT mode, epoch FROM ${quoteName(this.opts.schema)}.mode WHERE id = 1`,
    );
    const row = (rows as { mode: string; epoch: number | string }[])[0];
    if (!row || !isMode(row.mode)) return undefined;
    return { mode: row.mode, epoch: Number(row.epoch) };
  }

  private async report(): Promise<void> {
    await this.conn?.query(
      `REPLACE INTO ${quoteName(this.opts.schema)}.instances VALUES (?, ?, ?, ?, ?, ?, NOW(6))`,
      [this.opts.instanceId, hostname(), this.opts.listen, this.opts.admin, this.opts.modes.mode, this.epoch],
    );
  }

  /** Follows the control row: a newer epoch is applied here as a local switch would be. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const row = await this.read();
      if (row && row.epoch > this.epoch) {
        if (row.mode !== this.opts.modes.mode) {
          try {
            await this.opts.modes.switchTo(row.mode, {
              force: true,
              requester: `fleet (epoch ${row.epoch})`,
              holdMs: this.opts.holdMs,
            });
          } catch (err) {
            if (!(err instanceof TransitionRefused)) throw err;
            // The fleet has decided: transactions still open here finish under the mode they
            // began with; new ones take the fleet's.
            this.opts.modes.set(row.mode, `fleet (epoch ${row.epoch})`, this.opts.holdMs, true);
          }
        }
        this.epoch = row.epoch;
      }
      await this.report();
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'control table poll failed');
      this.conn?.destroy();
      this.conn = undefined;
    } finally {
      this.polling = false;
    }
  }

  /**
   * Decides a switch for the fleet: raises the epoch if nobody else has since this instance
   * last applied one. Called after the local hold, before the local flip.
   */
  async decide(to: Mode, requester: string): Promise<void> {
    if (!this.conn) await this.connect();
    const [result] = await this.conn!.query(
      `UPDATE ${quoteName(this.opts.schema)}.mode SET mode = ?, epoch = epoch + 1, changed_at = NOW(6), requester = ?
        WHERE id = 1 AND epoch = ?`,
      [to, requester, this.epoch],
    );
    if ((result as { affectedRows: number }).affectedRows !== 1) {
      throw new TransitionRefused(
        'another tandem instance switched the mode meanwhile; read the status and try again',
        409,
      );
    }
    this.epoch += 1;
  }

  async instances(): Promise<FleetInstance[]> {
    try {
      if (!this.conn) await this.connect();
      const [rows] = await this.conn!.query(
        `SELECT instance, host, listen, admin, mode, epoch, seen_at AS seenAt FROM ${quoteName(this.opts.schema)}.instances ORDER BY instance`,
      );
      return (rows as FleetInstance[]).map((r) => ({
        ...r,
        epoch: Number(r.epoch),
        seenAt: String(r.seenAt),
      }));
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.conn?.end().catch(() => undefined);
    this.conn = undefined;
  }
}
