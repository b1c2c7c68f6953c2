import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validatePolicy } from '../api/index.ts';
import type { Cloud } from '../cloud/types.ts';
import { createApiCallStats } from './api-call-stats.ts';
import { healthSettingsFromPolicy, healthTopologyFromPolicy, probesForPolicy } from './policy-probes.ts';

function example(name: string) {
  const text = readFileSync(join(import.meta.dirname, '../../examples', name), 'utf8');
  const result = validatePolicy(parse(text));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value.spec;
}

const unused = () => Promise.reject(new Error('not called in this test'));
const cloud = {
  compute: { describeZones: unused, describeInstanceHealth: unused },
  databases: { describeInstance: unused },
  replicaLag: { replicaLag: unused },
} as unknown as Pick<Cloud, 'compute' | 'databases' | 'replicaLag'>;

describe('probes and settings from a FailoverPolicy', () => {
  const spec = example('two-region-rds.yaml');

  it('maps spec.health onto the model settings', () => {
    expect(healthSettingsFromPolicy(spec)).toMatchObject({
      intervalMs: spec.health.intervalSeconds * 1000,
      failureThreshold: spec.health.failureThreshold,
      recoveryThreshold: spec.health.recoveryThreshold,
      regionImpairedZones: spec.health.regionImpairedWhen.impairedZones,
    });
    expect(healthTopologyFromPolicy(spec, { region: 'us-east-1', zone: 'us-east-1a' })).toEqual({
      regions: [
        { name: 'us-east-1', zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
        { name: 'us-west-2', zones: ['us-west-2a', 'us-west-2b'] },
      ],
      writerZone: { region: 'us-east-1', zone: 'us-east-1a' },
    });
  });

  it('runs http per zone, EC2 and the control plane per region, RDS per instance', () => {
    const probes = probesForPolicy(spec, { now: () => 0, cloud, apiCallStats: createApiCallStats() });
    const summary = probes.map(
      (p) => `${p.name} ${p.probe.kind} ${p.probe.region}${p.probe.zone ? ` ${p.probe.zone}` : ''}`,
    );
    expect(summary).toEqual([
      'api http us-east-1 us-east-1a',
      'api http us-east-1 us-east-1b',
      'api http us-east-1 us-east-1c',
      'api http us-west-2 us-west-2a',
      'api http us-west-2 us-west-2b',
      'ec2 ec2-zone us-east-1',
      'ec2 ec2-instances us-east-1',
      'ec2 ec2-zone us-west-2',
      'ec2 ec2-instances us-west-2',
      'database rds us-east-1',
      'database rds us-west-2',
      'database rds-connect us-east-1',
      'database rds-connect us-west-2',
      'database replica-lag us-west-2',
      'control-plane aws-api us-east-1',
      'control-plane aws-api us-west-2',
    ]);
    // Every target has its own key; the same spec twice yields the same keys (shared by the scheduler).
    const keys = probes.map((p) => p.probe.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(
      probesForPolicy(spec, { now: () => 0, cloud, apiCallStats: createApiCallStats() }).map((p) => p.probe.key),
    ).toEqual(keys);
    expect(keys[0]).toContain('https://api-us-east-1a.orders.example.com/healthz');
    // The connect probes name their instance, so their results (and the scheduler's timeouts) keep it.
    expect(probes.filter((p) => p.probe.kind === 'rds-connect').map((p) => p.probe.subject)).toEqual([
      'orders',
      'orders-usw2',
    ]);
  });

  it('runs the rds connect probe only when asked (connect defaults to false)', () => {
    const probes = spec.probes.map((p) => (p.rds ? { ...p, rds: { ...p.rds, connect: false } } : p));
    const kinds = probesForPolicy({ ...spec, probes }, { now: () => 0, cloud, apiCallStats: createApiCallStats() }).map(
      (p) => p.probe.kind,
    );
    expect(kinds).not.toContain('rds-connect');
  });

  it('refuses to build cloud probes without the adapters', () => {
    expect(() => probesForPolicy(spec, { now: () => 0 })).toThrow(/probe ec2: needs the cloud adapters/);
  });
});
