// Reads what the planner needs to know about the cloud for one policy: the weighted record group, the writer
// record, the primary and replicas with their lag. Reads go through the same call pipeline as writes (timeouts,
// retries, rate limits, circuit breakers — PB-8), so an observation never hangs the reconcile.
//
// Partial failure is expected during an outage: the primary in the impaired region may not answer. Such an
// instance is reported with status `unreachable` rather than failing the whole observation; the planner treats
// it as not writable. Only the record group is essential: without current weights no traffic decision is safe,
// so a failure to list it fails the observation (and the reconcile retries with backoff).

import type { CallPipeline } from '../act/call-pipeline.ts';
import type { CallMeta } from '../act/types.ts';
import type { FailoverPolicy } from '../api/index.ts';
import { type Cloud, type DbInstance, type DnsRecord, ROUTE53_CONTROL_PLANE_REGION } from '../cloud/types.ts';
import type { CloudObservation } from '../decide/types.ts';

export interface ObserveDeps {
  cloud: Cloud;
  pipeline: CallPipeline;
  now: () => number;
}

export async function observeCloud(
  policyKey: string,
  policy: FailoverPolicy,
  deps: ObserveDeps,
  signal: AbortSignal,
): Promise<CloudObservation> {
  const { cloud, pipeline } = deps;
  const read = (meta: Omit<CallMeta, 'write' | 'policy' | 'signal'>) =>
    ({ ...meta, write: false, policy: policyKey, signal }) satisfies CallMeta;
  const route53 = policy.spec.traffic?.route53;

  const recordsP: Promise<DnsRecord[]> = route53
    ? pipeline.call(
        read({ service: 'route53', operation: 'ListResourceRecordSets', region: ROUTE53_CONTROL_PLANE_REGION }),
        (s) => cloud.dns.listRecords(route53.hostedZoneId, route53.recordName, route53.type, { signal: s }),
      )
    : Promise.resolve([]);

  const writerSpec = route53?.writerRecord;
  const writerP: Promise<DnsRecord | undefined> = writerSpec
    ? pipeline
        .call(
          read({ service: 'route53', operation: 'ListResourceRecordSets', region: ROUTE53_CONTROL_PLANE_REGION }),
          (s) =>
            cloud.dns.listRecords(
              writerSpec.hostedZoneId ?? route53.hostedZoneId,
              writerSpec.recordName,
              writerSpec.type,
              {
                signal: s,
              },
            ),
        )
        .then((records) => records[0])
    : Promise.resolve(undefined);

  const rds = policy.spec.database?.rds;
  const instances = rds ? [rds.primary, ...(rds.replicas ?? [])] : [];
  const dbsP = Promise.all(
    instances.map(async (ref): Promise<DbInstance & { lagSeconds?: number }> => {
      try {
        const db = await pipeline.call(
          read({ service: 'rds', operation: 'DescribeDBInstances', region: ref.region }),
          (s) => cloud.databases.describeInstance(ref.region, ref.dbInstanceIdentifier, { signal: s }),
        );
        if (!db) return unreachable(ref.region, ref.dbInstanceIdentifier, 'not-found');
        if (db.replicaSourceId === undefined) return db;
        const lag = await pipeline
          .call(read({ service: 'cloudwatch', operation: 'GetMetricStatistics', region: ref.region }), (s) =>
            cloud.replicaLag.replicaLagSeconds(ref.region, ref.dbInstanceIdentifier, new Date(deps.now()), {
              signal: s,
            }),
          )
          .catch(() => undefined); // unknown lag: the planner refuses to promote on it (PB-6)
        return lag === undefined ? db : { ...db, lagSeconds: lag };
      } catch {
        return unreachable(ref.region, ref.dbInstanceIdentifier, 'unreachable');
      }
    }),
  );

  const [records, writer, databases] = await Promise.all([recordsP, writerP.catch(() => undefined), dbsP]);
  return {
    at: deps.now(),
    records,
    ...(writer === undefined ? {} : { writer }),
    databases,
  };
}

function unreachable(region: string, id: string, status: string): DbInstance {
  return { region, id, arn: '', status, backupRetentionPeriod: 0, multiAz: false };
}
