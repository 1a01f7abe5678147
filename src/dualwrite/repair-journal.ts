import { mkdirSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What the secondary missed. `keys` when the statement's text names the rows (integer values of
 * the columns in `keyColumns`, see missed-keys.ts); replay repairs just those rows when they
 * hold the table's key, and compares the whole table(s) otherwise.
 */
export interface JournalEntry {
  readonly at: string;
  readonly server: 'source' | 'target';
  readonly schema: string | undefined;
  readonly tables: readonly string[];
  readonly reason: string;
  readonly keyColumns?: readonly string[];
  readonly keys?: readonly (readonly unknown[])[];
  /** Columns the statement assigned: a key column among them moves rows, so keys do not suffice. */
  readonly assigned?: readonly string[];
  /** REPLACE or ON DUPLICATE KEY UPDATE: keys suffice only for a table with no other unique key. */
  readonly otherUniqueKeys?: boolean;
  /** The id a one-row INSERT generated: its key, where the key is the auto-increment column. */
  readonly insertId?: string;
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
  return (await snapshotJournal(file)).entries;
}

/** The journal's entries as they stand, and how many bytes were read (for rewriteJournal). */
export async function snapshotJournal(file: string): Promise<{ entries: JournalEntry[]; readUpTo: number }> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const entries = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JournalEntry);
  return { entries, readUpTo: Buffer.byteLength(text) };
}

/**
 * Replaces the journal with the entries still unresolved, then whatever tandem appended after
 * the snapshot was read; written to a synced temporary file and renamed, so a crash leaves the
 * old journal or the new one. (tandem opens the file per append, so it never writes past a rename.)
 */
export async function rewriteJournal(
  file: string,
  readUpTo: number,
  remaining: readonly JournalEntry[],
): Promise<void> {
  const now = await readFile(file);
  const appended = now.subarray(readUpTo).toString('utf8');
  const tmp = `${file}.rewrite.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(remaining.map((e) => `${JSON.stringify(e)}\n`).join('') + appended);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
