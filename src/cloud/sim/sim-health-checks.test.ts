import { describe, expect, it } from 'vitest';
import type { AlarmHealthCheckSpec, InsufficientDataHealthStatus } from '../types.ts';
import { newSim } from './sim-test-helpers.ts';

const NS = 'Failover/Verdicts';
const HZ = 'Z0123456789';
const NAME = 'api.example.com.';

const checkSpec = (overrides: Partial<AlarmHealthCheckSpec> = {}): AlarmHealthCheckSpec => ({
  callerReference: 'orders-use1-a-v1',
  alarm: { region: 'us-west-2', name: 'drain-use1-a' },
  insufficientDataHealthStatus: 'LastKnownStatus',
  tags: { policy: 'orders', record: 'use1-a' },
  ...overrides,
});

/** A sim with the verdict alarm of record use1-a (10 s period) and a health check on it. */
async function withCheck(insufficientDataHealthStatus: InsufficientDataHealthStatus = 'LastKnownStatus') {
  const { sim, clock } = newSim();
  await sim.verdicts.putVerdictAlarm({
    region: 'us-west-2',
    name: 'drain-use1-a',
    namespace: NS,
    metricName: 'Drain',
    dimensions: { Record: 'use1-a' },
    periodSeconds: 10,
    description: 'drain use1-a',
  });
  const id = await sim.healthChecks.createAlarmHealthCheck(checkSpec({ insufficientDataHealthStatus }));
  const publish = (value: number) =>
    sim.verdicts.publishVerdicts('us-west-2', NS, [
      { metricName: 'Drain', dimensions: { Record: 'use1-a' }, value, at: clock.now() },
    ]);
  return { sim, clock, id, publish };
}

describe('CreateHealthCheck', () => {
  it('is idempotent by caller reference: the same reference and settings give the same check', async () => {
    const { sim, clock } = newSim();
    const first = await sim.healthChecks.createAlarmHealthCheck(checkSpec());
    await clock.advance(1000); // two requests each: stay within 5 a second
    const again = await sim.healthChecks.createAlarmHealthCheck(checkSpec());
    await clock.advance(1000);
    const other = await sim.healthChecks.createAlarmHealthCheck(
      checkSpec({ callerReference: 'orders-use1-b-v1', alarm: { region: 'us-west-2', name: 'drain-use1-b' } }),
    );
    expect([first, again, other]).toEqual(['hc-0001', 'hc-0001', 'hc-0002']);
    expect(sim.healthChecks.checks()).toHaveLength(2);
    // Route 53 control plane: us-east-1, one call per request (create, then tags).
    expect(sim.calls.recent().map((c) => `${c.service}:${c.operation}@${c.region}`)).toEqual([
      'route53:CreateHealthCheck@us-east-1',
      'route53:ChangeTagsForResource@us-east-1',
      'route53:CreateHealthCheck@us-east-1',
      'route53:ChangeTagsForResource@us-east-1',
      'route53:CreateHealthCheck@us-east-1',
      'route53:ChangeTagsForResource@us-east-1',
    ]);
  });

  it('refuses the same caller reference with other settings (HealthCheckAlreadyExists, terminal)', async () => {
    const { sim } = newSim();
    await sim.healthChecks.createAlarmHealthCheck(checkSpec());
    await expect(
      sim.healthChecks.createAlarmHealthCheck(checkSpec({ insufficientDataHealthStatus: 'Unhealthy' })),
    ).rejects.toMatchObject({ kind: 'terminal', code: 'HealthCheckAlreadyExists', service: 'route53' });
  });

  it('refuses more than 10 tags before creating anything', async () => {
    const { sim } = newSim();
    const tags = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    await expect(sim.healthChecks.createAlarmHealthCheck(checkSpec({ tags }))).rejects.toMatchObject({
      kind: 'terminal',
      code: 'TooManyTags',
    });
    expect(sim.healthChecks.checks()).toEqual([]);
    expect(sim.calls.recent()).toHaveLength(0);
  });

  it('leaves a check untagged when tagging fails; a retry with the same reference tags it', async () => {
    const { sim, clock } = newSim();
    sim.faults.set('tags', { service: 'route53', operations: ['ChangeTagsForResource'], errorRate: 1 });
    await expect(sim.healthChecks.createAlarmHealthCheck(checkSpec())).rejects.toMatchObject({
      operation: 'ChangeTagsForResource',
    });
    expect(await sim.healthChecks.listHealthChecks({ policy: 'orders' })).toEqual([]);
    sim.faults.remove('tags');
    await clock.advance(1000);
    expect(await sim.healthChecks.createAlarmHealthCheck(checkSpec())).toBe('hc-0001');
    expect(await sim.healthChecks.listHealthChecks({ policy: 'orders' })).toEqual([
      {
        id: 'hc-0001',
        callerReference: 'orders-use1-a-v1',
        type: 'CLOUDWATCH_METRIC',
        alarm: { region: 'us-west-2', name: 'drain-use1-a' },
        insufficientDataHealthStatus: 'LastKnownStatus',
        tags: { policy: 'orders', record: 'use1-a' },
      },
    ]);
  });
});

