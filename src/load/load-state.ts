import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyRangePart } from './table-copy.js';

/**
 * The chunk checkpoint: for each table, the last key whose chunk has committed on the target.
 * Written after the commit (never before), so a killed run's file is at or behind the target;
 * the chunks between are copied again, and insert-if-absent leaves the rows already there as
 * they are: no row is duplicated and none is skipped.
 */

export const PROGRESS_FILE = 'load-progress.json';

export interface TableProgress {
  /** `schema.table` on the target. */
  readonly target: string;
  /** SQL literals of the last committed chunk's last key, as the source rendered them; null before the first. */
  lastKey: string[] | null;
  rows: number;
  /** Rows already on the target (dual writes, an earlier run) that the copy left alone. */
  kept: number;
  done: boolean;
  /** This load created the table, so its deferred indexes are this load's to add. */
  created: boolean;
  deferred: string[];
  indexesAdded: boolean;
  /**
   * A large table split by key range, each part copied by its own worker and checkpointed on
   * its own (lastKey above is then unused); absent for a table copied in one pass.
   */
  parts?: KeyRangePart[];
}

export interface ProgressFile {
  readonly version: 1;
  readonly method: 'copy';
  /** host:port of each server: --resume refuses a file made for other servers. */
  readonly source: string;
  readonly target: string;
  readonly startedAt: string;
  fastDurability: boolean;
  /** When the target last started (its NOW() - Uptime): a restart under --fast-durability may have lost commits. */
  targetStartedAt: string;
  finishedAt: string | null;
  tables: Record<string, TableProgress>;
}

export class LoadState {
  #saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    readonly data: ProgressFile,
  ) {}

  static path(stateDir: string): string {
    return join(stateDir, PROGRESS_FILE);
  }

  static async read(stateDir: string): Promise<ProgressFile | undefined> {
    try {
      return JSON.parse(await readFile(LoadState.path(stateDir), 'utf8')) as ProgressFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  static async create(stateDir: string, data: ProgressFile): Promise<LoadState> {
    await mkdir(stateDir, { recursive: true });
    const state = new LoadState(LoadState.path(stateDir), data);
    await state.save();
    return state;
  }

  /** Saves are queued, so two workers never interleave their writes of the file. */
  save(): Promise<void> {
    const text = `${JSON.stringify(this.data, null, 1)}\n`;
    this.#saving = this.#saving.then(async () => {
      // Renamed into place: a kill mid-write leaves the previous file whole.
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.file);
    });
    return this.#saving;
  }

  static async remove(stateDir: string): Promise<void> {
    await rm(LoadState.path(stateDir), { force: true });
  }
}
