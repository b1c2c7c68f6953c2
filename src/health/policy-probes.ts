// From a FailoverPolicy spec to what the health layer runs: the model's settings and one Probe per target.
// Each probe spec runs per zone (scope Zone, the default) or per region (scope Region), over the policy's regions
// or the ones it lists; EC2 / RDS / control-plane probes are per region by nature (one AWS call reports every
// zone). Probe keys are the resolved targets, so two policies naming the same endpoint share one probe in the
// scheduler.

import type { FailoverPolicySpec, ProbeSpec } from '../api/index.ts';
import type { Cloud } from '../cloud/types.ts';
import type { ApiCallStats } from './api-call-stats.ts';
import { type HealthSettings, type HealthTopology, resolveHealthSettings } from './health-model.ts';
import type { Probe } from './probe.ts';
import { createAwsApiProbe } from './probe-aws-api.ts';
import { createEc2InstanceStatusProbe, createEc2ZoneStateProbe } from './probe-ec2.ts';
import { createHttpProbe, type FetchLike } from './probe-http.ts';
import { createRdsStatusProbe, createReplicaLagProbe } from './probe-rds.ts';
import { createRdsConnectProbe, createTcpDatabaseConnector, type DatabaseConnector } from './probe-rds-connect.ts';
import { createTcpProbe } from './probe-tcp.ts';

/** The model's settings from `spec.health`; the model's own knobs (quorum, …) keep their defaults. */
export function healthSettingsFromPolicy(spec: Pick<FailoverPolicySpec, 'health'>): HealthSettings {
  return resolveHealthSettings(spec.health);
}

/** The zones and regions the model tracks, with the writer's zone when the caller knows it. */
export function healthTopologyFromPolicy(
  spec: Pick<FailoverPolicySpec, 'regions'>,
  writerZone?: HealthTopology['writerZone'],
): HealthTopology {
  return {
    regions: spec.regions.map((r) => ({ name: r.name, zones: [...r.zones] })),
    ...(writerZone ? { writerZone } : {}),
  };
}

export interface PolicyProbeDeps {
  now: () => number;
  /** Needed by ec2 and rds probes. */
  cloud?: Pick<Cloud, 'compute' | 'databases' | 'replicaLag'>;
  /** Needed by awsApiErrors probes. */
  apiCallStats?: ApiCallStats;
  /** Default: global fetch. The simulation substitutes its endpoints here. */
  fetch?: FetchLike;
  /**
   * How `rds.connect` probes reach a database. Default: DescribeDBInstances for the endpoint (cached), then a TCP
   * connect. The simulation substitutes its databases here.
   */
  connectDatabase?: DatabaseConnector;
  source?: string;
}

export interface PolicyProbe {
  /** The policy's probe name (ProbeResult.probe). */
  name: string;
  probe: Probe;
}

/** Timeout for AWS describe calls: within one interval, and never more than 10 s. */
function awsTimeoutMs(intervalMs: number): number {
  return Math.min(intervalMs, 10_000);
}

