// EC2 and RDS probes against in-memory fakes of the Compute / Databases / ReplicaLagReader interfaces.
import { describe, expect, it } from 'vitest';
import type { Compute, Databases, DbInstance, InstanceHealth, ReplicaLagReader, ZoneStatus } from '../cloud/types.ts';
import { createEc2InstanceStatusProbe, createEc2ZoneStateProbe } from './probe-ec2.ts';
import { createRdsStatusProbe, createReplicaLagProbe } from './probe-rds.ts';

const ctx = { signal: new AbortController().signal, now: () => 1000 };
const now = () => 1000;

function computeWith(zones: ZoneStatus[], instances: InstanceHealth[] = []): Compute {
  const unused = () => Promise.reject(new Error('not used by probes'));
  return {
    describeZones: async () => zones,
    describeInstanceHealth: async (_region, selector) => {
      expect(selector).toEqual({ app: 'checkout' });
      return instances;
    },
    runInstances: unused,
    listSnapshots: unused,
    createVolumeFromSnapshot: unused,
    rebootInstances: unused,
    stopInstances: unused,
    detachVolume: unused,
  };
}

describe('ec2 zone state probe', () => {
  it('maps EC2 zone states onto results, one per zone the policy names', async () => {
    const compute = computeWith([
      { region: 'us-east-1', name: 'us-east-1a', state: 'impaired', messages: ['EBS volumes degraded'] },
      { region: 'us-east-1', name: 'us-east-1b', state: 'available', messages: [] },
      { region: 'us-east-1', name: 'us-east-1c', state: 'constrained', messages: [] },
    ]);
    const probe = createEc2ZoneStateProbe(
      { region: 'us-east-1', zones: ['us-east-1d', 'us-east-1c', 'us-east-1b', 'us-east-1a'], timeoutMs: 2000 },
      { compute, now },
    );
    const out = await probe.run(ctx);
    expect(out.map((r) => [r.zone, r.ok, r.severity])).toEqual([
      ['us-east-1a', false, 'down'],
      ['us-east-1b', true, undefined],
      ['us-east-1c', false, 'degraded'],
      ['us-east-1d', false, 'degraded'],
      // the call itself answered: clears a region-wide failure recorded when it did not
      [undefined, true, undefined],
    ]);
    expect(out[4]!.detail).toBe('DescribeAvailabilityZones answered');
    expect(out[0]!.detail).toBe('DescribeAvailabilityZones: us-east-1a state impaired (EBS volumes degraded)');
    expect(out[3]!.detail).toContain('not reported');
    expect(out.every((r) => r.kind === 'ec2-zone' && r.region === 'us-east-1')).toBe(true);
  });
});

describe('ec2 instance status probe', () => {
  it('groups instances by zone: all impaired is down, some is degraded, none ok; stopped ones are ignored', async () => {
    const i = (id: string, zone: string, status: string, state = 'running'): InstanceHealth => ({
      id,
      region: 'us-east-1',
      zone,
      state,
      systemStatus: status,
      instanceStatus: 'ok',
    });
    const compute = computeWith(
      [],
      [
        i('i-1', 'us-east-1a', 'impaired'),
        i('i-2', 'us-east-1a', 'impaired'),
        i('i-3', 'us-east-1b', 'impaired'),
        i('i-4', 'us-east-1b', 'ok'),
        i('i-5', 'us-east-1c', 'initializing'),
        i('i-6', 'us-east-1d', 'impaired', 'stopped'),
      ],
    );
    const probe = createEc2InstanceStatusProbe(
      { region: 'us-east-1', tagSelector: { app: 'checkout' }, timeoutMs: 2000 },
      { compute, now },
    );
    const out = await probe.run(ctx);
    expect(out.map((r) => [r.zone, r.ok, r.severity])).toEqual([
      ['us-east-1a', false, 'down'],
      ['us-east-1b', false, 'degraded'],
      ['us-east-1c', true, undefined],
      [undefined, true, undefined],
    ]);
    expect(out[3]).toMatchObject({
      kind: 'ec2-instances',
      region: 'us-east-1',
      detail: 'DescribeInstanceStatus answered',
    });
    expect(out[1]!.detail).toBe(
      'DescribeInstanceStatus: 1/2 instances [app=checkout] pass status checks; impaired: i-3',
    );
  });
});

