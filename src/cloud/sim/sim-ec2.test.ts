import { describe, expect, it } from 'vitest';
import { newSim, settle } from './sim-test-helpers.ts';

describe('EC2 in an impaired zone (2011)', () => {
  it('reboot/stop/detach hang until the caller aborts; in a healthy zone they work', async () => {
    const { sim, clock } = newSim();
    const byZone = (zone: string) =>
      sim.compute
        .instances()
        .filter((i) => i.zone === zone)
        .map((i) => i.id);
    sim.compute.setZoneState('us-east-1a', 'impaired', ['EBS volumes stuck']);

    const controller = new AbortController();
    const reboot = settle(
      sim.compute.rebootInstances('us-east-1', byZone('us-east-1a'), { signal: controller.signal }),
    );
    const stop = settle(sim.compute.stopInstances('us-east-1', byZone('us-east-1a'), { signal: controller.signal }));
    const rootVolume = sim.compute.volumes().find((v) => v.zone === 'us-east-1a')!;
    const detach = settle(sim.compute.detachVolume('us-east-1', rootVolume.id, { signal: controller.signal }));
    await clock.advance(600_000);
    expect([reboot.done, stop.done, detach.done]).toEqual([false, false, false]);
    controller.abort();
    await clock.advance(0);
    for (const call of [reboot, stop, detach])
      expect(call.error).toMatchObject({ kind: 'timeout', code: 'AbortError' });
    expect(
      sim.compute
        .instances()
        .filter((i) => i.zone === 'us-east-1a')
        .every((i) => i.state === 'running'),
    ).toBe(true);
    expect(sim.calls.targeting('us-east-1a').map((c) => c.outcome)).toEqual(['aborted', 'aborted', 'aborted']);

    await expect(sim.compute.stopInstances('us-east-1', byZone('us-east-1c'))).resolves.toBeUndefined();
    expect(
      sim.compute
        .instances()
        .filter((i) => i.zone === 'us-east-1c')
        .every((i) => i.state === 'stopped'),
    ).toBe(true);
  });

  it('an EBS stall impairs instance status checks and fails launches in the zone', async () => {
    const { sim } = newSim();
    sim.compute.setEbsStall('us-east-1b', { errorRate: 0.4, latencyMs: 2500 });
    const health = await sim.compute.describeInstanceHealth('us-east-1', { app: 'checkout' });
    expect(health.filter((i) => i.zone === 'us-east-1b').every((i) => i.instanceStatus === 'impaired')).toBe(true);
    expect(health.filter((i) => i.zone !== 'us-east-1b').every((i) => i.instanceStatus === 'ok')).toBe(true);
    const req = { launchTemplateId: 'lt-0abc', zone: 'us-east-1b', count: 2, clientToken: 'x' };
    await expect(sim.compute.runInstances('us-east-1', req)).rejects.toMatchObject({
      code: 'InsufficientInstanceCapacity',
    });
  });

  it('launches into a healthy zone: pending, then running; a retried clientToken returns the same ids', async () => {
    const { sim, clock } = newSim();
    const req = { launchTemplateId: 'lt-0abc', zone: 'us-east-1c', count: 2, clientToken: 'replace-1' };
    const ids = await sim.compute.runInstances('us-east-1', req);
    expect(await sim.compute.runInstances('us-east-1', req)).toEqual(ids);
    const state = async () =>
      (await sim.compute.describeInstanceHealth('us-east-1', { app: 'checkout' })).filter((i) => ids.includes(i.id));
    expect((await state()).map((i) => i.state)).toEqual(['pending', 'pending']);
    await clock.advance(60_000);
    expect((await state()).map((i) => i.state)).toEqual(['running', 'running']);
  });

  it('delayed launches stay pending for a long time', async () => {
    const { sim, clock } = newSim();
    sim.compute.setLaunchMode('us-east-1c', 'delayed');
    const [id] = await sim.compute.runInstances('us-east-1', {
      launchTemplateId: 'lt-0abc',
      zone: 'us-east-1c',
      count: 1,
      clientToken: 'd',
    });
    await clock.advance(10 * 60_000);
    expect(sim.compute.instances().find((i) => i.id === id)!.state).toBe('pending');
  });

  it('creates volumes from a regional snapshot in the zone asked for', async () => {
    const { sim, clock } = newSim();
    const [snap] = await sim.compute.listSnapshots('us-east-1', { app: 'checkout' });
    const vol = await sim.compute.createVolumeFromSnapshot('us-east-1', {
      snapshotId: snap!.id,
      zone: 'us-east-1c',
      clientToken: 'v1',
    });
    await clock.advance(30_000);
    expect(sim.compute.volumes().find((v) => v.id === vol)).toMatchObject({ zone: 'us-east-1c', state: 'available' });
    await expect(
      sim.compute.createVolumeFromSnapshot('us-east-1', {
        snapshotId: 'snap-missing',
        zone: 'us-east-1c',
        clientToken: 'v2',
      }),
    ).rejects.toMatchObject({ kind: 'not-found', code: 'InvalidSnapshot.NotFound' });
  });
});

describe('volume and snapshot reads for restoreVolumesFromSnapshots (PB-4)', () => {
  it('lists tagged volumes in every zone of the region, even while a zone hangs zone-targeted calls', async () => {
    const { sim } = newSim();
    const a = sim.compute.addVolume({ region: 'us-east-1', zone: 'us-east-1a', tags: { app: 'checkout' } });
    sim.compute.addVolume({ id: 'vol-b', region: 'us-east-1', zone: 'us-east-1b', tags: { app: 'checkout' } });
    sim.compute.addVolume({ region: 'us-east-1', zone: 'us-east-1a', tags: { app: 'billing' } });
    sim.compute.setZoneState('us-east-1a', 'impaired');
    sim.faults.set('hang-1a', { service: 'ebs', zone: 'us-east-1a', hang: true });

    const volumes = await sim.compute.listVolumes('us-east-1', { app: 'checkout' });
    expect(volumes.map((v) => [v.id, v.zone, v.state, v.tags])).toEqual([
      [a, 'us-east-1a', 'available', { app: 'checkout' }],
      ['vol-b', 'us-east-1b', 'available', { app: 'checkout' }],
    ]);
    // Instance root volumes carry no tags: they are not the service's data volumes.
    expect(await sim.compute.listVolumes('us-east-1', {})).toHaveLength(
      sim.compute.volumes().filter((v) => v.region === 'us-east-1').length,
    );
  });

  it('lists the snapshots of the named volumes only, in the region asked', async () => {
    const { sim } = newSim();
    sim.compute.addSnapshot({ id: 'snap-1', region: 'us-east-1', volumeId: 'vol-1' });
    sim.compute.addSnapshot({ id: 'snap-2', region: 'us-east-1', volumeId: 'vol-2' });
    sim.compute.addSnapshot({ id: 'snap-w', region: 'us-west-2', volumeId: 'vol-1' });
    const snaps = await sim.compute.listSnapshotsOfVolumes('us-east-1', ['vol-1']);
    expect(snaps.map((s) => s.id)).toEqual(['snap-1']);
    expect(
      sim.calls
        .recent()
        .filter((c) => c.operation === 'DescribeSnapshots')
        .map((c) => c.zone),
    ).toEqual([undefined]);
  });
});
