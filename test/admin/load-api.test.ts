import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { formatStatus } from '../../src/admin/admin-client.js';
import { startTestProxy } from '../harness/proxy.js';
import { checksum, count, sql } from '../load/load-helpers.js';

/** The initial load run inside the proxy, over the admin port: POST, GET and DELETE /load, and its metrics. */

const sourcePort = inject('sourcePort');
const targetPort = inject('targetPort');
const source = `mysql://root@127.0.0.1:${sourcePort}/`;
const target = `mysql://root@127.0.0.1:${targetPort}/`;
const TOKEN = 'load-api-token-for-tests-0123456789';
const DB = 'admin_load';
/** For `tandem start --load`, which copies the config's whole scope. */
const CLI_DB = 'admin_load_cli';

type Proxy = Awaited<ReturnType<typeof startTestProxy>>;
type Json = Record<string, unknown> & {
  state?: string;
  tables?: { table: string; rows: number; estimate: number; done: boolean }[];
  overall?: Record<string, number | null>;
};

async function call(
  proxy: Proxy,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
) {
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {}
  return { status: res.status, json, text };
}

/** Polls GET /load until `ready` holds. */
async function until(proxy: Proxy, ready: (s: Json) => boolean, ms = 60_000, everyMs = 50): Promise<Json> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = (await call(proxy, 'GET', '/load')).json;
    if (ready(s)) return s;
    if (Date.now() > deadline) throw new Error(`GET /load never got there: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function metricsText(proxy: Proxy): Promise<string> {
  return (await call(proxy, 'GET', '/metrics', undefined, null)).text;
}

describe('the initial load run inside the proxy', () => {
  const proxies: Proxy[] = [];
  const proxy = async (withTarget = true): Promise<Proxy> => {
    const p = await startTestProxy(source, { ...(withTarget ? { target } : {}), adminToken: TOKEN });
    proxies.push(p);
    return p;
  };

  beforeAll(async () => {
    await sql(sourcePort, `DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
    await sql(targetPort, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(
      sourcePort,
      `CREATE TABLE ${DB}.orders (id INT PRIMARY KEY, customer INT NOT NULL, note VARCHAR(40), KEY customer (customer));
       INSERT INTO ${DB}.orders SELECT seq, seq % 977, CONCAT('order ', seq) FROM ${DB}.seq_1_to_20000;
       CREATE TABLE ${DB}.big (id BIGINT PRIMARY KEY, body VARCHAR(300) NOT NULL);
       INSERT INTO ${DB}.big SELECT seq, REPEAT(SHA2(seq, 256), 4) FROM ${DB}.seq_1_to_200000`,
    );
    await sql(sourcePort, `DROP DATABASE IF EXISTS ${CLI_DB}; CREATE DATABASE ${CLI_DB}`);
    await sql(targetPort, `DROP DATABASE IF EXISTS ${CLI_DB}`);
    await sql(
      sourcePort,
      `CREATE TABLE ${CLI_DB}.items (id INT PRIMARY KEY, name VARCHAR(30));
       INSERT INTO ${CLI_DB}.items SELECT seq, CONCAT('item ', seq) FROM ${CLI_DB}.seq_1_to_5000`,
    );
  });

  afterAll(async () => {
    for (const p of proxies) await p.close(1000);
    await sql(sourcePort, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(targetPort, `DROP DATABASE IF EXISTS ${DB}`);
    await sql(sourcePort, `DROP DATABASE IF EXISTS ${CLI_DB}`);
    await sql(targetPort, `DROP DATABASE IF EXISTS ${CLI_DB}`);
  });

  it('starts with POST /load, reports progress on GET /load, /status and /metrics, and ends with equal tables', async () => {
    const p = await proxy();
    expect((await call(p, 'GET', '/load')).json).toMatchObject({ state: 'idle', tables: [] });
    expect(await metricsText(p)).toContain('tandem_load_running 0');

    const started = await call(p, 'POST', '/load', { tables: [`${DB}.orders`], parallel: 2 });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ state: 'running', method: 'copy' });

    const done = await until(p, (s) => s.state !== 'running');
    expect(done).toMatchObject({
      state: 'done',
      error: null,
      tables: [{ table: `${DB}.orders`, rows: 20_000, done: true }],
      overall: { rows: 20_000, tablesDone: 1, tablesTotal: 1, etaSeconds: 0, percent: 100 },
      summary: { method: 'copy', rows: 20_000 },
    });
    expect(typeof done.finishedAt).toBe('string');
    const status = await call(p, 'GET', '/status');
    expect(status.json.load).toMatchObject({ state: 'done', overall: { rows: 20_000 } });
    // As `tandem status` prints it.
    expect(formatStatus(status.json)).toMatch(/^load: +done: 20,000 rows, 1 of 1 tables$/m);

    const m = await metricsText(p);
    expect(m).toContain(`tandem_load_rows{table="${DB}.orders"} 20000`);
    expect(m).toContain(`tandem_load_table_done{table="${DB}.orders"} 1`);
    expect(m).toMatch(new RegExp(`tandem_load_rows_estimated\\{table="${DB}.orders"\\} \\d+`));
    expect(m).toContain('tandem_load_running 0');
    expect(m).toContain('tandem_load_failed 0');
    expect(m).toContain('tandem_load_eta_seconds 0');
    expect(m).toMatch(/tandem_load_bytes [1-9]\d*/);
    expect(m).toMatch(/tandem_load_last_finished_timestamp_seconds 1\d{9}/);
    expect(m).toContain('# HELP tandem_load_rows Rows the running (or last) load');

    expect(await count(targetPort, `${DB}.orders`)).toBe(20_000);
    expect(await checksum(targetPort, `${DB}.orders`)).toBe(await checksum(sourcePort, `${DB}.orders`));
  });

  it('refuses a second load while one runs, stops it with DELETE /load, and finishes it with resume: true', async () => {
    const p = await proxy();
    const body = { tables: [`${DB}.big`], parallel: 1 };
    expect((await call(p, 'POST', '/load', body)).status).toBe(202);
    await until(p, (s) => (s.tables?.[0]?.rows ?? 0) > 0, 60_000, 10);

    const second = await call(p, 'POST', '/load', { tables: [`${DB}.orders`] });
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ error: 'refused' });
    expect(String(second.json.message)).toMatch(/already running.*DELETE \/load/);
    const during = await metricsText(p);
    expect(during).toContain('tandem_load_running 1');
    expect(during).toMatch(new RegExp(`tandem_load_rows\\{table="${DB}.big"\\} [1-9]`));

    const stopped = await call(p, 'DELETE', '/load');
    expect(stopped.status).toBe(200);
    expect(stopped.json).toMatchObject({ state: 'stopped', error: null, tables: [{ done: false }] });
    const partial = await count(targetPort, `${DB}.big`);
    expect(partial).toBeLessThan(200_000);
    expect((await call(p, 'DELETE', '/load')).status).toBe(409);
    expect(await metricsText(p)).toContain('tandem_load_running 0');

    // The stopped load's checkpoint is not started over silently.
    const fresh = await call(p, 'POST', '/load', body);
    expect(fresh.status).toBe(409);
    expect(String(fresh.json.message)).toMatch(/did not finish.*"resume": true/s);

    expect((await call(p, 'POST', '/load', { ...body, resume: true, parallel: 2 })).status).toBe(202);
    const done = await until(p, (s) => s.state !== 'running');
    expect(done).toMatchObject({
      state: 'done',
      tables: [{ table: `${DB}.big`, rows: 200_000, done: true }],
    });
    expect(await count(targetPort, `${DB}.big`)).toBe(200_000);
    expect(await checksum(targetPort, `${DB}.big`)).toBe(await checksum(sourcePort, `${DB}.big`));
    expect(await metricsText(p)).toContain(`tandem_load_rows{table="${DB}.big"} 200000`);
  });

  it('reports a load that fails as failed, with the reason, on GET /load and in tandem_load_failed', async () => {
    const p = await proxy();
    await sql(
      sourcePort,
      `CREATE TABLE ${DB}.clash (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO ${DB}.clash VALUES (1, 'not a number')`,
    );
    // The target's own table holds an INT where the source has text: the load must not convert it silently.
    await sql(
      targetPort,
      `CREATE DATABASE IF NOT EXISTS ${DB}; CREATE TABLE ${DB}.clash (id INT PRIMARY KEY, v INT)`,
    );
    expect((await call(p, 'POST', '/load', { tables: [`${DB}.clash`] })).status).toBe(202);
    const failed = await until(p, (s) => s.state !== 'running');
    expect(failed.state).toBe('failed');
    expect(String(failed.error)).toMatch(/clash.*changed values/);
    const m = await metricsText(p);
    expect(m).toContain('tandem_load_failed 1');
    expect(m).toContain('tandem_load_running 0');
  });

  it('answers a bad body with 400 naming the field, and a proxy without a target with 400', async () => {
    const p = await proxy();
    const cases: [unknown, RegExp][] = [
      [{ parallel: 0 }, /^parallel: expected a whole number/],
      [{ parallel: 'four' }, /^parallel:/],
      [{ method: 'xcopy' }, /^method: expected one of copy, mysqldump/],
      [{ method: 'mariabackup' }, /^method: mariabackup .* source host/],
      [{ tables: `${DB}.*` }, /^tables: expected a list/],
      [{ resume: 'yes' }, /^resume: expected true or false/],
      [{ fastDurability: 1 }, /^fastDurability:/],
      [{ method: 'mysqldump', parallel: 2 }, /^parallel: only the copy method/],
      [{ tabels: [`${DB}.*`] }, /unknown field "tabels"/],
      ['[1, 2]', /expected a JSON object/],
      ['{"tables": [', /./],
    ];
    for (const [body, message] of cases) {
      const r = await call(p, 'POST', '/load', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toBe('bad request');
      expect(String(r.json.message), JSON.stringify(body)).toMatch(message);
    }
    expect((await call(p, 'GET', '/load')).json.state).toBe('idle');
    expect((await call(p, 'POST', '/load', { tables: [`${DB}.orders`] }, null)).status).toBe(401);
    expect((await call(p, 'DELETE', '/load')).status).toBe(409);

    const alone = await proxy(false);
    const r = await call(alone, 'POST', '/load', { tables: [`${DB}.orders`] });
    expect(r.status).toBe(400);
    expect(String(r.json.message)).toMatch(/no target server is configured/);
  });

  it('runs the load at start with `tandem start --load`, logging progress and the summary as plain lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-start-load-'));
    const configFile = join(dir, 'tandem.yaml');
    writeFileSync(configFile, `scope:\n  include: ['${CLI_DB}.*']\ncontrol:\n  enabled: false\n`);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TANDEM_')));
    const args = ['--import', 'tsx', 'src/cli.ts', 'start', '--load', '--config', configFile];
    const child = spawn(
      process.execPath,
      [
        ...args,
        ...['--source', source, '--target', target, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
        ...['--state-dir', join(dir, 'state')],
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/"msg":"load (done|failed)/.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; load?: string; rows?: number });
    expect(lines.find((l) => l.msg === 'load done')).toMatchObject({ load: 'copy', rows: 5000 });
    expect(lines.some((l) => l.load === 'copy' && l.msg.startsWith(`100% ${CLI_DB}.items: 5,000 rows`))).toBe(
      true,
    );
    expect(lines.some((l) => l.load === 'summary' && l.msg.startsWith('total: 1 tables, 5,000 rows'))).toBe(
      true,
    );
    expect(await checksum(targetPort, `${CLI_DB}.items`)).toBe(await checksum(sourcePort, `${CLI_DB}.items`));
  });
});