describe('rds probes', () => {
  const db = (status: string, extra: Partial<DbInstance> = {}): DbInstance => ({
    region: 'us-east-1',
    id: 'orders',
    arn: 'arn:aws:rds:us-east-1:123456789012:db:orders',
    status,
    zone: 'us-east-1a',
    backupRetentionPeriod: 7,
    multiAz: false,
    ...extra,
  });
  const databases = (instance: DbInstance | undefined): Databases => ({
    describeInstance: async (region, id) => {
      expect([region, id]).toEqual(['us-east-1', 'orders']);
      return instance;
    },
    promoteReadReplica: () => Promise.reject(new Error('unused')),
    rebootInstance: () => Promise.reject(new Error('unused')),
    createSnapshot: () => Promise.reject(new Error('unused')),
  });
  const probeFor = (instance: DbInstance | undefined) =>
    createRdsStatusProbe(
      { instance: { region: 'us-east-1', dbInstanceIdentifier: 'orders' }, timeoutMs: 2000 },
      { databases: databases(instance), now },
    );

  it('available is ok in the instance zone; a planned change (our own promotion) is ok; failed and missing are down', async () => {
    expect((await probeFor(db('available')).run(ctx))[0]).toMatchObject({ kind: 'rds', zone: 'us-east-1a', ok: true });
    // A promotion goes through modifying and rebooting: the zone the replica lives in must not look impaired.
    for (const status of ['modifying', 'rebooting', 'backing-up', 'configuring-enhanced-monitoring']) {
      expect((await probeFor(db(status, { replicaSourceId: 'x' })).run(ctx))[0]).toMatchObject({
        ok: true,
        detail: `DescribeDBInstances: replica orders status ${status} (a planned change, not a zone failure)`,
      });
    }
    expect((await probeFor(db('failed')).run(ctx))[0]).toMatchObject({
      ok: false,
      severity: 'down',
      detail: 'DescribeDBInstances: primary orders status failed',
    });
    expect((await probeFor(db('stopped')).run(ctx))[0]).toMatchObject({ ok: false, severity: 'degraded' });
    const missing = (await probeFor(undefined).run(ctx))[0]!;
    expect(missing).toMatchObject({ ok: false, severity: 'down' });
    expect(missing.zone).toBeUndefined();
  });

  it('replica lag within budget is ok; −1, stale, over budget or unknown is degraded; a promoted replica has no lag', async () => {
    const reader = (lag: number | undefined, at = 1_000): ReplicaLagReader => ({
      replicaLag: async () => (lag === undefined ? undefined : { seconds: lag, at }),
    });
    const replica = db('available', { region: 'us-west-2', id: 'orders-usw2', replicaSourceId: 'orders' });
    const describing = (instance: DbInstance | undefined) => ({
      describeInstance: async (region: string, id: string) => {
        expect([region, id]).toEqual(['us-west-2', 'orders-usw2']);
        return instance;
      },
    });
    const probe = (
      lag: number | undefined,
      instance: DbInstance | undefined = replica,
      at?: number,
      maxLagAgeSeconds?: number,
    ) =>
      createReplicaLagProbe(
        {
          replica: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
          maxLagSeconds: 30,
          timeoutMs: 2000,
          ...(maxLagAgeSeconds === undefined ? {} : { maxLagAgeSeconds }),
        },
        { replicaLag: reader(lag, at ?? now()), databases: describing(instance), now },
      );
    // −1 is RDS saying replication is not running: not "no lag", whatever the budget.
    expect((await probe(-1).run(ctx))[0]).toMatchObject({
      ok: false,
      severity: 'degraded',
      detail: 'ReplicaLag orders-usw2: replication not running (ReplicaLag -1)',
    });
    // An old datapoint says nothing about the lag now: stale past maxLagAgeSeconds (default 180 s).
    expect((await probe(5, replica, now() - 600_000).run(ctx))[0]).toMatchObject({
      ok: false,
      severity: 'degraded',
      detail: 'ReplicaLag orders-usw2: stale, the newest datapoint (5s) is 600s old, over 180s',
    });
    expect((await probe(5, replica, now() - 150_000).run(ctx))[0]).toMatchObject({ ok: true });
    expect((await probe(5, replica, now() - 150_000, 120).run(ctx))[0]).toMatchObject({
      ok: false,
      severity: 'degraded',
      detail: 'ReplicaLag orders-usw2: stale, the newest datapoint (5s) is 150s old, over 120s',
    });
    // The policy's maxLagAgeSeconds is part of the probe's identity: changing it replaces the probe.
    expect(probe(5, replica, undefined, 120).key).not.toBe(probe(5).key);
    expect((await probe(5).run(ctx))[0]).toMatchObject({ kind: 'replica-lag', region: 'us-west-2', ok: true });
    expect((await probe(45).run(ctx))[0]).toMatchObject({
      ok: false,
      severity: 'degraded',
      detail: 'ReplicaLag orders-usw2: 45s over budget 30s',
    });
    expect((await probe(undefined).run(ctx))[0]).toMatchObject({
      ok: false,
      severity: 'degraded',
      detail: 'ReplicaLag orders-usw2: no recent datapoint',
    });
    expect((await probe(undefined, undefined).run(ctx))[0]).toMatchObject({ ok: false, severity: 'degraded' });
    const { replicaSourceId: _source, ...promoted } = replica;
    expect((await probe(undefined, promoted).run(ctx))[0]).toMatchObject({
      ok: true,
      detail: 'ReplicaLag orders-usw2: not applicable, orders-usw2 is no longer a replica',
    });
    // A promoted instance's last datapoints (−1 as replication stopped, then ageing) are not a lag problem.
    expect((await probe(-1, promoted).run(ctx))[0]).toMatchObject({ ok: true });
    expect((await probe(5, promoted, now() - 600_000).run(ctx))[0]).toMatchObject({ ok: true });
  });
});
