// The Grafana dashboard queries only metrics the operator really exports: every failover_operator_* name in a
// panel expression must be registered by the operator's metrics or the runtime's (histogram series by their base).

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
};

describe('the Grafana dashboard', () => {
  it('queries only metric families the operator registers', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry);
    createRuntimeMetrics(registry);
    const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const used = new Set(
      dashboard.panels.flatMap((p) =>
        (p.targets ?? []).flatMap((t) => t.expr.match(/failover_operator_[a-z_]+/g) ?? []),
      ),
    );
    expect(used.size).toBeGreaterThan(10);
    const unknown = [...used].filter((name) => !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(unknown).toEqual([]);
  });

  it('shows zone health, weights and failover actions', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const family of ['zone_state', 'record_weight', 'actions_total', 'aws_errors_total', 'drill_rto_seconds']) {
      expect(exprs).toContain(`failover_operator_${family}`);
    }
    expect(dashboard.uid).toBe('failover-operator');
  });
});
