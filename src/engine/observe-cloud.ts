// Reads what the planner needs to know about the cloud for one policy: the weighted record group, the writer
// record, the primary and replicas with their lag. Reads go through the same call pipeline as writes (timeouts,
// retries, rate limits, circuit breakers — PB-8), so an observation never hangs the reconcile.
//
// Route 53 reads go through the shared record cache when the engine has one (record-cache.ts): one listing per
// hosted zone serves every policy on it for a few seconds, because Route 53's 5 requests/s are account-wide (PB-8).
//
// Partial failure is expected during an outage: the primary in the impaired region may not answer. Such an
// instance is reported with status `unreachable` rather than failing the whole observation; the planner treats
// it as not writable. Likewise a region whose EC2 API does not answer is left out of the instance and volume
// observations (unknown, so nothing is launched or restored blind). Only the record group is essential: without
// current weights no traffic decision is safe, so a failure to list it fails the observation (and the reconcile
// retries with backoff).
//
// Volumes (compute.ec2.restoreVolumesFromSnapshots, PB-4) are read only in regions with an Impaired zone — the
// only ones the planner restores in — so a quiet fleet of policies costs no EC2 reads for them: DescribeVolumes by
// the policy's tags (a regional read, so it answers for the impaired zone's volumes too), then DescribeSnapshots of
// the impaired zones' volumes by volume id. A region where either read fails is reported in `volumesUnknown` with
// the failed operation and error code, so the planner records a Skipped RestoreVolume (PB-4, PB-11) instead of
// reading the gap as "no volumes".

import type { CallPipeline } from '../act/call-pipeline.ts';
import type { CallMeta } from '../act/types.ts';
import type { FailoverPolicy } from '../api/index.ts';
import { CloudError } from '../cloud/errors.ts';
import {
  type Cloud,
  type DbInstance,
  type DnsRecord,
  type RegionName,
  ROUTE53_CONTROL_PLANE_REGION,
  type ZoneName,
} from '../cloud/types.ts';
import type {
  CloudObservation,
  ObservedSnapshot,
  ObservedVolume,
  ObservedZoneInstances,
  VolumesUnknown,
} from '../decide/types.ts';
import type { HealthView } from '../health/types.ts';
import type { DataPlaneState } from './data-plane-state.ts';
import type { RecordCache } from './record-cache.ts';

export interface ObserveDeps {
  cloud: Cloud;
  pipeline: CallPipeline;
  now: () => number;
  /** The engine's shared Route 53 read cache. Without it each observation lists its own record groups. */
  recordCache?: RecordCache;
  /** The data-plane path's shared state (health checks, alarms, verdicts in force). */
  dataPlane?: DataPlaneState;
}

export interface ObserveOptions {
  /**
   * The policy's health now: volumes are observed only in regions with an Impaired zone. Without it, every region
   * of the policy is read.
   */
  health?: Pick<HealthView, 'zones'>;
}

