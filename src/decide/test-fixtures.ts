// Test fixtures for the planner: one two-region policy (us-east-1 primary with three zones, us-west-2 standby with
// a region record and a cross-region replica), health views built from zone states, observations, and a tiny
// "executor" that applies a plan to the journal and the observation so tests can walk a failover step by step.
// Everything the planner tests build goes through here, so an API change is adapted in one place.

import type { FailoverPolicy, JournalEntry } from '../api/index.ts';
import type { DnsRecord, RegionName, ZoneName } from '../cloud/types.ts';
import type { HealthView, RegionEvidence, RegionState, ZoneState } from '../health/types.ts';
import { fingerprint } from './action-ids.ts';
import type { ObservedDb } from './standby-selection.ts';
import type {
  CloudObservation,
  DataPlaneObservation,
  OperatorRequests,
  Plan,
  PlanInput,
  PlannedAction,
} from './types.ts';

export const T0 = Date.parse('2026-11-23T10:00:00Z');
export const SEC = 1000;
export const MIN = 60 * SEC;

export const ZONES_USE1 = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;
export const ZONES_USW2 = ['us-west-2a', 'us-west-2b'] as const;
export const ALL_ZONES: ZoneName[] = [...ZONES_USE1, ...ZONES_USW2];
export const REGION_OF: Record<string, RegionName> = Object.fromEntries([
  ...ZONES_USE1.map((z) => [z, 'us-east-1']),
  ...ZONES_USW2.map((z) => [z, 'us-west-2']),
]);

export const PRIMARY_ENDPOINT = 'orders.c1.us-east-1.rds.amazonaws.com';
export const REPLICA_ENDPOINT = 'orders-usw2.c2.us-west-2.rds.amazonaws.com';
export const PRIMARY_ARN = 'arn:aws:rds:us-east-1:123456789012:db:orders';

export interface PolicyOptions {
  promotion?: 'Automatic' | 'Manual';
  maxLagSeconds?: number;
  cooldownSeconds?: number;
  failbackTraffic?: 'Automatic' | 'Manual';
  failbackDatabase?: 'Automatic' | 'Manual';
  writerRecord?: boolean;
  database?: boolean;
  records?: Array<{ setIdentifier: string; zone?: string; region?: string; weight: number }>;
  compute?: { minHealthyInstances?: number; restoreVolumesFromSnapshots?: boolean };
}

export const DEFAULT_RECORDS = [
  { setIdentifier: 'use1-a', zone: 'us-east-1a', weight: 100 },
  { setIdentifier: 'use1-b', zone: 'us-east-1b', weight: 100 },
  { setIdentifier: 'use1-c', zone: 'us-east-1c', weight: 100 },
  { setIdentifier: 'usw2', region: 'us-west-2', weight: 0 },
];

