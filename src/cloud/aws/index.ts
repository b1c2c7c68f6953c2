// The real cloud: the adapters (Route 53 records and health checks, RDS, EC2, CloudWatch ReplicaLag and verdicts)
// over one shared, per-region client cache. Built once in the composition root and shared by all policies.
//
// Route 53's adapters are loaded with the operator: every policy reads its records. The others — EC2, RDS,
// CloudWatch (replica lag, verdicts) and DynamoDB (the promotion lock) — are imported on their first call
// (lazy-adapter.ts): importing client-ec2 alone adds about 90 MiB of RSS, client-rds, client-cloudwatch and
// client-dynamodb about 30–40 MiB each, and a run whose policies neither probe EC2 nor fail a database over
// never needs them. The first call of each pays the import once (a few hundred ms, on the same event loop).

import type { Cloud, Compute, Databases, PromotionLock, ReplicaLagReader, Verdicts } from '../types.ts';
import { type AwsClientsConfig, createAwsClients } from './clients.ts';
import { lazyAdapter } from './lazy-adapter.ts';
import { lockRegionFor, type PromotionLockSettings } from './promotion-lock-settings.ts';
import { createRoute53Dns } from './route53.ts';
import { createRoute53HealthChecks } from './route53-health-checks.ts';

export type { AwsCallRecord, AwsClients, AwsClientsConfig } from './clients.ts';
export { CALL_RECORDER_MIDDLEWARE, createAwsClients, ROUTE53_REGION } from './clients.ts';
export { classifyAwsError, normalizeAwsError } from './errors.ts';
export { lockRegionFor, type PromotionLockSettings } from './promotion-lock-settings.ts';
export { normalizeDnsName } from './route53.ts';

export interface AwsCloudConfig extends AwsClientsConfig {
  /** ListResourceRecordSets page size (1–300, default 300). */
  route53PageSize?: number;
  /** How far back the ReplicaLag reader looks for the newest datapoint (default 3900 s); the planner judges its age. */
  replicaLagWindowSeconds?: number;
  /** The promotion lock's table and regions (#14); unset: no lock. */
  promotionLock?: PromotionLockSettings;
}

export interface AwsCloud extends Cloud {
  healthChecks: NonNullable<Cloud['healthChecks']>;
  verdicts: NonNullable<Cloud['verdicts']>;
  /** The promotion lock (DynamoDB), when configured. */
  promotionLock?: PromotionLock;
  /** Closes the clients' sockets (on shutdown). */
  destroy(): void;
}

export function createAwsCloud(config: AwsCloudConfig): AwsCloud {
  const clients = createAwsClients(config);
  const lagOptions =
    config.replicaLagWindowSeconds !== undefined ? { windowSeconds: config.replicaLagWindowSeconds } : {};
  return {
    dns: createRoute53Dns(clients, config.route53PageSize !== undefined ? { pageSize: config.route53PageSize } : {}),
    databases: lazyAdapter<Databases>(async () => (await import('./rds.ts')).createRdsDatabases(clients), {
      describeInstance: true,
      promoteReadReplica: true,
      rebootInstance: true,
      createSnapshot: true,
    }),
    compute: lazyAdapter<Compute>(async () => (await import('./ec2.ts')).createEc2Compute(clients), {
      describeZones: true,
      describeInstanceHealth: true,
      runInstances: true,
      listSnapshots: true,
      listVolumes: true,
      listSnapshotsOfVolumes: true,
      createVolumeFromSnapshot: true,
      rebootInstances: true,
      stopInstances: true,
      detachVolume: true,
    }),
    replicaLag: lazyAdapter<ReplicaLagReader>(
      async () => (await import('./cloudwatch.ts')).createCloudWatchReplicaLag(clients, lagOptions),
      { replicaLag: true },
    ),
    healthChecks: createRoute53HealthChecks(clients),
    verdicts: lazyAdapter<Verdicts>(
      async () => (await import('./cloudwatch-verdicts.ts')).createCloudWatchVerdicts(clients),
      { putVerdictAlarm: true, describeAlarms: true, publishVerdicts: true, readMaxima: true },
    ),
    ...(config.promotionLock ? { promotionLock: lazyPromotionLock(clients, config.promotionLock) } : {}),
    destroy: () => clients.destroy(),
  };
}

/** The lock's table and region choice at once; the DynamoDB adapter (and SDK) on the first acquire. */
function lazyPromotionLock(
  clients: ReturnType<typeof createAwsClients>,
  settings: PromotionLockSettings,
): PromotionLock {
  const { acquire } = lazyAdapter<Pick<PromotionLock, 'acquire'>>(
    async () => (await import('./promotion-lock.ts')).createDynamoDbPromotionLock(clients, settings),
    { acquire: true },
  );
  return {
    table: settings.table,
    regionFor: (targetRegion) => lockRegionFor(settings.regions, targetRegion),
    acquire,
  };
}
