// The EC2 adapter with the real SDK client against moto: zones, launches into a named zone from a launch template,
// instance health by tag, snapshots by tag and volumes restored from them in another zone (PB-4).

import {
  CreateLaunchTemplateCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsFixture, awsFixture, PRIMARY_REGION, STANDBY_REGION } from './aws-fixture.ts';

const AMI = 'ami-12c6146b'; // one of moto's built-in images

let fx: AwsFixture;
let launchTemplateId: string;

beforeEach(async () => {
  await fx?.tb.resetMoto();
  fx ??= awsFixture();
  fx.calls.length = 0;
  const lt = await fx.sdk.ec2(PRIMARY_REGION).send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'checkout-web',
      LaunchTemplateData: {
        ImageId: AMI,
        InstanceType: 't3.micro',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'checkout' }] }],
      },
    }),
  );
  launchTemplateId = lt.LaunchTemplate?.LaunchTemplateId ?? '';
});
afterAll(() => fx?.close());

describe('EC2 adapter against moto', () => {
  it('describes the availability zones of a region with their state', async () => {
    const zones = await fx.cloud.compute.describeZones(PRIMARY_REGION);
    expect(zones.length).toBeGreaterThanOrEqual(3);
    expect(zones.map((z) => z.name)).toEqual(expect.arrayContaining(['us-east-1a', 'us-east-1b', 'us-east-1c']));
    for (const zone of zones) {
      expect(zone).toMatchObject({ region: PRIMARY_REGION, state: 'available', messages: [] });
    }
    const west = await fx.cloud.compute.describeZones(STANDBY_REGION);
    expect(west.every((z) => z.name.startsWith('us-west-2'))).toBe(true);
    expect(fx.calls.map((c) => c.region)).toEqual([PRIMARY_REGION, STANDBY_REGION]);
  });

  it('launches into the named zone from the launch template with the client token', async () => {
    const ids = await fx.cloud.compute.runInstances(PRIMARY_REGION, {
      launchTemplateId,
      zone: 'us-east-1b',
      count: 2,
      clientToken: 'act-0001-launch',
    });
    expect(ids).toHaveLength(2);

    const described = await fx.sdk.ec2(PRIMARY_REGION).send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const instances = (described.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    expect(instances.map((i) => i.Placement?.AvailabilityZone)).toEqual(['us-east-1b', 'us-east-1b']);
    expect(instances.map((i) => i.ClientToken)).toEqual(['act-0001-launch', 'act-0001-launch']);
    expect(instances.map((i) => i.ImageId)).toEqual([AMI, AMI]);
  });

  it('accepts a launch template name as well as an id', async () => {
    const ids = await fx.cloud.compute.runInstances(PRIMARY_REGION, {
      launchTemplateId: 'checkout-web',
      zone: 'us-east-1c',
      count: 1,
      clientToken: 'act-0002-launch',
    });
    expect(ids).toHaveLength(1);
  });

  it('reports health of the instances matching every tag, stopped ones included', async () => {
    const ours = await fx.cloud.compute.runInstances(PRIMARY_REGION, {
      launchTemplateId,
      zone: 'us-east-1a',
      count: 2,
      clientToken: 'act-0003-launch',
    });
    // Someone else's instance in the same region must not be reported.
    await fx.sdk.ec2(PRIMARY_REGION).send(
      new RunInstancesCommand({
        ImageId: AMI,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'billing' }] }],
      }),
    );
    await fx.cloud.compute.stopInstances(PRIMARY_REGION, [ours[1] ?? '']);

    const health = await fx.cloud.compute.describeInstanceHealth(PRIMARY_REGION, { app: 'checkout' });
    const byId = Object.fromEntries(health.map((h) => [h.id, h]));
    expect(Object.keys(byId).sort()).toEqual([...ours].sort());
    expect(byId[ours[0] ?? '']).toMatchObject({
      region: PRIMARY_REGION,
      zone: 'us-east-1a',
      state: 'running',
      systemStatus: 'ok',
      instanceStatus: 'ok',
    });
    expect(byId[ours[1] ?? '']?.state).toBe('stopped');
    expect(fx.calls.map((c) => c.operation)).toEqual([
      'RunInstances',
      'StopInstances',
      'DescribeInstances',
      'DescribeInstanceStatus',
    ]);
  });

  it('lists tagged snapshots and restores a volume from one in another zone', async () => {
    const ec2 = fx.sdk.ec2(PRIMARY_REGION);
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }));
    const tagged = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volume.VolumeId,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'app', Value: 'checkout' }] }],
      }),
    );
    await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));

    const snapshots = await fx.cloud.compute.listSnapshots(PRIMARY_REGION, { app: 'checkout' });
    expect(snapshots).toEqual([
      {
        id: tagged.SnapshotId,
        region: PRIMARY_REGION,
        volumeId: volume.VolumeId,
        startTime: expect.any(Date),
        state: 'completed',
        tags: { app: 'checkout' },
      },
    ]);

    const restored = await fx.cloud.compute.createVolumeFromSnapshot(PRIMARY_REGION, {
      snapshotId: tagged.SnapshotId ?? '',
      zone: 'us-east-1c',
      clientToken: 'act-0004-volume',
    });
    const described = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [restored] }));
    expect(described.Volumes?.[0]).toMatchObject({ AvailabilityZone: 'us-east-1c', SnapshotId: tagged.SnapshotId });
  });

  it('reports an unknown instance as not-found', async () => {
    await expect(fx.cloud.compute.rebootInstances(PRIMARY_REGION, ['i-0123456789abcdef0'])).rejects.toMatchObject({
      name: 'CloudError',
      kind: 'not-found',
      code: 'InvalidInstanceID.NotFound',
    });
  });
});
