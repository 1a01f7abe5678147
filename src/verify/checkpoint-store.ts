import { join } from 'node:path';
import { readStateFile, writeStateFile } from './state-file.js';

/**
 * Checkpoints of `--method incremental`, one per table: the largest update-column value seen.
 * The next pass reads from that value minus the overlap. Stored durably after each batch of a
 * --fix pass only: a dry run must not move the point a later --fix starts from.
 */
export interface Checkpoint {
  readonly column: string;
  /** The column's value as the server prints it (DATETIME text, or an integer). */
  readonly value: string;
  readonly at: string;
}

type Checkpoints = Record<string, Checkpoint>;

export class CheckpointStore {
  private data: Checkpoints | undefined;
  private readonly file: string;

  constructor(stateDir: string) {
    this.file = join(stateDir, 'verify-checkpoints.json');
  }

  async get(table: string): Promise<Checkpoint | undefined> {
    this.data ??= (await readStateFile<Checkpoints>(this.file)) ?? {};
    return this.data[table];
  }

  async set(table: string, checkpoint: Checkpoint): Promise<void> {
    this.data ??= (await readStateFile<Checkpoints>(this.file)) ?? {};
    this.data[table] = checkpoint;
    await writeStateFile(this.file, this.data);
  }
}
