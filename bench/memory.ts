import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Connection, createConnection } from 'mysql2/promise';
import type { MariaDbInstance } from '../src/sandbox/mariadb-instance.js';
import { raiseOpenFilesLimit, rssBytes, sampleRss } from './processes.js';
import { streamQuery } from './raw-client.js';
import {
  checkTag,
  type HostInfo,
  hostInfo,
  hostMarkdown,
  markdownTable,
  mib,
  round,
  saveResults,
  textTable,
  today,
} from './report.js';
import { serverVersion, startBenchServer } from './server.js';
import { startTarget, type Target } from './targets.js';

/**
 * tandem's memory (VmRSS, sampled every 100 ms, maximum kept) in two situations:
 * - a ~1 GB result read by a slow client, which tandem must stream with backpressure rather
 *   than buffer; the bytes that arrive are compared with the same query read directly;
 * - thousands of idle client connections, each with its own connection to the source.
 * Each situation gets a fresh tandem process, so that one does not inflate the other.
 *
 * As a program: node --import tsx bench/memory.ts [--quick] (or npm run bench -- --memory)
 */

export const STREAM_TARGET_MIB = 100;
export const IDLE_TARGET_MIB = 300;

export interface MemorySettings {
  readonly streamRows: number;
  readonly rowBytes: number;
  readonly streamSeconds: number;
  readonly idleConnections: number;
  readonly quick: boolean;
}

export const FULL_MEMORY: MemorySettings = {
  streamRows: 1_000_000,
  rowBytes: 1000,
  streamSeconds: 40,
  idleConnections: 2000,
  quick: false,
};

export const QUICK_MEMORY: MemorySettings = {
  streamRows: 200_000,
  rowBytes: 1000,
  streamSeconds: 10,
  idleConnections: 500,
  quick: true,
};

export interface StreamFigures {
  readonly sql: string;
  readonly bytes: number;
  readonly rows: number;
  readonly identical: boolean;
  readonly directSeconds: number;
  readonly throttledSeconds: number;
  readonly baselineRssBytes: number;
  readonly maxRssBytes: number;
  readonly samples: number;
}

export interface IdleFigures {
  readonly connections: number;
  readonly openSeconds: number;
  readonly baselineRssBytes: number;
  readonly maxRssBytes: number;
  readonly perConnectionKiB: number;
}

export interface MemoryReport {
  readonly kind: 'tandem-memory';
  readonly date: string;
  readonly host: HostInfo;
  readonly settings: MemorySettings;
  readonly stream: StreamFigures;
  readonly idle: IdleFigures;
}

type Log = (line: string) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withTandem<T>(
  instance: MariaDbInstance,
  dir: string,
  openFiles: number,
  body: (t: Target & { pid: number }) => Promise<T>,
): Promise<T> {
  const target = await startTarget('tandem', instance, {
    dir,
    haproxyThreads: 1,
    tandemOpenFiles: openFiles,
  });
  try {
    await sleep(1000);
    return await body(target as Target & { pid: number });
  } finally {
    await target.stop();
  }
}

export async function measureStream(
  instance: MariaDbInstance,
  dir: string,
  s: MemorySettings,
  log: Log,
): Promise<StreamFigures> {
  const sql = `SELECT REPEAT('x', ${s.rowBytes}) AS payload, seq FROM mysql.seq_1_to_${s.streamRows}`;
  const base = { host: instance.host, user: 'root', sql };
  const direct = await streamQuery({ ...base, port: instance.port });
  log(`  direct: ${mib(direct.bytes)} MiB, ${direct.rows} rows in ${direct.seconds.toFixed(1)} s`);
  return withTandem(instance, join(dir, 'memory-stream'), 1024, async (tandem) => {
    const baselineRssBytes = await rssBytes(tandem.pid);
    const sampler = sampleRss(tandem.pid);
    const slow = await streamQuery({
      ...base,
      port: tandem.port,
      bytesPerSecond: direct.bytes / s.streamSeconds,
    }).catch(async (err: unknown) => {
      await sampler.stop();
      throw err;
    });
    const { maxBytes, samples } = await sampler.stop();
    const identical =
      slow.bytes === direct.bytes && slow.sha256 === direct.sha256 && slow.rows === direct.rows;
    log(
      `  through tandem, throttled: ${mib(slow.bytes)} MiB in ${slow.seconds.toFixed(1)} s, ` +
        `${identical ? 'byte-identical' : 'DIFFERENT from direct'}; RSS max ${mib(maxBytes)} MiB`,
    );
    return {
      sql,
      bytes: slow.bytes,
      rows: slow.rows,
      identical,
      directSeconds: round(direct.seconds, 1),
      throttledSeconds: round(slow.seconds, 1),
      baselineRssBytes,
      maxRssBytes: maxBytes,
      samples,
    };
  });
}

