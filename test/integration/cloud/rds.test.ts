// The RDS adapter with the real SDK client against moto: a primary in us-east-1 and a cross-region read replica in
// us-west-2 whose source is the primary's ARN, as RDS requires across regions.

import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBSnapshotsCommand,
} from '@aws-sdk/client-rds';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsFixture, awsFixture, PRIMARY_REGION, STANDBY_REGION } from './aws-fixture.ts';

let fx: AwsFixture;
let primaryArn: string;

beforeEach(async () => {
  await fx?.tb.resetMoto();
  fx ??= awsFixture();
  fx.calls.length = 0;
  const primary = await fx.sdk.rds(PRIMARY_REGION).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'orders',
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'orders',
      MasterUserPassword: 'not-a-secret-1',
      BackupRetentionPeriod: 1,
    }),
  );
  primaryArn = primary.DBInstance?.DBInstanceArn ?? '';
  await fx.sdk.rds(STANDBY_REGION).send(
    new CreateDBInstanceReadReplicaCommand({
      DBInstanceIdentifier: 'orders-usw2',
      SourceDBInstanceIdentifier: primaryArn,
      DBInstanceClass: 'db.t3.micro',
    }),
  );
});
afterAll(() => fx?.close());

describe('RDS adapter against moto', () => {
  it('describes the primary and the cross-region replica, with the source as its ARN', async () => {
    const primary = await fx.cloud.databases.describeInstance(PRIMARY_REGION, 'orders');
    const replica = await fx.cloud.databases.describeInstance(STANDBY_REGION, 'orders-usw2');

    expect(primary).toMatchObject({
      region: PRIMARY_REGION,
      id: 'orders',
      arn: primaryArn,
      status: 'available',
      backupRetentionPeriod: 1,
      multiAz: false,
    });
    expect(primary?.replicaSourceId).toBeUndefined();
    expect(primary?.endpoint).toMatch(/^orders\./);

    expect(replica).toMatchObject({ region: STANDBY_REGION, id: 'orders-usw2', status: 'available' });
    expect(replica?.arn).toContain(':us-west-2:');
    expect(replica?.replicaSourceId).toBe(primaryArn);

    expect(fx.calls.map((c) => [c.service, c.operation, c.region, c.ok])).toEqual([
      ['rds', 'DescribeDBInstances', PRIMARY_REGION, true],
      ['rds', 'DescribeDBInstances', STANDBY_REGION, true],
    ]);
  });

  it('promotes the replica with the requested backup retention', async () => {
    await fx.cloud.databases.promoteReadReplica(STANDBY_REGION, 'orders-usw2', 7);
    const promoted = await fx.cloud.databases.describeInstance(STANDBY_REGION, 'orders-usw2');
    expect(promoted).toMatchObject({ status: 'available', backupRetentionPeriod: 7 });
    // Real RDS drops ReadReplicaSourceDBInstanceIdentifier once promotion completes. moto 5.2.5 keeps it (its
    // promote_read_replica only flips an internal flag), so that half is covered by the simulated cloud, not here.
    expect(fx.calls.find((c) => c.operation === 'PromoteReadReplica')).toMatchObject({
      region: STANDBY_REGION,
      ok: true,
    });
  });

  it('reports a missing instance as undefined, and an action on one as not-found', async () => {
    await expect(fx.cloud.databases.describeInstance(STANDBY_REGION, 'no-such-db')).resolves.toBeUndefined();
    await expect(fx.cloud.databases.rebootInstance(STANDBY_REGION, 'no-such-db')).rejects.toMatchObject({
      name: 'CloudError',
      kind: 'not-found',
      service: 'rds',
      operation: 'RebootDBInstance',
    });
  });

  it('reboots and snapshots through the adapter', async () => {
    await fx.cloud.databases.rebootInstance(PRIMARY_REGION, 'orders');
    await fx.cloud.databases.createSnapshot(PRIMARY_REGION, 'orders', 'orders-manual-1');
    const snaps = await fx.sdk
      .rds(PRIMARY_REGION)
      .send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'orders', SnapshotType: 'manual' }));
    expect(snaps.DBSnapshots?.map((s) => s.DBSnapshotIdentifier)).toContain('orders-manual-1');
  });
});
