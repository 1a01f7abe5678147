/**
 * The dashboard page served on GET /: one self-contained HTML document (no network beyond
 * tandem itself). It polls /status and switches the mode with PUT /mode after a confirmation.
 */
export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tandem</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem;color:#222}
h1{font-size:1.3rem}.mode{font-size:1.6rem;font-weight:600}
table{border-collapse:collapse}td{padding:.2rem .8rem .2rem 0}
button{margin-right:.5rem;padding:.4rem .8rem}#error{color:#b00}
</style></head><body>
<h1>tandem</h1>
<p>Mode: <span class="mode" id="mode">…</span></p>
<p id="switch"></p>
<p id="error" role="alert"></p>
<table>
<tr><td>Client connections</td><td id="connections">…</td></tr>
<tr><td>Repair journal</td><td id="journal">…</td></tr>
<tr><td>Statements/s (source, target)</td><td id="rate">…</td></tr>
<tr><td>Last switch held</td><td id="held">…</td></tr>
</table>
<script>
const token = new URLSearchParams(location.search).get('token');
const headers = token ? { authorization: 'Bearer ' + token } : {};
const order = ['source', 'dual-source', 'dual-target', 'target'];
let last;
async function refresh() {
  const r = await fetch('/status', { headers });
  if (!r.ok) { document.getElementById('error').textContent = 'status: HTTP ' + r.status; return; }
  const s = await r.json();
  document.getElementById('mode').textContent = s.mode;
  document.getElementById('connections').textContent = s.connections;
  document.getElementById('journal').textContent = s.journal.depth + ' entries';
  document.getElementById('held').textContent = s.lastSwitchHeldMs + ' ms';
  const now = { t: Date.now(), c: s.statements };
  if (last) {
    const dt = (now.t - last.t) / 1000;
    const rate = (k) => Math.round(((now.c[k] || 0) - (last.c[k] || 0)) / dt);
    document.getElementById('rate').textContent = rate('source') + ', ' + rate('target');
  }
  last = now;
  const box = document.getElementById('switch');
  box.replaceChildren(...order.filter((m) => m !== s.mode).map((m) => {
    const b = document.createElement('button');
    b.textContent = 'Switch to ' + m;
    b.dataset.mode = m;
    b.onclick = () => switchTo(m);
    return b;
  }));
}
async function switchTo(mode) {
  if (!confirm('Switch tandem to ' + mode + '?')) return;
  const r = await fetch('/mode', { method: 'PUT', headers: { ...headers, 'content-type': 'application/json', 'x-requester': 'dashboard' }, body: JSON.stringify({ mode }) });
  const body = await r.json();
  document.getElementById('error').textContent = r.ok ? '' : body.message;
  refresh();
}
refresh();
setInterval(refresh, 1000);
</script></body></html>`;
}
