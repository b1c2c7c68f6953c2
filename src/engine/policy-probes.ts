// Turns a policy's spec.probes into concrete Probe instances, one per zone or region the probe names. The
// scheduler shares identical probes (same key) between policies, so two policies watching the same endpoint cost
// one request per interval.

import type { FailoverPolicy, ProbeSpec } from '../api/index.ts';
import type { Cloud, RegionName, ZoneName } from '../cloud/types.ts';
import type { ApiCallStats } from '../health/api-call-stats.ts';
import type { Probe } from '../health/probe.ts';
import { createAwsApiProbe } from '../health/probe-aws-api.ts';
import { createEc2InstanceStatusProbe, createEc2ZoneStateProbe } from '../health/probe-ec2.ts';
import { createHttpProbe, type FetchLike } from '../health/probe-http.ts';
import { createRdsStatusProbe } from '../health/probe-rds.ts';
import { createTcpProbe } from '../health/probe-tcp.ts';

export interface PolicyProbeDeps {
  cloud: Cloud;
  apiStats: ApiCallStats;
  now: () => number;
  /** Substitute for fetch (the simulation's endpoints); default: the platform fetch. */
  fetch?: FetchLike;
  source?: string;
}

export interface NamedProbe {
  name: string;
  probe: Probe;
}

/** Cloud API probes answer from one regional call; cap them well under the interval so a hang is seen as one. */
const CLOUD_PROBE_TIMEOUT_MS = 10_000;

export function probesForPolicy(policy: FailoverPolicy, deps: PolicyProbeDeps): NamedProbe[] {
  const intervalMs = policy.spec.health.intervalSeconds * 1000;
  const cloudTimeoutMs = Math.min(CLOUD_PROBE_TIMEOUT_MS, Math.max(1000, intervalMs));
  const out: NamedProbe[] = [];
  for (const spec of policy.spec.probes) {
    for (const region of regionsOf(policy, spec)) {
      for (const probe of probesFor(spec, region, policy, deps, cloudTimeoutMs)) out.push({ name: spec.name, probe });
    }
  }
  return out;
}

function regionsOf(policy: FailoverPolicy, spec: ProbeSpec): Array<{ name: RegionName; zones: ZoneName[] }> {
  const wanted = spec.regions;
  return policy.spec.regions
    .filter((r) => wanted === undefined || wanted.includes(r.name))
    .map((r) => ({ name: r.name, zones: [...r.zones] }));
}

function probesFor(
  spec: ProbeSpec,
  region: { name: RegionName; zones: ZoneName[] },
  policy: FailoverPolicy,
  deps: PolicyProbeDeps,
  cloudTimeoutMs: number,
): Probe[] {
  const common = { now: deps.now, ...(deps.source === undefined ? {} : { source: deps.source }) };
  // Zone-scoped probes run once per zone; region-scoped ones once for the region.
  const targets: Array<ZoneName | undefined> = spec.scope === 'Region' ? [undefined] : region.zones;
  const zonePart = (zone: ZoneName | undefined) => (zone === undefined ? {} : { zone });

  if (spec.http) {
    const http = spec.http;
    return targets.map((zone) =>
      createHttpProbe(
        {
          url: http.url,
          region: region.name,
          ...zonePart(zone),
          timeoutMs: http.timeoutSeconds * 1000,
          ...(http.expectStatus === undefined ? {} : { expectStatus: [...http.expectStatus] }),
        },
        { ...common, ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }) },
      ),
    );
  }
  if (spec.tcp) {
    const tcp = spec.tcp;
    return targets.map((zone) =>
      createTcpProbe(
        {
          host: tcp.host,
          port: tcp.port,
          region: region.name,
          ...zonePart(zone),
          timeoutMs: tcp.timeoutSeconds * 1000,
        },
        common,
      ),
    );
  }
  if (spec.ec2) {
    const probes: Probe[] = [];
    if (spec.ec2.zoneState) {
      probes.push(
        createEc2ZoneStateProbe(
          { region: region.name, zones: region.zones, timeoutMs: cloudTimeoutMs },
          { ...common, compute: deps.cloud.compute },
        ),
      );
    }
    if (spec.ec2.instanceStatus) {
      probes.push(
        createEc2InstanceStatusProbe(
          { region: region.name, tagSelector: { ...spec.ec2.instanceStatus.tagSelector }, timeoutMs: cloudTimeoutMs },
          { ...common, compute: deps.cloud.compute },
        ),
      );
    }
    return probes;
  }
  if (spec.rds) {
    // Replica lag is not a health signal of the standby's zones: it gates promotion (PB-6) and is read by the
    // cloud observation instead. Instance status is: a primary that is `failed` or unreachable says a lot.
    const rds = policy.spec.database?.rds;
    if (!rds || !spec.rds.instanceStatus) return [];
    return [rds.primary, ...(rds.replicas ?? [])]
      .filter((db) => db.region === region.name)
      .map((db) =>
        createRdsStatusProbe(
          { instance: db, timeoutMs: cloudTimeoutMs },
          { ...common, databases: deps.cloud.databases },
        ),
      );
  }
  if (spec.awsApiErrors) {
    const api = spec.awsApiErrors;
    return [
      createAwsApiProbe(
        {
          region: region.name,
          zones: region.zones,
          services: [...api.services],
          errorRateThreshold: api.errorRateThreshold,
          ...(api.latencyThresholdMs === undefined ? {} : { latencyThresholdMs: api.latencyThresholdMs }),
          windowMs: api.windowSeconds * 1000,
        },
        { ...common, stats: deps.apiStats },
      ),
    ];
  }
  return [];
}
