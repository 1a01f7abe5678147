import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first of `names` found in PATH or the usual sbin/bin folders (MariaDB renamed its tools in 10.5). */
export function findTool(names: readonly string[]): string | undefined {
  const dirs = [
    ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean),
    '/usr/sbin',
    '/usr/bin',
    '/usr/local/bin',
  ];
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}
