// RDS probes through the Databases and ReplicaLagReader interfaces.
// - instance status, for the primary and each replica, observed in the instance's zone (or for its region when
//   RDS reports no zone): `available` / `backing-up` are ok; `rebooting`, `failed`, `storage-full`,
//   `incompatible-*`, `inaccessible-*` and a missing instance are down; anything else (modifying, maintenance, ...)
//   is degraded — the instance exists but is not plainly serving.
// - replica lag: CloudWatch `ReplicaLag` within maxLagSeconds is ok; over it, or no recent datapoint, is degraded
//   (the RPO budget of PB-6 is at risk, the replica is not down).

import type { Databases, DbInstance, RegionName, ReplicaLagReader } from '../cloud/types.ts';
import { OPERATOR_SOURCE, type Probe, type ProbeObservation, stableKey } from './probe.ts';

const STATUS_OK = new Set(['available', 'backing-up']);

function isDownStatus(status: string): boolean {
  return (
    status === 'rebooting' ||
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
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const instance: DbInstance | undefined = await deps.databases.describeInstance(region, id, {
        signal: ctx.signal,
      });
      const at = deps.now();
      const base = { kind: 'rds' as const, region, at, latencyMs: Math.round(at - started), source };
      if (!instance) {
        return [{ ...base, ok: false, severity: 'down', detail: `DescribeDBInstances: ${id} not found in ${region}` }];
      }
      const zonePart = instance.zone === undefined ? {} : { zone: instance.zone };
      const role = instance.replicaSourceId === undefined ? 'primary' : 'replica';
      const detail = `DescribeDBInstances: ${role} ${id} status ${instance.status}`;
      const observation: ProbeObservation = STATUS_OK.has(instance.status)
        ? { ...base, ...zonePart, ok: true, detail }
        : { ...base, ...zonePart, ok: false, severity: isDownStatus(instance.status) ? 'down' : 'degraded', detail };
      return [observation];
    },
  };
}

export function createReplicaLagProbe(
  spec: { replica: RdsInstanceRef; maxLagSeconds: number; timeoutMs: number },
  deps: { replicaLag: ReplicaLagReader; now: () => number; source?: string },
): Probe {
  const { region, dbInstanceIdentifier: id } = spec.replica;
  const source = deps.source ?? OPERATOR_SOURCE;
  return {
    key: `replica-lag:${stableKey({ region, id, maxLagSeconds: spec.maxLagSeconds, timeoutMs: spec.timeoutMs })}`,
    kind: 'replica-lag',
    region,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const lag = await deps.replicaLag.replicaLagSeconds(region, id, new Date(started), { signal: ctx.signal });
      const at = deps.now();
      const base = { kind: 'replica-lag' as const, region, at, latencyMs: Math.round(at - started), source };
      if (lag === undefined) {
        return [{ ...base, ok: false, severity: 'degraded', detail: `ReplicaLag ${id}: no recent datapoint` }];
      }
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
