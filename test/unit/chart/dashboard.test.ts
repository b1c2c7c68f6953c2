// The Grafana dashboard queries only metrics the operator really exports: every failover_operator_*,
// controller_runtime_*, workqueue_* and leader_election_* name in a panel expression or variable must be registered
// by the operator's metrics or the runtime's (histogram series by their base), and none selects by `policy`.

import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createOperatorMetrics } from '../../../src/metrics/operator-metrics.ts';
import { createRuntimeMetrics } from '../../../src/runtime/metrics.ts';

interface Panel {
  title: string;
  targets?: Array<{ expr: string }>;
}

const dashboard = JSON.parse(readFileSync('charts/failover-operator/dashboards/failover-operator.json', 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: string }> };
};

const FAMILY = /\b(?:failover_operator|controller_runtime|workqueue|leader_election)_[a-z_]+/g;
const queries = () => [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.templating.list.map((v) => v.query),
];

describe('the Grafana dashboard', () => {
  it('queries only metric families the operator registers', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry);
    createRuntimeMetrics(registry);
    const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const used = new Set(queries().flatMap((q) => q.match(FAMILY) ?? []));
    expect(used.size).toBeGreaterThan(10);
    const unknown = [...used].filter((name) => !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(unknown).toEqual([]);
  });

  it('shows zone health, weights and failover actions', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const family of ['zone_state', 'record_weight', 'actions_total', 'aws_errors_total', 'drill_rto_seconds']) {
      expect(exprs).toContain(`failover_operator_${family}`);
    }
    expect(exprs).toContain('controller_runtime_reconcile_time_seconds_bucket');
    expect(exprs).toContain('failover_operator_circuit_breaker_state');
    expect(exprs).toContain('failover_operator_replica_lag_seconds');
    expect(dashboard.uid).toBe('failover-operator');
  });

  it('selects a policy by its namespace and name labels, never by a `policy` label', () => {
    expect(queries().filter((q) => /\bpolicy\s*(=|!=|=~|!~)|by \([^)]*\bpolicy\b/.test(q))).toEqual([]);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'policy']);
  });
});