export function policy(o: PolicyOptions = {}): FailoverPolicy {
  const p: FailoverPolicy = {
    apiVersion: 'failover.io/v1alpha1',
    kind: 'FailoverPolicy',
    metadata: { name: 'checkout', namespace: 'shop', generation: 1 },
    spec: {
      suspend: false,
      dryRun: false,
      regions: [
        { name: 'us-east-1', role: 'primary', zones: [...ZONES_USE1] },
        { name: 'us-west-2', role: 'standby', zones: [...ZONES_USW2] },
      ],
      probes: [{ name: 'api', scope: 'Zone', http: { url: 'https://api-{zone}.example.com/healthz' } }],
      health: {
        intervalSeconds: 5,
        failureThreshold: 2,
        recoveryThreshold: 12,
        regionImpairedWhen: { impairedZones: 2 },
      },
      traffic: {
        route53: {
          hostedZoneId: 'Z0123456789',
          recordName: 'api.example.com.',
          type: 'A',
          records: o.records ?? DEFAULT_RECORDS,
          ...(o.writerRecord === false
            ? {}
            : { writerRecord: { recordName: 'db.example.com.', type: 'CNAME' as const, ttl: 30 } }),
        },
      },
      guardrails: {
        cooldownSeconds: o.cooldownSeconds ?? 300,
        maxWritesPerMinute: 30,
        failback: { traffic: o.failbackTraffic ?? 'Automatic', database: o.failbackDatabase ?? 'Manual' },
      },
    },
  } as FailoverPolicy;
  if (o.database !== false) {
    p.spec.database = {
      rds: {
        primary: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
        replicas: [{ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' }],
        maxLagSeconds: o.maxLagSeconds ?? 30,
        maxLagAgeSeconds: 180,
        promotion: o.promotion ?? 'Automatic',
      },
    };
  }
  if (o.compute) {
    p.spec.compute = {
      ec2: {
        replaceInHealthyZones: { launchTemplate: 'lt-0abc', minHealthyInstances: o.compute.minHealthyInstances ?? 6 },
        restoreVolumesFromSnapshots: o.compute.restoreVolumesFromSnapshots ?? false,
      },
    };
  }
  return p;
}

/** Region state as the health model derives it: Impaired with ≥2 impaired zones, Degraded with any unhealthy. */
function deriveRegionState(zones: ZoneName[], states: Record<string, ZoneState>): RegionState {
  const of = (z: ZoneName) => states[z] ?? 'Healthy';
  if (zones.filter((z) => of(z) === 'Impaired').length >= 2) return 'Impaired';
  return zones.some((z) => of(z) !== 'Healthy') ? 'Degraded' : 'Healthy';
}

/** The primary instance the fixtures place in each region (its `downDatabases` evidence when the region fails). */
const DB_OF_REGION: Record<string, string> = { 'us-east-1': 'orders', 'us-west-2': 'orders-usw2' };

/**
 * The evidence an Impaired region carries by default: every Impaired zone's endpoints hard-down and the region's
 * database unreachable — a real outage. Pass `evidence` to take some away.
 */
function defaultEvidence(
  region: string,
  zones: readonly ZoneName[],
  states: Record<string, ZoneState>,
): RegionEvidence {
  const impaired = zones.filter((z) => states[z] === 'Impaired');
  return {
    dataPlaneDownZones: [...impaired],
    metadataImpairedZones: [],
    downDatabases: impaired.length >= 2 ? [DB_OF_REGION[region] ?? ''] : [],
  };
}

export function health(
  zoneStates: Record<string, ZoneState> = {},
  opts: {
    since?: number;
    at?: number;
    regions?: Record<string, RegionState>;
    evidence?: Record<string, Partial<RegionEvidence>>;
  } = {},
): HealthView {
  const since = opts.since ?? T0;
  return {
    at: opts.at ?? since,
    zones: ALL_ZONES.map((name) => ({
      name,
      region: REGION_OF[name] as RegionName,
      state: zoneStates[name] ?? 'Healthy',
      since,
      reasons: [],
    })),
    regions: (['us-east-1', 'us-west-2'] as const).map((name) => ({
      name,
      state:
        opts.regions?.[name] ?? deriveRegionState(name === 'us-east-1' ? [...ZONES_USE1] : [...ZONES_USW2], zoneStates),
      since,
      reasons: [],
      evidence: {
        ...defaultEvidence(name, name === 'us-east-1' ? [...ZONES_USE1] : [...ZONES_USW2], zoneStates),
        ...opts.evidence?.[name],
      },
    })),
  };
}

export function primaryDb(o: Partial<ObservedDb> = {}): ObservedDb {
  return {
    region: 'us-east-1',
    id: 'orders',
    arn: PRIMARY_ARN,
    status: 'available',
    zone: 'us-east-1a',
    endpoint: PRIMARY_ENDPOINT,
    backupRetentionPeriod: 7,
    multiAz: true,
    ...o,
  };
}

export function replicaDb(o: Partial<ObservedDb> = {}): ObservedDb {
  return {
    region: 'us-west-2',
    id: 'orders-usw2',
    arn: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2',
    status: 'available',
    zone: 'us-west-2a',
    endpoint: REPLICA_ENDPOINT,
    replicaSourceId: PRIMARY_ARN,
    backupRetentionPeriod: 0,
    multiAz: false,
    lagSeconds: 5,
    lagAt: T0,
    ...o,
  };
}

export function weightedRecords(weights: Record<string, number>): DnsRecord[] {
  return Object.entries(weights).map(([setIdentifier, weight], i) => ({
    name: 'api.example.com.',
    type: 'A',
    ttl: 60,
    values: [`192.0.2.${i + 1}`],
    setIdentifier,
    weight,
  }));
}

export const NORMAL_WEIGHTS = { 'use1-a': 100, 'use1-b': 100, 'use1-c': 100, usw2: 0 };

export type CloudOptions = Omit<Partial<CloudObservation>, 'writer'> & {
  weights?: Record<string, number>;
  /** The writer record's value (an endpoint). */
  writer?: string;
};

export function cloud(o: CloudOptions = {}): CloudObservation {
  const { weights, writer, ...rest } = o;
  return {
    at: T0,
    records: weightedRecords(weights ?? NORMAL_WEIGHTS),
    writer: { name: 'db.example.com.', type: 'CNAME', ttl: 30, values: [writer ?? PRIMARY_ENDPOINT] },
    databases: [primaryDb(), replicaDb()],
    ...rest,
  };
}

/** The fixture policy draining through health checks, its verdicts published in us-west-2. */
export function dataPlanePolicy(o: PolicyOptions = {}): FailoverPolicy {
  const p = policy(o);
  p.spec.traffic!.route53.dataPlane = {
    mechanism: 'HealthChecks',
    signalRegion: 'us-west-2',
    namespace: 'FailoverOperator',
    periodSeconds: 60,
    insufficientDataHealthStatus: 'LastKnownStatus',
  };
  return p;
}

/**
 * An observation of a prepared data-plane path: every record carries its health check (`hc-<n>`), every alarm
 * exists (OK, or ALARM for a record whose verdict is drain, unless `alarms` says otherwise), the verdicts in force
 * as given.
 */
export function preparedCloud(
  weights: Record<string, number>,
  verdicts: DataPlaneObservation['verdicts'] = {},
  alarms?: DataPlaneObservation['alarms'],
): CloudObservation {
  const ids = Object.keys(weights);
  const checks = Object.fromEntries(ids.map((id, n) => [id, `hc-${n}`]));
  const observation: DataPlaneObservation = {
    checks,
    alarms: alarms ?? Object.fromEntries(ids.map((id) => [id, verdicts[id] === 'drain' ? 'ALARM' : 'OK'])),
    verdicts,
  };
  const base = cloud({ weights, dataPlane: observation });
  return { ...base, records: base.records.map((r) => ({ ...r, healthCheckId: checks[r.setIdentifier!] })) };
}

export type InputOptions = Partial<PlanInput> & { policyOptions?: PolicyOptions };

export function input(o: InputOptions = {}): PlanInput {
  const { policyOptions, ...rest } = o;
  return {
    policy: policy(policyOptions),
    health: health(),
    cloud: cloud(),
    journal: [],
    requests: {} satisfies OperatorRequests,
    now: T0,
    ...rest,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The Route 53 change id the stand-in executor reports for a writer-record change. */
export function changeIdOf(actionId: string): string {
  return `C${fingerprint(actionId).toUpperCase()}`;
}

export function entry(a: PlannedAction, state: JournalEntry['state'], at: number): JournalEntry {
  const writer = a.action.kind === 'SetWriterRecord' && state === 'Done';
  return {
    id: a.id,
    action: a.action.kind,
    target: a.target,
    ...(a.zone === undefined ? {} : { zone: a.zone }),
    ...(a.region === undefined ? {} : { region: a.region }),
    rule: a.rule as JournalEntry['rule'],
    state,
    startedAt: iso(at),
    ...(state === 'Pending' ? {} : { finishedAt: iso(at) }),
    // A writer-record change the executor saw INSYNC before it journaled Done (perform-action.ts waitForInsync).
    ...(writer
      ? { requestToken: changeIdOf(a.id), detail: `pointed the writer; change ${changeIdOf(a.id)} INSYNC` }
      : {}),
  };
}

/**
 * A stand-in executor: journals every action of the plan as `state` at `at` and, when Done, applies its effect to
 * the observation (weights, writer record, promotion starting: the replica goes `modifying`).
 */
export function execute(prev: PlanInput, plan: Plan, at: number, state: JournalEntry['state'] = 'Done'): PlanInput {
  let cloudNow = prev.cloud;
  for (const a of plan.actions) {
    if (state !== 'Done') continue;
    const spec = a.action;
    if (spec.kind === 'SetWeights') {
      cloudNow = {
        ...cloudNow,
        records: cloudNow.records.map((r) =>
          r.setIdentifier !== undefined && r.setIdentifier in spec.weights
            ? { ...r, weight: spec.weights[r.setIdentifier] }
            : r,
        ),
      };
    } else if (spec.kind === 'SetWriterRecord' && cloudNow.writer) {
      cloudNow = { ...cloudNow, writer: { ...cloudNow.writer, values: [spec.value] } };
    } else if (spec.kind === 'PromoteReplica') {
      cloudNow = {
        ...cloudNow,
        databases: cloudNow.databases.map((d) =>
          d.id === spec.dbInstanceIdentifier
            ? { ...d, status: 'modifying', backupRetentionPeriod: spec.backupRetentionPeriod }
            : d,
        ),
      };
    }
  }
  // The engine saves the plan's failover state before it runs the actions (policy-engine.ts).
  const { failover: _old, ...rest } = prev;
  return {
    ...rest,
    ...(plan.failover ? { failover: plan.failover } : prev.failover ? { failover: prev.failover } : {}),
    cloud: cloudNow,
    journal: [...prev.journal, ...plan.actions.map((a) => entry(a, state, at))],
    now: at,
  };
}

/**
 * The input as observed again at `now`: a new observation, each replica with a ReplicaLag datapoint of that moment
 * (its value unchanged). Without it a test that jumps minutes ahead sees its lag datapoints go stale (PB-6).
 */
export function observedAt(prev: PlanInput, now: number): PlanInput {
  return {
    ...prev,
    now,
    cloud: {
      ...prev.cloud,
      at: now,
      databases: prev.cloud.databases.map((d) => (d.lagSeconds === undefined ? d : { ...d, lagAt: now })),
    },
  };
}

/** The simulated end of a promotion: the instance is available and no longer replicates. */
export function finishPromotion(prev: PlanInput, id: string): PlanInput {
  return {
    ...prev,
    cloud: {
      ...prev.cloud,
      databases: prev.cloud.databases.map((d) => {
        if (d.id !== id) return d;
        const { replicaSourceId: _source, lagSeconds: _lag, ...rest } = d;
        return { ...rest, status: 'available' };
      }),
    },
  };
}

export function weightsOf(plan: Plan): Record<string, number> | undefined {
  const a = plan.actions.find((x) => x.action.kind === 'SetWeights');
  return a?.action.kind === 'SetWeights' ? a.action.weights : undefined;
}

export function kinds(plan: Plan): string[] {
  return plan.actions.map((a) => a.action.kind);
}
