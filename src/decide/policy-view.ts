// The planner's narrow view of a FailoverPolicy: only the settings it reads, with defaults applied. Reading the
// policy happens here and nowhere else in src/decide, so a change to the API types is adapted in one place.

import type { FailoverPolicy } from '../api/index.ts';
import type { InsufficientDataHealthStatus, RegionName, ZoneName } from '../cloud/types.ts';

export type ReplicaPromotion = 'Automatic' | 'Manual';
export type FailbackMode = 'Automatic' | 'Manual';

export interface RecordSetting {
  setIdentifier: string;
  /** Exactly one of zone/region: a zone record follows its zone's health, a region record its region's. */
  zone?: ZoneName;
  region?: RegionName;
  /** Configured weight (0–255) in normal operation. */
  weight: number;
}

export interface DataPlaneSettings {
  /** Region whose CloudWatch carries the verdict metrics and alarms (never the primary region). */
  signalRegion: RegionName;
  namespace: string;
  periodSeconds: number;
  insufficientDataHealthStatus: InsufficientDataHealthStatus;
}

export interface DatabaseInstanceSetting {
  region: RegionName;
  dbInstanceIdentifier: string;
}

export interface PlannerSettings {
  regions: Array<{ name: RegionName; role: 'primary' | 'standby'; zones: ZoneName[] }>;
  primaryRegion: RegionName;
  traffic?: {
    /** The weighted record group's name (route53.recordName). */
    recordName: string;
    records: RecordSetting[];
    writerRecord?: { recordName: string; ttlSeconds: number };
    /** The data-plane path (dataPlane.mechanism HealthChecks with a signal region outside the primary region). */
    dataPlane?: DataPlaneSettings;
    /** Why the policy asked for the data-plane path and cannot have it (then every move is a record edit). */
    dataPlaneUnavailable?: string;
  };
  database?: {
    primary: DatabaseInstanceSetting;
    replicas: DatabaseInstanceSetting[];
    maxLagSeconds: number;
    /** A ReplicaLag datapoint older than this does not count (PB-6). */
    maxLagAgeMs: number;
    promotion: ReplicaPromotion;
  };
  /** Impaired zones that make a region Impaired (spec.health.regionImpairedWhen.impairedZones, PB-2). */
  regionImpairedZones: number;
  compute?: {
    replaceInHealthyZones?: { launchTemplateId: string; minHealthyInstances: number };
    restoreVolumesFromSnapshots: boolean;
  };
  cooldownMs: number;
  failback: { traffic: FailbackMode; database: FailbackMode };
  dryRun: boolean;
}

/** The API's defaults for traffic.route53.dataPlane (policy-schema.ts), for a policy read without defaulting. */
export const DATA_PLANE_DEFAULTS = {
  mechanism: 'HealthChecks',
  namespace: 'FailoverOperator',
  periodSeconds: 60,
  insufficientDataHealthStatus: 'LastKnownStatus',
} as const satisfies Omit<DataPlaneSettings, 'signalRegion'> & { mechanism: 'HealthChecks' | 'RecordEdits' };

export const PLANNER_DEFAULTS = {
  cooldownSeconds: 300,
  maxLagSeconds: 30,
  maxLagAgeSeconds: 180,
  regionImpairedZones: 2,
  writerTtlSeconds: 30,
  promotion: 'Manual',
  failbackTraffic: 'Automatic',
  failbackDatabase: 'Manual',
} as const;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Reads the planner's settings from a validated policy (defaults applied by the API layer; the fallbacks here
 * repeat the API's defaults for callers that skip it). Arrays are sorted by name, so the order in which a user
 * (or a test) wrote them never changes the plan.
 */
