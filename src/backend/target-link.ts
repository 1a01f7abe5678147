import type { Config } from '../config.js';
import { parseServerUrl } from '../config.js';
import type { Logger } from '../log.js';
import { CLIENT } from '../protocol/constants.js';
import { MysqlError } from '../protocol/errors.js';
import { decodeTextRows } from '../protocol/text-result.js';
import { renameForTarget, targetSchema } from '../sql/rename.js';
import { BackendLink } from './backend-link.js';
import { ServerConnection } from './server-connection.js';

/** Capabilities that change the shape of results: the target must grant what the client was granted. */
const RESULT_SHAPE =
  CLIENT.PROTOCOL_41 | CLIENT.DEPRECATE_EOF | CLIENT.MULTI_RESULTS | CLIENT.PS_MULTI_RESULTS;

export interface TargetSpec {
  readonly capabilities: number;
  readonly mariadbCapabilities: number;
  readonly collation: number;
  readonly database: string | undefined;
  /** The session's source link, to copy settings the target must share. */
  readonly source: BackendLink;
}

function query(sql: string): Buffer {
  return Buffer.concat([Buffer.from([0x03]), Buffer.from(sql, 'utf8')]);
}

/**
 * Opens tandem's own connection to the target for one client session: with the target URL's
 * account, the client's capabilities and collation (so that its results can be relayed raw to
 * that client), the session's auto-increment step, and the session statements so far replayed.
 */
export async function openTargetLink(
  config: Config,
  spec: TargetSpec,
  replay: readonly Buffer[],
  log: Logger,
): Promise<BackendLink> {
  if (!config.target) throw new MysqlError('CR_CONN_HOST_ERROR', 'tandem: no target server is configured');
  const t = parseServerUrl(config.target);
  const conn = await ServerConnection.open(t.host, t.port, 'target', config.timeouts.connectMs);
  const missing = spec.capabilities & RESULT_SHAPE & ~conn.greeting.capabilities;
  if (missing) {
    conn.destroy();
    throw new MysqlError(
      'ER_NOT_SUPPORTED_AUTH_MODE',
      `tandem: the target lacks capabilities 0x${missing.toString(16)} that the client uses`,
    );
  }
  await conn.authenticate({
    user: t.user,
    password: t.password,
    database: spec.database !== undefined ? targetSchema(config.scope.rename, spec.database) : t.database,
    capabilities: spec.capabilities,
    mariadbCapabilities: spec.mariadbCapabilities,
    collation: spec.collation,
    maxPacketSize: config.maxPacketSize,
  });
  // Session statements replayed on the target name its schemas as the target knows them.
  const forTarget = (payload: Buffer): Buffer => {
    if (payload[0] === 0x02) {
      return Buffer.concat([
        payload.subarray(0, 1),
        Buffer.from(targetSchema(config.scope.rename, payload.toString('utf8', 1))),
      ]);
    }
    if (payload[0] !== 0x03) return payload;
    return Buffer.concat([
      payload.subarray(0, 1),
      Buffer.from(renameForTarget(payload.toString('utf8', 1), config.scope.rename, spec.database)),
    ]);
  };
  const link = new BackendLink(
    conn,
    spec.capabilities & conn.greeting.capabilities,
    config.timeouts.serverMs,
  );
  // The secondary must step auto-increment ids as the primary session does.
  const steps = await spec.source.send(
    query('SELECT @@session.auto_increment_increment, @@session.auto_increment_offset'),
  );
  const row = decodeTextRows(steps.bytes!, spec.capabilities)[0];
  if (row?.[0] && row[1]) {
    await link.send(
      query(
        `SET SESSION auto_increment_increment = ${Number(row[0])}, auto_increment_offset = ${Number(row[1])}`,
      ),
    );
  }
  for (const statement of replay) {
    const r = await link.send(forTarget(statement));
    if (r.tracker.error) log.warn('target refused a replayed session statement');
  }
  return link;
}
