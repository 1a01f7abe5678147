import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric tandem exports, defined once with its help and type. The hot path only
 * increments or observes; the admin port exposes the registry.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tandem_' });

export const metrics = {
  statements: new Counter({
    name: 'tandem_statements_total',
    help: 'Statements by kind (read, write, ddl, transaction, session, other), mode and primary server',
    labelNames: ['kind', 'mode', 'server'] as const,
    registers: [registry],
  }),
  unclassified: new Counter({
    name: 'tandem_unclassified_statements_total',
    help: 'Statement shapes the classifier could not classify (treated as writes), counted once per shape',
    registers: [registry],
  }),
  serverLatency: new Histogram({
    name: 'tandem_server_latency_seconds',
    help: 'Time from sending a command to the end of its response, per server',
    labelNames: ['server'] as const,
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  }),
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
};
