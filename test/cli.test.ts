import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The host's TANDEM_* variables would change what `start` sees; the tests give their own. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TANDEM_')) env[k] = v;
  return { ...env, ...extra };
}

function tandem(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tandem CLI', () => {
  it('--help lists the commands', () => {
    const r = tandem(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tandem start\b/);
    expect(r.stdout).toMatch(/tandem sandbox\b/);
  });

  it('start --help shows the flags', () => {
    const r = tandem(['start', '--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--source',
      '--target',
      '--mode',
      '--listen',
      '--admin',
      '--state-dir',
      '--config',
      '--log-level',
      '--allow-local-infile',
      '--tls-cert',
      '--tls-key',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('sandbox --help shows its flags and defaults', () => {
    const r = tandem(['sandbox', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--dir');
    expect(r.stdout).toContain('.tandem/sandbox');
    expect(r.stdout).toContain('--listen');
  });

  it('start --mode bogus exits 2 naming mode', () => {
    const r = tandem(['start', '--source', 'mysql://u:p@127.0.0.1:3306/db', '--mode', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\bmode\b/);
    expect(r.stderr).toContain('bogus');
  });

  it('a bad mode from the environment exits 2 naming mode', () => {
    const r = tandem(['start', '--source', 'mysql://u:p@127.0.0.1:3306/db'], { TANDEM_MODE: 'bogus' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\bmode\b/);
  });

  it('start without a source exits 2 and says how to give one', () => {
    const r = tandem(['start']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no source server');
    expect(r.stderr).toContain('--source');
    expect(r.stderr).toContain('TANDEM_SOURCE');
  });

  it('start in a dual mode without a target exits 2', () => {
    const r = tandem(['start', '--source', 'mysql://u:p@127.0.0.1:3306/db', '--mode', 'dual-source']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target');
  });

  it('a bad listen address exits 2 naming listen', () => {
    const r = tandem(['start', '--source', 'mysql://u:p@127.0.0.1:3306/db', '--listen', 'nowhere']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\s*listen: /m);
  });

  it('a missing --config file exits 2 naming the file', () => {
    const r = tandem(['start', '--config', 'does-not-exist.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does-not-exist.yaml');
  });

  it('an unknown command exits 2', () => {
    const r = tandem(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('frobnicate');
  });

  it('an unknown flag exits 2', () => {
    const r = tandem(['start', '--sauce', 'mysql://u:p@h/db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sauce');
  });

  it('no command exits 2', () => {
    const r = tandem([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('start');
  });
});
