import {
  type CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from './clients.ts';
import { createEc2Compute, launchTemplateSpec, tagFilters } from './ec2.ts';

function fakeEc2(answer: (cmd: unknown) => unknown) {
  const sent: unknown[] = [];
  const clients = {
    regional: () => ({
      async send(cmd: unknown) {
        sent.push(cmd);
        return answer(cmd);
      },
    }),
  } as unknown as AwsClients;
  return { compute: createEc2Compute(clients), sent };
}

describe('ec2 request building', () => {
  it('turns a tag selector into one tag filter per key', () => {
    expect(tagFilters({ app: 'checkout', tier: 'web' })).toEqual([
      { Name: 'tag:app', Values: ['checkout'] },
      { Name: 'tag:tier', Values: ['web'] },
    ]);
  });

  it('tells launch template ids from names', () => {
    expect(launchTemplateSpec('lt-0abc123')).toEqual({ LaunchTemplateId: 'lt-0abc123' });
    expect(launchTemplateSpec('checkout-web')).toEqual({ LaunchTemplateName: 'checkout-web' });
  });

  it('launches into the named zone with the client token (PB-4)', async () => {
    const { compute, sent } = fakeEc2(() => ({
      $metadata: {},
      Instances: [{ InstanceId: 'i-1' }, { InstanceId: 'i-2' }],
    }));
    const ids = await compute.runInstances('us-east-1', {
      launchTemplateId: 'lt-0abc',
      zone: 'us-east-1b',
      count: 2,
      clientToken: 'act-7',
    });
    expect(ids).toEqual(['i-1', 'i-2']);
    expect(sent[0]).toBeInstanceOf(RunInstancesCommand);
    expect((sent[0] as RunInstancesCommand).input).toEqual({
      LaunchTemplate: { LaunchTemplateId: 'lt-0abc' },
      MinCount: 2,
      MaxCount: 2,
      ClientToken: 'act-7',
      Placement: { AvailabilityZone: 'us-east-1b' },
    });
  });

  it('creates the volume in the named zone with the client token', async () => {
    const { compute, sent } = fakeEc2(() => ({ $metadata: {}, VolumeId: 'vol-1' }));
    await expect(
      compute.createVolumeFromSnapshot('us-east-1', { snapshotId: 'snap-1', zone: 'us-east-1c', clientToken: 't' }),
    ).resolves.toBe('vol-1');
    expect((sent[0] as CreateVolumeCommand).input).toEqual({
      SnapshotId: 'snap-1',
      AvailabilityZone: 'us-east-1c',
      ClientToken: 't',
    });
  });

  it('lists the tagged volumes of a region across pages, leaving out deleted ones', async () => {
    const { compute, sent } = fakeEc2((cmd) => {
      const token = (cmd as DescribeVolumesCommand).input.NextToken;
      return token === undefined
        ? {
            $metadata: {},
            NextToken: 'p2',
            Volumes: [
              {
                VolumeId: 'vol-1',
                AvailabilityZone: 'us-east-1a',
                State: 'in-use',
                SnapshotId: 'snap-0',
                Tags: [{ Key: 'app', Value: 'checkout' }],
              },
              { VolumeId: 'vol-gone', AvailabilityZone: 'us-east-1a', State: 'deleting' },
            ],
          }
        : { $metadata: {}, Volumes: [{ VolumeId: 'vol-2', AvailabilityZone: 'us-east-1b', State: 'available' }] };
    });
    const volumes = await compute.listVolumes!('us-east-1', { app: 'checkout' });
    expect(volumes).toEqual([
      {
        id: 'vol-1',
        region: 'us-east-1',
        zone: 'us-east-1a',
        state: 'in-use',
        snapshotId: 'snap-0',
        tags: { app: 'checkout' },
      },
      { id: 'vol-2', region: 'us-east-1', zone: 'us-east-1b', state: 'available', tags: {} },
    ]);
    expect(sent.every((c) => c instanceof DescribeVolumesCommand)).toBe(true);
    expect((sent[0] as DescribeVolumesCommand).input).toEqual({ Filters: [{ Name: 'tag:app', Values: ['checkout'] }] });
    expect((sent[1] as DescribeVolumesCommand).input.NextToken).toBe('p2');
  });

  it('lists our snapshots of the given volumes by volume id, 200 ids per request', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `vol-${i}`);
    const { compute, sent } = fakeEc2((cmd) => {
      const first = (cmd as DescribeSnapshotsCommand).input.Filters?.[0]?.Values?.[0];
      return {
        $metadata: {},
        Snapshots: [{ SnapshotId: `snap-of-${first}`, VolumeId: first, StartTime: new Date(5000), State: 'completed' }],
      };
    });
    const snaps = await compute.listSnapshotsOfVolumes!('us-west-2', [...ids, 'vol-0']);
    expect(snaps.map((s) => [s.id, s.volumeId, s.region, s.state, s.startTime.getTime()])).toEqual([
      ['snap-of-vol-0', 'vol-0', 'us-west-2', 'completed', 5000],
      ['snap-of-vol-200', 'vol-200', 'us-west-2', 'completed', 5000],
    ]);
    const inputs = sent.map((c) => (c as DescribeSnapshotsCommand).input);
    expect(inputs.map((i) => i.Filters?.[0]?.Values?.length)).toEqual([200, 50]);
    expect(inputs.every((i) => i.OwnerIds?.[0] === 'self' && i.Filters?.[0]?.Name === 'volume-id')).toBe(true);
    expect(sent.every((c) => c instanceof DescribeSnapshotsCommand)).toBe(true);
  });
});
