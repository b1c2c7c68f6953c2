import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from '../act/call-pipeline.ts';
import { createVirtualClock } from '../act/testing/virtual-clock.ts';
import type { FailoverPolicy } from '../api/index.ts';
import { createSimCloud, type SimCloud } from '../cloud/sim/sim-cloud.ts';
import { topologyFromPolicy } from '../cloud/sim/sim-topology.ts';
import { plan } from '../decide/planner.ts';
import { judgeLag } from '../decide/standby-selection.ts';
import { policy as fixturePolicy, health } from '../decide/test-fixtures.ts';
import type { ZoneState } from '../health/types.ts';
import { observeCloud } from './observe-cloud.ts';
import { createRecordCache } from './record-cache.ts';

const silent = pino({ level: 'silent' });
const TAGS = { app: 'checkout' };

function volumePolicy(): FailoverPolicy {
  const p = fixturePolicy({ compute: { restoreVolumesFromSnapshots: true } });
  p.spec.compute!.ec2.tagSelector = TAGS;
  return p;
}

function setup(p: FailoverPolicy = volumePolicy()) {
  const clock = createVirtualClock(Date.parse('2026-11-23T10:00:00Z'));
  const sim = createSimCloud({ clock, seed: 3, topology: topologyFromPolicy(p.spec) });
  const pipeline = createCallPipeline({ clock, logger: silent, isZoneImpaired: () => false, random: () => 0.5 });
  const deps = { cloud: sim, pipeline, now: () => clock.now() };
  return { clock, sim, pipeline, deps, policy: p };
}

/** A protected data volume in us-east-1a with two completed snapshots (the second newer), one in us-east-1b. */
function addVolumes(sim: SimCloud, at: number) {
  const a = sim.compute.addVolume({ id: 'vol-a', region: 'us-east-1', zone: 'us-east-1a', tags: TAGS });
  sim.compute.addVolume({ id: 'vol-b', region: 'us-east-1', zone: 'us-east-1b', tags: TAGS });
  sim.compute.addVolume({ id: 'vol-other', region: 'us-east-1', zone: 'us-east-1a', tags: { app: 'billing' } });
  sim.compute.addSnapshot({ id: 'snap-old', region: 'us-east-1', volumeId: a, startTime: at - 7_200_000 });
  sim.compute.addSnapshot({ id: 'snap-new', region: 'us-east-1', volumeId: a, startTime: at - 600_000 });
  sim.compute.addSnapshot({ id: 'snap-b', region: 'us-east-1', volumeId: 'vol-b', startTime: at - 600_000 });
}

const calls = (sim: SimCloud, operation: string) => sim.calls.recent().filter((c) => c.operation === operation);

describe('observeCloud: Route 53 through the shared record cache', () => {
  it('serves many policies on one hosted zone from one listing', async () => {
    const { clock, sim, pipeline, deps, policy } = setup();
    const recordCache = createRecordCache({ dns: sim.dns, pipeline, clock });
    const keys = Array.from({ length: 20 }, (_, i) => `shop/p${i}`);
    const observations = await clock.run(
      Promise.all(keys.map((k) => observeCloud(k, policy, { ...deps, recordCache }, new AbortController().signal))),
    );
    expect(calls(sim, 'ListResourceRecordSets')).toHaveLength(1);
    for (const o of observations) {
      expect(o.records.map((r) => [r.setIdentifier, r.weight])).toEqual([
        ['use1-a', 100],
        ['use1-b', 100],
        ['use1-c', 100],
        ['usw2', 0],
      ]);
      expect(o.writer?.name).toBe('db.example.com.');
    }
  });

  it('goes on from the last listing, marked stale, when Route 53 stops answering; fails only without any listing', async () => {
    const { clock, sim, pipeline, deps, policy } = setup();
    const recordCache = createRecordCache({ dns: sim.dns, pipeline, clock, maxAgeMs: 1_000 });
    const observe = () =>
      clock.run(observeCloud('shop/p', policy, { ...deps, recordCache }, new AbortController().signal));
    const listed = await observe();
    expect(listed.recordsStale).toBeUndefined();
    sim.faults.set('r53-down', { service: 'route53', operations: ['ListResourceRecordSets'], errorRate: 1 });
    await clock.advance(60_000);
    const stale = await observe();
    expect(stale.records).toEqual(listed.records);
    expect(stale.recordsStale?.listedAt).toBe(listed.at);
    expect(stale.recordsStale?.reason).toMatch(/ListResourceRecordSets/);

    const fresh = setup();
    fresh.sim.faults.set('r53-down', { service: 'route53', operations: ['ListResourceRecordSets'], errorRate: 1 });
    const cold = createRecordCache({ dns: fresh.sim.dns, pipeline: fresh.pipeline, clock: fresh.clock });
    await expect(
      fresh.clock.run(
        observeCloud('shop/p', fresh.policy, { ...fresh.deps, recordCache: cold }, new AbortController().signal),
      ),
    ).rejects.toThrow();
  });

  it('without the cache reads each policy’s record group and writer record itself', async () => {
    const { clock, sim, deps, policy } = setup();
    await clock.run(
      Promise.all(['shop/a', 'shop/b'].map((k) => observeCloud(k, policy, deps, new AbortController().signal))),
    );
    expect(calls(sim, 'ListResourceRecordSets')).toHaveLength(4);
  });
});

