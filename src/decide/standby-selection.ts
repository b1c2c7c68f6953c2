// Choosing the replica to promote (PB-6): a pure sort of the observed replicas, in the style of CloudNativePG's
// candidate ranking. Filters first — a replica qualifies only when it replicates from the writer being replaced,
// lives outside the failed region, in a region and zone that are not Impaired, and (unless the operator forces it)
// its replication lag is known and within the RPO budget. Then the order: healthy region before degraded, lowest
// lag, status `available` before anything else, and the instance id as the deterministic tie-break.
//
// Trade-off: an unknown lag counts as over budget, and so does a lag that is not a fresh, non-negative datapoint:
// RDS reports -1 when replication is not running, and a datapoint minutes old says nothing about the last minutes.
// Promoting a replica whose lag we cannot read could lose an unbounded amount of data; waiting costs availability,
// which an operator can buy back with `force`. A replica whose description could not be read is unknown: it is
// never a candidate (we do not know it is a replica, nor that it is available).

import type { DbInstance, RegionName, ZoneName } from '../cloud/types.ts';
import type { RegionState, ZoneState } from '../health/types.ts';
import type { ObservedDatabase } from './types.ts';

export type ObservedDb = ObservedDatabase;

/** Statuses observe-cloud gives an instance it could not describe: nothing is known about it. */
const UNOBSERVED = new Set(['unreachable', 'not-found', 'unknown']);

/** True when the instance was described: its role and status are known. */
export function isObserved(db: ObservedDb): boolean {
  return !UNOBSERVED.has(db.status);
}

/** What the RPO guard needs of a replica's lag (PB-6). */
export interface LagBudget {
  maxLagSeconds: number;
  /** A datapoint older than this does not count. */
  maxLagAgeMs: number;
  now: number;
}

export type LagVerdict =
  | { ok: true; lagSeconds: number }
  | { ok: false; why: 'unknown' | 'negative' | 'stale' | 'over'; text: string };

/** Judges a replica's lag against the budget: known, fresh, non-negative and at most maxLagSeconds (PB-6). */
export function judgeLag(db: ObservedDb, budget: LagBudget): LagVerdict {
  const lag = db.lagSeconds;
  if (lag === undefined || !Number.isFinite(lag)) return { ok: false, why: 'unknown', text: 'lag unknown' };
  if (lag < 0) {
    return { ok: false, why: 'negative', text: `ReplicaLag ${lag}: replication is not running` };
  }
  if (db.lagAt === undefined) return { ok: false, why: 'unknown', text: `lag ${lag}s of unknown age` };
  const ageS = Math.round((budget.now - db.lagAt) / 1000);
  if (budget.now - db.lagAt > budget.maxLagAgeMs) {
    return {
      ok: false,
      why: 'stale',
      text: `newest lag datapoint (${lag}s) is ${ageS}s old, over the ${Math.round(budget.maxLagAgeMs / 1000)}s maximum age`,
    };
  }
  if (lag > budget.maxLagSeconds) {
    return { ok: false, why: 'over', text: `lag ${lag}s exceeds the ${budget.maxLagSeconds}s RPO budget` };
  }
  return { ok: true, lagSeconds: lag };
}

export interface StandbyCriteria {
  /** The writer being replaced: candidates must replicate from it. */
  from: { id: string; arn?: string; region: RegionName };
  /** Ids of the policy's database instances; nothing else is ever promoted. */
  allowedIds: ReadonlySet<string>;
  regionState: (region: RegionName) => RegionState | undefined;
  zoneState: (zone: ZoneName) => ZoneState | undefined;
  lag: LagBudget;
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

/** Within the RPO budget: a fresh, non-negative lag datapoint of at most maxLagSeconds (PB-6). */
export function isWithinRpoBudget(db: ObservedDb, budget: LagBudget): boolean {
  return judgeLag(db, budget).ok;
}

const REGION_ORDER: Record<string, number> = { Healthy: 0, Degraded: 1 };

export function chooseStandbyRegion(databases: readonly ObservedDb[], criteria: StandbyCriteria): StandbyChoice {
  const rejected: StandbyChoice['rejected'] = [];
  const ranked: ObservedDb[] = [];
  const reject = (db: ObservedDb, reason: string, overLag = false) => rejected.push({ id: db.id, reason, overLag });
  for (const db of databases) {
    if (!criteria.allowedIds.has(db.id) || db.id === criteria.from.id) continue;
    if (!isObserved(db)) {
      reject(db, `not observable (${db.status}): its role and status are unknown`);
      continue;
    }
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
    const lag = judgeLag(db, criteria.lag);
    if (!criteria.force && !lag.ok) {
      reject(db, `replica ${lag.text}`, true);
      continue;
    }
    ranked.push(db);
  }
  ranked.sort(
    (a, b) =>
      (REGION_ORDER[criteria.regionState(a.region) ?? 'Healthy'] ?? 2) -
        (REGION_ORDER[criteria.regionState(b.region) ?? 'Healthy'] ?? 2) ||
      rankLag(a) - rankLag(b) ||
      Number(a.status !== 'available') - Number(b.status !== 'available') ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  rejected.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const chosen = ranked[0];
  return chosen ? { chosen, ranked, rejected } : { ranked, rejected };
}

/** Lower is better: unknown or negative lag (replication not running) ranks last. */
function rankLag(db: ObservedDb): number {
  return db.lagSeconds === undefined || db.lagSeconds < 0 ? Number.POSITIVE_INFINITY : db.lagSeconds;
}
