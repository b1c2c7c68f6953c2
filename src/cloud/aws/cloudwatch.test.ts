import { GetMetricStatisticsCommand, type GetMetricStatisticsCommandInput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { AwsClients } from './clients.ts';
import { createCloudWatchReplicaLag } from './cloudwatch.ts';

function fakeCloudWatch(answer: () => unknown) {
  const inputs: GetMetricStatisticsCommandInput[] = [];
  const regions: string[] = [];
  const clients = {
    regional: (_service: string, region: string) => {
      regions.push(region);
      return {
        async send(cmd: unknown) {
          if (!(cmd instanceof GetMetricStatisticsCommand)) throw new Error('unexpected command');
          inputs.push(cmd.input);
          return answer();
        },
      };
    },
  } as unknown as AwsClients;
  return { clients, inputs, regions };
}

const now = new Date('2026-11-23T12:00:00Z');

describe('replicaLag', () => {
  it('asks for the Maximum and Minimum of AWS/RDS ReplicaLag of that instance over the look-back window', async () => {
    const { clients, inputs, regions } = fakeCloudWatch(() => ({ $metadata: {}, Datapoints: [] }));
    await createCloudWatchReplicaLag(clients, { windowSeconds: 180 }).replicaLag('us-west-2', 'orders-usw2', now);
    expect(regions).toEqual(['us-west-2']);
    expect(inputs).toEqual([
      {
        Namespace: 'AWS/RDS',
        MetricName: 'ReplicaLag',
        Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-usw2' }],
        StartTime: new Date('2026-11-23T11:57:00Z'),
        EndTime: now,
        Period: 60,
        Statistics: ['Maximum', 'Minimum'],
      },
    ]);
  });

  it('looks back longer than the largest maxLagAgeSeconds (3600 s), so an old datapoint is seen, not unknown', async () => {
    const { clients, inputs } = fakeCloudWatch(() => ({ $metadata: {}, Datapoints: [] }));
    await createCloudWatchReplicaLag(clients).replicaLag('us-west-2', 'r', now);
    expect(inputs[0]).toMatchObject({ StartTime: new Date('2026-11-23T10:55:00Z'), EndTime: now });
  });

  it('returns the newest datapoint with its Timestamp, whatever order CloudWatch lists them in', async () => {
    const { clients } = fakeCloudWatch(() => ({
      $metadata: {},
      Datapoints: [
        { Timestamp: new Date('2026-11-23T11:57:00Z'), Maximum: 40, Minimum: 40 },
        { Timestamp: new Date('2026-11-23T11:59:00Z'), Maximum: 3, Minimum: 2 },
        { Timestamp: new Date('2026-11-23T11:58:00Z'), Maximum: 12, Minimum: 12 },
      ],
    }));
    await expect(createCloudWatchReplicaLag(clients).replicaLag('us-west-2', 'r', now)).resolves.toEqual({
      seconds: 3,
      at: Date.parse('2026-11-23T11:59:00Z'),
    });
  });

  it('returns −1 as RDS reports it (replication not running), also when the same minute had a lag', async () => {
    const only = fakeCloudWatch(() => ({
      $metadata: {},
      Datapoints: [{ Timestamp: new Date('2026-11-23T11:59:00Z'), Maximum: -1, Minimum: -1 }],
    }));
    await expect(createCloudWatchReplicaLag(only.clients).replicaLag('us-west-2', 'r', now)).resolves.toEqual({
      seconds: -1,
      at: Date.parse('2026-11-23T11:59:00Z'),
    });
    const mixed = fakeCloudWatch(() => ({
      $metadata: {},
      Datapoints: [
        { Timestamp: new Date('2026-11-23T11:58:00Z'), Maximum: 4, Minimum: 4 },
        { Timestamp: new Date('2026-11-23T11:59:00Z'), Maximum: 6, Minimum: -1 },
      ],
    }));
    await expect(createCloudWatchReplicaLag(mixed.clients).replicaLag('us-west-2', 'r', now)).resolves.toEqual({
      seconds: -1,
      at: Date.parse('2026-11-23T11:59:00Z'),
    });
  });

  it('returns an old datapoint as it is: the planner, not the reader, judges its age', async () => {
    const { clients } = fakeCloudWatch(() => ({
      $metadata: {},
      Datapoints: [{ Timestamp: new Date('2026-11-23T11:20:00Z'), Maximum: 2, Minimum: 2 }],
    }));
    await expect(createCloudWatchReplicaLag(clients).replicaLag('us-west-2', 'r', now)).resolves.toEqual({
      seconds: 2,
      at: Date.parse('2026-11-23T11:20:00Z'),
    });
  });

  it('returns undefined when there is no datapoint in the window', async () => {
    const { clients } = fakeCloudWatch(() => ({ $metadata: {} }));
    await expect(createCloudWatchReplicaLag(clients).replicaLag('us-west-2', 'r', now)).resolves.toBeUndefined();
  });

  it('reports failures as CloudError', async () => {
    const { clients } = fakeCloudWatch(() => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    });
    const err = await createCloudWatchReplicaLag(clients)
      .replicaLag('us-west-2', 'r', now)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'throttled', service: 'cloudwatch', operation: 'GetMetricStatistics' });
  });
});
