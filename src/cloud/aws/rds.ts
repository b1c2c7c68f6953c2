// Databases over RDS (DB instances, not Aurora clusters). A cross-region read replica names its source by ARN;
// we pass ReadReplicaSourceDBInstanceIdentifier through as given so the planner can tell "replica of X" from
// "primary" without guessing.

import {
  CreateDBSnapshotCommand,
  type DBInstance,
  DescribeDBInstancesCommand,
  PromoteReadReplicaCommand,
  RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { isCloudError } from '../errors.ts';
import type { CallOptions, Databases, DbInstance, RegionName } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

const SERVICE = 'rds';

export function toDbInstance(region: RegionName, db: DBInstance): DbInstance {
  return {
    region,
    id: db.DBInstanceIdentifier ?? '',
    arn: db.DBInstanceArn ?? '',
    ...(db.DbiResourceId ? { resourceId: db.DbiResourceId } : {}),
    status: db.DBInstanceStatus ?? 'unknown',
    ...(db.AvailabilityZone ? { zone: db.AvailabilityZone } : {}),
    ...(db.Endpoint?.Address ? { endpoint: db.Endpoint.Address } : {}),
    ...(db.Endpoint?.Port === undefined ? {} : { port: db.Endpoint.Port }),
    ...(db.ReadReplicaSourceDBInstanceIdentifier ? { replicaSourceId: db.ReadReplicaSourceDBInstanceIdentifier } : {}),
    backupRetentionPeriod: db.BackupRetentionPeriod ?? 0,
    multiAz: db.MultiAZ ?? false,
  };
}

export function createRdsDatabases(clients: AwsClients): Databases {
  return {
    /** Undefined when the instance does not exist (DBInstanceNotFound), so "gone" is an observation, not an error. */
    async describeInstance(region: RegionName, id: string, opts: CallOptions = {}) {
      try {
        const out = await callAws(SERVICE, 'DescribeDBInstances', () =>
          clients
            .regional('rds', region, RDSClient)
            .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), { abortSignal: opts.signal }),
        );
        const db = out.DBInstances?.[0];
        return db ? toDbInstance(region, db) : undefined;
      } catch (err) {
        if (isCloudError(err) && err.kind === 'not-found') return undefined;
        throw err;
      }
    },

    /** BackupRetentionPeriod is passed explicitly: a promoted instance without backups has no point-in-time restore. */
    async promoteReadReplica(region: RegionName, id: string, backupRetentionPeriod: number, opts: CallOptions = {}) {
      await callAws(SERVICE, 'PromoteReadReplica', () =>
        clients
          .regional('rds', region, RDSClient)
          .send(
            new PromoteReadReplicaCommand({ DBInstanceIdentifier: id, BackupRetentionPeriod: backupRetentionPeriod }),
            {
              abortSignal: opts.signal,
            },
          ),
      );
    },

    async rebootInstance(region: RegionName, id: string, opts: CallOptions = {}) {
      await callAws(SERVICE, 'RebootDBInstance', () =>
        clients
          .regional('rds', region, RDSClient)
          .send(new RebootDBInstanceCommand({ DBInstanceIdentifier: id }), { abortSignal: opts.signal }),
      );
    },

    async createSnapshot(region: RegionName, id: string, snapshotId: string, opts: CallOptions = {}) {
      await callAws(SERVICE, 'CreateDBSnapshot', () =>
        clients
          .regional('rds', region, RDSClient)
          .send(new CreateDBSnapshotCommand({ DBInstanceIdentifier: id, DBSnapshotIdentifier: snapshotId }), {
            abortSignal: opts.signal,
          }),
      );
    },
  };
}
