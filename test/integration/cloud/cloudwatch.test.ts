// The ReplicaLag reader with the real SDK client against moto's CloudWatch.

import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsFixture, awsFixture, PRIMARY_REGION, STANDBY_REGION } from './aws-fixture.ts';

let fx: AwsFixture;

async function putLag(
  region: string,
  dbInstanceId: string,
  points: { secondsAgo: number; value: number }[],
  now: Date,
) {
  await fx.sdk.cloudwatch(region).send(
    new PutMetricDataCommand({
      Namespace: 'AWS/RDS',
      MetricData: points.map((p) => ({
        MetricName: 'ReplicaLag',
        Dimensions: [{ Name: 'DBInstanceIdentifier', Value: dbInstanceId }],
        Timestamp: new Date(now.getTime() - p.secondsAgo * 1000),
        Value: p.value,
        Unit: 'Seconds',
      })),
    }),
  );
}

beforeEach(async () => {
  await fx?.tb.resetMoto();
  fx ??= awsFixture();
  fx.calls.length = 0;
});
afterAll(() => fx?.close());

describe('CloudWatch ReplicaLag reader against moto', () => {
  it('reads the newest ReplicaLag datapoint of the replica', async () => {
    const now = new Date();
    await putLag(
      STANDBY_REGION,
      'orders-usw2',
      [
        { secondsAgo: 200, value: 42 },
        { secondsAgo: 70, value: 5 },
      ],
      now,
    );
    await putLag(STANDBY_REGION, 'other-db', [{ secondsAgo: 10, value: 900 }], now);

    await expect(fx.cloud.replicaLag.replicaLagSeconds(STANDBY_REGION, 'orders-usw2', now)).resolves.toBe(5);
    expect(fx.calls).toEqual([
      expect.objectContaining({
        service: 'cloudwatch',
        operation: 'GetMetricStatistics',
        region: STANDBY_REGION,
        ok: true,
      }),
    ]);
  });

  it('returns undefined when the replica published nothing recently, or in another region', async () => {
    const now = new Date();
    await putLag(STANDBY_REGION, 'orders-usw2', [{ secondsAgo: 1_800, value: 3 }], now);
    await expect(fx.cloud.replicaLag.replicaLagSeconds(STANDBY_REGION, 'orders-usw2', now)).resolves.toBeUndefined();
    await putLag(STANDBY_REGION, 'orders-usw2', [{ secondsAgo: 30, value: 3 }], now);
    await expect(fx.cloud.replicaLag.replicaLagSeconds(PRIMARY_REGION, 'orders-usw2', now)).resolves.toBeUndefined();
    await expect(fx.cloud.replicaLag.replicaLagSeconds(STANDBY_REGION, 'orders-usw2', now)).resolves.toBe(3);
  });
});