describe('ListHealthChecks', () => {
  it('pages the checks and reads tags 10 ids per ListTagsForResources, keeping those carrying every tag', async () => {
    const { sim } = newSim({ dns: { requestsPerSecond: 1000 }, healthChecks: { listPageSize: 5 } });
    for (let i = 0; i < 12; i++) {
      await sim.healthChecks.createAlarmHealthCheck(
        checkSpec({ callerReference: `ref-${i}`, tags: { policy: i % 2 === 0 ? 'orders' : 'billing', n: `${i}` } }),
      );
    }
    const before = sim.calls.recent().length;
    const turns: number[] = [];
    const nextRequest = async () => void turns.push(sim.calls.recent().length - before);
    const found = await sim.healthChecks.listHealthChecks({ policy: 'orders' }, { nextRequest });
    expect(turns).toEqual([1, 2, 3, 4]); // every request after the first waited for its own grant
    expect(found.map((c) => c.tags.n)).toEqual(['0', '2', '4', '6', '8', '10']);
    expect(
      sim.calls
        .recent()
        .slice(before)
        .map((c) => c.operation),
    ).toEqual([
      'ListHealthChecks',
      'ListHealthChecks',
      'ListHealthChecks',
      'ListTagsForResources',
      'ListTagsForResources',
    ]);
  });
});

describe('health status', () => {
  it('follows the alarm 30 s late: unhealthy 30 s after ALARM, healthy 30 s after OK', async () => {
    const { sim, clock, id, publish } = await withCheck();
    expect(sim.healthChecks.healthStatus(id)).toBe('Healthy');
    await publish(1);
    await clock.advance(20_000); // one period + the evaluation delay
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('ALARM');
    await clock.advance(29_999);
    expect(sim.healthChecks.healthStatus(id)).toBe('Healthy');
    await clock.advance(1);
    expect(sim.healthChecks.healthStatus(id)).toBe('Unhealthy');
    // Without further data the alarm, and so the check, stays as it is.
    await clock.advance(3_600_000);
    expect(sim.healthChecks.isHealthy(id)).toBe(false);

    await publish(0);
    await clock.advance(50_000);
    expect(sim.healthChecks.healthStatus(id)).toBe('Healthy');
  });

  it('uses InsufficientDataHealthStatus while the alarm has no data', async () => {
    for (const [setting, expected] of [
      ['Healthy', 'Healthy'],
      ['Unhealthy', 'Unhealthy'],
      ['LastKnownStatus', 'Healthy'], // never had a status: healthy
    ] as const) {
      const { sim, clock, id } = await withCheck(setting);
      await clock.advance(120_000);
      expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('INSUFFICIENT_DATA');
      expect(sim.healthChecks.healthStatus(id), setting).toBe(expected);
    }
  });

  it('treats a check whose alarm does not exist as insufficient data', async () => {
    const { sim } = newSim();
    const id = await sim.healthChecks.createAlarmHealthCheck(
      checkSpec({ alarm: { region: 'us-west-2', name: 'missing' }, insufficientDataHealthStatus: 'Unhealthy' }),
    );
    expect(sim.healthChecks.healthStatus(id)).toBe('Unhealthy');
    expect(sim.healthChecks.healthStatus('hc-9999')).toBeUndefined();
  });

  it('does not change when SetAlarmState changes the alarm (Route 53 reads the data stream)', async () => {
    const { sim, clock, id, publish } = await withCheck();
    await publish(0);
    await clock.advance(60_000);
    sim.verdicts.setAlarmState('us-west-2', 'drain-use1-a', 'ALARM');
    await clock.advance(60_000);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('ALARM');
    expect(sim.healthChecks.healthStatus(id)).toBe('Healthy');
  });

  it('honours a configured delay', async () => {
    const { sim, clock } = newSim({ healthChecks: { healthCheckDelayMs: 5_000 } });
    await sim.verdicts.putVerdictAlarm({
      region: 'us-west-2',
      name: 'a',
      namespace: NS,
      metricName: 'Drain',
      dimensions: {},
      periodSeconds: 10,
      description: '',
    });
    const id = await sim.healthChecks.createAlarmHealthCheck(checkSpec({ alarm: { region: 'us-west-2', name: 'a' } }));
    await sim.verdicts.publishVerdicts('us-west-2', NS, [
      { metricName: 'Drain', dimensions: {}, value: 1, at: clock.now() },
    ]);
    await clock.advance(24_999);
    expect(sim.healthChecks.healthStatus(id)).toBe('Healthy');
    await clock.advance(1);
    expect(sim.healthChecks.healthStatus(id)).toBe('Unhealthy');
  });
});

describe('Route 53 throttling', () => {
  it('counts health-check calls and record calls against the same 5 requests per second', async () => {
    const { sim, clock } = newSim();
    for (let i = 0; i < 3; i++) await sim.dns.listRecords(HZ, NAME, 'A');
    await sim.healthChecks.createAlarmHealthCheck(checkSpec()); // CreateHealthCheck + ChangeTagsForResource
    await expect(sim.dns.listRecords(HZ, NAME, 'A')).rejects.toMatchObject({ kind: 'throttled', code: 'Throttling' });
    await expect(sim.healthChecks.listHealthChecks({})).rejects.toMatchObject({
      kind: 'throttled',
      operation: 'ListHealthChecks',
    });
    await clock.advance(1000);
    await expect(sim.healthChecks.listHealthChecks({})).resolves.toHaveLength(1);
  });
});
