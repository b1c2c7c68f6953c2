// RDS probes through the Databases and ReplicaLagReader interfaces.
// - instance status, for the primary and each replica, observed in the instance's zone (or for its region when
//   RDS reports no zone): `available` is ok; so are the statuses of a planned change — backing-up, modifying,
//   rebooting, maintenance, upgrading, configuring-*, … — because the operator's own promotion goes through
//   `modifying` and `rebooting`, and a zone must never look impaired because we promoted a replica in it (that
//   would drain traffic from the very zone we failed over to). The planner reads database status on its own
//   (observe-cloud) and waits for `available` before it relies on an instance. `failed`, `storage-full`,
//   `incompatible-*`, `inaccessible-*` and a missing instance are down; anything else (stopped, …) is degraded.
//   Every result names the instance (`subject`), so the model keeps one streak per instance; a describe call that
//   throws or times out reaches the model as the scheduler's `callFailed` / `timedOut` result: a control-plane
//   error, never evidence that the database is down (health-model.ts rule 7).
// - replica lag: the newest CloudWatch `ReplicaLag` datapoint within maxLagSeconds is ok; over it is degraded (the
//   RPO budget of PB-6 is at risk, the replica is not down). Degraded too, because the number says nothing about
//   the RPO: −1 (RDS: replication is not running), a datapoint older than maxLagAgeSeconds (the policy's
//   database.rds.maxLagAgeSeconds, default 180 s: stale) and no datapoint at all — unless the instance is no
//   longer a replica (it was promoted: a writer has no lag), which one DescribeDBInstances settles. The planner
//   judges the same datapoint on its own (standby-selection.ts judgeLag); this probe only makes it visible.

import type { Databases, DbInstance, RegionName, ReplicaLagReader } from '../cloud/types.ts';
import { OPERATOR_SOURCE, type Probe, type ProbeObservation, stableKey } from './probe.ts';

const STATUS_OK = new Set(['available']);
/** Statuses of a planned change (by us or by AWS maintenance): the instance is fine, only busy. */
const STATUS_CHANGING = new Set([
  'backing-up',
  'modifying',
  'rebooting',
  'maintenance',
  'upgrading',
  'renaming',
  'resetting-master-credentials',
  'storage-optimization',
  'storage-config-upgrade',
  'starting',
  'converting-to-vpc',
  'moving-to-vpc',
]);

export function isChangingStatus(status: string): boolean {
  return STATUS_CHANGING.has(status) || status.startsWith('configuring-');
}

function isDownStatus(status: string): boolean {
  return (
    status === 'failed' ||
    status === 'storage-full' ||
    status.startsWith('incompatible-') ||
    status.startsWith('inaccessible-')
  );
}

export interface RdsInstanceRef {
  region: RegionName;
  dbInstanceIdentifier: string;
}

export function createRdsStatusProbe(
  spec: { instance: RdsInstanceRef; timeoutMs: number },
  deps: { databases: Databases; now: () => number; source?: string },
): Probe {
  const { region, dbInstanceIdentifier: id } = spec.instance;
  const source = deps.source ?? OPERATOR_SOURCE;
  return {
    key: `rds:${stableKey({ region, id, timeoutMs: spec.timeoutMs })}`,
    kind: 'rds',
    region,
    subject: id,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const instance: DbInstance | undefined = await deps.databases.describeInstance(region, id, {
        signal: ctx.signal,
      });
      const at = deps.now();
      const base = { kind: 'rds' as const, region, subject: id, at, latencyMs: Math.round(at - started), source };
      if (!instance) {
        return [{ ...base, ok: false, severity: 'down', detail: `DescribeDBInstances: ${id} not found in ${region}` }];
      }
      const zonePart = instance.zone === undefined ? {} : { zone: instance.zone };
      const role = instance.replicaSourceId === undefined ? 'primary' : 'replica';
      const detail = `DescribeDBInstances: ${role} ${id} status ${instance.status}`;
      const observation: ProbeObservation = STATUS_OK.has(instance.status)
        ? { ...base, ...zonePart, ok: true, detail }
        : isChangingStatus(instance.status)
          ? { ...base, ...zonePart, ok: true, detail: `${detail} (a planned change, not a zone failure)` }
          : { ...base, ...zonePart, ok: false, severity: isDownStatus(instance.status) ? 'down' : 'degraded', detail };
      return [observation];
    },
  };
}

/** database.rds.maxLagAgeSeconds' default (src/api/policy-schema.ts). */
export const DEFAULT_MAX_LAG_AGE_SECONDS = 180;

export function createReplicaLagProbe(
  spec: {
    replica: RdsInstanceRef;
    maxLagSeconds: number;
    timeoutMs: number;
    /** A datapoint older than this is stale (default DEFAULT_MAX_LAG_AGE_SECONDS). */
    maxLagAgeSeconds?: number;
  },
  deps: {
    replicaLag: ReplicaLagReader;
    databases: Pick<Databases, 'describeInstance'>;
    now: () => number;
    source?: string;
  },
): Probe {
  const { region, dbInstanceIdentifier: id } = spec.replica;
  const source = deps.source ?? OPERATOR_SOURCE;
  const maxLagAgeSeconds = spec.maxLagAgeSeconds ?? DEFAULT_MAX_LAG_AGE_SECONDS;
  const { maxLagSeconds, timeoutMs } = spec;
  return {
    key: `replica-lag:${stableKey({ region, id, maxLagSeconds, maxLagAgeSeconds, timeoutMs })}`,
    kind: 'replica-lag',
    region,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const point = await deps.replicaLag.replicaLag(region, id, new Date(started), { signal: ctx.signal });
      const at = deps.now();
      const base = { kind: 'replica-lag' as const, region, at, latencyMs: Math.round(at - started), source };
      const stale = point !== undefined && started - point.at > maxLagAgeSeconds * 1000;
      if (point === undefined || stale || point.seconds < 0) {
        // A promoted instance has no lag (its last datapoints are from before): settled by one describe.
        const instance = await deps.databases.describeInstance(region, id, { signal: ctx.signal });
        if (instance && instance.replicaSourceId === undefined) {
          return [{ ...base, ok: true, detail: `ReplicaLag ${id}: not applicable, ${id} is no longer a replica` }];
        }
        const detail =
          point === undefined
            ? `ReplicaLag ${id}: no recent datapoint`
            : point.seconds < 0
              ? `ReplicaLag ${id}: replication not running (ReplicaLag ${point.seconds})`
              : `ReplicaLag ${id}: stale, the newest datapoint (${point.seconds}s) is ${Math.round((started - point.at) / 1000)}s old, over ${maxLagAgeSeconds}s`;
        return [{ ...base, ok: false, severity: 'degraded', detail }];
      }
      const lag = point.seconds;
      if (lag > spec.maxLagSeconds) {
        return [
          {
            ...base,
            ok: false,
            severity: 'degraded',
            detail: `ReplicaLag ${id}: ${lag}s over budget ${spec.maxLagSeconds}s`,
          },
        ];
      }
      return [{ ...base, ok: true, detail: `ReplicaLag ${id}: ${lag}s within ${spec.maxLagSeconds}s` }];
    },
  };
}
