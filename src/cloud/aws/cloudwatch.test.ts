import { GetMetricStatisticsCommand, type GetMetricStatisticsCommandInput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { AwsClients } from './clients.ts';
import { createCloudWatchReplicaLag } from './cloudwatch.ts';

function fakeCloudWatch(answer: () => unknown) {
  const inputs: GetMetricStatisticsCommandInput[] = [];
  const regions: string[] = [];
  const clients = {
    cloudwatch: (region: string) => {
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

describe('replicaLagSeconds', () => {
  it('asks for the Maximum of AWS/RDS ReplicaLag of that instance over the recent window', async () => {
    const { clients, inputs, regions } = fakeCloudWatch(() => ({ $metadata: {}, Datapoints: [] }));
    await createCloudWatchReplicaLag(clients, { windowSeconds: 180 }).replicaLagSeconds(
      'us-west-2',
      'orders-usw2',
      now,
    );
    expect(regions).toEqual(['us-west-2']);
    expect(inputs).toEqual([
      {
        Namespace: 'AWS/RDS',
        MetricName: 'ReplicaLag',
        Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-usw2' }],
        StartTime: new Date('2026-11-23T11:57:00Z'),
        EndTime: now,
        Period: 60,
        Statistics: ['Maximum'],
      },
    ]);
  });

  it('returns the newest datapoint, whatever order CloudWatch lists them in', async () => {
    const { clients } = fakeCloudWatch(() => ({
      $metadata: {},
      Datapoints: [
        { Timestamp: new Date('2026-11-23T11:57:00Z'), Maximum: 40 },
        { Timestamp: new Date('2026-11-23T11:59:00Z'), Maximum: 3 },
        { Timestamp: new Date('2026-11-23T11:58:00Z'), Maximum: 12 },
      ],
    }));
    await expect(createCloudWatchReplicaLag(clients).replicaLagSeconds('us-west-2', 'r', now)).resolves.toBe(3);
  });

  it('returns undefined when there is no recent datapoint', async () => {
    const { clients } = fakeCloudWatch(() => ({ $metadata: {} }));
    await expect(createCloudWatchReplicaLag(clients).replicaLagSeconds('us-west-2', 'r', now)).resolves.toBeUndefined();
  });

  it('reports failures as CloudError', async () => {
    const { clients } = fakeCloudWatch(() => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    });
    const err = await createCloudWatchReplicaLag(clients)
      .replicaLagSeconds('us-west-2', 'r', now)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'throttled', service: 'cloudwatch', operation: 'GetMetricStatistics' });
  });
});
