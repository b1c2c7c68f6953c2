// EC2 probes through the Compute interface (never the SDK directly):
// - zone state: one DescribeAvailabilityZones per region reports every zone. `available` (and `information`,
//   which only carries a notice) is ok; `constrained` is degraded; `impaired` / `unavailable` is down, and the
//   health model treats that `down` as authoritative (AWS itself says the zone is impaired). A zone the policy
//   names but EC2 does not report is degraded: we cannot see it.
// - instance status: DescribeInstanceStatus of the instances selected by tags, grouped by zone. A zone whose
//   running instances all fail a status check is down; some failing is degraded. Zones with no selected
//   instances produce no observation (no evidence either way).
// Both are region-wide probes: when the AWS call itself fails, the scheduler records a region-wide `down`. So each
// successful run also reports a region-wide `ok` ("the call answered"): without it a region whose EC2 API failed
// once would keep that failure for good, since later runs only speak about zones.

import type { Compute, InstanceHealth, RegionName, ZoneName } from '../cloud/types.ts';
import { OPERATOR_SOURCE, type Probe, type ProbeObservation, stableKey } from './probe.ts';

const ZONE_STATE_OK = new Set(['available', 'information']);
const ZONE_STATE_DOWN = new Set(['impaired', 'unavailable']);

export interface Ec2ZoneStateProbeSpec {
  region: RegionName;
  /** The zones the policy names; each gets one observation per run. */
  zones: ZoneName[];
  timeoutMs: number;
}

export function createEc2ZoneStateProbe(
  spec: Ec2ZoneStateProbeSpec,
  deps: { compute: Compute; now: () => number; source?: string },
): Probe {
  const source = deps.source ?? OPERATOR_SOURCE;
  const zones = [...spec.zones].sort();
  return {
    key: `ec2-zone:${stableKey({ region: spec.region, zones, timeoutMs: spec.timeoutMs })}`,
    kind: 'ec2-zone',
    region: spec.region,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const reported = await deps.compute.describeZones(spec.region, { signal: ctx.signal });
      const at = deps.now();
      const byName = new Map(reported.map((z) => [z.name, z]));
      const answered = callAnswered('ec2-zone', spec.region, at, started, source, 'DescribeAvailabilityZones');
      const perZone = zones.map((zone): ProbeObservation => {
        const base = {
          kind: 'ec2-zone' as const,
          region: spec.region,
          zone,
          at,
          latencyMs: Math.round(at - started),
          source,
        };
        const status = byName.get(zone);
        if (!status) {
          return {
            ...base,
            ok: false,
            severity: 'degraded',
            detail: `DescribeAvailabilityZones: ${zone} not reported`,
          };
        }
        const messages = status.messages.length > 0 ? ` (${status.messages.join('; ')})` : '';
        const detail = `DescribeAvailabilityZones: ${zone} state ${status.state}${messages}`;
        if (ZONE_STATE_OK.has(status.state)) return { ...base, ok: true, detail };
        return { ...base, ok: false, severity: ZONE_STATE_DOWN.has(status.state) ? 'down' : 'degraded', detail };
      });
      return [...perZone, answered];
    },
  };
}

export interface Ec2InstanceStatusProbeSpec {
  region: RegionName;
  tagSelector: Record<string, string>;
  timeoutMs: number;
}

/** A status check counts as failed only when EC2 says `impaired`; initializing / insufficient-data is no verdict. */
function isImpaired(i: InstanceHealth): boolean {
  return i.systemStatus === 'impaired' || i.instanceStatus === 'impaired';
}

export function createEc2InstanceStatusProbe(
  spec: Ec2InstanceStatusProbeSpec,
  deps: { compute: Compute; now: () => number; source?: string },
): Probe {
  const source = deps.source ?? OPERATOR_SOURCE;
  const selector = Object.entries(spec.tagSelector)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
  return {
    key: `ec2-instances:${stableKey({ region: spec.region, tagSelector: spec.tagSelector, timeoutMs: spec.timeoutMs })}`,
    kind: 'ec2-instances',
    region: spec.region,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const instances = await deps.compute.describeInstanceHealth(spec.region, spec.tagSelector, {
        signal: ctx.signal,
      });
      const at = deps.now();
      const byZone = new Map<ZoneName, InstanceHealth[]>();
      for (const i of instances) {
        if (i.state !== 'running') continue;
        const list = byZone.get(i.zone) ?? [];
        list.push(i);
        byZone.set(i.zone, list);
      }
      const answered = callAnswered('ec2-instances', spec.region, at, started, source, 'DescribeInstanceStatus');
      const perZone = [...byZone.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([zone, list]): ProbeObservation => {
          const impaired = list.filter(isImpaired).map((i) => i.id);
          const base = {
            kind: 'ec2-instances' as const,
            region: spec.region,
            zone,
            at,
            latencyMs: Math.round(at - started),
            source,
          };
          const counts = `${list.length - impaired.length}/${list.length} instances [${selector}] pass status checks`;
          if (impaired.length === 0) return { ...base, ok: true, detail: `DescribeInstanceStatus: ${counts}` };
          return {
            ...base,
            ok: false,
            severity: impaired.length === list.length ? 'down' : 'degraded',
            detail: `DescribeInstanceStatus: ${counts}; impaired: ${impaired.join(', ')}`,
          };
        });
      return [...perZone, answered];
    },
  };
}

/** The region-wide result of a region-wide probe whose AWS call answered (see the header). */
function callAnswered(
  kind: 'ec2-zone' | 'ec2-instances',
  region: RegionName,
  at: number,
  started: number,
  source: string,
  operation: string,
): ProbeObservation {
  return { kind, region, at, latencyMs: Math.round(at - started), source, ok: true, detail: `${operation} answered` };
}
