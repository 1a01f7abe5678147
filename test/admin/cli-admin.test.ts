import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestProxy } from '../harness/proxy.js';

const TOKEN = 'cli-admin-token-0123456789';

function tandem(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TANDEM_')));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('tandem status and tandem mode', () => {
  let proxy: Awaited<ReturnType<typeof startTestProxy>>;
  let admin: string;

  beforeAll(async () => {
    proxy = await startTestProxy(`mysql://root@127.0.0.1:${inject('sourcePort')}/`, {
      target: `mysql://root@127.0.0.1:${inject('targetPort')}/`,
      adminToken: TOKEN,
    });
    admin = `http://127.0.0.1:${proxy.adminPort}`;
  });

  afterAll(async () => {
    await proxy?.close(1000);
  });

  it('prints the status for people, and JSON with --json', async () => {
    const human = await tandem(['status', '--admin', admin, '--token', TOKEN]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^mode:\s+source/m);
    const json = await tandem([
      'status',
      '--admin',
      admin.replace('http://', ''),
      '--token',
      TOKEN,
      '--json',
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'source', journal: { depth: 0 } });
  });

  it('gets and sets the mode, and exits non-zero when a switch is refused', async () => {
    expect((await tandem(['mode', 'get', '--admin', admin, '--token', TOKEN])).stdout.trim()).toBe('source');
    const set = await tandem(['mode', 'set', 'dual-source', '--admin', admin, '--token', TOKEN]);
    expect(set.code).toBe(0);
    expect(proxy.modes.mode).toBe('dual-source');
    const refused = await tandem(['mode', 'set', 'target', '--admin', admin, '--token', TOKEN]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('409');
    expect(proxy.modes.mode).toBe('dual-source');
  });

  it('exits non-zero without the token', async () => {
    const denied = await tandem(['status', '--admin', admin]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('401');
  });
});
