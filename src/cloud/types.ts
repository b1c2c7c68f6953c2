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
  /**
   * Waits for the caller's rate limit to grant one more request. An adapter method that sends several requests (a
   * health check and then its tags, a listing page by page, metric batches) awaits it before every request after
   * the first — through `createRequestPacer` — so each request takes its own grant at the moment it goes out, not
   * all of them before the first (src/act/rate-limit.ts). Absent (a direct call, a test): no wait.
   */
  nextRequest?: () => Promise<void>;
}

/** One DNS record as the operator sees it. Weighted records carry a set identifier and a weight (0–255). */
export interface DnsRecord {
  name: string; // fully qualified, with the trailing dot
  type: string; // A | AAAA | CNAME | ...
  ttl?: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
  /**
   * The Route 53 health check attached to the record (HealthCheckId). Resolvers skip a weighted record whose check
   * is unhealthy (docs/static-stability.md). An UPSERT without it detaches the check, so writers carry it over.
   */
  healthCheckId?: string;
}

export type DnsChangeStatus = 'PENDING' | 'INSYNC';

/** Where a listing of a hosted zone continues: Route 53's NextRecordName / NextRecordType / NextRecordIdentifier. */
export interface DnsListCursor {
  name: string;
  type: string;
  identifier?: string;
}

/** One ListResourceRecordSets page of a whole hosted zone; `next` is set while more pages follow. */
export interface DnsRecordPage {
  records: DnsRecord[];
  next?: DnsListCursor;
}