export function plannerSettingsFrom(policy: FailoverPolicy): PlannerSettings {
  const spec = policy.spec;
  const regions = spec.regions
    .map((r) => ({ name: r.name, role: r.role, zones: [...r.zones].sort(byName) }))
    .sort((a, b) => byName(a.name, b.name));
  const rds = spec.database?.rds;
  const primaryRegion = rds?.primary.region ?? regions.find((r) => r.role === 'primary')?.name ?? '';
  const route53 = spec.traffic?.route53;
  const ec2 = spec.compute?.ec2;
  const guardrails = spec.guardrails as Partial<FailoverPolicy['spec']['guardrails']> | undefined;
  const settings: PlannerSettings = {
    regions,
    primaryRegion,
    cooldownMs: (guardrails?.cooldownSeconds ?? PLANNER_DEFAULTS.cooldownSeconds) * 1000,
    failback: {
      traffic: guardrails?.failback?.traffic ?? PLANNER_DEFAULTS.failbackTraffic,
      database: guardrails?.failback?.database ?? PLANNER_DEFAULTS.failbackDatabase,
    },
    dryRun: spec.dryRun ?? false,
    regionImpairedZones: spec.health?.regionImpairedWhen?.impairedZones ?? PLANNER_DEFAULTS.regionImpairedZones,
  };
  if (route53) {
    settings.traffic = {
      recordName: route53.recordName,
      records: route53.records
        .map((r) => ({
          setIdentifier: r.setIdentifier,
          ...(r.zone === undefined ? {} : { zone: r.zone }),
          ...(r.region === undefined ? {} : { region: r.region }),
          weight: r.weight,
        }))
        .sort((a, b) => byName(a.setIdentifier, b.setIdentifier)),
    };
    const dataPlane: Partial<NonNullable<typeof route53.dataPlane>> = route53.dataPlane ?? {};
    if ((dataPlane.mechanism ?? DATA_PLANE_DEFAULTS.mechanism) === 'HealthChecks') {
      const signalRegion =
        dataPlane.signalRegion ?? spec.regions.find((r) => r.role === 'standby' && r.name !== primaryRegion)?.name;
      if (signalRegion === undefined || signalRegion === primaryRegion) {
        settings.traffic.dataPlaneUnavailable =
          'no region outside the primary region to publish verdicts in: add a standby region to spec.regions and name it in dataPlane.signalRegion';
      } else {
        settings.traffic.dataPlane = {
          signalRegion,
          namespace: dataPlane.namespace ?? DATA_PLANE_DEFAULTS.namespace,
          periodSeconds: dataPlane.periodSeconds ?? DATA_PLANE_DEFAULTS.periodSeconds,
          insufficientDataHealthStatus:
            dataPlane.insufficientDataHealthStatus ?? DATA_PLANE_DEFAULTS.insufficientDataHealthStatus,
        };
      }
    }
    if (route53.writerRecord) {
      settings.traffic.writerRecord = {
        recordName: route53.writerRecord.recordName,
        ttlSeconds: route53.writerRecord.ttl ?? PLANNER_DEFAULTS.writerTtlSeconds,
      };
    }
  }
  if (rds) {
    settings.database = {
      primary: { region: rds.primary.region, dbInstanceIdentifier: rds.primary.dbInstanceIdentifier },
      replicas: (rds.replicas ?? [])
        .map((r) => ({ region: r.region, dbInstanceIdentifier: r.dbInstanceIdentifier }))
        .sort((a, b) => byName(a.dbInstanceIdentifier, b.dbInstanceIdentifier)),
      maxLagSeconds: rds.maxLagSeconds ?? PLANNER_DEFAULTS.maxLagSeconds,
      maxLagAgeMs: (rds.maxLagAgeSeconds ?? PLANNER_DEFAULTS.maxLagAgeSeconds) * 1000,
      promotion: rds.promotion ?? PLANNER_DEFAULTS.promotion,
    };
  }
  if (ec2) {
    settings.compute = { restoreVolumesFromSnapshots: ec2.restoreVolumesFromSnapshots ?? false };
    if (ec2.replaceInHealthyZones) {
      settings.compute.replaceInHealthyZones = {
        launchTemplateId: ec2.replaceInHealthyZones.launchTemplate,
        minHealthyInstances: ec2.replaceInHealthyZones.minHealthyInstances,
      };
    }
  }
  return settings;
}

/** The region a zone belongs to, from the policy's region list (undefined for a zone the policy does not name). */
export function regionOfZone(settings: PlannerSettings, zone: ZoneName): RegionName | undefined {
  return settings.regions.find((r) => r.zones.includes(zone))?.name;
}

/** The region a weighted record serves: its own region, or its zone's. */
export function regionOfRecord(settings: PlannerSettings, record: RecordSetting): RegionName | undefined {
  return record.region ?? (record.zone === undefined ? undefined : regionOfZone(settings, record.zone));
}

/** Every database instance the policy names (primary first, then replicas by id). */
export function policyDatabases(settings: PlannerSettings): DatabaseInstanceSetting[] {
  const db = settings.database;
  return db ? [db.primary, ...db.replicas] : [];
}
