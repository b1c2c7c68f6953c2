// docs/metrics.md is the reference of every family the operator registers: its tables list exactly the families
// of the runtime's and the operator's metrics (prom-client's process_* and nodejs_* defaults aside), each with
// its registered type and label names.

import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createOperatorMetrics } from '../../../src/metrics/operator-metrics.ts';
import { createRuntimeMetrics } from '../../../src/runtime/metrics.ts';

interface DocumentedFamily {
  type: string;
  labels: string[];
}

/** The rows of the two reference tables: `| \`name\` | type | \`label\`, … | meaning |`. */
function documentedFamilies(): Map<string, DocumentedFamily> {
  const text = readFileSync('docs/metrics.md', 'utf8');
  const sections = text.split(/^## /m).filter((s) => /^(controller-runtime|Operator) families/.test(s));
  const rows = new Map<string, DocumentedFamily>();
  for (const section of sections) {
    for (const [, name, type, labels] of section.matchAll(/^\| `([a-z_]+)` \| ([a-z]+) \| ([^|]*) \|/gm)) {
      rows.set(name!, { type: type!, labels: [...labels!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!).sort() });
    }
  }
  return rows;
}

async function registeredFamilies(): Promise<Map<string, DocumentedFamily>> {
  const registry = new Registry();
  createRuntimeMetrics(registry);
  createOperatorMetrics(registry, { build: { version: '0.0.0', nodeVersion: process.version } });
  const families = new Map<string, DocumentedFamily>();
  // prom-client's metric objects keep their label names; its MetricObject type does not declare them.
  for (const metric of registry.getMetricsAsArray() as unknown as Array<{
    get(): Promise<{ name: string; type: string }>;
    labelNames: string[];
  }>) {
    const { name, type } = await metric.get();
    families.set(name, { type, labels: [...metric.labelNames].sort() });
  }
  return families;
}

describe('docs/metrics.md', () => {
  it('lists exactly the registered families, with their types and labels', async () => {
    const documented = documentedFamilies();
    const registered = await registeredFamilies();
    expect([...documented.keys()].sort()).toEqual([...registered.keys()].sort());
    for (const [name, family] of registered) expect([name, documented.get(name)]).toEqual([name, family]);
  });

  it('gives an alert for the important families, in the names they are registered under', () => {
    const text = readFileSync('docs/metrics.md', 'utf8');
    const alerts = text.slice(text.indexOf('## Alerts')).split(/^## /m)[1]!;
    for (const family of [
      'leader_election_master_status',
      'controller_runtime_reconcile_errors_total',
      'workqueue_longest_running_processor_seconds',
      'failover_operator_zone_state',
      'failover_operator_actions_total',
      'failover_operator_circuit_breaker_state',
      'failover_operator_replica_lag_seconds',
    ]) {
      expect(alerts).toContain(family);
    }
    expect(alerts).not.toMatch(/\bpolicy=/);
  });
});
