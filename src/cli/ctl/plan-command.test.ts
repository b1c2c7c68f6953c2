import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FailoverPolicy } from '../../api/index.ts';
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
