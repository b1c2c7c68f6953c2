import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import { operationsOf } from './sim-faults.ts';
import { newSim, settle } from './sim-test-helpers.ts';

async function outcomes(seed: number, calls: number): Promise<string> {
  const { sim } = newSim({ seed });
  sim.faults.set('storm', { service: 'ebs', zone: 'us-east-1a', errorRate: 0.4 });
  let out = '';
  for (let i = 0; i < calls; i++) {
    out += await sim.compute.describeVolumes('us-east-1', { zone: 'us-east-1a' }).then(
      () => '.',
      () => 'x',
    );
  }
  return out;
}

describe('error rates', () => {
  it('are deterministic for a seed, differ across seeds, and hit the configured rate', async () => {
    const a = await outcomes(1, 400);
    expect(await outcomes(1, 400)).toBe(a);
    expect(await outcomes(2, 400)).not.toBe(a);
    const rate = [...a].filter((c) => c === 'x').length / a.length;
    expect(rate).toBeGreaterThan(0.33);
    expect(rate).toBeLessThan(0.47);
  });

  it('fail with the retryable 5xx codes the AWS adapters produce, and are logged with their zone', async () => {
    const { sim } = newSim();
    sim.faults.set('all', { service: 'ec2', region: 'us-east-1', errorRate: 1 });
    const err = await sim.compute
      .runInstances('us-east-1', {
        launchTemplateId: 'lt-0abc',
        zone: 'us-east-1c',
        count: 1,
        clientToken: 't1',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'retryable', code: 'InternalError', service: 'ec2', operation: 'RunInstances' });
    expect(sim.calls.recent().at(-1)).toMatchObject({
      operation: 'RunInstances',
      zone: 'us-east-1c',
      outcome: 'error',
      ok: false,
    });
  });

  it('zone rules touch only calls targeting that zone; exceptZone spares one zone of a region rule', async () => {
    const { sim } = newSim();
    sim.faults.set('z', { service: 'ebs', zone: 'us-east-1a', errorRate: 1 });
    await expect(sim.compute.describeVolumes('us-east-1', { zone: 'us-east-1a' })).rejects.toBeInstanceOf(CloudError);
    await expect(sim.compute.describeVolumes('us-east-1', { zone: 'us-east-1b' })).resolves.toBeDefined();
    await expect(sim.compute.describeZones('us-east-1')).resolves.toHaveLength(3);

    sim.faults.clear();
    sim.faults.set('r', {
      service: 'ec2',
      region: 'us-east-1',
      operations: ['DescribeVolumes'],
      exceptZone: 'us-east-1c',
      errorRate: 1,
    });
    await expect(sim.compute.describeVolumes('us-east-1', { zone: 'us-east-1b' })).rejects.toBeInstanceOf(CloudError);
    await expect(sim.compute.describeVolumes('us-east-1', { zone: 'us-east-1c' })).resolves.toBeDefined();
  });
});

describe('latency and hangs', () => {
  it('adds latency on the clock', async () => {
    const { sim, clock } = newSim();
    sim.faults.set('slow', { service: 'rds', region: 'us-east-1', latencyMs: 3000 });
    const call = settle(sim.databases.describeInstance('us-east-1', 'orders'));
    await clock.advance(2999);
    expect(call.done).toBe(false);
    await clock.advance(1);
    expect(call.value?.id).toBe('orders');
    expect(sim.calls.recent().at(-1)).toMatchObject({ latencyMs: 3000, outcome: 'ok' });
  });

  it('a hanging call ends only when the caller aborts, as a timeout', async () => {
    const { sim, clock } = newSim();
    sim.faults.set('hang', { service: 'rds', region: 'us-east-1', operations: ['RebootDBInstance'], hang: true });
    const controller = new AbortController();
    const call = settle(sim.databases.rebootInstance('us-east-1', 'orders', { signal: controller.signal }));
    await clock.advance(3_600_000);
    expect(call.done).toBe(false);
    expect(sim.calls.recent().at(-1)).toMatchObject({ operation: 'RebootDBInstance', outcome: 'hung' });
    controller.abort(new DOMException('deadline', 'TimeoutError'));
    await clock.advance(0);
    expect(call.error).toMatchObject({ kind: 'timeout', code: 'TimeoutError', operation: 'RebootDBInstance' });
    expect(sim.calls.recent().at(-1)).toMatchObject({ outcome: 'aborted', latencyMs: 3_600_000 });
    // The reboot never happened.
    expect(sim.databases.instance('us-east-1', 'orders')!.status).toBe('available');
  });
});

describe('operation names', () => {
  it('name the data-plane path operations and the ReplicaLag read as the AWS adapters call them', async () => {
    expect(operationsOf('cloudwatch')).toEqual([
      'GetMetricStatistics',
      'PutMetricAlarm',
      'DescribeAlarms',
      'PutMetricData',
    ]);
    expect(operationsOf('route53')).toEqual(
      expect.arrayContaining([
        'CreateHealthCheck',
        'ListHealthChecks',
        'ChangeTagsForResource',
        'ListTagsForResources',
      ]),
    );
    const { sim, clock } = newSim();
    sim.faults.set('lag', { service: 'cloudwatch', operations: ['GetMetricStatistics'], errorRate: 1 });
    await expect(sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(clock.now()))).rejects.toMatchObject({
      service: 'cloudwatch',
      operation: 'GetMetricStatistics',
    });
  });
});
