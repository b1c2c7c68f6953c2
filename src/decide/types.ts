// The planner's inputs and output. The planner (planner.ts) is a pure function of these: no I/O, no clock.

import type { FailoverPolicy, FailoverState, JournalEntry, RuleId } from '../api/index.ts';
import type { AlarmState, DbInstance, DnsRecord, RegionName, ZoneName } from '../cloud/types.ts';
import type { HealthView } from '../health/types.ts';

/** Playbook rule ids (PB-1 … PB-12, src/api/rules.ts); every action and every skipped action cites one. */
export type { FailoverState, RuleId };

/** An observed database instance: `lagSeconds` is the latest ReplicaLag datapoint as reported, `lagAt` its time. */
export type ObservedDatabase = DbInstance & { lagSeconds?: number; lagAt?: number };

/** What the operator last read from the cloud for one policy. */
export interface CloudObservation {
  at: number; // epoch ms
  /** The weighted record group (traffic.route53.recordName/type), as listed. */
  records: DnsRecord[];
  /** The writer record (traffic.route53.writerRecord), when the policy has one. */
  writer?: DnsRecord;
  /**
   * Primary and replicas of database.rds, with their replica lag when known. An instance whose description could
   * not be read has status `unreachable` (or `not-found`): unknown, so neither healthy nor writable.
   */
  databases: ObservedDatabase[];
  /** A Route 53 change the executor submitted and has not yet seen INSYNC. */
  pendingDnsChange?: string;
  /** The status of the failover's fence change (status.failover.fence.changeId), read with GetChange. */
  fenceChange?: { id: string; status: 'PENDING' | 'INSYNC' };
  /** Instance counts per zone of the protected fleet (compute.ec2, PB-4); `unhealthyIds` failed their status checks. */
  instances?: ObservedZoneInstances[];
  /** EBS volumes the policy protects, with the zone each lives in (compute.ec2.restoreVolumesFromSnapshots). */
  volumes?: ObservedVolume[];
  /** Snapshots of those volumes (regional). */
  snapshots?: ObservedSnapshot[];
  /**
   * Regions whose volumes or snapshots could not be read (left out of `volumes` and `snapshots`), with why. The
   * planner restores nothing there and records the skip (PB-4, PB-11) instead of reading "no volumes".
   */
  volumesUnknown?: VolumesUnknown[];
  /**
   * The record group could not be listed now: `records` are the last successful listing (listedAt, epoch ms). A
   * record edit reads live before it changes anything; the data-plane path needs no Route 53 read.
   */
  recordsStale?: { listedAt: number; reason: string };
  /** The data-plane path as observed (only for a policy with dataPlane.mechanism HealthChecks). */
  dataPlane?: DataPlaneObservation;
}

/** The operator's health checks and verdict alarms for one policy, and the verdicts in force. */
export interface DataPlaneObservation {
  /** The health check created for each record (found by its tags), by set identifier. */
  checks: Record<string, string>;
  /** State of each record's verdict alarm, by set identifier; a record without an alarm is absent. */
  alarms: Record<string, AlarmState>;
  /**
   * The verdict in force per set identifier: what this process last published, else what the alarm shows (ALARM:
   * drain). Absent: never published and no alarm yet (serve).
   */
  verdicts: Record<string, Verdict>;
  /** Reads that failed (then the fields above are the last known values): each says which and why. */
  unknown?: string[];
}

/** A record's verdict: `drain` makes its health check unhealthy, so Route 53 skips it. */
export type Verdict = 'serve' | 'drain';

export interface VolumesUnknown {
  region: RegionName;
  /** Which read failed and how, e.g. `DescribeVolumes failed: RequestLimitExceeded`. */
  reason: string;
}

export interface ObservedZoneInstances {
  region: RegionName;
  zone: ZoneName;
  healthy: number;
  unhealthyIds?: string[];
}

export interface ObservedVolume {
  id: string;
  region: RegionName;
  zone: ZoneName;
}

export interface ObservedSnapshot {
  id: string;
  region: RegionName;
  volumeId?: string;
  startTime: number; // epoch ms
  state: string; // pending | completed | error
}

/** Requests made by people (failoverctl / annotations), already authorised by the API layer. */
export interface OperatorRequests {
  /** Manual failover to this region (PB-6 gates still apply unless `force`). */
  failoverTo?: { region: RegionName; force: boolean; requestedAt: number };
  /**
   * Manual failback to the original primary region: traffic always; the database writer only with
   * `includeDatabase` (spec.manual.includeDatabase; absent means traffic only, PB-10).
   */
  failback?: { requestedAt: number; includeDatabase?: boolean };
  /** Approval of a pending Manual promotion, naming the replica it approves. */
  approvePromotion?: { dbInstanceIdentifier: string; approvedAt: number };
  /**
   * A Live drill is injecting failures into the health layer (PB-12). Its outage is rehearsed, not real: no database
   * failover starts from it unless the drill opts in (`allowPromotion`), and then only with an approval.
   */
  liveDrill?: { name: string; allowPromotion: boolean };
  /**
   * Vantage points (#14): capacity actions (replacement launches, volume restores, in-place reboots) are left to this
   * member — the first fresh one in spec.vantagePoints.members — so that several agreeing vantages launch one set of
   * replacements, not one each. Absent: this operator acts on capacity itself.
   */
  capacityLeftTo?: string;
  /**
   * Vantage points (#14): fewer than quorum members are fresh for some zone or region (why, for messages). A failover
   * under way is then held, never abandoned: "not Impaired" means "cannot tell" here, not "recovered".
   */
  vantageAlone?: string;
}

