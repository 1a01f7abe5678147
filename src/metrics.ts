import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';

/**
 * Every metric tandem exports, defined once with its help and type. The hot path only
 * increments or observes; the admin port exposes the registry.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tandem_' });

interface Series {
  readonly labels: Record<string, string>;
  value: number;
}

/**
 * A counter for the hot path: prom-client hashes the label set on every inc() (about 1 us);
 * here the labels are resolved once (`child`) and an increment is one addition. Read by the
 * registry like any prom-client metric.
 */
export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  child(...values: string[]): { inc(): void } {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      s = { labels: Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? ''])), value: 0 };
      this.series.set(key, s);
    }
    const series = s;
    return {
      inc: () => {
        series.value++;
      },
    };
  }

  async get() {
    const values = [...this.series.values()].map((s) => ({ labels: { ...s.labels }, value: s.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) s.value = 0;
  }
}

interface HistogramSeries {
  readonly label: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram for the hot path, on the same terms as FastCounter: observe() is a few array writes. */
export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly bounds: readonly number[],
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  child(value: string): { observe(v: number): void } {
    let s = this.series.get(value);
    if (!s) {
      s = { label: value, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(value, s);
    }
    const series = s;
    const bounds = this.bounds;
    return {
      observe: (v: number) => {
        series.sum += v;
        series.count++;
        let i = 0;
        while (i < bounds.length && v > bounds[i]!) i++;
        series.counts[i]!++;
      },
    };
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({
          labels: { le, [this.labelName]: s.label },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { le: '+Inf', [this.labelName]: s.label },
        value: s.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels: { [this.labelName]: s.label }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({
        labels: { [this.labelName]: s.label },
        value: s.count,
        metricName: `${this.name}_count`,
      });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}

export const metrics = {
  statements: new FastCounter(
    'tandem_statements_total',
    'Statements by kind (read, write, ddl, transaction, session, other), mode and primary server',
    ['kind', 'mode', 'server'],
  ),
  unclassified: new Counter({
    name: 'tandem_unclassified_statements_total',
    help: 'Statement shapes the classifier could not classify (treated as writes), counted once per shape',
    registers: [registry],
  }),
  serverLatency: new FastHistogram(
    'tandem_server_latency_seconds',
    'Time from sending a command to the end of its response, per server',
    'server',
    [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
  ),
  secondaryErrors: new Counter({
    name: 'tandem_secondary_errors_total',
    help: 'Writes the secondary missed, failed or ran inexactly (journaled or refused)',
    labelNames: ['server'] as const,
    registers: [registry],
  }),
  journalDepth: new Gauge({
    name: 'tandem_journal_entries',
    help: 'Entries in the repair journal',
    registers: [registry],
  }),
  journalBytes: new Gauge({
    name: 'tandem_journal_bytes',
    help: 'Size of the repair journal in bytes',
    registers: [registry],
  }),
  clientConnections: new Gauge({
    name: 'tandem_client_connections',
    help: 'Client connections open',
    registers: [registry],
  }),
  serverConnections: new Gauge({
    name: 'tandem_server_connections',
    help: 'Connections to each server',
    labelNames: ['server'] as const,
    registers: [registry],
  }),
  mode: new Gauge({
    name: 'tandem_mode',
    help: 'Current mode: 1 for the mode in force, 0 for the others',
    labelNames: ['mode'] as const,
    registers: [registry],
  }),
  switchHoldSeconds: new Gauge({
    name: 'tandem_last_switch_hold_seconds',
    help: 'How long the last mode switch held new transactions back',
    registers: [registry],
  }),
  epoch: new Gauge({
    name: 'tandem_mode_epoch',
    help: 'Mode switches applied by this instance since its state began',
    registers: [registry],
  }),
  verifyClean: new Gauge({
    name: 'tandem_verify_clean',
    help: 'The last tandem verify pass left nothing differing (1) or not (0); -1 when none has run',
    registers: [registry],
  }),
  verifyTimestamp: new Gauge({
    name: 'tandem_verify_last_run_timestamp_seconds',
    help: 'When the last tandem verify pass finished (Unix time; 0 when none has run)',
    registers: [registry],
  }),
  verifyRows: new Gauge({
    name: 'tandem_verify_rows_compared',
    help: 'Rows the last tandem verify pass compared',
    registers: [registry],
  }),
  verifyDiffering: new Gauge({
    name: 'tandem_verify_differing_rows',
    help: 'Differing rows the last tandem verify pass found (repaired ones included)',
    registers: [registry],
  }),
  verifyFixed: new Gauge({
    name: 'tandem_verify_fixed_rows',
    help: 'Differing rows the last tandem verify pass repaired',
    registers: [registry],
  }),
  verifyErrors: new Gauge({
    name: 'tandem_verify_table_errors',
    help: 'Tables the last tandem verify pass could not compare',
    registers: [registry],
  }),
  // The initial load run inside this process (POST /load on the admin port): the running one, else the last.
  loadRunning: new Gauge({
    name: 'tandem_load_running',
    help: 'An initial load is running in this process (1) or not (0)',
    registers: [registry],
  }),
  loadRows: new Gauge({
    name: 'tandem_load_rows',
    help: 'Rows the running (or last) load in this process has copied, per source table, earlier resumed runs included',
    labelNames: ['table'] as const,
    registers: [registry],
  }),
  loadRowsEstimated: new Gauge({
    name: 'tandem_load_rows_estimated',
    help: "Rows each table of the running (or last) load is expected to hold (information_schema's estimate)",
    labelNames: ['table'] as const,
    registers: [registry],
  }),
  loadTableDone: new Gauge({
    name: 'tandem_load_table_done',
    help: 'Each table of the running (or last) load: copied (1) or not yet (0)',
    labelNames: ['table'] as const,
    registers: [registry],
  }),
  loadRowsPerSecond: new Gauge({
    name: 'tandem_load_rows_per_second',
    help: 'Rows per second the running (or last) load has copied, over its whole run so far',
    registers: [registry],
  }),
  loadEtaSeconds: new Gauge({
    name: 'tandem_load_eta_seconds',
    help: 'Approximate seconds until the running load is done (0 when none runs, -1 before a rate is known)',
    registers: [registry],
  }),
  loadBytes: new Gauge({
    name: 'tandem_load_bytes',
    help: 'Bytes of SQL the running (or last) load has written to the target',
    registers: [registry],
  }),
  loadFinishedTimestamp: new Gauge({
    name: 'tandem_load_last_finished_timestamp_seconds',
    help: 'When the last load in this process ended, done, failed or stopped (Unix time; 0 when none has)',
    registers: [registry],
  }),
  loadFailed: new Gauge({
    name: 'tandem_load_failed',
    help: 'The last load in this process failed (1) or not (0); a stopped load has not failed',
    registers: [registry],
  }),
};
