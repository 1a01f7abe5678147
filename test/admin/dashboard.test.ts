import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registry } from '../../src/metrics.js';
import { startTestProxy } from '../harness/proxy.js';

/**
 * The dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core): the page
 * shows the mode, switches it after a confirmation, shows a refusal as the server words it, and
 * loads nothing from anywhere but tandem. A screenshot is kept in test-artifacts/.
 */

const source = `mysql://root@127.0.0.1:${inject('sourcePort')}/`;
const target = `mysql://root@127.0.0.1:${inject('targetPort')}/`;
const TOKEN = 'dashboard-token-for-tests-0123456789';
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts');

const SERVER = { host: '127.0.0.1', user: 'root' };

type Proxy = Awaited<ReturnType<typeof startTestProxy>>;

async function status(proxy: Proxy): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/status`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('dashboard in headless Chromium', () => {
  let proxy: Proxy;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  const userDataDir = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
  const requests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    proxy = await startTestProxy(source, { target, adminToken: TOKEN, switch: { holdMs: 500 } });
    origin = `http://127.0.0.1:${proxy.adminPort}`;
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  afterAll(async () => {
    await context?.close();
    await proxy?.close(1000);
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows the mode, statements and latency per server from /status', async () => {
    await page.goto(`${origin}/?token=${TOKEN}`);
    await expect.poll(() => page.locator('#mode').textContent(), { timeout: 10_000 }).toBe('source');
    expect(await page.locator('#live').textContent()).toMatch(/^live/);
    expect(await page.locator('#load').textContent()).toBe('none');

    // Some traffic through the proxy, so that the rates and latencies have something to show.
    const conn = await mysql.createConnection(proxy.url);
    try {
      const until = Date.now() + 2500;
      while (Date.now() < until) await conn.query('SELECT 1');
    } finally {
      await conn.end();
    }
    const s = (await status(proxy)) as {
      statements: Record<string, number>;
      latencyMs: Record<string, unknown>;
    };
    expect(s.statements.source).toBeGreaterThan(0);
    expect(s.latencyMs.source).toMatchObject({ p50: expect.any(Number), p95: expect.any(Number) });
    const lat = s.latencyMs.source as { p50: number; p95: number; count: number };
    expect(lat.p50).toBeGreaterThan(0);
    expect(lat.p95).toBeGreaterThanOrEqual(lat.p50);
    expect(lat.count).toBeGreaterThan(0);
    expect(s.latencyMs.target).toMatchObject({ count: 0, p50: null });

    await expect
      .poll(async () => Number(await page.locator('#rate-source').textContent()), { timeout: 5000 })
      .toBeGreaterThan(0);
    expect(await page.locator('#chart-rate path').count()).toBe(2);
    expect(await page.locator('#chart-latency path').count()).toBe(4);
    expect(await page.locator('#latency-total').textContent()).toMatch(/source p50 [\d.]+ ms/);
  });

  it('does nothing when the confirmation is dismissed', async () => {
    page.once('dialog', (d) => void d.dismiss());
    await page.locator('button[data-mode="dual-source"]').click();
    await new Promise((r) => setTimeout(r, 300));
    expect((await status(proxy)).mode).toBe('source');
  });

  it('switches to dual-source after the confirmation, and GET /status follows', async () => {
    const dialogs: string[] = [];
    page.once('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.accept();
    });
    await page.locator('button[data-mode="dual-source"]').click();
    await expect.poll(async () => (await status(proxy)).mode, { timeout: 5000 }).toBe('dual-source');
    expect(dialogs).toEqual(['confirm: Switch tandem from source to dual-source?']);
    await expect.poll(() => page.locator('#mode').textContent(), { timeout: 5000 }).toBe('dual-source');
    expect(await page.locator('#message').textContent()).toContain('Switched source → dual-source');
    expect(await page.locator('button[data-mode="dual-source"]').getAttribute('aria-current')).toBe('true');
    expect(await page.locator('button[data-mode="dual-source"]').isDisabled()).toBe(true);
    expect(await page.locator('#last-switch').textContent()).toContain('source → dual-source');
    expect(await page.locator('#last-switch').textContent()).toContain('dashboard');
    expect(await page.locator('#held').textContent()).toMatch(/^\d+ ms$/);
  });

  it('shows the refusal message of a refused switch, and the mode stays', async () => {
    page.once('dialog', (d) => void d.accept());
    await page.locator('button[data-mode="target"]').click();
    await expect.poll(() => page.locator('#message').textContent(), { timeout: 5000 }).toMatch(/^Refused/);
    const message = await page.locator('#message').textContent();
    expect(message).toContain('HTTP 409');
    expect(message).toContain('skips a phase');
    expect((await status(proxy)).mode).toBe('dual-source');
    expect(await page.locator('#mode').textContent()).toBe('dual-source');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'dashboard.png'))).toBe(true);
  });

  it('shows the initial load run inside the proxy, with its rows and tables', async () => {
    const db = 'admin_dashboard_load';
    const src = await mysql.createConnection({
      ...SERVER,
      port: inject('sourcePort'),
      multipleStatements: true,
    });
    const dst = await mysql.createConnection({ ...SERVER, port: inject('targetPort') });
    try {
      await dst.query(`DROP DATABASE IF EXISTS ${db}`);
      await src.query(
        `DROP DATABASE IF EXISTS ${db}; CREATE DATABASE ${db};
         CREATE TABLE ${db}.t (id INT PRIMARY KEY, v VARCHAR(20));
         INSERT INTO ${db}.t SELECT seq, 'v' FROM ${db}.seq_1_to_2000`,
      );
      const res = await fetch(`${origin}/load`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tables: [`${db}.*`] }),
      });
      expect(res.status).toBe(202);
      await expect
        .poll(() => page.locator('#load').textContent(), { timeout: 10_000 })
        .toBe('done 2,000 rows · 1 of 1 tables');
    } finally {
      await src.query(`DROP DATABASE IF EXISTS ${db}`);
      await dst.query(`DROP DATABASE IF EXISTS ${db}`);
      await src.end();
      await dst.end();
    }
  });

  it('loaded nothing but tandem itself, without script errors', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(`${origin}/`))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

describe('config/grafana-dashboard.json', () => {
  it('is JSON with a DS_PROMETHEUS datasource input, and asks only for metrics tandem exports', async () => {
    const text = readFileSync(join(import.meta.dirname, '../../config/grafana-dashboard.json'), 'utf8');
    const dashboard = JSON.parse(text) as {
      __inputs: { name: string }[];
      schemaVersion: number;
      panels: unknown[];
    };
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.panels.length).toBeGreaterThan(5);
    const exported = new Set<string>();
    for (const m of await registry.getMetricsAsJSON()) {
      exported.add(m.name);
      if (String(m.type) === 'histogram')
        for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
    }
    const used = new Set(text.match(/tandem_[a-z0-9_]+/g));
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    for (const n of ['tandem_statements_total', 'tandem_server_latency_seconds_bucket', 'tandem_mode'])
      expect(used.has(n)).toBe(true);
  });
});
