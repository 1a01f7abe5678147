/**
 * The CLI's side of the admin API: `tandem status` and `tandem mode get|set` talk to a running
 * tandem over HTTP, as an operator's script would.
 */
export interface AdminReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export function adminBaseUrl(admin: string): string {
  return /^https?:\/\//.test(admin) ? admin.replace(/\/+$/, '') : `http://${admin}`;
}

export async function adminRequest(
  admin: string,
  method: 'GET' | 'PUT',
  path: string,
  body?: unknown,
  token?: string,
): Promise<AdminReply> {
  const res = await fetch(`${adminBaseUrl(admin)}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json', 'x-requester': 'tandem-cli' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { message: text };
  }
  return { status: res.status, body: parsed };
}

/** The status as a few lines for people. */
export function formatStatus(s: Record<string, unknown>): string {
  const journal = s.journal as { depth?: number; bytes?: number } | undefined;
  const statements = (s.statements as Record<string, number> | undefined) ?? {};
  const last = s.lastSwitch as { from?: string; to?: string; at?: string; requester?: string } | undefined;
  return [
    `mode:         ${s.mode}${s.switching ? ' (switching)' : ''}`,
    `connections:  ${s.connections}`,
    `journal:      ${journal?.depth ?? 0} entries (${journal?.bytes ?? 0} bytes)`,
    `statements:   ${
      Object.entries(statements)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none yet'
    }`,
    `last switch:  ${last ? `${last.from} -> ${last.to} at ${last.at} by ${last.requester}, held ${s.lastSwitchHeldMs} ms` : 'none'}`,
    ...loadLine(s.load),
  ].join('\n');
}

/** The initial load run inside the proxy, when one has run. */
function loadLine(load: unknown): string[] {
  const l = load as
    | {
        state: string;
        unit: string;
        error: string | null;
        overall: {
          rows: number;
          bytes: number;
          rowsPerSecond: number;
          etaSeconds: number | null;
          tablesDone: number;
          tablesTotal: number;
          percent: number;
        };
      }
    | undefined;
  if (!l || l.state === 'idle') return [];
  const o = l.overall;
  const parts = [
    l.unit === 'bytes' ? `${o.bytes} bytes` : `${o.rows.toLocaleString('en-US')} rows`,
    `${o.tablesDone} of ${o.tablesTotal} tables`,
  ];
  if (l.state === 'running') {
    if (l.unit !== 'bytes') parts.push(`${o.rowsPerSecond.toLocaleString('en-US')} rows/s`);
    parts.push(`ETA ~${o.etaSeconds === null ? '?' : `${Math.round(o.etaSeconds)} s`}`);
  }
  if (l.error) parts.push(l.error);
  return [
    `load:         ${l.state === 'running' ? `running, ${o.percent} %` : l.state}: ${parts.join(', ')}`,
  ];
}