describe('observeCloud: volumes for restoreVolumesFromSnapshots (PB-4)', () => {
  const view = (states: Record<string, ZoneState>) => health(states);

  it('reads the policy’s volumes and the impaired zone’s snapshots, and the planner restores from the newest', async () => {
    const { clock, sim, deps, policy } = setup();
    addVolumes(sim, clock.now());
    const healthNow = view({ 'us-east-1a': 'Impaired' });
    const observation = await clock.run(
      observeCloud('shop/checkout', policy, deps, new AbortController().signal, { health: healthNow }),
    );
    expect(observation.volumes).toEqual([
      { id: 'vol-a', region: 'us-east-1', zone: 'us-east-1a' },
      { id: 'vol-b', region: 'us-east-1', zone: 'us-east-1b' },
    ]);
    // Snapshots only of volumes in the impaired zone; only the impaired zone's region is read.
    expect(observation.snapshots?.map((s) => s.id).sort()).toEqual(['snap-new', 'snap-old']);
    expect(calls(sim, 'DescribeVolumes').map((c) => c.region)).toEqual(['us-east-1']);
    expect(calls(sim, 'DescribeVolumes').every((c) => c.zone === undefined)).toBe(true);

    const out = plan({
      policy,
      health: healthNow,
      cloud: observation,
      journal: [],
      requests: {},
      now: clock.now(),
    });
    const restores = out.actions.filter((a) => a.action.kind === 'RestoreVolume');
    expect(restores).toHaveLength(1);
    expect(restores[0]!.action).toMatchObject({ kind: 'RestoreVolume', snapshotId: 'snap-new' });
    expect(['us-east-1b', 'us-east-1c']).toContain(restores[0]!.zone);
    expect(observation.volumesUnknown).toBeUndefined();
    expect(out.skipped.filter((s) => s.kind === 'RestoreVolume')).toEqual([]);
  });

  it('makes no EC2 volume reads while no zone is Impaired', async () => {
    const { clock, sim, deps, policy } = setup();
    addVolumes(sim, clock.now());
    const observation = await clock.run(
      observeCloud('shop/checkout', policy, deps, new AbortController().signal, {
        health: view({ 'us-east-1a': 'Degraded' }),
      }),
    );
    expect(observation.volumes).toBeUndefined();
    expect(calls(sim, 'DescribeVolumes')).toHaveLength(0);
    expect(calls(sim, 'DescribeSnapshots')).toHaveLength(0);
  });

  it('reads every region when no health view is given', async () => {
    const { clock, sim, deps, policy } = setup();
    addVolumes(sim, clock.now());
    const observation = await clock.run(observeCloud('shop/checkout', policy, deps, new AbortController().signal));
    expect(
      calls(sim, 'DescribeVolumes')
        .map((c) => c.region)
        .sort(),
    ).toEqual(['us-east-1', 'us-west-2']);
    expect(observation.snapshots?.map((s) => s.id).sort()).toEqual(['snap-b', 'snap-new', 'snap-old']);
  });

  it('leaves out a region whose EC2 API fails, without failing the observation', async () => {
    const { clock, sim, deps, policy } = setup();
    addVolumes(sim, clock.now());
    sim.compute.addVolume({ id: 'vol-w', region: 'us-west-2', zone: 'us-west-2a', tags: TAGS });
    sim.compute.addSnapshot({ id: 'snap-w', region: 'us-west-2', volumeId: 'vol-w', startTime: clock.now() - 1000 });
    sim.faults.set('use1-volumes', {
      service: 'ebs',
      operations: ['DescribeVolumes'],
      region: 'us-east-1',
      errorRate: 1,
    });
    const observation = await clock.run(
      observeCloud('shop/checkout', policy, deps, new AbortController().signal, {
        health: view({ 'us-east-1a': 'Impaired', 'us-west-2a': 'Impaired' }),
      }),
    );
    expect(observation.records).toHaveLength(4);
    expect(observation.volumes).toEqual([{ id: 'vol-w', region: 'us-west-2', zone: 'us-west-2a' }]);
    expect(observation.snapshots?.map((s) => s.id)).toEqual(['snap-w']);
    // The failed reads were retried by the pipeline (PB-8), then given up.
    expect(calls(sim, 'DescribeVolumes').filter((c) => c.region === 'us-east-1').length).toBeGreaterThan(1);
    // The gap is named, not read as "no volumes": the planner records why it restores nothing there (PB-11).
    expect(observation.volumesUnknown).toEqual([
      { region: 'us-east-1', reason: 'DescribeVolumes failed: InternalError' },
    ]);
    const out = plan({
      policy,
      health: view({ 'us-east-1a': 'Impaired', 'us-west-2a': 'Impaired' }),
      cloud: observation,
      journal: [],
      requests: {},
      now: clock.now(),
    });
    expect(out.skipped.filter((s) => s.kind === 'RestoreVolume')).toEqual([
      {
        kind: 'RestoreVolume',
        target: 'us-east-1',
        region: 'us-east-1',
        rule: 'PB-4',
        reason: 'PB-4 skipped RestoreVolume in us-east-1: volumes unknown (DescribeVolumes failed: InternalError)',
      },
    ]);
    expect(out.actions.filter((a) => a.action.kind === 'RestoreVolume').map((a) => a.target)).toEqual(['vol-w']);
  });

  it('leaves out a region whose snapshots cannot be read: volumes without snapshots would read as "none"', async () => {
    const { clock, sim, deps, policy } = setup();
    addVolumes(sim, clock.now());
    sim.faults.set('use1-snapshots-hang', { service: 'ebs', operations: ['DescribeSnapshots'], hang: true });
    const observation = await clock.run(
      observeCloud('shop/checkout', policy, deps, new AbortController().signal, {
        health: view({ 'us-east-1a': 'Impaired' }),
      }),
    );
    expect(observation.volumes).toEqual([]);
    expect(observation.snapshots).toEqual([]);
    expect(calls(sim, 'DescribeSnapshots').every((c) => c.outcome === 'aborted')).toBe(true);
    expect(observation.volumesUnknown).toEqual([
      { region: 'us-east-1', reason: 'DescribeSnapshots failed: CallTimeout' },
    ]);
  });
});

