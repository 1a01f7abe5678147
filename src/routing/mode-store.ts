import { mkdirSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mode } from '../config.js';
import { isMode, type ModeChange } from './modes.js';

/** The mode and its history, kept in the state directory so that a restart resumes them. */
export interface ModeState {
  readonly mode: Mode;
  readonly history: readonly ModeChange[];
}

const FILE = 'mode.json';

export async function loadModeState(stateDir: string): Promise<ModeState | undefined> {
  let text: string;
  try {
    text = await readFile(join(stateDir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const state = JSON.parse(text) as Partial<ModeState>;
  if (!isMode(state.mode)) throw new Error(`${join(stateDir, FILE)}: no valid mode in it`);
  return { mode: state.mode, history: state.history ?? [] };
}

/** Written to a temporary file, synced, then renamed: a crash leaves the old state or the new one. */
export async function saveModeState(stateDir: string, state: ModeState): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, FILE);
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