export async function observeCloud(
  policyKey: string,
  policy: FailoverPolicy,
  deps: ObserveDeps,
  signal: AbortSignal,
  opts: ObserveOptions = {},
): Promise<CloudObservation> {
  const { cloud, pipeline } = deps;
  const read = (meta: Omit<CallMeta, 'write' | 'policy' | 'signal'>) =>
    ({ ...meta, write: false, policy: policyKey, signal }) satisfies CallMeta;
  const route53 = policy.spec.traffic?.route53;
  const readGroup = (hostedZoneId: string, name: string, type: string): Promise<DnsRecord[]> =>
    deps.recordCache
      ? deps.recordCache.records(hostedZoneId, name, type, { signal })
      : pipeline.call(
          read({ service: 'route53', operation: 'ListResourceRecordSets', region: ROUTE53_CONTROL_PLANE_REGION }),
          (s) => cloud.dns.listRecords(hostedZoneId, name, type, { signal: s }),
        );

  // The record group is essential, but when Route 53's API fails the last listing that succeeded stands in for it
  // (marked stale): the records are still there and still answered, and a drain through health checks needs no
  // Route 53 call at all. Without any listing yet, the observation fails as before.
  let recordsStale: CloudObservation['recordsStale'];
  const recordsP: Promise<DnsRecord[]> = route53
    ? readGroup(route53.hostedZoneId, route53.recordName, route53.type).catch((err: unknown) => {
        const known = deps.recordCache?.lastKnown(route53.hostedZoneId, route53.recordName, route53.type);
        if (known === undefined) throw err;
        recordsStale = {
          listedAt: known.listedAt,
          reason: err instanceof Error ? err.message : String(err),
        };
        return known.records;
      })
    : Promise.resolve([]);

  const writerSpec = route53?.writerRecord;
  const writerP: Promise<DnsRecord | undefined> = writerSpec
    ? readGroup(writerSpec.hostedZoneId ?? route53.hostedZoneId, writerSpec.recordName, writerSpec.type).then(
        (records) => records[0],
      )
    : Promise.resolve(undefined);

  const rds = policy.spec.database?.rds;
  const dbRefs = rds ? [rds.primary, ...(rds.replicas ?? [])] : [];
  const dbsP = Promise.all(
    dbRefs.map(async (ref): Promise<DbInstance & { lagSeconds?: number; lagAt?: number }> => {
      try {
        const db = await pipeline.call(
          read({ service: 'rds', operation: 'DescribeDBInstances', region: ref.region }),
          (s) => cloud.databases.describeInstance(ref.region, ref.dbInstanceIdentifier, { signal: s }),
        );
        if (!db) return unreachable(ref.region, ref.dbInstanceIdentifier, 'not-found');
        if (db.replicaSourceId === undefined) return db;
        const lag = await pipeline
          .call(read({ service: 'cloudwatch', operation: 'GetMetricStatistics', region: ref.region }), (s) =>
            cloud.replicaLag.replicaLag(ref.region, ref.dbInstanceIdentifier, new Date(deps.now()), {
              signal: s,
            }),
          )
          .catch(() => undefined); // unknown lag: the planner refuses to promote on it (PB-6)
        // As reported, with its time: −1 (replication not running) and an old datapoint are the planner's to judge.
        return lag === undefined ? db : { ...db, lagSeconds: lag.seconds, lagAt: lag.at };
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

  const impaired = impairedZonesByRegion(policy.spec.regions, opts.health);
  const volumesP: Promise<ObservedVolumes | undefined> =
    ec2?.restoreVolumesFromSnapshots && ec2.tagSelector && impaired.size > 0
      ? observeVolumes(policyKey, impaired, ec2.tagSelector, deps, signal)
      : Promise.resolve(undefined);

  // The data-plane path: an observation that fails leaves it unobserved (drains then edit records), never the policy.
  const steady = opts.health === undefined || opts.health.zones.every((z) => z.state === 'Healthy');
  const dataPlaneP = deps.dataPlane
    ? deps.dataPlane.observe(policyKey, policy, signal, { steady }).catch(() => undefined)
    : Promise.resolve(undefined);

  const [records, writer, databases, instances, volumes, dataPlane] = await Promise.all([
    recordsP,
    writerP.catch(() => undefined),
    dbsP,
    instancesP,
    volumesP,
    dataPlaneP,
  ]);
  return {
    at: deps.now(),
    records,
    ...(writer === undefined ? {} : { writer }),
    ...(dataPlane === undefined ? {} : { dataPlane }),
    ...(recordsStale === undefined ? {} : { recordsStale }),
    databases,
    ...(instances === undefined ? {} : { instances }),
    ...(volumes === undefined ? {} : volumes),
  };
}

/**
 * Regions to read volumes in, each with the zones the planner would restore from (Impaired ones). Without a
 * health view every region is read and snapshots are fetched for all its volumes.
 */
function impairedZonesByRegion(
  regions: ReadonlyArray<{ name: string; zones: readonly string[] }>,
  health: Pick<HealthView, 'zones'> | undefined,
): Map<RegionName, Set<ZoneName> | 'all'> {
  const out = new Map<RegionName, Set<ZoneName> | 'all'>();
  for (const region of regions) {
    if (!health) {
      out.set(region.name, 'all');
      continue;
    }
    const zones = health.zones.filter(
      (z) => z.region === region.name && z.state === 'Impaired' && region.zones.includes(z.name),
    );
    if (zones.length > 0) out.set(region.name, new Set(zones.map((z) => z.name)));
  }
  return out;
}

interface ObservedVolumes {
  volumes: ObservedVolume[];
  snapshots: ObservedSnapshot[];
  volumesUnknown?: VolumesUnknown[];
}

/**
 * The policy's volumes and the snapshots of those in impaired zones, per region (PB-4). A region where either read
 * fails is left out of both lists — a volume list without its snapshots would read as "no snapshot to restore
 * from" — and named in `volumesUnknown` with the read that failed.
 */
async function observeVolumes(
  policyKey: string,
  regions: Map<RegionName, Set<ZoneName> | 'all'>,
  tagSelector: Record<string, string>,
  deps: ObserveDeps,
  signal: AbortSignal,
): Promise<ObservedVolumes | undefined> {
  const compute = deps.cloud.compute;
  const listVolumes = compute.listVolumes?.bind(compute);
  const listSnapshotsOfVolumes = compute.listSnapshotsOfVolumes?.bind(compute);
  if (!listVolumes || !listSnapshotsOfVolumes) return undefined;
  const read = (region: RegionName, operation: string) =>
    ({ service: 'ebs', operation, region, write: false, policy: policyKey, signal }) satisfies CallMeta;

  const perRegion = await Promise.all(
    [...regions].map(async ([region, zones]): Promise<ObservedVolumes> => {
      let operation = 'DescribeVolumes';
      try {
        const found = await deps.pipeline.call(read(region, operation), (s) =>
          listVolumes(region, tagSelector, { signal: s }),
        );
        const volumes = found.map((v): ObservedVolume => ({ id: v.id, region, zone: v.zone }));
        const restorable = volumes.filter((v) => zones === 'all' || zones.has(v.zone)).map((v) => v.id);
        if (restorable.length === 0) return { volumes, snapshots: [] };
        operation = 'DescribeSnapshots';
        const snaps = await deps.pipeline.call(read(region, operation), (s) =>
          listSnapshotsOfVolumes(region, restorable, { signal: s }),
        );
        const snapshots = snaps.map(
          (snap): ObservedSnapshot => ({
            id: snap.id,
            region,
            ...(snap.volumeId === undefined ? {} : { volumeId: snap.volumeId }),
            startTime: snap.startTime.getTime(),
            state: snap.state,
          }),
        );
        return { volumes, snapshots };
      } catch (err) {
        // Unknown: the planner restores nothing it cannot see, and records why (PB-4, PB-11).
        return { volumes: [], snapshots: [], volumesUnknown: [{ region, reason: failedRead(operation, err) }] };
      }
    }),
  );
  const unknown = perRegion.flatMap((r) => r.volumesUnknown ?? []);
  return {
    volumes: perRegion.flatMap((r) => r.volumes),
    snapshots: perRegion.flatMap((r) => r.snapshots),
    ...(unknown.length > 0 ? { volumesUnknown: unknown } : {}),
  };
}

/**
 * Why a read failed, in words that stay the same from one attempt to the next (the AWS error code or the error's
 * class, never its message with request ids), so repeated skips read alike.
 */
function failedRead(operation: string, err: unknown): string {
  const why =
    err instanceof CloudError ? err.code : err instanceof Error && err.name !== 'Error' ? err.name : 'no answer';
  return `${operation} failed: ${why}`;
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
