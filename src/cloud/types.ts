// The small interfaces the operator uses to read and change the cloud. The real implementation (src/cloud/aws)
// wraps the AWS SDK v3 clients; the simulated cloud (src/cloud/sim) implements them in memory. Everything above
// this layer (health probes, executor, simulation) depends only on these interfaces.
//
// Every method takes an optional AbortSignal: the executor cancels calls that outlive their timeout (in 2011,
// control-plane calls hung rather than failed), and adapters must pass the signal down to the SDK / simulation.

export type RegionName = string;

/** Route 53's control plane (record editing, GetChange) lives in us-east-1, whatever region the service runs in. */
export const ROUTE53_CONTROL_PLANE_REGION = 'us-east-1';
export type ZoneName = string;

export interface CallOptions {
  signal?: AbortSignal;
}

/** One DNS record as the operator sees it. Weighted records carry a set identifier and a weight (0–255). */
export interface DnsRecord {
  name: string; // fully qualified, with the trailing dot
  type: string; // A | AAAA | CNAME | ...
  ttl?: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
}

export type DnsChangeStatus = 'PENDING' | 'INSYNC';

export interface Dns {
  /** Records of one name and type in a hosted zone (all weighted members of the group). */
  listRecords(hostedZoneId: string, name: string, type: string, opts?: CallOptions): Promise<DnsRecord[]>;
  /**
   * Applies UPSERTs as ONE change batch (Route 53 applies a batch atomically). Never deletes: draining is weight 0
   * (PB-5). Returns the change id to poll until INSYNC.
   */
  upsertRecords(hostedZoneId: string, records: DnsRecord[], comment: string, opts?: CallOptions): Promise<string>;
  getChangeStatus(changeId: string, opts?: CallOptions): Promise<DnsChangeStatus>;
}

/** RDS instance status values the operator reasons about; others pass through as strings. */
export type DbStatus =
  | 'available'
  | 'backing-up'
  | 'creating'
  | 'modifying'
  | 'rebooting'
  | 'failed'
  | 'storage-full'
  | 'incompatible-parameters'
  | (string & {});

export interface DbInstance {
  region: RegionName;
  id: string; // DBInstanceIdentifier
  arn: string;
  status: DbStatus;
  zone?: ZoneName;
  endpoint?: string; // hostname the writer record points at
  /** Set when this instance replicates from another one (its source's id or ARN). Undefined for a primary. */
  replicaSourceId?: string;
  backupRetentionPeriod: number;
  multiAz: boolean;
}

export interface Databases {
  describeInstance(region: RegionName, id: string, opts?: CallOptions): Promise<DbInstance | undefined>;
  /** Starts promotion; completes asynchronously (minutes: modifying → rebooting → available). */
  promoteReadReplica(region: RegionName, id: string, backupRetentionPeriod: number, opts?: CallOptions): Promise<void>;
  /** Zone-targeted actions: the executor's PB-3 guard refuses them against an impaired zone. */
  rebootInstance(region: RegionName, id: string, opts?: CallOptions): Promise<void>;
  createSnapshot(region: RegionName, id: string, snapshotId: string, opts?: CallOptions): Promise<void>;
}

export interface ReplicaLagReader {
  /** Latest CloudWatch `ReplicaLag` (seconds) for the replica, or undefined when no datapoint is recent. */
  replicaLagSeconds(
    region: RegionName,
    dbInstanceId: string,
    now: Date,
    opts?: CallOptions,
  ): Promise<number | undefined>;
}

export interface ZoneStatus {
  region: RegionName;
  name: ZoneName;
  /** EC2's word: available | information | impaired | unavailable | constrained */
  state: string;
  messages: string[];
}

export interface InstanceHealth {
  id: string;
  region: RegionName;
  zone: ZoneName;
  state: string; // running | pending | stopped | ...
  /** ok | impaired | insufficient-data | not-applicable | initializing */
  systemStatus: string;
  instanceStatus: string;
}

export interface Snapshot {
  id: string;
  region: RegionName;
  volumeId?: string;
  startTime: Date;
  state: string; // pending | completed | error
  tags: Record<string, string>;
}

export interface Compute {
  describeZones(region: RegionName, opts?: CallOptions): Promise<ZoneStatus[]>;
  describeInstanceHealth(
    region: RegionName,
    tagSelector: Record<string, string>,
    opts?: CallOptions,
  ): Promise<InstanceHealth[]>;
  /** Launches into one named healthy zone (PB-4). clientToken makes a retried launch idempotent. */
  runInstances(
    region: RegionName,
    req: { launchTemplateId: string; zone: ZoneName; count: number; clientToken: string },
    opts?: CallOptions,
  ): Promise<string[]>;
  listSnapshots(region: RegionName, tagSelector: Record<string, string>, opts?: CallOptions): Promise<Snapshot[]>;
  createVolumeFromSnapshot(
    region: RegionName,
    req: { snapshotId: string; zone: ZoneName; clientToken: string },
    opts?: CallOptions,
  ): Promise<string>;
  /** Zone-targeted actions the PB-3 guard refuses in an impaired zone. */
  rebootInstances(region: RegionName, ids: string[], opts?: CallOptions): Promise<void>;
  stopInstances(region: RegionName, ids: string[], opts?: CallOptions): Promise<void>;
  detachVolume(region: RegionName, volumeId: string, opts?: CallOptions): Promise<void>;
}

/** Everything the operator can touch. One per process, shared by all policies. */
export interface Cloud {
  dns: Dns;
  databases: Databases;
  compute: Compute;
  replicaLag: ReplicaLagReader;
}

export type AwsService = 'route53' | 'rds' | 'ec2' | 'cloudwatch' | 'ebs';
