// The planner's inputs, normalised once: policy settings read, arrays sorted by name, lookups built. Every module
// of the planner reads this instead of PlanInput, so the order of any input array never changes the plan.

import type { RegionName, ZoneName } from '../cloud/types.ts';
import type { RegionHealth, RegionState, ZoneHealth, ZoneState } from '../health/types.ts';
import { type JournalView, readJournal } from './journal-view.ts';
import { type PlannerSettings, plannerSettingsFrom, policyDatabases } from './policy-view.ts';
import type { ObservedDb } from './standby-selection.ts';
import type { CloudObservation, FailoverState, OperatorRequests, PlanInput } from './types.ts';

export interface PlanContext {
  settings: PlannerSettings;
  now: number;
  requests: OperatorRequests;
  journal: JournalView;
  /** The durable failover state machine (status.failover), when one was ever started. */
  failover?: FailoverState;
  cloud: CloudObservation;
  zoneState: (zone: ZoneName) => ZoneState | undefined;
  regionState: (region: RegionName) => RegionState | undefined;
  zoneHealth: (zone: ZoneName) => ZoneHealth | undefined;
  regionHealth: (region: RegionName) => RegionHealth | undefined;
  /** Zones the health model holds Impaired: no zone-targeted action goes there (PB-3). */
  impairedZones: ReadonlySet<ZoneName>;
  /** Observed database instances, by id. */
  db: (id: string) => ObservedDb | undefined;
  /** Observed instances the policy names (primary and replicas), sorted by id. */
  policyDbs: ObservedDb[];
  /** Ids of the instances the policy names. */
  policyDbIds: ReadonlySet<string>;
  /** Observed weights of the record group, by set identifier. */
  currentWeights: Record<string, number>;
}

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

function sortedCloud(cloud: CloudObservation): CloudObservation {
  const out: CloudObservation = {
    ...cloud,
    records: [...cloud.records].sort(byKey((r) => `${r.setIdentifier ?? ''}\u0000${r.values.join(',')}`)),
    databases: [...cloud.databases].sort(byKey((d) => `${d.id}\u0000${d.region}`)),
  };
  if (cloud.instances) out.instances = [...cloud.instances].sort(byKey((i) => `${i.region}\u0000${i.zone}`));
  if (cloud.volumes) out.volumes = [...cloud.volumes].sort(byKey((v) => v.id));
  if (cloud.snapshots) out.snapshots = [...cloud.snapshots].sort(byKey((s) => s.id));
  if (cloud.volumesUnknown) out.volumesUnknown = [...cloud.volumesUnknown].sort(byKey((u) => u.region));
  return out;
}

export function buildContext(input: PlanInput): PlanContext {
  const settings = plannerSettingsFrom(input.policy);
  const cloud = sortedCloud(input.cloud);
  const zones = new Map(input.health.zones.map((z) => [z.name, z]));
  const regions = new Map(input.health.regions.map((r) => [r.name, r]));
  const dbs = new Map(cloud.databases.map((d) => [d.id, d]));
  const policyDbIds = new Set(policyDatabases(settings).map((d) => d.dbInstanceIdentifier));
  const currentWeights: Record<string, number> = {};
  for (const r of cloud.records) if (r.setIdentifier !== undefined) currentWeights[r.setIdentifier] = r.weight ?? 0;
  return {
    settings,
    now: input.now,
    requests: input.requests,
    journal: readJournal(input.journal),
    ...(input.failover ? { failover: input.failover } : {}),
    cloud,
    zoneState: (zone) => zones.get(zone)?.state,
    regionState: (region) => regions.get(region)?.state,
    zoneHealth: (zone) => zones.get(zone),
    regionHealth: (region) => regions.get(region),
    impairedZones: new Set([...zones.values()].filter((z) => z.state === 'Impaired').map((z) => z.name)),
    db: (id) => dbs.get(id),
    policyDbs: cloud.databases.filter((d) => policyDbIds.has(d.id)),
    policyDbIds,
    currentWeights,
  };
}
