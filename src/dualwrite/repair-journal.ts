import { mkdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the secondary missed. `keys` when the rows are known (primary-key values, column order
 * as in `keyColumns`); otherwise the statement, and replay re-copies the whole table(s).
 */
export interface JournalEntry {
  readonly at: string;
  readonly server: 'source' | 'target';
  readonly schema: string | undefined;
  readonly tables: readonly string[];
  readonly reason: string;
  readonly keyColumns?: readonly string[];
  readonly keys?: readonly (readonly unknown[])[];
  /** The statement's fingerprint (literals replaced), never its literals. */
  readonly statement?: string;
}

/**
 * Durable JSON-lines journal under the state directory. An append resolves only once the line
 * is on disk (fdatasync), so the app never gets an answer for a write whose miss is not recorded.
 * Appends that arrive together share one write and one sync.
 */
export class RepairJournal {
  readonly file: string;
  private batch: { lines: string[]; done: Promise<void> } | undefined;
  private tail: Promise<void> = Promise.resolve();
  private entries = 0;
  private bytes = 0;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    this.file = journalPath(stateDir);
  }

  get depth(): number {
    return this.entries;
  }

  get size(): number {
    return this.bytes;
  }

  /** Counts the entries on disk (after a restart, or after a replay by another process). */
  async load(): Promise<JournalEntry[]> {
    const all = await readJournal(this.file);
    this.entries = all.length;
    this.bytes = all.reduce((n, e) => n + JSON.stringify(e).length + 1, 0);
    return all;
  }

  append(entry: JournalEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    this.entries++;
    this.bytes += Buffer.byteLength(line);
    if (this.batch) {
      this.batch.lines.push(line);
      return this.batch.done;
    }
    const lines = [line];
    const done = this.tail.then(async () => {
      this.batch = undefined;
      // Opened per batch: `tandem journal replay` may replace the file between batches.
      const fh = await open(this.file, 'a');
      try {
        await fh.write(lines.join(''));
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
    this.batch = { lines, done };
    this.tail = done.catch(() => {});
    return done;
  }

  /** Waits for appends under way. */
  async close(): Promise<void> {
    await this.tail;
  }
}

export function journalPath(stateDir: string): string {
  return join(stateDir, 'repair-journal.jsonl');
}

export async function readJournal(file: string): Promise<JournalEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalEntry);
}
