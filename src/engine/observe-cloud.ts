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
import type { CloudObservation, ObservedZoneInstances } from '../decide/types.ts';

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
  const dbRefs = rds ? [rds.primary, ...(rds.replicas ?? [])] : [];
  const dbsP = Promise.all(
    dbRefs.map(async (ref): Promise<DbInstance & { lagSeconds?: number }> => {
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

  const ec2 = policy.spec.compute?.ec2;
  const instancesP: Promise<ObservedZoneInstances[] | undefined> =
    ec2?.replaceInHealthyZones && ec2.tagSelector
      ? observeInstances(policyKey, policy.spec.regions, ec2.tagSelector, deps, signal)
      : Promise.resolve(undefined);

  const [records, writer, databases, instances] = await Promise.all([
    recordsP,
    writerP.catch(() => undefined),
    dbsP,
    instancesP,
  ]);
  return {
    at: deps.now(),
    records,
    ...(writer === undefined ? {} : { writer }),
    databases,
    ...(instances === undefined ? {} : { instances }),
  };
}

/**
 * Healthy instance counts per zone of the protected fleet (PB-4). A region whose EC2 API does not answer is left
 * out, so the planner knows its counts are unknown and does not launch blind.
 */
async function observeInstances(
  policyKey: string,
  regions: ReadonlyArray<{ name: string; zones: readonly string[] }>,
  tagSelector: Record<string, string>,
  deps: ObserveDeps,
  signal: AbortSignal,
): Promise<ObservedZoneInstances[]> {
  const perRegion = await Promise.all(
    regions.map(({ name: region, zones }) =>
      deps.pipeline
        .call(
          { service: 'ec2', operation: 'DescribeInstanceStatus', region, write: false, policy: policyKey, signal },
          (s) => deps.cloud.compute.describeInstanceHealth(region, tagSelector, { signal: s }),
        )
        .then((list) => ({ region, zones, list }))
        .catch(() => undefined),
    ),
  );
  const out: ObservedZoneInstances[] = [];
  for (const entry of perRegion) {
    if (!entry) continue;
    // Every zone of a region that answered gets an entry, zero included: "none running" is knowledge too.
    const byZone = new Map<string, ObservedZoneInstances>(
      entry.zones.map((zone) => [zone, { region: entry.region, zone, healthy: 0, unhealthyIds: [] }]),
    );
    for (const i of entry.list) {
      const zone = byZone.get(i.zone) ?? { region: entry.region, zone: i.zone, healthy: 0, unhealthyIds: [] };
      const impaired = i.systemStatus === 'impaired' || i.instanceStatus === 'impaired';
      if (i.state === 'running' && !impaired) zone.healthy++;
      else if (i.state === 'running') zone.unhealthyIds!.push(i.id);
      byZone.set(i.zone, zone);
    }
    out.push(...byZone.values());
  }
  return out;
}

function unreachable(region: string, id: string, status: string): DbInstance {
  return { region, id, arn: '', status, backupRetentionPeriod: 0, multiAz: false };
}
