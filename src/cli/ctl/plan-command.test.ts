import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FailoverPolicy } from '../../api/index.ts';
import { loadScenario } from '../../scenarios/index.ts';
import { runSimulation } from '../../simulate/run-simulation.ts';
import { formatPlan } from './format.ts';
import { policyForPlan } from './plan-command.ts';

describe('policyForPlan', () => {
  it('keeps the spec with defaults and drops status, server metadata and a pending manual request', () => {
    const stored = parse(readFileSync('examples/two-region-rds.yaml', 'utf8')) as FailoverPolicy;
    stored.metadata = { ...stored.metadata, namespace: 'shop', resourceVersion: '42', uid: 'u' };
    stored.spec.manual = { id: 'x', action: 'Failover', targetRegion: 'us-west-2', allowDataLoss: true };
    stored.status = { phase: 'FailedOver', activeRegion: 'us-west-2' };

    const planned = policyForPlan(stored);
    expect(planned.metadata).toEqual({ name: 'orders', namespace: 'shop' });
    expect(planned.status).toBeUndefined();
    expect(planned.spec.manual).toBeUndefined();
    expect(planned.spec.regions).toEqual(stored.spec.regions);
    expect(planned.spec.guardrails.cooldownSeconds).toBeTypeOf('number'); // defaulted
  });
});

describe('formatPlan', () => {
  it('prints each planned action at its time from the fault with its weights as text, not as an object', async () => {
    const example = parse(readFileSync('examples/two-region-rds.yaml', 'utf8')) as FailoverPolicy;
    example.metadata.namespace = 'shop';
    Object.assign(example.spec.traffic!.route53!.dataPlane!, { mechanism: 'RecordEdits' });
    const { report } = await runSimulation({ policy: policyForPlan(example), scenario: loadScenario('zone-outage') });
    const text = formatPlan(report);
    const drains = text.split('\n').filter((l) => / SetWeights /.test(l));
    expect(drains.length).toBeGreaterThan(0);
    for (const line of drains) {
      expect(line).not.toContain('[object Object]');
      expect(line).toMatch(/^\s+\d+\. T\+\d+s SetWeights .*\[PB-\d+\] (\S+=\d+ ?)+$/);
    }
  });
});
