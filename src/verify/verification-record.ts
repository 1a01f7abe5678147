import { join } from 'node:path';
import { readStateFile, writeStateFile } from './state-file.js';

/**
 * The outcome of the last `tandem verify` pass, kept under the state directory. The proxy reads
 * it for GET /status and /metrics, and the switch from dual-source to dual-target is refused
 * unless it is clean (and began after dual writes did). Small on purpose: no keys, no mysql2,
 * so the proxy can read it without loading the reconciler.
 */
export interface VerificationRecord {
  readonly method: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Nothing differs any more: no difference found, or every one repaired, and no table failed. */
  readonly clean: boolean;
  /** Run with --fix. */
  readonly fix: boolean;
  readonly tables: number;
  readonly rowsCompared: number;
  readonly differing: number;
  readonly fixed: number;
  /** Tables that could not be compared. */
  readonly errors: number;
}

export function verificationPath(stateDir: string): string {
  return join(stateDir, 'verify-last.json');
}

export function saveVerification(stateDir: string, record: VerificationRecord): Promise<void> {
  return writeStateFile(verificationPath(stateDir), record);
}

export async function loadVerification(stateDir: string): Promise<VerificationRecord | undefined> {
  try {
    return await readStateFile<VerificationRecord>(verificationPath(stateDir));
  } catch {
    // A damaged file reads as no verification: the switch is refused until one is stored again.
    return undefined;
  }
}

/** Why the last verification does not allow leaving dual-source, or undefined when it does. */
export function verificationProblem(
  record: VerificationRecord | undefined,
  dualSourceSince: string | undefined,
): string | undefined {
  if (!record) return 'no verification has run: run `tandem verify --fix` first (or force)';
  if (!record.clean) {
    const what =
      record.errors > 0
        ? `${record.errors} tables could not be compared`
        : `${record.differing - record.fixed} rows differ`;
    return `the last verification (${record.method}, ${record.finishedAt}) is not clean: ${what}; run \`tandem verify --fix\` (or force)`;
  }
  if (dualSourceSince && record.startedAt < dualSourceSince) {
    return `the last verification began at ${record.startedAt}, before dual writes began at ${dualSourceSince}: run \`tandem verify\` again (or force)`;
  }
  return undefined;
}