export interface Dns {
  /** Records of one name and type in a hosted zone (all weighted members of the group). */
  listRecords(hostedZoneId: string, name: string, type: string, opts?: CallOptions): Promise<DnsRecord[]>;
  /**
   * One page of EVERY record in a hosted zone, in Route 53's order, from `start` (the zone's first record when
   * undefined). One request per page, so a caller that pages through the call pipeline spends one rate-limit token
   * per request (PB-8). The shared read cache (src/engine/record-cache.ts) lists whole zones with it.
   */
  listRecordsPage(hostedZoneId: string, start: DnsListCursor | undefined, opts?: CallOptions): Promise<DnsRecordPage>;
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
  /**
   * DbiResourceId: immutable for this incarnation of the instance (a writer re-created or re-seeded under the same
   * identifier gets a new one). It names the writer a failover moves away from in the promotion lock's key.
   */
  resourceId?: string;
  status: DbStatus;
  zone?: ZoneName;
  endpoint?: string; // hostname the writer record points at
  /** TCP port of the endpoint (the rds-connect probe connects to endpoint:port). */
  port?: number;
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

/** One `ReplicaLag` datapoint: the value as RDS reported it (−1 when replication is not running) and its time. */
export interface ReplicaLagDatapoint {
  /** As reported, never clamped: −1 means replication is not running, not "caught up". */
  seconds: number;
  /** Epoch ms of the datapoint's Timestamp: how old the reading is, which the RPO guard judges (PB-6). */
  at: number;
}

export interface ReplicaLagReader {
  /**
   * The newest `ReplicaLag` datapoint of the replica (by Timestamp), or undefined when there is none in the
   * reader's look-back window. The window is deliberately longer than any lag age a policy may accept
   * (database.rds.maxLagAgeSeconds, at most 3600 s), so that an old datapoint is returned and judged stale by the
   * planner instead of being hidden as "unknown".
   */
  replicaLag(
    region: RegionName,
    dbInstanceId: string,
    now: Date,
    opts?: CallOptions,
  ): Promise<ReplicaLagDatapoint | undefined>;
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

/** One EBS volume as the operator sees it (DescribeVolumes). */
export interface Volume {
  id: string;
  region: RegionName;
  zone: ZoneName;
  state: string; // creating | available | in-use | deleting | deleted | error
  snapshotId?: string;
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
  /**
   * Volumes matching every tag, in every zone of the region (DescribeVolumes is a regional read: it answers for an
   * impaired zone's volumes too). Optional so that partial fakes stay valid; the AWS and simulated clouds have it,
   * and without it the volumes of compute.ec2.restoreVolumesFromSnapshots go unobserved (nothing is restored).
   */
  listVolumes?(region: RegionName, tagSelector: Record<string, string>, opts?: CallOptions): Promise<Volume[]>;
  /**
   * This account's snapshots of these volumes (DescribeSnapshots by volume id: snapshots do not inherit the
   * volume's tags unless the backup tool copies them). Optional, like listVolumes.
   */
  listSnapshotsOfVolumes?(region: RegionName, volumeIds: string[], opts?: CallOptions): Promise<Snapshot[]>;
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

// ---------------------------------------------------------------------------------------------------------------
// The data-plane traffic path (docs/static-stability.md): Route 53 health checks that follow CloudWatch alarms on a
// metric the operator publishes. Prepared in steady state through the Route 53 control plane; during an event only
// CloudWatch (regional, in a region that is not the one protected) is called.
// ---------------------------------------------------------------------------------------------------------------

/** What Route 53 assumes when CloudWatch has too little data to evaluate the alarm (InsufficientDataHealthStatus). */
export type InsufficientDataHealthStatus = 'Healthy' | 'Unhealthy' | 'LastKnownStatus';

/** A CLOUDWATCH_METRIC health check bound to one alarm. */
export interface AlarmHealthCheckSpec {
  /** Route 53 CallerReference (1–64 chars): the same reference never creates a second check. */
  callerReference: string;
  alarm: { region: RegionName; name: string };
  insufficientDataHealthStatus: InsufficientDataHealthStatus;
  /** Tags set on the check (ChangeTagsForResource): the policy and record it serves, so it can be found again. */
  tags: Record<string, string>;
}

/** A health check as listed. */
export interface ObservedHealthCheck {
  id: string;
  callerReference: string;
  type: string; // CLOUDWATCH_METRIC for ours
  /** The alarm it follows, when the service reports it (moto keeps no AlarmIdentifier). */
  alarm?: { region: RegionName; name: string };
  insufficientDataHealthStatus?: InsufficientDataHealthStatus;
  tags: Record<string, string>;
}

export interface HealthChecks {
  /**
   * CreateHealthCheck (type CLOUDWATCH_METRIC) and its tags; resolves with the check's id. Idempotent: when a check
   * with this callerReference exists already, its id.
   */
  createAlarmHealthCheck(spec: AlarmHealthCheckSpec, opts?: CallOptions): Promise<string>;
  /** The health checks carrying every tag of `tagSelector` (ListHealthChecks, ListTagsForResources). */
  listHealthChecks(tagSelector: Record<string, string>, opts?: CallOptions): Promise<ObservedHealthCheck[]>;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * The alarm behind one record's health check: ALARM when the Maximum of the verdict metric over one period is ≥ 1
 * (the operator published "drain"), OK when it is 0; missing data is ignored, so the alarm keeps its last state.
 */
export interface VerdictAlarmSpec {
  region: RegionName;
  name: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** 10 or 30 (high resolution) or a multiple of 60. */
  periodSeconds: number;
  description: string;
}

export interface ObservedAlarm {
  region: RegionName;
  name: string;
  state: AlarmState;
  /** Epoch ms of the last state change, when reported. */
  stateUpdatedAt?: number;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  periodSeconds?: number;
}

/** One verdict datapoint: 1 = drain this record, 0 = serve it. */
export interface VerdictDatum {
  metricName: string;
  dimensions: Record<string, string>;
  value: number;
  /** Epoch ms. */
  at: number;
}

export interface Verdicts {
  /** PutMetricAlarm (creates or overwrites) with the semantics of VerdictAlarmSpec. */
  putVerdictAlarm(spec: VerdictAlarmSpec, opts?: CallOptions): Promise<void>;
  /** DescribeAlarms by name; alarms that do not exist are absent from the result. */
  describeAlarms(region: RegionName, names: string[], opts?: CallOptions): Promise<ObservedAlarm[]>;
  /** PutMetricData at high resolution (StorageResolution 1); the adapter splits requests at the API's limits. */
  publishVerdicts(region: RegionName, namespace: string, data: VerdictDatum[], opts?: CallOptions): Promise<void>;
  /**
   * GetMetricData, statistic Maximum: the largest value of each metric with a timestamp in [fromMs, toMs], in the
   * order asked (undefined where there is none). The adapter splits requests at the API's limits.
   */
  readMaxima(
    region: RegionName,
    namespace: string,
    metrics: ReadonlyArray<{ metricName: string; dimensions: Record<string, string> }>,
    range: { fromMs: number; toMs: number },
    opts?: CallOptions,
  ): Promise<Array<number | undefined>>;
}

/** Everything the operator can touch. One per process, shared by all policies. */
export interface Cloud {
  dns: Dns;
  databases: Databases;
  compute: Compute;
  replicaLag: ReplicaLagReader;
  /** Route 53 health checks (the data-plane path). Absent: every traffic move is a record edit. */
  healthChecks?: HealthChecks;
  /** CloudWatch verdict metrics and alarms (the data-plane path). Absent: every traffic move is a record edit. */
  verdicts?: Verdicts;
}

export type AwsService = 'route53' | 'rds' | 'ec2' | 'cloudwatch' | 'ebs' | 'dynamodb';

/** One promotion's claim on the lock (#14): the item written, conditionally, right before PromoteReadReplica. */
export interface PromotionLockClaim {
  /** `rds#<region>#<dbInstanceIdentifier>#<DbiResourceId>` of the writer failed away from. */
  key: string;
  /** `<region>/<dbInstanceIdentifier>` of the replica to promote. */
  target: string;
  /** Which operator claims it (its identity), for people. */
  vantage: string;
  /**
   * Who may take it again for the same target: stable across restarts of one deciding unit (the vantage name, or the
   * Lease of a single operator). Another holder is refused even for the same target, so one PromoteReadReplica is sent
   * in all; the refused operator adopts the promoted writer once it shows.
   */
  holder: string;
  /** status.failover.epoch of the failover that promotes. */
  epoch: string;
  /** When it was claimed (epoch ms). */
  acquiredAt: number;
}

/** Who holds a key, as read back (consistently) from the lock. Fields an older writer left out are absent. */
export interface PromotionLockHolder {
  target: string;
  holder?: string;
  vantage?: string;
  epoch?: string;
  acquiredAt?: string;
}

export type PromotionLockOutcome =
  /** Ours: written now, or held already for the same target (a retry, or another operator that chose the same). */
  | { acquired: true; heldBefore?: PromotionLockHolder }
  /** Held for another target: this promotion must not happen. */
  | { acquired: false; holder: PromotionLockHolder };

/**
 * The promotion lock: exactly one promotion per failover, across every operator that runs the same policy. A
 * conditional write (DynamoDB PutItem, `attribute_not_exists(pk) OR #target = :target`); an error (the lock
 * unreachable, throttled, its region down) means no promotion now — the caller fails closed and retries later.
 */
export interface PromotionLock {
  /** Table name, for messages. */
  readonly table: string;
  /** The region the lock is written in for a promotion into `targetRegion`. */
  regionFor(targetRegion: RegionName): RegionName;
  acquire(region: RegionName, claim: PromotionLockClaim, opts?: CallOptions): Promise<PromotionLockOutcome>;
}