export function probesForPolicy(
  spec: Pick<FailoverPolicySpec, 'regions' | 'probes' | 'health' | 'database'>,
  deps: PolicyProbeDeps,
): PolicyProbe[] {
  const settings = healthSettingsFromPolicy(spec);
  const out: PolicyProbe[] = [];
  const common = { now: deps.now, ...(deps.source ? { source: deps.source } : {}) };
  const needCloud = (p: ProbeSpec) => {
    if (!deps.cloud) throw new Error(`probe ${p.name}: needs the cloud adapters (ec2/rds), none were given`);
    return deps.cloud;
  };

  for (const [index, p] of spec.probes.entries()) {
    const regions = spec.regions.filter((r) => !p.regions || p.regions.includes(r.name));
    const perZone = (p.scope ?? 'Zone') === 'Zone';
    const targets = regions.flatMap((r) =>
      perZone ? r.zones.map((zone) => ({ region: r.name, zone })) : [{ region: r.name }],
    );
    const add = (probe: Probe) => out.push({ name: p.name, probe });

    if (p.http) {
      for (const t of targets) {
        add(
          createHttpProbe(
            {
              url: p.http.url,
              ...t,
              timeoutMs: p.http.timeoutSeconds * 1000,
              ...(p.http.expectStatus ? { expectStatus: p.http.expectStatus } : {}),
              allowLinkLocal: p.http.allowLinkLocal ?? false,
              optInField: `spec.probes[${index}].http.allowLinkLocal`,
            },
            { ...common, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
          ),
        );
      }
    }
    if (p.tcp) {
      for (const t of targets) {
        add(
          createTcpProbe(
            {
              host: p.tcp.host,
              port: p.tcp.port,
              ...t,
              timeoutMs: p.tcp.timeoutSeconds * 1000,
              allowLinkLocal: p.tcp.allowLinkLocal ?? false,
              optInField: `spec.probes[${index}].tcp.allowLinkLocal`,
            },
            common,
          ),
        );
      }
    }
    if (p.ec2) {
      const { compute } = needCloud(p);
      for (const r of regions) {
        const timeoutMs = awsTimeoutMs(settings.intervalMs);
        if (p.ec2.zoneState ?? true) {
          add(createEc2ZoneStateProbe({ region: r.name, zones: r.zones, timeoutMs }, { ...common, compute }));
        }
        if (p.ec2.instanceStatus) {
          add(
            createEc2InstanceStatusProbe(
              { region: r.name, tagSelector: p.ec2.instanceStatus.tagSelector, timeoutMs },
              { ...common, compute },
            ),
          );
        }
      }
    }
    if (p.rds) {
      const rds = spec.database?.rds;
      if (!rds) throw new Error(`probe ${p.name}: an rds probe needs spec.database.rds`);
      const { databases, replicaLag } = needCloud(p);
      const inScope = (region: string) => regions.some((r) => r.name === region);
      const timeoutMs = awsTimeoutMs(settings.intervalMs);
      const instances = [rds.primary, ...(rds.replicas ?? [])].filter((i) => inScope(i.region));
      if (p.rds.instanceStatus ?? true) {
        for (const instance of instances) add(createRdsStatusProbe({ instance, timeoutMs }, { ...common, databases }));
      }
      if (p.rds.connect ?? false) {
        const connect = deps.connectDatabase ?? createTcpDatabaseConnector({ databases, now: deps.now });
        for (const instance of instances) add(createRdsConnectProbe({ instance, timeoutMs }, { ...common, connect }));
      }
      if (p.rds.replicaLag ?? true) {
        for (const replica of (rds.replicas ?? []).filter((i) => inScope(i.region))) {
          add(
            createReplicaLagProbe(
              {
                replica,
                maxLagSeconds: rds.maxLagSeconds ?? 30,
                maxLagAgeSeconds: rds.maxLagAgeSeconds ?? 180,
                timeoutMs,
              },
              { ...common, replicaLag, databases },
            ),
          );
        }
      }
    }
    if (p.awsApiErrors) {
      const stats = deps.apiCallStats;
      if (!stats) throw new Error(`probe ${p.name}: an awsApiErrors probe needs the API call stats`);
      for (const r of regions) {
        add(
          createAwsApiProbe(
            {
              region: r.name,
              zones: perZone ? r.zones : [],
              services: p.awsApiErrors.services,
              errorRateThreshold: p.awsApiErrors.errorRateThreshold ?? 0.2,
              ...(p.awsApiErrors.latencyThresholdMs !== undefined
                ? { latencyThresholdMs: p.awsApiErrors.latencyThresholdMs }
                : {}),
              windowMs: (p.awsApiErrors.windowSeconds ?? 60) * 1000,
            },
            { ...common, stats },
          ),
        );
      }
    }
  }
  return out;
}
