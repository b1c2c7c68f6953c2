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

    await expect(fx.cloud.replicaLag.replicaLag(STANDBY_REGION, 'orders-usw2', now)).resolves.toMatchObject({
      seconds: 5,
    });
    expect(fx.calls).toEqual([
      expect.objectContaining({
        service: 'cloudwatch',
        operation: 'GetMetricStatistics',
        region: STANDBY_REGION,
        ok: true,
      }),
    ]);
  });

  it('returns undefined when the replica published nothing within the hour, or in another region', async () => {
    const now = new Date();
    await putLag(STANDBY_REGION, 'orders-usw2', [{ secondsAgo: 5_400, value: 3 }], now);
    await expect(fx.cloud.replicaLag.replicaLag(STANDBY_REGION, 'orders-usw2', now)).resolves.toBeUndefined();
    await putLag(STANDBY_REGION, 'orders-usw2', [{ secondsAgo: 30, value: 3 }], now);
    await expect(fx.cloud.replicaLag.replicaLag(PRIMARY_REGION, 'orders-usw2', now)).resolves.toBeUndefined();
    await expect(fx.cloud.replicaLag.replicaLag(STANDBY_REGION, 'orders-usw2', now)).resolves.toMatchObject({
      seconds: 3,
    });
  });
});

describe('CloudWatch ReplicaLag reader against moto: what the RPO guard must judge', () => {
  it('returns −1 as published (replication not running), with the datapoint time', async () => {
    const now = new Date();
    await putLag(STANDBY_REGION, 'orders-usw2', [{ secondsAgo: 30, value: -1 }], now);
    const point = await fx.cloud.replicaLag.replicaLag(STANDBY_REGION, 'orders-usw2', now);
    expect(point?.seconds).toBe(-1);
    // The Timestamp of the one-minute period the value fell in.
    expect(now.getTime() - point!.at).toBeGreaterThanOrEqual(0);
    expect(now.getTime() - point!.at).toBeLessThanOrEqual(120_000);
  });

  it('returns a datapoint 30 minutes old with its time, so the planner sees it as stale rather than unknown', async () => {
    const now = new Date();
    await putLag(STANDBY_REGION, 'orders-usw2', [{ secondsAgo: 1_800, value: 3 }], now);
    const point = await fx.cloud.replicaLag.replicaLag(STANDBY_REGION, 'orders-usw2', now);
    expect(point?.seconds).toBe(3);
    const ageSeconds = (now.getTime() - point!.at) / 1000;
    expect(ageSeconds).toBeGreaterThanOrEqual(1_740);
    expect(ageSeconds).toBeLessThanOrEqual(1_860);
  });
});
