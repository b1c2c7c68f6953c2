// What the simulated cloud starts with: regions and zones, hosted zones and records, databases, instances, launch
// templates and snapshots. `topologyFromPolicy` builds one that matches a FailoverPolicy (so `simulate` needs no
// hand-written cloud); `defaultTopology` is the one the built-in scenarios are written for.

import type { DnsRecord, RegionName, ZoneName } from '../types.ts';
import type { SimHostedZoneSpec } from './sim-dns.ts';
import type { SimInstanceSpec, SimSnapshotSpec, SimVolumeSpec } from './sim-ec2.ts';
import type { SimDbSpec } from './sim-rds.ts';

export interface SimTopology {
  regions: Array<{ name: RegionName; zones: ZoneName[] }>;
  hostedZones?: SimHostedZoneSpec[];
  databases?: SimDbSpec[];
  instances?: SimInstanceSpec[];
  launchTemplates?: Array<{ id: string; tags: Record<string, string> }>;
  snapshots?: SimSnapshotSpec[];
  /** Tagged data volumes (compute.ec2.restoreVolumesFromSnapshots); none unless a test or scenario adds them. */
  volumes?: SimVolumeSpec[];
}

/**
 * The few policy fields a topology needs (DESIGN.md names), so this module does not depend on the whole API
 * package. A validated FailoverPolicy spec fits.
 */
export interface SimPolicyShape {
  regions: Array<{ name: RegionName; role?: string; zones: ZoneName[] }>;
  probes?: Array<{ ec2?: { instanceStatus?: { tagSelector?: Record<string, string> } } }>;
  traffic?: {
    route53?: {
      hostedZoneId: string;
      recordName: string;
      type: string;
      records: Array<{ setIdentifier: string; zone?: ZoneName; region?: RegionName; weight: number }>;
      writerRecord?: { recordName: string; type: string; ttl?: number };
    };
  };
  database?: {
    rds?: {
      primary: { region: RegionName; dbInstanceIdentifier: string };
      replicas?: Array<{ region: RegionName; dbInstanceIdentifier: string }>;
    };
  };
  compute?: { ec2?: { replaceInHealthyZones?: { launchTemplate: string; minHealthyInstances?: number } } };
}

export interface TopologyOptions {
  /** Instances per zone of the primary region, tagged with the policy's ec2 tag selector. Default 2. */
  instancesPerZone?: number;
  /** Initial lag of every replica (seconds). Default 2. */
  replicaLagSeconds?: number;
}

/** A deterministic value for a zone's or region's record: A/AAAA get a private address, others a hostname. */
function recordValue(type: string, target: string, index: number): string {
  if (type.toUpperCase() === 'A') return `10.0.${index}.10`;
  if (type.toUpperCase() === 'AAAA') return `fd00::${index + 1}:10`;
  return `lb-${target}.example.com`;
}

export function topologyFromPolicy(spec: SimPolicyShape, options: TopologyOptions = {}): SimTopology {
  const perZone = options.instancesPerZone ?? 2;
  const regions = spec.regions.map((r) => ({ name: r.name, zones: [...r.zones] }));
  const primaryRegion = spec.regions.find((r) => r.role === 'primary') ?? spec.regions[0];
  const topology: SimTopology = {
    regions,
    hostedZones: [],
    databases: [],
    instances: [],
    launchTemplates: [],
    snapshots: [],
  };

  const tags = spec.probes?.find((p) => p.ec2?.instanceStatus?.tagSelector)?.ec2?.instanceStatus?.tagSelector ?? {
    app: 'service',
  };
  if (primaryRegion) {
    for (const zone of primaryRegion.zones)
      topology.instances!.push({ region: primaryRegion.name, zone, tags, count: perZone });
    topology.snapshots!.push({ id: 'snap-0sim0000000000001', region: primaryRegion.name, tags });
  }
  const template = spec.compute?.ec2?.replaceInHealthyZones?.launchTemplate;
  if (template) topology.launchTemplates!.push({ id: template, tags });

  const rds = spec.database?.rds;
  if (rds) {
    const primaryZone = spec.regions.find((r) => r.name === rds.primary.region)?.zones[0];
    topology.databases!.push({
      region: rds.primary.region,
      id: rds.primary.dbInstanceIdentifier,
      ...(primaryZone ? { zone: primaryZone } : {}),
      multiAz: true,
    });
    for (const replica of rds.replicas ?? []) {
      const zone = spec.regions.find((r) => r.name === replica.region)?.zones[0];
      const sourceArn = `arn:aws:rds:${rds.primary.region}:000000000000:db:${rds.primary.dbInstanceIdentifier}`;
      topology.databases!.push({
        region: replica.region,
        id: replica.dbInstanceIdentifier,
        ...(zone ? { zone } : {}),
        // AWS reports a cross-region source by ARN, a same-region one by identifier.
        replicaSourceId: replica.region === rds.primary.region ? rds.primary.dbInstanceIdentifier : sourceArn,
        lagSeconds: options.replicaLagSeconds ?? 2,
      });
    }
  }

  const r53 = spec.traffic?.route53;
  if (r53) {
    const records: DnsRecord[] = r53.records.map((r, i) => ({
      name: r53.recordName,
      type: r53.type,
      ttl: 60,
      values: [recordValue(r53.type, r.zone ?? r.region ?? r.setIdentifier, i)],
      setIdentifier: r.setIdentifier,
      weight: r.weight,
    }));
    if (r53.writerRecord && rds) {
      records.push({
        name: r53.writerRecord.recordName,
        type: r53.writerRecord.type,
        ttl: r53.writerRecord.ttl ?? 30,
        values: [`${rds.primary.dbInstanceIdentifier}.csim0000.${rds.primary.region}.rds.amazonaws.com`],
      });
    }
    topology.hostedZones!.push({ id: r53.hostedZoneId, records });
  }
  return topology;
}

/** The policy the built-in scenarios are written for: us-east-1 (a, b, c) primary, us-west-2 (a, b) standby. */
export const DEFAULT_POLICY_SHAPE: SimPolicyShape = {
  regions: [
    { name: 'us-east-1', role: 'primary', zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
    { name: 'us-west-2', role: 'standby', zones: ['us-west-2a', 'us-west-2b'] },
  ],
  probes: [{ ec2: { instanceStatus: { tagSelector: { app: 'checkout' } } } }],
  traffic: {
    route53: {
      hostedZoneId: 'Z0123456789',
      recordName: 'api.example.com.',
      type: 'A',
      records: [
        { setIdentifier: 'use1-a', zone: 'us-east-1a', weight: 100 },
        { setIdentifier: 'use1-b', zone: 'us-east-1b', weight: 100 },
        { setIdentifier: 'use1-c', zone: 'us-east-1c', weight: 100 },
        { setIdentifier: 'usw2', region: 'us-west-2', weight: 0 },
      ],
      writerRecord: { recordName: 'db.example.com.', type: 'CNAME', ttl: 30 },
    },
  },
  database: {
    rds: {
      primary: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
      replicas: [{ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' }],
    },
  },
  compute: { ec2: { replaceInHealthyZones: { launchTemplate: 'lt-0abc', minHealthyInstances: 6 } } },
};

export function defaultTopology(options: TopologyOptions = {}): SimTopology {
  return topologyFromPolicy(DEFAULT_POLICY_SHAPE, options);
}