export async function measureIdle(
  instance: MariaDbInstance,
  dir: string,
  s: MemorySettings,
  log: Log,
): Promise<IdleFigures> {
  const n = s.idleConnections;
  // Each client connection is a socket here and two in tandem (client and source).
  const own = await raiseOpenFilesLimit(process.pid, n + 1024);
  if (own < n + 256)
    log(`  warning: this process may open only ${own} files; raise it with \`ulimit -n ${n + 1024}\``);
  return withTandem(instance, join(dir, 'memory-idle'), 2 * n + 1024, async (tandem) => {
    const baselineRssBytes = await rssBytes(tandem.pid);
    const sampler = sampleRss(tandem.pid);
    const conns: Connection[] = [];
    const started = performance.now();
    try {
      for (let i = 0; i < n; i += 100) {
        const batch = Array.from({ length: Math.min(100, n - i) }, () =>
          createConnection({
            host: tandem.host,
            port: tandem.port,
            user: 'root',
            password: '',
            connectTimeout: 30_000,
          }),
        );
        conns.push(...(await Promise.all(batch)));
      }
      const openSeconds = (performance.now() - started) / 1000;
      // Every session is live end to end, then left idle.
      for (let i = 0; i < n; i += 200)
        await Promise.all(conns.slice(i, i + 200).map((c) => c.query('SELECT 1')));
      await sleep(5000);
      const { maxBytes } = await sampler.stop();
      const perConnectionKiB = round((maxBytes - baselineRssBytes) / n / 1024, 1);
      log(
        `  ${n} idle connections opened in ${openSeconds.toFixed(1)} s; RSS max ${mib(maxBytes)} MiB ` +
          `(baseline ${mib(baselineRssBytes)} MiB, ${perConnectionKiB} KiB per connection)`,
      );
      return {
        connections: n,
        openSeconds: round(openSeconds, 1),
        baselineRssBytes,
        maxRssBytes: maxBytes,
        perConnectionKiB,
      };
    } finally {
      await sampler.stop();
      for (const c of conns) c.destroy();
    }
  });
}

export async function measureMemory(
  instance: MariaDbInstance,
  dir: string,
  s: MemorySettings,
  host: HostInfo,
  log: Log,
): Promise<MemoryReport> {
  log(`memory: ${s.streamRows} rows x ${s.rowBytes} bytes read in ~${s.streamSeconds} s`);
  const stream = await measureStream(instance, dir, s, log);
  log(`memory: ${s.idleConnections} idle connections`);
  const idle = await measureIdle(instance, dir, s, log);
  return { kind: 'tandem-memory', date: today(), host, settings: s, stream, idle };
}

function memoryRows(r: MemoryReport): (string | number)[][] {
  const verdict = (max: number, limit: number, ok = true) => (ok && mib(max) < limit ? 'met' : 'NOT met');
  return [
    [
      `stream ${mib(r.stream.bytes)} MiB to a slow client (${r.stream.throttledSeconds} s)`,
      mib(r.stream.baselineRssBytes),
      mib(r.stream.maxRssBytes),
      `< ${STREAM_TARGET_MIB} MiB, byte-identical`,
      verdict(r.stream.maxRssBytes, STREAM_TARGET_MIB, r.stream.identical),
    ],
    [
      `${r.idle.connections} idle connections (${r.idle.perConnectionKiB} KiB each)`,
      mib(r.idle.baselineRssBytes),
      mib(r.idle.maxRssBytes),
      `< ${IDLE_TARGET_MIB} MiB`,
      verdict(r.idle.maxRssBytes, IDLE_TARGET_MIB),
    ],
  ];
}

const HEADER = ['scenario', 'RSS before MiB', 'RSS max MiB', 'target', 'verdict'];

export function memoryText(r: MemoryReport): string {
  return textTable(HEADER, memoryRows(r));
}

export function memoryMarkdown(r: MemoryReport): string {
  return `# tandem memory, ${r.date}${r.settings.quick ? ' (quick)' : ''}

${markdownTable(HEADER, memoryRows(r))}

- Stream: \`${r.stream.sql}\`, ${r.stream.rows} rows, ${r.stream.bytes} bytes; read directly in
  ${r.stream.directSeconds} s, through tandem by a client throttled to ~${r.settings.streamSeconds} s;
  the bytes through tandem are ${r.stream.identical ? 'identical to' : 'NOT identical to'} the direct ones
  (count and SHA-256). RSS sampled ${r.stream.samples} times (every 100 ms).
- Idle: ${r.idle.connections} mysql2 connections opened in batches of 100 in ${r.idle.openSeconds} s, each
  ran \`SELECT 1\`, then all were left idle for 5 s; RSS is the maximum over the whole phase.

Machine:
${hostMarkdown(r.host)}
`;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      'stream-rows': { type: 'string' },
      'stream-seconds': { type: 'string' },
      'idle-connections': { type: 'string' },
      keep: { type: 'boolean', default: false },
      tag: { type: 'string' },
    },
  });
  const base = values.quick ? QUICK_MEMORY : FULL_MEMORY;
  const s: MemorySettings = {
    ...base,
    streamRows: Number(values['stream-rows'] ?? base.streamRows),
    streamSeconds: Number(values['stream-seconds'] ?? base.streamSeconds),
    idleConnections: Number(values['idle-connections'] ?? base.idleConnections),
  };
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const server = await startBenchServer();
  try {
    const host = await hostInfo({ mariadb: await serverVersion(server.instance) });
    const report = await measureMemory(server.instance, server.dir, s, host, log);
    log(`\n${memoryText(report)}\n`);
    const files = await saveResults('memory', report, memoryMarkdown(report), {
      quick: s.quick,
      tag: checkTag(values.tag ?? process.env['BENCH_TAG']),
    });
    log(`saved ${files.join(', ')}`);
  } finally {
    await server.stop({ keep: values.keep });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
