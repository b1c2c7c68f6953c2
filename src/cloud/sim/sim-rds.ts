// Simulated RDS: instances with region, zone, status, replica source and endpoint; replica lag per replica
// (settable, may grow or shrink over time); and the slow, multi-step operations whose timing matters to RTO:
// - PromoteReadReplica (AWS-FACTS.md): refused with InvalidDBInstanceState unless the replica is `available`
//   (notably while `backing-up`); otherwise `modifying` → `rebooting` → `available` over minutes (default 1 + 3),
//   after which it has no source: a standalone, writable primary. Replication stops at the first step.
// - RebootDBInstance: `rebooting` for a minute (ten when Multi-AZ failover is slow in the region, as in 2011).
// - CreateDBSnapshot: `backing-up` for a few minutes — why mass "just in case" backups block promotions (PB-8).
// Data-plane reachability (connectivity, IO latency) is kept per instance for simulated database probes.
// CloudWatch `ReplicaLag` as the reader sees it (setLagMetric): −1 while replication is stopped (as RDS reports
// it); a metric that lags `delaySeconds` behind (the newest datapoint is always that old); or one that stopped
// being published (the newest datapoint stays the one from when it stopped, and ages). Like the AWS reader, a
// datapoint older than its look-back window (LAG_METRIC_WINDOW_MS) is not returned at all.

import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.ts';
import type { CallOptions, Databases, DbInstance, RegionName, ReplicaLagReader, ZoneName } from '../types.ts';
import { type SimCallContext, simCall, simError } from './sim-call.ts';
import type { CallScope } from './sim-call-log.ts';

export interface SimDbSpec {
  region: RegionName;
  id: string;
  zone?: ZoneName;
  /** Source id (or ARN, as AWS reports cross-region sources): makes this a read replica. */
  replicaSourceId?: string;
  status?: string;
  backupRetentionPeriod?: number;
  multiAz?: boolean;
  endpoint?: string;
  /** Initial replica lag (seconds) for a replica. Default 1. */
  lagSeconds?: number;
}

export interface SimLagMetric {
  /** Replication is not running: RDS reports ReplicaLag −1. */
  replicationStopped?: boolean;
  /** The newest datapoint is this many seconds old (CloudWatch lagging behind). */
  delaySeconds?: number;
  /** false: no new datapoints from now on (the last one ages); true: publishing again. */
  published?: boolean;
}

/** How far back the simulated reader finds a datapoint: the AWS reader's default window (cloudwatch.ts). */
export const LAG_METRIC_WINDOW_MS = 3_900_000;

export interface SimRdsOptions {
  promotion?: { modifyingMs?: number; rebootingMs?: number };
  rebootMs?: number;
  /** Reboot time of a Multi-AZ instance while failovers are slow in its region. */
  slowRebootMs?: number;
  snapshotMs?: number;
}

export interface DbConnectivity {
  reachable: boolean;
  /** Added IO latency of queries (ms). */
  ioLatencyMs: number;
  /** Share of queries that fail while degraded (0..1). */
  errorRate: number;
}

export interface SimDbSnapshot {
  id: string;
  region: RegionName;
  dbInstanceId: string;
  createdAt: number;
}

