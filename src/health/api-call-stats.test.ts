import { describe, expect, it } from 'vitest';
import { createApiCallStats } from './api-call-stats.ts';
import { createAwsApiProbe } from './probe-aws-api.ts';

const E1 = 'us-east-1';

describe('api call stats', () => {
  it('computes calls, errors, error rate and p90 latency over a sliding window', () => {
    const s = createApiCallStats();
    for (let i = 1; i <= 10; i++) {
      s.record({
        service: 'ebs',
        operation: 'CreateVolume',
        region: E1,
        zone: 'us-east-1a',
        ok: i > 4,
        latencyMs: i * 100,
        at: i * 1000,
      });
    }
    expect(s.stats('ebs', E1, 'us-east-1a', 60_000, 10_000)).toEqual({
      calls: 10,
      errors: 4,
      errorRate: 0.4,
      p90LatencyMs: 900,
    });
    // Window (5000, 10000]: calls 6..10, all ok.
    expect(s.stats('ebs', E1, 'us-east-1a', 5000, 10_000)).toEqual({
      calls: 5,
      errors: 0,
      errorRate: 0,
      p90LatencyMs: 1000,
    });
    // Nothing in the future counts, nothing for other series.
    expect(s.stats('ebs', E1, 'us-east-1a', 60_000, 3000).calls).toBe(3);
    expect(s.stats('ec2', E1, undefined, 60_000, 10_000)).toEqual({
      calls: 0,
      errors: 0,
      errorRate: 0,
      p90LatencyMs: 0,
    });
    expect(s.stats('ebs', E1, 'us-east-1b', 60_000, 10_000).calls).toBe(0);
  });

  it('without a zone, aggregates every call in the region', () => {
    const s = createApiCallStats();
    s.record({
      service: 'ec2',
      operation: 'RunInstances',
      region: E1,
      zone: 'us-east-1a',
      ok: false,
      latencyMs: 10,
      at: 1,
    });
    s.record({
      service: 'ec2',
      operation: 'RunInstances',
      region: E1,
      zone: 'us-east-1b',
      ok: true,
      latencyMs: 10,
      at: 2,
    });
    s.record({ service: 'ec2', operation: 'DescribeAvailabilityZones', region: E1, ok: true, latencyMs: 30, at: 3 });
    s.record({
      service: 'ec2',
      operation: 'DescribeAvailabilityZones',
      region: 'us-west-2',
      ok: false,
      latencyMs: 30,
      at: 3,
    });
    expect(s.stats('ec2', E1, undefined, 1000, 3)).toMatchObject({ calls: 3, errors: 1 });
  });

  it('keeps memory bounded: retention and a per-series cap', () => {
    const s = createApiCallStats({ retentionMs: 10_000, maxSamplesPerSeries: 100 });
    for (let i = 0; i < 1000; i++)
      s.record({ service: 'rds', operation: 'X', region: E1, ok: true, latencyMs: 1, at: 20_000 + i });
    expect(s.stats('rds', E1, undefined, 1_000_000, 21_000).calls).toBe(100);
    s.record({ service: 'rds', operation: 'X', region: E1, ok: false, latencyMs: 1, at: 40_000 });
    expect(s.stats('rds', E1, undefined, 1_000_000, 40_000)).toMatchObject({ calls: 1, errors: 1 });
  });
});

describe('aws-api probe (PB-1 leading signal)', () => {
  const zones = ['us-east-1a', 'us-east-1b'];

  function recordCalls(
    s: ReturnType<typeof createApiCallStats>,
    zone: string | undefined,
    n: number,
    failures: number,
    latencyMs = 50,
  ) {
    for (let i = 0; i < n; i++) {
      s.record({
        service: 'ec2',
        operation: 'DescribeInstances',
        region: E1,
        ...(zone ? { zone } : {}),
        ok: i >= failures,
        latencyMs,
        at: 50_000 + i,
      });
    }
  }

  it('reports a zone degraded when its error rate crosses the threshold, the others ok', async () => {
    const stats = createApiCallStats();
    recordCalls(stats, 'us-east-1a', 20, 10);
    recordCalls(stats, 'us-east-1b', 20, 1);
    const probe = createAwsApiProbe(
      { region: E1, zones, services: ['ec2'], errorRateThreshold: 0.2 },
      { stats, now: () => 60_000 },
    );
    const out = await probe.run({ signal: new AbortController().signal, now: () => 60_000 });
    const byZone = Object.fromEntries(out.map((r) => [r.zone ?? 'region', r]));
    expect(byZone['us-east-1a']).toMatchObject({ kind: 'aws-api', ok: false, severity: 'degraded' });
    expect(byZone['us-east-1a']!.detail).toContain('10/20 calls failed (50%)');
    expect(byZone['us-east-1a']!.detail).toContain('PB-1');
    expect(byZone['us-east-1b']).toMatchObject({ ok: true });
    // Region-wide: 11/40 = 27.5% >= 20%.
    expect(byZone.region).toMatchObject({ ok: false, severity: 'degraded' });
  });

  it('needs minCalls before judging: one failed call is not a 100% error rate', async () => {
    const stats = createApiCallStats();
    recordCalls(stats, 'us-east-1a', 1, 1);
    const probe = createAwsApiProbe(
      { region: E1, zones, services: ['ec2'], errorRateThreshold: 0.2, minCalls: 5 },
      { stats, now: () => 60_000 },
    );
    expect(await probe.run({ signal: new AbortController().signal, now: () => 60_000 })).toEqual([]);
  });

  it('judges latency when a threshold is set, and forgets calls outside the window', async () => {
    const stats = createApiCallStats();
    recordCalls(stats, 'us-east-1b', 10, 0, 3000);
    const probe = createAwsApiProbe(
      { region: E1, zones, services: ['ec2'], errorRateThreshold: 0.5, latencyThresholdMs: 2000, windowMs: 30_000 },
      { stats, now: () => 60_000 },
    );
    const [region, zoneB] = await probe.run({ signal: new AbortController().signal, now: () => 60_000 });
    expect(zoneB).toMatchObject({ zone: 'us-east-1b', ok: false, severity: 'degraded' });
    expect(zoneB!.detail).toContain('p90 latency >= 2000ms');
    expect(region!.zone).toBeUndefined();
    const later = createAwsApiProbe(
      { region: E1, zones, services: ['ec2'], errorRateThreshold: 0.5, latencyThresholdMs: 2000, windowMs: 30_000 },
      { stats, now: () => 90_000 },
    );
    expect(await later.run({ signal: new AbortController().signal, now: () => 90_000 })).toEqual([]);
  });
});