export interface PlanInput {
  policy: FailoverPolicy; // validated, defaults applied
  health: HealthView;
  cloud: CloudObservation;
  journal: JournalEntry[];
  requests: OperatorRequests;
  /** The durable failover state machine (status.failover), when a failover was ever started. */
  failover?: FailoverState;
  now: number; // epoch ms
}

/** Every write the executor can perform. Each carries the ids the journal and the PB-3 guard need. */
export type ActionSpec =
  /** One Route 53 change batch of UPSERTs setting weights by set identifier (PB-5). Never all zero. */
  | { kind: 'SetWeights'; weights: Record<string, number> }
  /**
   * Data-plane drain and return: publish each record's verdict (1 drain, 0 serve) to CloudWatch in the signal
   * region; the records' health checks follow, and Route 53 skips the drained ones. No Route 53 call.
   */
  | { kind: 'SetVerdicts'; signalRegion: RegionName; verdicts: Record<string, Verdict> }
  /**
   * Steady state only: create the verdict alarms (CloudWatch, signal region) and one health check per record that
   * follows its alarm, publish "serve" for every record, and attach the checks to the records (one UPSERT batch).
   */
  | { kind: 'PrepareDataPlane'; signalRegion: RegionName; setIdentifiers: string[] }
  /** Point the writer record at an endpoint (fence the old primary before promotion, PB-7; the new one after). */
  | { kind: 'SetWriterRecord'; value: string }
  /**
   * PB-6: promote a read replica. `from` (the writer failed away from, by incarnation when observed) and `epoch`
   * key and fill the promotion lock taken right before PromoteReadReplica (#14).
   */
  | {
      kind: 'PromoteReplica';
      region: RegionName;
      dbInstanceIdentifier: string;
      backupRetentionPeriod: number;
      from?: { region: RegionName; dbInstanceIdentifier: string; resourceId?: string };
      epoch?: string;
    }
  | { kind: 'LaunchReplacements'; region: RegionName; zone: ZoneName; count: number; launchTemplateId: string }
  | { kind: 'RestoreVolume'; region: RegionName; zone: ZoneName; snapshotId: string }
  /** Zone-targeted recovery actions. The planner never emits them against an impaired zone (PB-3). */
  | { kind: 'RebootDBInstance'; region: RegionName; dbInstanceIdentifier: string }
  | { kind: 'RebootInstances'; region: RegionName; instanceIds: string[] };

export type ActionKind = ActionSpec['kind'];

export interface PlannedAction {
  /**
   * Deterministic id: the same decision always yields the same id, so the journal can tell "already done"
   * (e.g. `promote/orders-usw2/<failover-epoch>`). The executor uses it as the idempotency token where the API has one.
   */
  id: string;
  action: ActionSpec;
  rule: RuleId;
  target: string; // what it acts on: a record set, a DB instance, a zone
  region?: RegionName;
  zone?: ZoneName;
  /** Why, in one sentence, for Events/logs/status. */
  reason: string;
}

export interface SkippedAction {
  kind: ActionKind | string;
  target: string;
  zone?: ZoneName;
  region?: RegionName;
  rule: RuleId;
  reason: string;
}

export type PlanPhase = 'Healthy' | 'Degraded' | 'FailingOver' | 'FailedOver' | 'Recovering';

/** Something the plan is waiting for before it can proceed (a gate): surfaced in status and Events. */
export interface PlanGate {
  kind:
    | 'Cooldown'
    | 'ReplicaLag'
    | 'Approval'
    | 'DatabaseBusy'
    | 'DnsPropagation'
    | 'RecoveryWindow'
    | 'NoHealthyTarget'
    /** More than one writable primary is visible: no database action until it is resolved (PB-7). */
    | 'MultiplePrimaries'
    /** No replica qualifies as a failover target (none in a healthy region, none replicating from the writer). */
    | 'NoStandby'
    /** The region looks impaired, but not on the independent evidence a promotion needs (PB-6). */
    | 'InsufficientEvidence'
    /** A Live drill's rehearsed outage does not move the production database (PB-12). */
    | 'Drill'
    /** The promotion lock of this failover is held for another replica: this one is never promoted (#14). */
    | 'PromotionLocked';
  rule: RuleId;
  message: string;
  /** What the gate is about, when one instance: the replica an Approval would promote. */
  target?: string;
  until?: number; // epoch ms, when known
}

export interface DataPlaneReadiness {
  /** Every record has its health check attached and its alarm exists. */
  ready: boolean;
  /** Records a drain would move by editing records (not prepared, or a change health checks cannot express). */
  recordEditsFor: string[];
  /** One sentence: what is prepared, what is missing, what falls back. */
  message: string;
  reason: 'Prepared' | 'Preparing' | 'NotPrepared' | 'Unavailable' | 'Unobserved';
}

export interface Plan {
  phase: PlanPhase;
  /** Ordered: the executor runs them in order and stops at the first failure. */
  actions: PlannedAction[];
  skipped: SkippedAction[];
  gates: PlanGate[];
  /** The writable primary the policy should have once the plan completes. */
  desiredWriter?: { region: RegionName; dbInstanceIdentifier: string };
  /** Weights the plan converges to (equal to current when nothing changes). */
  desiredWeights: Record<string, number>;
  /** The data-plane path's readiness, for the DataPlaneReady condition (policies that asked for it). */
  dataPlane?: DataPlaneReadiness;
  /**
   * The failover state machine as this plan leaves it. When it differs from the input's, it is saved (status.failover)
   * BEFORE any action of the plan is taken: intent first, as CloudNativePG records its target primary first.
   */
  failover?: FailoverState;
}