export interface SimRds extends Databases {
  addInstance(spec: SimDbSpec): void;
  /** Snapshot of every instance (copies), region then id order. */
  instances(): DbInstance[];
  instance(region: RegionName, id: string): DbInstance | undefined;
  setStatus(region: RegionName, id: string, status: string): void;
  /** Sets the lag now; it then changes by `growthPerSecond` per second of clock time (never below 0). */
  setReplicaLag(region: RegionName, id: string, seconds: number, growthPerSecond?: number): void;
  /**
   * How CloudWatch reports the replica's lag: `replicationStopped` publishes −1 (RDS: replication not running);
   * `delaySeconds` makes the newest datapoint that old (a metric that lags behind); `published: false` stops
   * publishing now: the newest datapoint stays the current one and grows old (`true` resumes).
   */
  setLagMetric(region: RegionName, id: string, metric: SimLagMetric): void;
  /** Current lag of a replica (undefined for a primary or unknown instance). */
  lagSeconds(region: RegionName, id: string, at?: number): number | undefined;
  setConnectivity(region: RegionName, id: string, connectivity: Partial<DbConnectivity>): void;
  connectivity(region: RegionName, id: string): DbConnectivity | undefined;
  /** `slow`: Multi-AZ failovers (reboots with failover) take much longer in the region (2011). */
  setMultiAzFailover(region: RegionName, mode: 'ok' | 'slow'): void;
  /** Instances that accept writes: no replication source and not failed. Reachable or not: an unreachable old
   *  primary is still a writer the moment it comes back, which is why PB-7 fences it from traffic. */
  writableInstances(): DbInstance[];
  snapshots(): readonly SimDbSnapshot[];
}

interface DbState {
  db: DbInstance;
  lag?: { base: number; growthPerSecond: number; setAt: number };
  lagMetric?: { replicationStopped?: boolean; delaySeconds?: number };
  /** Set while the metric is not published: the last datapoint before it stopped (or none). */
  lastPublished?: { seconds: number; at: number } | null;
  connectivity: DbConnectivity;
  /** Bumped on every status change, so a stale background transition does not overwrite a newer one. */
  generation: number;
}

const NOT_WRITABLE = new Set(['failed', 'creating', 'deleting', 'stopped', 'incompatible-restore']);

