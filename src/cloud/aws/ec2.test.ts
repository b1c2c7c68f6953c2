import { type CreateVolumeCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from './clients.ts';
import { createEc2Compute, launchTemplateSpec, tagFilters } from './ec2.ts';

function fakeEc2(answer: (cmd: unknown) => unknown) {
  const sent: unknown[] = [];
  const clients = {
    ec2: () => ({
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
});
