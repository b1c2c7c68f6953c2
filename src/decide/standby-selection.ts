// Choosing the replica to promote (PB-6): a pure sort of the observed replicas, in the style of CloudNativePG's
// candidate ranking. Filters first — a replica qualifies only when it replicates from the writer being replaced,
// lives outside the failed region, in a region and zone that are not Impaired, and (unless the operator forces it)
// its replication lag is known and within the RPO budget. Then the order: healthy region before degraded, lowest
// lag, status `available` before anything else, and the instance id as the deterministic tie-break.
//
// Trade-off: an unknown lag counts as over budget. Promoting a replica whose lag we cannot read could lose an
// unbounded amount of data; waiting costs availability, which an operator can buy back with `force`.

import type { DbInstance, RegionName, ZoneName } from '../cloud/types.ts';
import type { RegionState, ZoneState } from '../health/types.ts';

export type ObservedDb = DbInstance & { lagSeconds?: number };

export interface StandbyCriteria {
  /** The writer being replaced: candidates must replicate from it. */
  from: { id: string; arn?: string; region: RegionName };
  /** Ids of the policy's database instances; nothing else is ever promoted. */
  allowedIds: ReadonlySet<string>;
  regionState: (region: RegionName) => RegionState | undefined;
  zoneState: (zone: ZoneName) => ZoneState | undefined;
  maxLagSeconds: number;
  /** Only replicas in this region (a manual failover or a failback names it). */
  region?: RegionName;
  /** Operator override of the lag budget (PB-6). Never overrides health or topology. */
  force: boolean;
}

export interface StandbyChoice {
  chosen?: ObservedDb;
  /** Qualifying candidates, best first. */
  ranked: ObservedDb[];
  /** Replicas left out, and why (for gates and Events). */
  rejected: Array<{ id: string; reason: string; overLag: boolean }>;
}

/** True when `replicaSourceId` (an id or an ARN) names this instance. */
export function replicatesFrom(replica: DbInstance, source: { id: string; arn?: string }): boolean {
  const src = replica.replicaSourceId;
  if (src === undefined) return false;
  return src === source.id || (source.arn !== undefined && src === source.arn) || src.endsWith(`:db:${source.id}`);
}

/** Within the RPO budget: lag known and at most maxLagSeconds (PB-6). */
export function isWithinRpoBudget(db: ObservedDb, maxLagSeconds: number): boolean {
  return db.lagSeconds !== undefined && db.lagSeconds <= maxLagSeconds;
}

const REGION_ORDER: Record<string, number> = { Healthy: 0, Degraded: 1 };

export function chooseStandbyRegion(databases: readonly ObservedDb[], criteria: StandbyCriteria): StandbyChoice {
  const rejected: StandbyChoice['rejected'] = [];
  const ranked: ObservedDb[] = [];
  const reject = (db: ObservedDb, reason: string, overLag = false) => rejected.push({ id: db.id, reason, overLag });
  for (const db of databases) {
    if (!criteria.allowedIds.has(db.id) || db.id === criteria.from.id) continue;
    if (db.replicaSourceId === undefined) continue; // not a replica: nothing to promote
    if (!replicatesFrom(db, criteria.from)) {
      reject(db, `replicates from ${db.replicaSourceId}, not from ${criteria.from.id}`);
      continue;
    }
    if (db.region === criteria.from.region) {
      reject(db, `in region ${db.region}, the region being failed over from`);
      continue;
    }
    if (criteria.region !== undefined && db.region !== criteria.region) {
      reject(db, `not in requested region ${criteria.region}`);
      continue;
    }
    const regionState = criteria.regionState(db.region) ?? 'Healthy';
    if (regionState === 'Impaired') {
      reject(db, `region ${db.region} impaired`);
      continue;
    }
    if (db.zone !== undefined && criteria.zoneState(db.zone) === 'Impaired') {
      reject(db, `zone ${db.zone} impaired`);
      continue;
    }
    if (!criteria.force && !isWithinRpoBudget(db, criteria.maxLagSeconds)) {
      const lag = db.lagSeconds === undefined ? 'unknown' : `${db.lagSeconds}s`;
      reject(db, `replica lag ${lag} over the ${criteria.maxLagSeconds}s budget`, true);
      continue;
    }
    ranked.push(db);
  }
  ranked.sort(
    (a, b) =>
      (REGION_ORDER[criteria.regionState(a.region) ?? 'Healthy'] ?? 2) -
        (REGION_ORDER[criteria.regionState(b.region) ?? 'Healthy'] ?? 2) ||
      (a.lagSeconds ?? Number.POSITIVE_INFINITY) - (b.lagSeconds ?? Number.POSITIVE_INFINITY) ||
      Number(a.status !== 'available') - Number(b.status !== 'available') ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  rejected.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const chosen = ranked[0];
  return chosen ? { chosen, ranked, rejected } : { ranked, rejected };
}
