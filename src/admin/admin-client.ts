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
  ].join('\n');
}
