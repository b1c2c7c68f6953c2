// Vantage points end to end (issue #14): the same database policy in three "clusters" of the test bed, one real
// operator process per cluster, each a vantage point with its own fault-proxy route (its AWS calls and its probes go
// through that route, so one vantage can be partitioned), all sharing one moto and one DynamoDB promotion lock.
//
//   vantage  cluster  route  FO_VANTAGE_REGION
//   use1     a        a      us-east-1   (stands in the region that fails)
//   usw2     b        b      us-west-2   (the standby region)
//   euw1     c        c      eu-west-1   (the tie-breaker)
//
// Two operators in one cluster and namespace would share a Lease (one leads) and write one status, and the policy's
// identity (its verdict metrics' Policy dimension `<ns>/<name>`) includes the namespace, so a third vantage needs a
// third cluster: the bed runs a, b and c (test/env/up.sh, FO_TESTBED_CLUSTERS).

import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { FailoverPolicyStatus } from '../../../src/api/index.ts';
import { type FaultRule, testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createRdsPair,
  createStandbyAndWriterRecords,
  createWeightedZone,
  databasePolicyBody,
  type OperatorProcess,
  type OperatorProcessSuite,
  probeUrlVia,
  putReplicaLag,
  type RdsPair,
  statusOf,
} from './operator-fixture.ts';

export interface Vantage {
  name: string;
  cluster: string;
  route: string;
  region: string;
}

export const VANTAGES: readonly Vantage[] = [
  { name: 'use1', cluster: 'a', route: 'a', region: 'us-east-1' },
  { name: 'usw2', cluster: 'b', route: 'b', region: 'us-west-2' },
  { name: 'euw1', cluster: 'c', route: 'c', region: 'eu-west-1' },
];

/** The promotion lock: one table, written in the promotion's target region (us-west-2). */
export const LOCK_TABLE = 'fo-vantage-promotion-lock';
export const LOCK_REGION = 'us-west-2';

/** Creates the lock table in moto (directly, never through the proxy) unless it exists. */
/** A DynamoDB client straight to moto (never through the proxy) in the lock's region; destroy it when done. */
export function motoLockDynamo(): DynamoDBClient {
  const tb = testbed();
  return new DynamoDBClient({ endpoint: tb.aws.motoEndpoint, credentials: tb.aws.credentials, region: LOCK_REGION });
}

