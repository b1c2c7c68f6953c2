import { DBInstanceNotFoundFault, PromoteReadReplicaCommand } from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from './clients.ts';
import { createRdsDatabases, toDbInstance } from './rds.ts';

describe('toDbInstance', () => {
  it('keeps a cross-region source ARN as given and fills defaults for missing fields', () => {
    const source = 'arn:aws:rds:us-east-1:123456789012:db:orders';
    expect(
      toDbInstance('us-west-2', {
        DBInstanceIdentifier: 'orders-usw2',
        DBInstanceArn: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2',
        DBInstanceStatus: 'available',
        AvailabilityZone: 'us-west-2a',
        Endpoint: { Address: 'orders-usw2.x.us-west-2.rds.amazonaws.com' },
        ReadReplicaSourceDBInstanceIdentifier: source,
        BackupRetentionPeriod: 0,
        MultiAZ: true,
      }),
    ).toEqual({
      region: 'us-west-2',
      id: 'orders-usw2',
      arn: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2',
      status: 'available',
      zone: 'us-west-2a',
      endpoint: 'orders-usw2.x.us-west-2.rds.amazonaws.com',
      replicaSourceId: source,
      backupRetentionPeriod: 0,
      multiAz: true,
    });
    expect(toDbInstance('us-east-1', { DBInstanceIdentifier: 'orders' })).toEqual({
      region: 'us-east-1',
      id: 'orders',
      arn: '',
      status: 'unknown',
      backupRetentionPeriod: 0,
      multiAz: false,
    });
  });
});

describe('createRdsDatabases', () => {
  function fakeRds(answer: (cmd: unknown) => unknown) {
    const sent: unknown[] = [];
    const clients = {
      regional: () => ({
        async send(cmd: unknown) {
          sent.push(cmd);
          return answer(cmd);
        },
      }),
    } as unknown as AwsClients;
    return { databases: createRdsDatabases(clients), sent };
  }

  it('reports a missing instance as undefined, not an error', async () => {
    const { databases } = fakeRds(() => {
      throw new DBInstanceNotFoundFault({ message: 'DBInstance nope not found.', $metadata: { httpStatusCode: 404 } });
    });
    await expect(databases.describeInstance('us-east-1', 'nope')).resolves.toBeUndefined();
  });

  it('still throws other failures', async () => {
    const { databases } = fakeRds(() => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    });
    await expect(databases.describeInstance('us-east-1', 'orders')).rejects.toMatchObject({ kind: 'throttled' });
  });

  it('promotes with the requested backup retention', async () => {
    const { databases, sent } = fakeRds(() => ({ $metadata: {} }));
    await databases.promoteReadReplica('us-west-2', 'orders-usw2', 7);
    expect(sent[0]).toBeInstanceOf(PromoteReadReplicaCommand);
    expect((sent[0] as PromoteReadReplicaCommand).input).toEqual({
      DBInstanceIdentifier: 'orders-usw2',
      BackupRetentionPeriod: 7,
    });
  });
});