describe('observeCloud: replica lag as reported, with its datapoint time (PB-6)', () => {
  const replicaOf = (o: { databases: Array<{ id: string; lagSeconds?: number; lagAt?: number }> }) =>
    o.databases.find((d) => d.id === 'orders-usw2')!;

  it('fills lagSeconds and lagAt from the newest ReplicaLag datapoint; the primary has none', async () => {
    const { clock, sim, deps, policy } = setup(fixturePolicy());
    sim.databases.setReplicaLag('us-west-2', 'orders-usw2', 7);
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { delaySeconds: 90 });
    const asked = clock.now();
    const o = await clock.run(observeCloud('shop/checkout', policy, deps, new AbortController().signal));
    expect(replicaOf(o)).toMatchObject({ lagSeconds: 7 });
    // The datapoint's own time, 90 s before the read (which the simulated call latency puts a little after `asked`).
    expect(replicaOf(o).lagAt! - (asked - 90_000)).toBeGreaterThanOrEqual(0);
    expect(replicaOf(o).lagAt! - (asked - 90_000)).toBeLessThan(5_000);
    const primary = o.databases.find((d) => d.id === 'orders')!;
    expect(primary).not.toHaveProperty('lagSeconds');
    expect(primary).not.toHaveProperty('lagAt');
  });

  it('keeps −1 (replication not running) and an old datapoint as they are, for the RPO guard to reject', async () => {
    const { clock, sim, deps, policy } = setup(fixturePolicy());
    const observe = () => clock.run(observeCloud('shop/checkout', policy, deps, new AbortController().signal));
    const verdict = (o: Awaited<ReturnType<typeof observeCloud>>) =>
      judgeLag(o.databases.find((d) => d.id === 'orders-usw2')!, {
        maxLagSeconds: 30,
        maxLagAgeMs: 180_000,
        now: clock.now(),
      });

    expect(verdict(await observe())).toEqual({ ok: true, lagSeconds: 2 });

    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { replicationStopped: true });
    const asked = clock.now();
    const stopped = await observe();
    expect(replicaOf(stopped)).toMatchObject({ lagSeconds: -1 });
    expect(replicaOf(stopped).lagAt).toBeGreaterThanOrEqual(asked);
    expect(verdict(stopped)).toMatchObject({ ok: false, why: 'negative' });

    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { replicationStopped: false, published: false });
    const lastPublished = clock.now();
    await clock.advance(20 * 60_000);
    const stale = await observe();
    expect(replicaOf(stale)).toMatchObject({ lagSeconds: 2, lagAt: lastPublished });
    expect(verdict(stale)).toMatchObject({ ok: false, why: 'stale' });
  });

  it('leaves lag out (unknown) when CloudWatch does not answer, keeping the replica itself', async () => {
    const { clock, sim, deps, policy } = setup(fixturePolicy());
    sim.faults.set('cw-down', { service: 'cloudwatch', region: 'us-west-2', errorRate: 1 });
    const o = await clock.run(observeCloud('shop/checkout', policy, deps, new AbortController().signal));
    const replica = replicaOf(o);
    expect(replica).toMatchObject({ status: 'available', replicaSourceId: expect.any(String) });
    expect(replica).not.toHaveProperty('lagSeconds');
    expect(replica).not.toHaveProperty('lagAt');
  });
});