export async function ensureLockTable(): Promise<void> {
  const dynamo = motoLockDynamo();
  try {
    const exists = await dynamo.send(new DescribeTableCommand({ TableName: LOCK_TABLE })).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await dynamo.send(
      new CreateTableCommand({
        TableName: LOCK_TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    dynamo.destroy();
  }
}

/** One database policy's AWS side: a hosted zone with weighted records and the writer CNAME, and an RDS pair. */
export interface VantageService {
  name: string;
  domain: string;
  record: string;
  writer: string;
  zoneId: string;
  db: RdsPair;
}

export async function createService(
  suite: OperatorProcessSuite,
  name: string,
  unique: string,
): Promise<VantageService> {
  const domain = `${name}-${unique}.vantage.test.`;
  const record = `api.${domain}`;
  const writer = `db.${domain}`;
  const zoneId = await createWeightedZone(suite.r53, domain, record);
  const db = await createRdsPair({
    primaryRegion: 'us-east-1',
    primaryId: `${name}-${unique}`,
    replicaRegion: 'us-west-2',
    replicaId: `${name}-usw2-${unique}`,
  });
  await createStandbyAndWriterRecords(suite.r53, {
    zoneId,
    recordName: record,
    writerName: writer,
    writerValue: db.primary.endpoint,
    writerTtl: 1,
  });
  await putReplicaLag(db.replica.region, db.replica.id, 0);
  return { name, domain, record, writer, zoneId, db };
}

export interface VantagePolicyOptions {
  /**
   * Gives the service its own probe targets when several services share the probe server: '/orders' makes them
   * `orders/us-east-1a`, ... in suite.probes.answers.
   */
  probePath?: string;
  /**
   * health.intervalSeconds (default 1) and the HTTP probes' timeout; the RDS probes' timeout follows the interval.
   * Many policies on a loaded machine need 2: 1 s timeouts fail under load and the zones flap.
   */
  intervalSeconds?: number;
}

/**
 * The policy as applied in one vantage's cluster: the database policy of the engine tests (an HTTP probe per zone,
 * RDS instance status as a region probe, automatic promotion), its probes through the vantage's route, and
 * spec.vantagePoints. staleAfterSeconds 15 is the minimum the CRD accepts.
 */
export function vantagePolicyBody(
  suite: OperatorProcessSuite,
  ns: string,
  service: VantageService,
  vantage: Vantage,
  vantagePoints: { members: string[]; quorum?: number },
  options: VantagePolicyOptions = {},
): object {
  const { probePath = '', intervalSeconds } = options;
  const body = databasePolicyBody({
    ns,
    name: service.name,
    zoneId: service.zoneId,
    recordName: service.record,
    writerName: service.writer,
    writerTtl: 1,
    probeBase: probeUrlVia(vantage.route, `${suite.probes.base}${probePath}`),
    db: service.db,
    promotion: 'Automatic',
    extraProbes: [{ name: 'database', scope: 'Region', rds: { instanceStatus: true, replicaLag: false } }],
  }) as { spec: Record<string, unknown> };
  body.spec.vantagePoints = { ...vantagePoints, staleAfterSeconds: 15 };
  if (intervalSeconds !== undefined) {
    (body.spec.health as { intervalSeconds: number }).intervalSeconds = intervalSeconds;
    for (const probe of body.spec.probes as Array<{ http?: { timeoutSeconds: number } }>) {
      if (probe.http) probe.http.timeoutSeconds = intervalSeconds;
    }
  }
  // Drains edit the records. The health-check path (the default) is left out: moto makes a new health check for
  // each CreateHealthCheck, where Route 53 returns the existing one for the same caller reference, so three vantages
  // would keep re-attaching their own checks to the same records here (and preparing takes ~13 s against moto).
  const route53 = (body.spec.traffic as { route53: Record<string, unknown> }).route53;
  route53.dataPlane = { mechanism: 'RecordEdits' };
  return body;
}

/** Creates the service's policy in every given vantage's cluster, each with its own route's probe URLs. */
export async function createVantagePolicies(
  suite: OperatorProcessSuite,
  ns: string,
  service: VantageService,
  vantages: readonly Vantage[],
  vantagePoints: { members: string[]; quorum?: number },
  options: VantagePolicyOptions = {},
): Promise<void> {
  await Promise.all(
    vantages.map((v) =>
      createPolicy(suite.kcOf(v.cluster), ns, vantagePolicyBody(suite, ns, service, v, vantagePoints, options)),
    ),
  );
}

/** Starts one operator per vantage, each in its cluster, on its route, with its vantage and the lock. */
export function startVantages(
  suite: OperatorProcessSuite,
  ns: string,
  vantages: readonly Vantage[],
  options: { keepLines?: boolean; onLine?: (v: Vantage, line: { msg: string; [k: string]: unknown }) => void } = {},
): Map<string, OperatorProcess> {
  const out = new Map<string, OperatorProcess>();
  for (const v of vantages) {
    out.set(
      v.name,
      suite.start(ns, `op-${v.name}`, {
        cluster: v.cluster,
        route: v.route,
        ...(options.keepLines === undefined ? {} : { keepLines: options.keepLines }),
        ...(options.onLine ? { onLine: (line) => options.onLine?.(v, line) } : {}),
        env: {
          FO_VANTAGE: v.name,
          FO_VANTAGE_REGION: v.region,
          FO_PROMOTION_LOCK_TABLE: LOCK_TABLE,
          FO_PROMOTION_LOCK_REGIONS: LOCK_REGION,
        },
      }),
    );
  }
  return out;
}

export async function fullStatusOf(kc: KubeConfig, ns: string, name: string): Promise<FailoverPolicyStatus> {
  return (await statusOf(kc, ns, name)) as FailoverPolicyStatus;
}

export async function eventsOf(kc: KubeConfig, ns: string, name: string): Promise<CoreV1Event[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items;
}

/** Every member fresh and agreement reached, as this vantage's status says. */
export function agreesWithAll(status: FailoverPolicyStatus, members: number): boolean {
  const v = status.vantages;
  return (
    v !== undefined &&
    v.agreement === 'Reached' &&
    v.members.length === members &&
    v.members.every((m) => m.fresh) &&
    (status.zones ?? []).length === 4 &&
    (status.zones ?? []).every((z) => z.state === 'Healthy')
  );
}

/**
 * A fault-proxy rule that counts calls without changing them (a zero latency): `remaining` of GET /__faults/rules
 * goes down by one per call, and no call is lost to the proxy's bounded log.
 */
export const COUNTER_TIMES = 1_000_000;

export async function ruleRemaining(id: string): Promise<number> {
  const res = await fetch(`${testbed().aws.endpoint}/__faults/rules`);
  const rules = (await res.json()) as Array<{ id: string; remaining?: number }>;
  const rule = rules.find((r) => r.id === id);
  if (!rule || rule.remaining === undefined) throw new Error(`no counting rule ${id}`);
  return rule.remaining;
}

/** RDS in us-east-1 reports every primary `failed` (all routes): the database half of the promotion evidence. */
export const PRIMARY_FAILED: FaultRule = {
  service: 'rds',
  action: 'DescribeDBInstances',
  region: 'us-east-1',
  rewrite: [
    {
      find: '<DBInstanceStatus>available</DBInstanceStatus>',
      replace: '<DBInstanceStatus>failed</DBInstanceStatus>',
    },
  ],
};

/**
 * Real RDS's view of one promoted replica (no replication source), from the moment its promotion is seen: moto
 * 5.2.5 keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica (test/env/README.md).
 */
export function promotedViewOf(db: RdsPair): FaultRule {
  const escaped = db.replica.id.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return {
    service: 'rds',
    action: 'DescribeDBInstances',
    region: db.replica.region,
    rewrite: [
      {
        // Only this replica's member of the answer: its identifier comes before its replication source.
        find: `(<DBInstanceIdentifier>${escaped}</DBInstanceIdentifier>(?:(?!</DBInstance>)[\\s\\S])*?)<ReadReplicaSourceDBInstanceIdentifier>[^<]*</ReadReplicaSourceDBInstanceIdentifier>`,
        replace: '$1',
      },
    ],
  };
}

/**
 * The highest data-plane verdict (RecordDrain: 1 drain, 0 serve; docs/static-stability.md) any vantage published for
 * each record of a policy in the signal region over the last `minutes`, read from moto: a drain through health checks
 * changes no record, so "no drain" must look here too. Records never published are absent.
 */
export async function recordDrainMaxima(
  policyKey: string,
  records: readonly string[],
  minutes = 10,
  region = 'us-west-2',
): Promise<Record<string, number>> {
  const tb = testbed();
  const cw = new CloudWatchClient({ endpoint: tb.aws.motoEndpoint, region, credentials: tb.aws.credentials });
  try {
    const now = Date.now();
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - minutes * 60_000),
        EndTime: new Date(now + 60_000),
        MetricDataQueries: records.map((record, i) => ({
          Id: `r${i}`,
          MetricStat: {
            Metric: {
              Namespace: 'FailoverOperator',
              MetricName: 'RecordDrain',
              Dimensions: [
                { Name: 'Policy', Value: policyKey },
                { Name: 'Record', Value: record },
              ],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        })),
      }),
    );
    const maxima: Record<string, number> = {};
    for (const r of out.MetricDataResults ?? []) {
      const record = records[Number(r.Id?.slice(1))];
      if (record !== undefined && (r.Values ?? []).length > 0) maxima[record] = Math.max(...(r.Values ?? []));
    }
    return maxima;
  } finally {
    cw.destroy();
  }
}