export function createSimRds(
  ctx: SimCallContext,
  options: SimRdsOptions = {},
): SimRds & { replicaLag: ReplicaLagReader } {
  const clock: Clock = ctx.clock;
  const modifyingMs = options.promotion?.modifyingMs ?? 60_000;
  const rebootingMs = options.promotion?.rebootingMs ?? 180_000;
  const rebootMs = options.rebootMs ?? 60_000;
  const slowRebootMs = options.slowRebootMs ?? 600_000;
  const snapshotMs = options.snapshotMs ?? 180_000;
  const states = new Map<string, DbState>();
  const slowFailover = new Set<RegionName>();
  const snapshots: SimDbSnapshot[] = [];

  const key = (region: RegionName, id: string) => `${region}/${id}`;

  function scopeFor(operation: string, region: RegionName, id: string): CallScope {
    const zone = states.get(key(region, id))?.db.zone;
    return { service: 'rds', operation, region, target: id, ...(zone ? { zone } : {}) };
  }

  function stateOf(s: CallScope, region: RegionName, id: string): DbState {
    const state = states.get(key(region, id));
    if (!state) throw simError(s, 'not-found', 'DBInstanceNotFound', `DBInstance ${id} not found in ${region}`);
    return state;
  }

  function setStatusNow(state: DbState, status: string): void {
    state.db.status = status;
    state.generation++;
  }

  /** Runs `steps` in the background on the clock; abandons them if someone else changed the status meanwhile. */
  function transition(state: DbState, steps: Array<{ afterMs: number; apply: () => void }>): void {
    void (async () => {
      for (const step of steps) {
        const generation = state.generation;
        await clock.sleep(step.afterMs);
        if (state.generation !== generation) return;
        step.apply();
      }
    })();
  }

  function lagAt(state: DbState, at: number): number | undefined {
    if (state.db.replicaSourceId === undefined || !state.lag) return undefined;
    const { base, growthPerSecond, setAt } = state.lag;
    return Math.max(0, base + (growthPerSecond * (at - setAt)) / 1000);
  }

  /** The newest datapoint CloudWatch would return at `now`: delayed by the metric delay, −1 while replication is off. */
  function datapointAt(state: DbState, now: number): { seconds: number; at: number } | undefined {
    const point = state.lastPublished === undefined ? publishedAt(state, now) : state.lastPublished;
    return point && now - point.at <= LAG_METRIC_WINDOW_MS ? { ...point } : undefined;
  }

  function publishedAt(state: DbState, now: number): { seconds: number; at: number } | undefined {
    const at = now - (state.lagMetric?.delaySeconds ?? 0) * 1000;
    if (state.lagMetric?.replicationStopped && state.db.replicaSourceId !== undefined) return { seconds: -1, at };
    const seconds = lagAt(state, at);
    return seconds === undefined ? undefined : { seconds, at };
  }

  function requireState(region: RegionName, id: string): DbState {
    const state = states.get(key(region, id));
    if (!state) throw new Error(`simulated RDS has no instance ${id} in ${region}`);
    return state;
  }

  // Each instance added is a new incarnation with its own DbiResourceId (`db-` and 26 characters, as RDS names them),
  // stable for a given topology: the same instance added again (re-created) gets a new one.
  let incarnations = 0;
  const resourceIdFor = (region: RegionName, id: string) =>
    `db-${createHash('sha256')
      .update(`${region}/${id}/${++incarnations}`)
      .digest('base64url')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 26)
      .toUpperCase()}`;

  const rds: SimRds & { replicaLag: ReplicaLagReader } = {
    addInstance(spec) {
      const db: DbInstance = {
        region: spec.region,
        id: spec.id,
        arn: `arn:aws:rds:${spec.region}:000000000000:db:${spec.id}`,
        resourceId: resourceIdFor(spec.region, spec.id),
        status: spec.status ?? 'available',
        endpoint: spec.endpoint ?? `${spec.id}.csim0000.${spec.region}.rds.amazonaws.com`,
        backupRetentionPeriod: spec.backupRetentionPeriod ?? (spec.replicaSourceId ? 0 : 7),
        multiAz: spec.multiAz ?? false,
        ...(spec.zone ? { zone: spec.zone } : {}),
        ...(spec.replicaSourceId ? { replicaSourceId: spec.replicaSourceId } : {}),
      };
      const state: DbState = {
        db,
        connectivity: { reachable: true, ioLatencyMs: 0, errorRate: 0 },
        generation: 0,
      };
      if (spec.replicaSourceId) state.lag = { base: spec.lagSeconds ?? 1, growthPerSecond: 0, setAt: clock.now() };
      states.set(key(spec.region, spec.id), state);
    },

    instances: () =>
      [...states.values()]
        .map((s) => ({ ...s.db }))
        .sort((a, b) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id)),

    instance: (region, id) => {
      const state = states.get(key(region, id));
      return state ? { ...state.db } : undefined;
    },

    setStatus(region, id, status) {
      setStatusNow(requireState(region, id), status);
    },

    setReplicaLag(region, id, seconds, growthPerSecond = 0) {
      requireState(region, id).lag = { base: seconds, growthPerSecond, setAt: clock.now() };
    },

    setLagMetric(region, id, metric) {
      const state = requireState(region, id);
      const { published, ...rest } = metric;
      state.lagMetric = { ...state.lagMetric, ...rest };
      if (published === false && state.lastPublished === undefined) {
        state.lastPublished = publishedAt(state, clock.now()) ?? null;
      }
      if (published === true) delete state.lastPublished;
    },

    lagSeconds(region, id, at = clock.now()) {
      const state = states.get(key(region, id));
      return state ? lagAt(state, at) : undefined;
    },

    setConnectivity(region, id, connectivity) {
      const state = requireState(region, id);
      state.connectivity = { ...state.connectivity, ...connectivity };
    },

    connectivity: (region, id) => {
      const state = states.get(key(region, id));
      return state ? { ...state.connectivity } : undefined;
    },

    setMultiAzFailover(region, mode) {
      if (mode === 'slow') slowFailover.add(region);
      else slowFailover.delete(region);
    },

    writableInstances: () =>
      rds.instances().filter((db) => db.replicaSourceId === undefined && !NOT_WRITABLE.has(db.status)),

    snapshots: () => snapshots,

    describeInstance(region, id, opts?: CallOptions) {
      return simCall(ctx, scopeFor('DescribeDBInstances', region, id), opts, () => {
        const state = states.get(key(region, id));
        return state ? { ...state.db } : undefined;
      });
    },

    promoteReadReplica(region, id, backupRetentionPeriod, opts?: CallOptions) {
      const s = scopeFor('PromoteReadReplica', region, id);
      return simCall(ctx, s, opts, () => {
        const state = stateOf(s, region, id);
        if (state.db.replicaSourceId === undefined) {
          // Same code AWS uses; not worth retrying: the instance is already a standalone primary.
          throw simError(s, 'terminal', 'InvalidDBInstanceState', `DB instance ${id} is not a read replica`);
        }
        if (state.db.status !== 'available') {
          throw simError(
            s,
            'busy',
            'InvalidDBInstanceState',
            `DB instance ${id} is not in available state (it is ${state.db.status}); cannot promote now`,
          );
        }
        setStatusNow(state, 'modifying');
        transition(state, [
          {
            afterMs: modifyingMs,
            apply: () => {
              // Replication stops and the replica reboots as a standalone instance.
              delete state.db.replicaSourceId;
              delete state.lag;
              delete state.lagMetric;
              delete state.lastPublished;
              state.db.backupRetentionPeriod = backupRetentionPeriod;
              setStatusNow(state, 'rebooting');
            },
          },
          { afterMs: rebootingMs, apply: () => setStatusNow(state, 'available') },
        ]);
      });
    },

    rebootInstance(region, id, opts?: CallOptions) {
      const s = scopeFor('RebootDBInstance', region, id);
      return simCall(ctx, s, opts, () => {
        const state = stateOf(s, region, id);
        if (state.db.status !== 'available') {
          throw simError(
            s,
            'busy',
            'InvalidDBInstanceState',
            `DB instance ${id} is ${state.db.status}; cannot reboot now`,
          );
        }
        setStatusNow(state, 'rebooting');
        const ms = state.db.multiAz && slowFailover.has(region) ? slowRebootMs : rebootMs;
        transition(state, [{ afterMs: ms, apply: () => setStatusNow(state, 'available') }]);
      });
    },

    createSnapshot(region, id, snapshotId, opts?: CallOptions) {
      const s = scopeFor('CreateDBSnapshot', region, id);
      return simCall(ctx, s, opts, () => {
        const state = stateOf(s, region, id);
        if (snapshots.some((snap) => snap.id === snapshotId && snap.region === region)) {
          throw simError(s, 'terminal', 'DBSnapshotAlreadyExists', `DB snapshot ${snapshotId} already exists`);
        }
        if (state.db.status !== 'available') {
          throw simError(
            s,
            'busy',
            'InvalidDBInstanceState',
            `DB instance ${id} is ${state.db.status}; cannot snapshot now`,
          );
        }
        snapshots.push({ id: snapshotId, region, dbInstanceId: id, createdAt: clock.now() });
        setStatusNow(state, 'backing-up');
        transition(state, [{ afterMs: snapshotMs, apply: () => setStatusNow(state, 'available') }]);
      });
    },

    replicaLag: {
      replicaLag(region, dbInstanceId, now, opts?: CallOptions) {
        const zone = states.get(key(region, dbInstanceId))?.db.zone;
        const s: CallScope = {
          service: 'cloudwatch',
          operation: 'GetMetricStatistics',
          region,
          target: dbInstanceId,
          ...(zone ? { zone } : {}),
        };
        return simCall(ctx, s, opts, () => {
          const state = states.get(key(region, dbInstanceId));
          return state ? datapointAt(state, now.getTime()) : undefined;
        });
      },
    },
  };
  return rds;
}
