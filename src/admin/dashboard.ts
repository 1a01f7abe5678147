/**
 * The dashboard page served on GET /: one self-contained HTML document, vanilla JS, no build
 * step and no network beyond tandem itself (no fonts, scripts or images from elsewhere).
 *
 * It polls GET /status every second and shows the mode in force, a control per mode that
 * switches with PUT /mode after a confirmation (the server's refusal is shown as it comes),
 * statements per second per server (the `statements` counters diffed between polls),
 * latency per server (p50/p95 over each poll interval, from the `latencyMs` buckets diffed
 * between polls) as inline SVG charts, the repair journal, connections, the last switch, and
 * the initial load run inside the proxy (percent, rows, rows/s, ETA).
 *
 * The browser cannot add a header to the page's own address, so the token comes as
 * `?token=` and the page forwards it as a Bearer header on every request it makes.
 *
 * The script uses no template literals and no backslashes: it lives inside this one.
 */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tandem</title>
<style>
:root{--fg:#1d2330;--muted:#5c6577;--line:#d9dde5;--bg:#f5f6f8;--card:#fff;--err:#a61b1b;--ok:#17663a;
--source:#2563eb;--dual-source:#0e8a7a;--dual-target:#7c3aed;--target:#15803d}
*{box-sizing:border-box}
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:baseline;gap:1rem;padding:1rem 1.5rem;background:var(--card);border-bottom:1px solid var(--line)}
header h1{font-size:1.2rem;margin:0}
#live{color:var(--muted);font-size:.85rem;margin-left:auto}
#live.down{color:var(--err);font-weight:600}
main{padding:1.25rem 1.5rem;max-width:1280px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 .6rem}
.current{display:flex;align-items:center;gap:1rem;flex-wrap:wrap}
#mode{font-size:2.2rem;font-weight:700;padding:.1rem .9rem;border-radius:8px;color:#fff;background:#667}
#phase{color:var(--muted)}
#switching{color:#b45309;font-weight:600}
.modes{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:.6rem;margin:1rem 0 .6rem}
.modes button{font:inherit;text-align:left;padding:.6rem .8rem;border:2px solid var(--line);border-radius:8px;background:#fff;cursor:pointer;color:var(--fg)}
.modes button strong{display:block;font-size:1rem}
.modes button span{display:block;font-size:.8rem;color:var(--muted)}
.modes button:hover:not(:disabled){border-color:var(--fg)}
.modes button:focus-visible{outline:3px solid #93c5fd;outline-offset:1px}
.modes button[aria-current="true"]{border-color:currentColor;background:#f0f4ff;cursor:default}
.modes button:disabled{opacity:.55;cursor:default}
.modes button[aria-current="true"]:disabled{opacity:1}
.modes button .hint{color:#b45309}
#message{min-height:1.4em;margin:.3rem 0 0}
#message.error{color:var(--err);font-weight:600}
#message.ok{color:var(--ok)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.6rem}
.stat{border:1px solid var(--line);border-radius:6px;padding:.5rem .7rem}
.stat dt{font-size:.75rem;color:var(--muted)}
.stat dd{margin:0;font-size:1.35rem;font-weight:600}
.stat dd small{font-size:.8rem;font-weight:400;color:var(--muted)}
.stat.wide{grid-column:span 2}
#last-switch{font-size:1.05rem}
#last-switch small{display:block}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem}
svg.chart{width:100%;height:auto;display:block}
svg.chart text{font:10px system-ui,sans-serif;fill:var(--muted)}
svg.chart .grid{stroke:var(--line);stroke-width:1}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;margin:.4rem 0 0;padding:0;list-style:none;font-size:.85rem}
.legend i{display:inline-block;width:18px;height:0;border-top:3px solid;vertical-align:middle;margin-right:.35rem}
.legend i.dash{border-top-style:dashed}
.legend b{font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{text-align:left;padding:.25rem .6rem .25rem 0;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600}
label.force{font-size:.85rem;color:var(--muted)}
a{color:inherit}
</style></head><body>
<header><h1>tandem</h1><span>migration proxy</span><span id="live" role="status" aria-live="polite">connecting…</span></header>
<main>
<section aria-labelledby="h-mode">
<h2 id="h-mode">Mode</h2>
<div class="current">
<span id="mode" aria-live="polite" aria-label="current mode">…</span>
<span id="phase"></span>
<span id="switching" hidden>switch in progress…</span>
</div>
<div class="modes" id="modes" role="group" aria-label="Switch mode"></div>
<label class="force"><input type="checkbox" id="force"> force (override a refusal; the switch is logged with its requester)</label>
<p id="message" role="alert" aria-live="assertive"></p>
</section>
<section aria-labelledby="h-now">
<h2 id="h-now">Now</h2>
<dl class="grid">
<div class="stat"><dt>Client connections</dt><dd id="connections">…</dd></div>
<div class="stat"><dt>Sessions in a statement or transaction</dt><dd id="sessions">…</dd></div>
<div class="stat"><dt>Repair journal</dt><dd id="journal">…</dd></div>
<div class="stat"><dt>Statements/s (source)</dt><dd id="rate-source">…</dd></div>
<div class="stat"><dt>Statements/s (target)</dt><dd id="rate-target">…</dd></div>
<div class="stat wide"><dt>Last switch</dt><dd id="last-switch">…</dd></div>
<div class="stat"><dt>Last switch held writes</dt><dd id="held">…</dd></div>
<div class="stat"><dt>Epoch · policy</dt><dd id="epoch">…</dd></div>
<div class="stat wide"><dt>Initial load (GET /load)</dt><dd id="load">…</dd></div>
</dl>
</section>
<section aria-labelledby="h-charts">
<h2 id="h-charts">Last two minutes</h2>
<div class="charts">
<figure style="margin:0">
<figcaption>Statements per second, by primary server</figcaption>
<svg class="chart" id="chart-rate" viewBox="0 0 600 190" role="img" aria-label="statements per second per server"></svg>
<ul class="legend" id="legend-rate"></ul>
</figure>
<figure style="margin:0">
<figcaption>Latency per server (p50 solid, p95 dashed; per poll interval)</figcaption>
<svg class="chart" id="chart-latency" viewBox="0 0 600 190" role="img" aria-label="latency per server"></svg>
<ul class="legend" id="legend-latency"></ul>
</figure>
</div>
<p style="font-size:.8rem;color:var(--muted);margin:.6rem 0 0">Latency since start: <span id="latency-total">…</span> · raw <a href="/metrics">/metrics</a></p>
</section>
<section aria-labelledby="h-instances" id="instances-section" hidden>
<h2 id="h-instances">Instances (sharing the mode through the control table)</h2>
<table><thead><tr><th>instance</th><th>host</th><th>listen</th><th>admin</th><th>mode</th><th>epoch</th><th>seen</th></tr></thead>
<tbody id="instances"></tbody></table>
</section>
<section aria-labelledby="h-history">
<h2 id="h-history">Switch history</h2>
<table><thead><tr><th>at</th><th>from</th><th>to</th><th>held</th><th>requester</th><th>forced</th></tr></thead>
<tbody id="history"><tr><td colspan="6">none yet</td></tr></tbody></table>
</section>
</main>
<script>
(function () {
  'use strict';
  const token = new URLSearchParams(location.search).get('token');
  const auth = token ? { authorization: 'Bearer ' + token } : {};
  const MODES = [
    { mode: 'source', phase: 'phase 0', text: 'writes source · reads source' },
    { mode: 'dual-source', phase: 'phase 1', text: 'writes source, then target · reads source' },
    { mode: 'dual-target', phase: 'phase 2', text: 'writes target, then source · reads target' },
    { mode: 'target', phase: 'phase 3', text: 'writes target · reads target (no way back)' },
  ];
  // The usual steps; anything else is refused by tandem unless forced.
  const STEPS = {
    source: ['dual-source'],
    'dual-source': ['source', 'dual-target'],
    'dual-target': ['dual-source', 'target'],
    target: [],
  };
  const POINTS = 120;
  const POLL_MS = 1000;
  const COLORS = { source: '#2563eb', target: '#ea580c' };
  const $ = (id) => document.getElementById(id);
  const series = { rateSource: [], rateTarget: [], p50Source: [], p95Source: [], p50Target: [], p95Target: [] };
  let previous = null;
  let current = null;
  let busy = false;

  // One button per mode, built once: polls update them, so a click never meets a new element.
  const buttons = MODES.map((m) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.mode = m.mode;
    b.disabled = true;
    const name = document.createElement('strong');
    name.textContent = m.mode;
    const what = document.createElement('span');
    what.textContent = m.phase + ' · ' + m.text;
    const hint = document.createElement('span');
    hint.className = 'hint';
    b.append(name, what, hint);
    b.addEventListener('click', () => switchTo(m.mode));
    $('modes').append(b);
    return b;
  });

  function updateButtons() {
    for (const b of buttons) {
      const m = b.dataset.mode;
      const isCurrent = current !== null && m === current.mode;
      b.setAttribute('aria-current', isCurrent ? 'true' : 'false');
      b.disabled = busy || current === null || isCurrent || current.switching;
      b.setAttribute('aria-label', isCurrent ? m + ' (current mode)' : 'Switch to ' + m);
      const hint = b.querySelector('.hint');
      hint.textContent =
        isCurrent || current === null ? '' : STEPS[current.mode].includes(m) ? '' : 'refused unless forced';
    }
  }

  function show(text, kind) {
    const el = $('message');
    el.textContent = text;
    el.className = kind || '';
  }

  async function switchTo(mode) {
    if (!current || busy) return;
    const force = $('force').checked;
    const question =
      'Switch tandem from ' + current.mode + ' to ' + mode + (force ? ' (FORCED)' : '') + '?' +
      (mode === 'target' ? ' From target there is no way back: the source goes stale.' : '');
    if (!window.confirm(question)) return;
    busy = true;
    updateButtons();
    show('switching to ' + mode + '…', '');
    try {
      const r = await fetch('/mode', {
        method: 'PUT',
        headers: Object.assign({ 'content-type': 'application/json', 'x-requester': 'dashboard' }, auth),
        body: JSON.stringify({ mode: mode, force: force }),
      });
      let body = null;
      try {
        body = await r.json();
      } catch (e) {}
      if (r.ok) {
        const c = body && body.switched;
        show('Switched ' + (c ? c.from + ' → ' + c.to + ', writes held ' + c.heldMs + ' ms' : 'to ' + mode), 'ok');
        $('force').checked = false;
      } else {
        const why = body && body.message ? body.message : r.statusText;
        show('Refused (HTTP ' + r.status + '): ' + why, 'error');
      }
    } catch (e) {
      show('No answer from tandem: ' + e.message, 'error');
    } finally {
      busy = false;
      await refresh();
    }
  }

  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }
  function fmtMs(v) {
    if (v === null || v === undefined) return '–';
    return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)) + ' ms';
  }
  function fmtNum(v) {
    if (v === null || v === undefined) return '–';
    return v < 10 ? String(Math.round(v * 10) / 10) : String(Math.round(v));
  }
  function fmtSecs(v) {
    if (v === null || v === undefined) return '?';
    if (v < 60) return Math.round(v) + ' s';
    if (v < 3600) return Math.floor(v / 60) + ' min ' + Math.round(v % 60) + ' s';
    return Math.floor(v / 3600) + ' h ' + Math.round((v % 3600) / 60) + ' min';
  }
  function renderLoad(ld) {
    const box = $('load');
    box.textContent = '';
    if (!ld || ld.state === 'idle') {
      box.textContent = 'none';
      return;
    }
    const o = ld.overall;
    const amount = ld.unit === 'bytes' ? fmtBytes(o.bytes) : o.rows.toLocaleString('en-US') + ' rows';
    const parts = [amount, o.tablesDone + ' of ' + o.tablesTotal + ' tables'];
    if (ld.state === 'running') {
      if (ld.unit !== 'bytes') parts.push(fmtNum(o.rowsPerSecond) + ' rows/s');
      parts.push('ETA ~' + fmtSecs(o.etaSeconds));
    }
    if (ld.error) parts.push(ld.error);
    box.append(
      (ld.state === 'running' ? o.percent + ' %' : ld.state) + ' ',
      Object.assign(document.createElement('small'), { textContent: parts.join(' · ') }),
    );
  }
  function push(list, v) {
    list.push(v);
    if (list.length > POINTS) list.shift();
  }

  // The q-quantile of cumulative buckets [[upperMs, count], ...] with total observations,
  // interpolated within a bucket as Prometheus's histogram_quantile does.
  function quantile(q, buckets, total) {
    if (!(total > 0)) return null;
    const rank = q * total;
    let lower = 0;
    let below = 0;
    for (const [upper, cum] of buckets) {
      if (cum >= rank) return lower + ((upper - lower) * (rank - below)) / Math.max(cum - below, 1e-9);
      lower = upper;
      below = cum;
    }
    return lower;
  }
  // Latency over the last poll interval: this poll's buckets minus the previous poll's.
  function intervalLatency(now, before) {
    if (!now || !before || now.buckets.length !== before.buckets.length) return { p50: null, p95: null };
    const total = now.count - before.count;
    if (total <= 0) return { p50: null, p95: null };
    const diff = now.buckets.map((b, i) => [b[0], b[1] - before.buckets[i][1]]);
    return { p50: quantile(0.5, diff, total), p95: quantile(0.95, diff, total) };
  }

  // The top of a chart's scale: four grid steps of a round size (1, 2 or 5 times a power of ten).
  function niceTop(v) {
    if (!(v > 0)) return 4;
    const step = v / 4;
    const p = Math.pow(10, Math.floor(Math.log10(step)));
    for (const m of [1, 2, 5, 10]) if (m * p >= step) return 4 * m * p;
    return 40 * p;
  }
  const NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function drawChart(svg, lines, fmt) {
    const W = 600, H = 190, L = 58, R = 10, T = 8, B = 22;
    let max = 0;
    for (const s of lines) for (const v of s.values) if (v !== null && v > max) max = v;
    max = niceTop(max);
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const x = (i, n) => L + ((W - L - R) * (i + POINTS - n)) / (POINTS - 1);
    const kids = [];
    for (let g = 0; g <= 4; g++) {
      const v = (max * g) / 4;
      kids.push(el('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      kids.push(el('text', { x: L - 6, y: y(v) + 3, 'text-anchor': 'end' }, fmt(v)));
    }
    kids.push(el('text', { x: L, y: H - 6 }, '−2 min'));
    kids.push(el('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, 'now'));
    for (const s of lines) {
      let d = '';
      let pen = false;
      let lastPoint = null;
      s.values.forEach((v, i) => {
        if (v === null) {
          pen = false;
          return;
        }
        const px = x(i, s.values.length).toFixed(1);
        const py = y(v).toFixed(1);
        d += (pen ? 'L' : 'M') + px + ' ' + py + ' ';
        pen = true;
        lastPoint = [px, py];
      });
      const attrs = { d: d || 'M0 0', fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' };
      if (s.dash) attrs['stroke-dasharray'] = '5 4';
      kids.push(el('path', attrs));
      if (lastPoint) kids.push(el('circle', { cx: lastPoint[0], cy: lastPoint[1], r: 2.5, fill: s.color }));
    }
    svg.replaceChildren(...kids);
  }
  function drawLegend(ul, lines, fmt) {
    ul.replaceChildren(
      ...lines.map((s) => {
        const li = document.createElement('li');
        const sw = document.createElement('i');
        sw.style.borderColor = s.color;
        if (s.dash) sw.className = 'dash';
        const value = document.createElement('b');
        const last = s.values.length ? s.values[s.values.length - 1] : null;
        value.textContent = fmt(last);
        li.append(sw, s.name + ' ', value);
        return li;
      }),
    );
  }

  function render(s, t) {
    current = s;
    const meta = MODES.find((m) => m.mode === s.mode);
    const badge = $('mode');
    badge.textContent = s.mode;
    badge.style.background = 'var(--' + s.mode + ', #667)';
    $('phase').textContent = meta ? meta.phase + ' · ' + meta.text : '';
    $('switching').hidden = !s.switching;
    updateButtons();

    $('connections').textContent = s.connections;
    $('sessions').textContent = s.activeSessions === undefined ? '–' : s.activeSessions;
    $('journal').textContent = '';
    $('journal').append(
      String(s.journal.depth) + ' ',
      Object.assign(document.createElement('small'), { textContent: 'entries · ' + fmtBytes(s.journal.bytes) }),
    );
    const ls = s.lastSwitch;
    $('last-switch').textContent = '';
    if (ls) {
      $('last-switch').append(
        ls.from + ' → ' + ls.to + ' ',
        Object.assign(document.createElement('small'), {
          textContent: new Date(ls.at).toLocaleString() + ' by ' + ls.requester + (ls.forced ? ' (forced)' : ''),
        }),
      );
    } else {
      $('last-switch').textContent = 'none';
    }
    $('held').textContent = ls ? s.lastSwitchHeldMs + ' ms' : '–';
    renderLoad(s.load);
    $('epoch').textContent = '';
    $('epoch').append(String(s.epoch) + ' ', Object.assign(document.createElement('small'), { textContent: s.policy || '' }));

    // Rates and interval latencies need two polls; the first one only records.
    const stmts = s.statements || {};
    const lat = s.latencyMs || {};
    let rateS = null, rateT = null;
    if (previous) {
      const dt = (t - previous.t) / 1000;
      const rate = (k) => {
        const d = (stmts[k] || 0) - (previous.statements[k] || 0);
        return dt > 0 && d >= 0 ? d / dt : null;
      };
      rateS = rate('source');
      rateT = rate('target');
      const ls2 = intervalLatency(lat.source, previous.latency.source);
      const lt2 = intervalLatency(lat.target, previous.latency.target);
      push(series.rateSource, rateS);
      push(series.rateTarget, rateT);
      push(series.p50Source, ls2.p50);
      push(series.p95Source, ls2.p95);
      push(series.p50Target, lt2.p50);
      push(series.p95Target, lt2.p95);
    }
    previous = { t: t, statements: stmts, latency: lat };
    $('rate-source').textContent = fmtNum(rateS);
    $('rate-target').textContent = fmtNum(rateT);

    const rateLines = [
      { name: 'source', color: COLORS.source, values: series.rateSource },
      { name: 'target', color: COLORS.target, values: series.rateTarget },
    ];
    drawChart($('chart-rate'), rateLines, (v) => fmtNum(v) + '/s');
    drawLegend($('legend-rate'), rateLines, (v) => fmtNum(v) + '/s');
    $('chart-rate').setAttribute(
      'aria-label',
      'statements per second: source ' + fmtNum(rateS) + ', target ' + fmtNum(rateT),
    );
    const latLines = [
      { name: 'source p50', color: COLORS.source, values: series.p50Source },
      { name: 'source p95', color: COLORS.source, dash: true, values: series.p95Source },
      { name: 'target p50', color: COLORS.target, values: series.p50Target },
      { name: 'target p95', color: COLORS.target, dash: true, values: series.p95Target },
    ];
    drawChart($('chart-latency'), latLines, fmtMs);
    drawLegend($('legend-latency'), latLines, fmtMs);
    const total = (k) => (lat[k] ? k + ' p50 ' + fmtMs(lat[k].p50) + ', p95 ' + fmtMs(lat[k].p95) : k + ' –');
    $('latency-total').textContent = total('source') + ' · ' + total('target');
    $('chart-latency').setAttribute('aria-label', 'latency since start: ' + total('source') + '; ' + total('target'));

    const rows = (s.history || [])
      .slice(-10)
      .reverse()
      .map((h) =>
        row([new Date(h.at).toLocaleString(), h.from, h.to, h.heldMs + ' ms', h.requester, h.forced ? 'yes' : 'no']),
      );
    if (rows.length) $('history').replaceChildren(...rows);

    // Several instances in front of the same servers: each with the mode and epoch it applied.
    const instances = s.instances || [];
    $('instances-section').hidden = instances.length === 0;
    $('instances').replaceChildren(
      ...instances.map((i) => {
        const tr = row([i.instance, i.host, i.listen, i.admin, i.mode, i.epoch, new Date(i.seenAt).toLocaleString()]);
        if (i.epoch !== s.epoch || i.mode !== s.mode) tr.style.color = 'var(--err)';
        return tr;
      }),
    );
  }

  function row(values) {
    const tr = document.createElement('tr');
    for (const v of values) {
      const td = document.createElement('td');
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  }

  async function refresh() {
    const live = $('live');
    try {
      const r = await fetch('/status', { headers: auth, cache: 'no-store' });
      if (!r.ok) {
        live.className = 'down';
        live.textContent =
          r.status === 401 ? 'token missing or wrong: open this page as /?token=…' : 'status: HTTP ' + r.status;
        return;
      }
      render(await r.json(), Date.now());
      live.className = '';
      live.textContent = 'live · ' + new Date().toLocaleTimeString();
    } catch (e) {
      live.className = 'down';
      live.textContent = 'no answer from tandem (' + e.message + ')';
    }
  }

  async function loop() {
    await refresh();
    setTimeout(loop, POLL_MS);
  }
  loop();
})();
</script></body></html>`;
}
