// The real cloud: the adapters (Route 53 records and health checks, RDS, EC2, CloudWatch ReplicaLag and verdicts)
// over one shared, per-region client cache. Built once in the composition root and shared by all policies.

import type { Cloud, PromotionLock } from '../types.ts';
import { type AwsClientsConfig, createAwsClients } from './clients.ts';
import { createCloudWatchReplicaLag } from './cloudwatch.ts';
import { createCloudWatchVerdicts } from './cloudwatch-verdicts.ts';
import { createEc2Compute } from './ec2.ts';
import { createDynamoDbPromotionLock, type PromotionLockSettings } from './promotion-lock.ts';
import { createRdsDatabases } from './rds.ts';
import { createRoute53Dns } from './route53.ts';
import { createRoute53HealthChecks } from './route53-health-checks.ts';

export type { AwsCallRecord, AwsClients, AwsClientsConfig } from './clients.ts';
export { CALL_RECORDER_MIDDLEWARE, createAwsClients, ROUTE53_REGION } from './clients.ts';
export { classifyAwsError, normalizeAwsError } from './errors.ts';
export { lockRegionFor, type PromotionLockSettings } from './promotion-lock.ts';
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
  return {
    dns: createRoute53Dns(clients, config.route53PageSize !== undefined ? { pageSize: config.route53PageSize } : {}),
    databases: createRdsDatabases(clients),
    compute: createEc2Compute(clients),
    replicaLag: createCloudWatchReplicaLag(
      clients,
      config.replicaLagWindowSeconds !== undefined ? { windowSeconds: config.replicaLagWindowSeconds } : {},
    ),
    healthChecks: createRoute53HealthChecks(clients),
    verdicts: createCloudWatchVerdicts(clients),
    ...(config.promotionLock ? { promotionLock: createDynamoDbPromotionLock(clients, config.promotionLock) } : {}),
    destroy: () => clients.destroy(),
  };
}
