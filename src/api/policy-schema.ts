/**
 * FailoverPolicy: the single source of truth for its schema. The TypeScript types (index.ts), the CRD's OpenAPI v3
 * schema (crd.ts → crds/*.yaml) and the offline validator (validate.ts) are all derived from these definitions.
 * Descriptions become `kubectl explain` text; docs/api.md explains the fields and their trade-offs at more length.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  dataPlaneRules,
  ec2ComputeRules,
  healthRules,
  manualRules,
  policySpecRules,
  probeListRules,
  probeRules,
  rdsRules,
  recordRules,
  regionListRules,
  regionRules,
  route53Rules,
  vantageRules,
} from './cel-rules.ts';
import {
  ConditionsSchema,
  DbInstanceIdentifier,
  DnsLabel,
  DnsName,
  MeasuredSeconds,
  ObjectMetaSchema,
  RegionName,
  RuleIdSchema,
  Seconds,
  StringEnum,
  TagSelector,
  Text,
  Timestamp,
  withRules,
  ZoneName,
} from './common-schema.ts';
import { API_VERSION, POLICY_KIND } from './group.ts';

/** Upper bounds that keep CEL rule costs within the apiserver's budget. */
export const LIMITS = {
  regions: 10,
  zonesPerRegion: 10,
  records: 100,
  probes: 32,
  replicas: 15,
  journal: 50,
} as const;

const closed = { additionalProperties: false } as const;

// ---------------------------------------------------------------------------------------------------------------
// spec.regions
// ---------------------------------------------------------------------------------------------------------------

export const RegionRoleSchema = StringEnum(['primary', 'standby'], {
  description: 'primary serves traffic and writes when everything is healthy; standby regions take over when it fails.',
});

export const RegionSpecSchema = withRules(
  Type.Object(
    {
      name: RegionName({ description: 'AWS region name, e.g. us-east-1.' }),
      role: RegionRoleSchema,
      zones: Type.Array(ZoneName(), {
        minItems: 1,
        maxItems: LIMITS.zonesPerRegion,
        description: 'Availability zones the service runs in; each starts with the region name (us-east-1a).',
      }),
    },
    { ...closed, description: 'A region the service runs in, with its zones.' },
  ),
  regionRules.zonesInRegion,
  regionRules.uniqueZones,
);

// ---------------------------------------------------------------------------------------------------------------
// spec.probes
// ---------------------------------------------------------------------------------------------------------------

const ProbeTimeout = Seconds({
  maximum: 60,
  default: 2,
  description: 'Seconds to wait for an answer before the probe counts as failed.',
});

// Probes are not a weapon (#15): an endpoint probe connects from the operator's pod, whose node serves instance
// metadata (credentials) at a link-local address. The check is on the resolved address at connect time
// (src/health/probe-target-guard.ts); this field is the only way past it.
const AllowLinkLocal = Type.Boolean({
  default: false,
  description:
    "Let the probe connect to link-local addresses (169.254.0.0/16, fe80::/10) and AWS instance-local service addresses (instance metadata 169.254.169.254 and fd00:ec2::254, ECS task metadata 169.254.170.2, EKS Pod Identity 169.254.170.23, fd00:ec2::/64). Refused by default, checked on the address the host name resolves to when connecting: such a probe would run with the operator pod's network identity and could read its node's credentials.",
});

export const HttpProbeSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      pattern: '^https?://[^\\s/?#@]+([/?#][^\\s]*)?$',
      description:
        'URL to GET. {zone} and {region} are replaced by the zone or region probed. No user-info (user:password@): the URL is shown in status, Events and logs (its query string is redacted there).',
      fix: 'Use an http:// or https:// URL without user:password@, e.g. https://api-{zone}.example.com/healthz.',
    }),
    timeoutSeconds: ProbeTimeout,
    expectStatus: Type.Optional(
      Type.Array(Type.Integer({ format: 'int32', minimum: 100, maximum: 599 }), {
        minItems: 1,
        maxItems: 16,
        description: 'HTTP status codes that count as healthy. Absent: any 2xx.',
      }),
    ),
    allowLinkLocal: AllowLinkLocal,
  },
  { ...closed, description: 'Probe an HTTP endpoint per zone or region.' },
);

export const TcpProbeSchema = Type.Object(
  {
    host: Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Host to connect to. {zone} and {region} are replaced by the zone or region probed.',
    }),
    port: Type.Integer({ format: 'int32', minimum: 1, maximum: 65535, description: 'TCP port.' }),
    timeoutSeconds: ProbeTimeout,
    allowLinkLocal: AllowLinkLocal,
  },
  { ...closed, description: 'Probe that a TCP connection can be opened.' },
);

export const Ec2ProbeSchema = Type.Object(
  {
    zoneState: Type.Boolean({
      default: true,
      description: 'Read the zone state and messages from DescribeAvailabilityZones.',
    }),
    instanceStatus: Type.Optional(
      Type.Object(
        {
          tagSelector: TagSelector({ description: 'Tags that select the service instances, e.g. {app: checkout}.' }),
        },
        { ...closed, description: 'Count instances whose status checks fail (DescribeInstanceStatus), per zone.' },
      ),
    ),
  },
  { ...closed, description: 'Probe EC2 zone state and instance status checks.' },
);

export const RdsProbeSchema = Type.Object(
  {
    instanceStatus: Type.Boolean({
      default: true,
      description: 'Check the status of the instances in spec.database.rds.',
    }),
    replicaLag: Type.Boolean({
      default: true,
      description: 'Read each replica ReplicaLag (CloudWatch) and compare it with the RPO budget (PB-6).',
    }),
    connect: Type.Boolean({
      default: false,
      description:
        "Open a TCP connection to each instance's endpoint (learned from DescribeDBInstances and cached) every interval: the data-plane evidence an automatic promotion needs besides endpoints down (PB-6). Without it only RDS itself reporting the primary failed or gone counts; a DescribeDBInstances error never does.",
    }),
  },
  { ...closed, description: 'Probe the RDS instances of spec.database.rds.' },
);

export const AwsServiceSchema = StringEnum(['ec2', 'ebs', 'rds', 'route53', 'elb', 'autoscaling'], {
  description: 'An AWS service whose control-plane API is watched.',
});

export const AwsApiErrorsProbeSchema = Type.Object(
  {
    services: Type.Array(AwsServiceSchema, {
      minItems: 1,
      maxItems: 6,
      description: 'Services whose API error rate and latency are watched.',
    }),
    errorRateThreshold: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'Fraction of failed API calls (0 < x <= 1) above which the zone or region counts as failing.',
      fix: 'Use a fraction greater than 0 and at most 1, e.g. 0.2 for 20%.',
    }),
    latencyThresholdMs: Type.Optional(
      Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 600000,
        description: 'API latency (p90, milliseconds) above which the zone or region counts as failing.',
      }),
    ),
    windowSeconds: Seconds({
      maximum: 3600,
      default: 60,
      description: 'Sliding window over which the error rate is computed.',
    }),
  },
  { ...closed, description: 'The leading signal of PB-1: rising AWS API error rates and latency.' },
);

export const ProbeSchema = withRules(
  Type.Object(
    {
      name: DnsLabel({ description: 'Probe name, unique in the policy; zone and region reasons cite it.' }),
      scope: StringEnum(['Zone', 'Region'], {
        default: 'Zone',
        description: 'Zone: the probe runs once per zone. Region: once per region.',
      }),
      regions: Type.Optional(
        Type.Array(RegionName(), {
          minItems: 1,
          maxItems: LIMITS.regions,
          description: 'Limit the probe to these regions (default: all regions of the policy).',
        }),
      ),
      http: Type.Optional(HttpProbeSchema),
      tcp: Type.Optional(TcpProbeSchema),
      ec2: Type.Optional(Ec2ProbeSchema),
      rds: Type.Optional(RdsProbeSchema),
      awsApiErrors: Type.Optional(AwsApiErrorsProbeSchema),
    },
    { ...closed, description: 'A health probe; set exactly one of http, tcp, ec2, rds, awsApiErrors.' },
  ),
  probeRules.exactlyOneKind,
);

// ---------------------------------------------------------------------------------------------------------------
// spec.health
// ---------------------------------------------------------------------------------------------------------------

export const HealthSpecSchema = withRules(
  Type.Object(
    {
      intervalSeconds: Seconds({
        maximum: 3600,
        default: 5,
        description: 'Seconds between two runs of each probe (PB-1).',
      }),
      failureThreshold: Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 1000,
        default: 2,
        description: 'Consecutive failed results of one probe before its zone is Degraded (PB-9).',
        fix: 'Use a whole number of probe results of at least 1.',
      }),
      recoveryThreshold: Type.Integer({
        format: 'int32',
        minimum: 1,
        maximum: 100000,
        default: 12,
        description:
          'Consecutive good results of every probe of a zone before it is Healthy again; at least failureThreshold (PB-9).',
        fix: 'Use a whole number of probe results of at least failureThreshold.',
      }),
      regionImpairedWhen: Type.Object(
        {
          impairedZones: Type.Integer({
            format: 'int32',
            minimum: 1,
            maximum: LIMITS.zonesPerRegion,
            default: 2,
            description: 'A region is Impaired when at least this many of its zones are Impaired (PB-2).',
          }),
        },
        { ...closed, default: {}, description: 'When a region as a whole counts as Impaired (PB-2).' },
      ),
    },
    { ...closed, default: {}, description: 'How probe results become zone and region state.' },
  ),
  healthRules.recoveryAtLeastFailure,
);

// ---------------------------------------------------------------------------------------------------------------
// spec.vantagePoints
// ---------------------------------------------------------------------------------------------------------------

export const VantagePointsSpecSchema = withRules(
  Type.Object(
    {
      members: Type.Array(DnsLabel({ description: 'A vantage name: the --vantage (FO_VANTAGE) of one operator.' }), {
        minItems: 2,
        maxItems: 7,
        description:
          'The operator instances (one per cluster, in different regions) that run this same policy and must agree before a zone is drained or a database promoted.',
      }),
      quorum: Type.Optional(
        Type.Integer({
          format: 'int32',
          minimum: 1,
          maximum: 7,
          description:
            'How many members must report a zone or region unhealthy before any of them acts. Default: a majority of the members.',
          fix: 'Use a whole number between 1 and the number of members.',
        }),
      ),
      staleAfterSeconds: Type.Integer({
        format: 'int32',
        minimum: 15,
        maximum: 3600,
        default: 60,
        description: "A member's verdict older than this does not count towards the quorum.",
        fix: 'Use a whole number of seconds between 15 and 3600.',
      }),
      whenAlone: Type.Object(
        {
          drain: Type.Boolean({
            default: true,
            description:
              "When fewer than quorum members have fresh verdicts: drain zones on this vantage's own evidence (reversible).",
          }),
          promote: Type.Boolean({
            default: false,
            description:
              "When fewer than quorum members have fresh verdicts: allow a database promotion on this vantage's own evidence (irreversible; off unless set).",
          }),
        },
        {
          ...closed,
          default: {},
          description: 'What a vantage may do on its own evidence when it cannot see enough of its peers.',
        },
      ),
    },
    {
      ...closed,
      description:
        'Several operators in several regions run this policy and act only on agreement (docs/vantage-points.md).',
    },
  ),
  ...Object.values(vantageRules),
);

// ---------------------------------------------------------------------------------------------------------------
// spec.traffic
// ---------------------------------------------------------------------------------------------------------------

export const WeightedRecordSchema = withRules(
  Type.Object(
    {
      setIdentifier: Type.String({
        minLength: 1,
        maxLength: 128,
        description: 'SetIdentifier of an existing weighted record (the operator changes weights, never deletes).',
      }),
      zone: Type.Optional(ZoneName({ description: 'The zone this record serves.' })),
      region: Type.Optional(RegionName({ description: 'The region this record serves (for region-wide records).' })),
      weight: Type.Integer({
        format: 'int32',
        minimum: 0,
        maximum: 255,
        description: 'Weight when everything is healthy, 0-255.',
        fix: 'Use a Route 53 weight between 0 and 255.',
      }),
    },
    { ...closed, description: 'A weighted record that serves one zone or one region.' },
  ),
  recordRules.zoneXorRegion,
);

export const WriterRecordSchema = Type.Object(
  {
    hostedZoneId: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 32,
        pattern: '^Z[A-Z0-9]+$',
        description: 'Hosted zone of the writer record (default: route53.hostedZoneId).',
        fix: 'Use a Route 53 hosted zone ID such as Z0123456789ABC (without the /hostedzone/ prefix).',
      }),
    ),
    recordName: DnsName({ description: 'Name that points at the writable database primary, e.g. db.example.com.' }),
    type: Type.Literal('CNAME', { default: 'CNAME', description: 'Record type; CNAME to the writer endpoint.' }),
    ttl: Seconds({ maximum: 86400, default: 30, description: 'TTL of the writer record in seconds.' }),
  },
  { ...closed, description: 'A record the operator points at the writable primary after a promotion (PB-7).' },
);

export const DataPlaneSchema = withRules(
  Type.Object(
    {
      mechanism: StringEnum(['HealthChecks', 'RecordEdits'], {
        default: 'HealthChecks',
        description:
          'How a zone is drained during an event. HealthChecks: through Route 53 health checks that follow CloudWatch alarms on a metric the operator publishes in signalRegion (no Route 53 API call during the event; prepared in steady state). RecordEdits: by editing record weights (ChangeResourceRecordSets, a control plane in us-east-1).',
        fix: 'Use HealthChecks or RecordEdits.',
      }),
      signalRegion: Type.Optional(
        RegionName({
          description:
            'Region whose CloudWatch carries the verdict metrics and alarms. Must be listed in spec.regions and not be the primary region: the signal must survive the event it reports. Default: the first standby region.',
        }),
      ),
      namespace: Type.String({
        minLength: 1,
        maxLength: 255,
        pattern: '^[A-Za-z0-9._/#:-]+$',
        default: 'FailoverOperator',
        description: 'CloudWatch namespace of the verdict metrics (the IAM policy limits PutMetricData to it).',
        fix: 'Use letters, digits and . _ / # : - (no spaces), at most 255 characters.',
      }),
      periodSeconds: Type.Integer({
        format: 'int32',
        minimum: 60,
        maximum: 300,
        default: 60,
        description:
          'Period of the verdict alarms: 60, 120 or 300 seconds. Route 53 health checks follow alarms on standard-resolution metrics only, so nothing shorter than a minute is possible; shorter drains sooner.',
        fix: 'Use 60 (fastest), 120 or 300.',
      }),
      insufficientDataHealthStatus: StringEnum(['LastKnownStatus', 'Healthy', 'Unhealthy'], {
        default: 'LastKnownStatus',
        description:
          'What Route 53 assumes when the alarm has no data (the operator is gone, or its metric stopped). LastKnownStatus keeps the last decision: a drained zone stays drained and a serving zone keeps serving (docs/static-stability.md).',
        fix: 'Use LastKnownStatus (recommended), Healthy or Unhealthy.',
      }),
    },
    {
      ...closed,
      default: {},
      description: 'The data-plane traffic path: moving traffic without editing Route 53 records during an event.',
    },
  ),
  dataPlaneRules.alarmPeriod,
);

export const Route53TrafficSchema = withRules(
  Type.Object(
    {
      hostedZoneId: Type.String({
        minLength: 2,
        maxLength: 32,
        pattern: '^Z[A-Z0-9]+$',
        description: 'Route 53 hosted zone ID, e.g. Z0123456789ABC.',
        fix: 'Use a Route 53 hosted zone ID such as Z0123456789ABC (without the /hostedzone/ prefix).',
      }),
      recordName: DnsName({ description: 'Name of the weighted record set, e.g. api.example.com.' }),
      type: StringEnum(['A', 'AAAA', 'CNAME'], { description: 'Record type of the weighted record set.' }),
      records: Type.Array(WeightedRecordSchema, {
        minItems: 1,
        maxItems: LIMITS.records,
        description: 'The weighted records, one per zone or region, matched by SetIdentifier (at most 100).',
      }),
      writerRecord: Type.Optional(WriterRecordSchema),
      dataPlane: DataPlaneSchema,
    },
    { ...closed, description: 'Route 53 weighted records that steer traffic between zones and regions (PB-5).' },
  ),
  route53Rules.uniqueSetIdentifiers,
  route53Rules.someWeightNonZero,
);

export const TrafficSpecSchema = Type.Object(
  { route53: Route53TrafficSchema },
  { ...closed, description: 'How traffic is steered.' },
);

// ---------------------------------------------------------------------------------------------------------------
// spec.database
// ---------------------------------------------------------------------------------------------------------------

export const DbInstanceRefSchema = Type.Object(
  {
    region: RegionName({ description: 'Region of the instance.' }),
    dbInstanceIdentifier: DbInstanceIdentifier({ description: 'RDS DB instance identifier.' }),
  },
  { ...closed, description: 'An RDS DB instance in a region.' },
);

export const RdsDatabaseSchema = withRules(
  Type.Object(
    {
      primary: DbInstanceRefSchema,
      replicas: Type.Optional(
        Type.Array(DbInstanceRefSchema, {
          maxItems: LIMITS.replicas,
          description: 'Cross-region read replicas that may be promoted (PB-6).',
        }),
      ),
      maxLagSeconds: Seconds({
        maximum: 86400,
        default: 30,
        description: 'RPO budget: a replica is promoted only while its ReplicaLag is at most this (PB-6).',
      }),
      maxLagAgeSeconds: Seconds({
        maximum: 3600,
        default: 180,
        description:
          'A ReplicaLag datapoint older than this does not count (RDS publishes one a minute and CloudWatch can lag): without a fresh, non-negative datapoint the replica is not promoted (PB-6).',
      }),
      promotion: StringEnum(['Automatic', 'Manual'], {
        default: 'Automatic',
        description:
          'Automatic promotes when the region is impaired and lag is within budget; Manual waits for approval (status.pendingApproval).',
      }),
    },
    { ...closed, description: 'An RDS primary and its cross-region read replicas.' },
  ),
  rdsRules.replicasInOtherRegions,
  rdsRules.uniqueReplicas,
);

export const DatabaseSpecSchema = Type.Object(
  { rds: RdsDatabaseSchema },
  { ...closed, description: 'The database that fails over with the service.' },
);

// ---------------------------------------------------------------------------------------------------------------
// spec.compute
// ---------------------------------------------------------------------------------------------------------------

export const Ec2ComputeSchema = withRules(
  Type.Object(
    {
      tagSelector: Type.Optional(TagSelector({ description: 'Tags that select the service instances and volumes.' })),
      replaceInHealthyZones: Type.Optional(
        Type.Object(
          {
            launchTemplate: Type.String({
              minLength: 3,
              maxLength: 128,
              pattern: '^[a-zA-Z0-9()./_-]+$',
              description: 'Launch template ID (lt-…) or name used for replacement instances.',
            }),
            minHealthyInstances: Type.Integer({
              format: 'int32',
              minimum: 0,
              maximum: 10000,
              description: 'Launch replacements in healthy zones until this many instances are healthy (PB-4).',
            }),
          },
          { ...closed, description: 'Replace capacity lost in an impaired zone, only in healthy zones (PB-4).' },
        ),
      ),
      restoreVolumesFromSnapshots: Type.Boolean({
        default: false,
        description: 'Recreate volumes of an impaired zone from their latest snapshot in a healthy zone (PB-4).',
      }),
    },
    { ...closed, description: 'EC2 capacity actions.' },
  ),
  ec2ComputeRules.restoreVolumesNeedsTagSelector,
  ec2ComputeRules.replaceNeedsTagSelector,
);

export const ComputeSpecSchema = Type.Object(
  { ec2: Ec2ComputeSchema },
  { ...closed, description: 'Compute capacity that follows healthy zones.' },
);

// ---------------------------------------------------------------------------------------------------------------
// spec.guardrails, spec.objectives, spec.manual
// ---------------------------------------------------------------------------------------------------------------

export const FailbackModeSchema = StringEnum(['Automatic', 'Manual'], {
  description: 'Automatic returns after the recovery window; Manual waits for a Failback request.',
});

export const GuardrailsSpecSchema = Type.Object(
  {
    cooldownSeconds: Seconds({
      maximum: 86400,
      default: 300,
      description: 'Minimum seconds between two failover actions of this policy (PB-9).',
    }),
    maxWritesPerMinute: Type.Integer({
      format: 'int32',
      minimum: 1,
      maximum: 600,
      default: 30,
      description: 'AWS write calls per minute for this policy, on top of the shared per-API limits (PB-8).',
    }),
    failback: Type.Object(
      {
        traffic: { ...FailbackModeSchema, default: 'Automatic' },
        database: { ...FailbackModeSchema, default: 'Manual' },
      },
      { ...closed, default: {}, description: 'How traffic and the database return after recovery (PB-10).' },
    ),
  },
  { ...closed, default: {}, description: 'Limits on how fast and how often the operator acts.' },
);

export const ObjectivesSpecSchema = Type.Object(
  {
    detectionSeconds: Type.Optional(
      Seconds({ maximum: 86400, description: 'Detect an outage within this many seconds.' }),
    ),
    rtoSeconds: Type.Optional(Seconds({ maximum: 86400, description: 'Recovery time objective, in seconds.' })),
    rpoSeconds: Type.Optional(
      Seconds({
        maximum: 86400,
        description: 'Recovery point objective in seconds (default: database maxLagSeconds).',
      }),
    ),
  },
  { ...closed, description: 'Objectives that drills are judged against (PB-12).' },
);

export const ManualRequestSchema = withRules(
  Type.Object(
    {
      id: Type.String({
        minLength: 1,
        maxLength: 64,
        pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]*$',
        description: 'Request id; the operator acts once per id and reports it in status.manual.',
      }),
      action: StringEnum(['Failover', 'Failback', 'Approve'], {
        description: 'Failover moves traffic (and the writer) to targetRegion; Failback returns; Approve approves.',
      }),
      targetRegion: Type.Optional(RegionName({ description: 'Region to move to (Failover and Failback).' })),
      approvalId: Type.Optional(
        Type.String({ minLength: 1, maxLength: 128, description: 'status.pendingApproval.id being approved.' }),
      ),
      includeDatabase: Type.Optional(
        Type.Boolean({
          description:
            'Also move the writer to targetRegion. Absent: true for Failover, false for Failback (a database failback re-seeds the old region, PB-10).',
        }),
      ),
      allowDataLoss: Type.Boolean({
        default: false,
        description: 'Promote even when replica lag exceeds maxLagSeconds (the explicit override of PB-6).',
      }),
      requestedBy: Type.Optional(Text(256, { description: 'Who asked, for the audit trail.' })),
      reason: Type.Optional(Text(1024, { description: 'Why, for the audit trail.' })),
    },
    { ...closed, description: 'A one-shot request, written by failoverctl failover|failback|approve.' },
  ),
  manualRules.failoverNeedsTarget,
  manualRules.approveNeedsId,
);

// ---------------------------------------------------------------------------------------------------------------
// spec
// ---------------------------------------------------------------------------------------------------------------

export const FailoverPolicySpecSchema = withRules(
  Type.Object(
    {
      suspend: Type.Boolean({ default: false, description: 'Observe and report, but take no action.' }),
      dryRun: Type.Boolean({ default: false, description: 'Plan and report every action, but never write to AWS.' }),
      regions: withRules(
        Type.Array(RegionSpecSchema, {
          minItems: 1,
          maxItems: LIMITS.regions,
          description: 'Regions and zones the service runs in; exactly one has role primary.',
        }),
        regionListRules.exactlyOnePrimary,
        regionListRules.uniqueNames,
      ),
      probes: withRules(
        Type.Array(ProbeSchema, {
          minItems: 1,
          maxItems: LIMITS.probes,
          description: 'Health probes; each runs per zone or per region.',
        }),
        probeListRules.uniqueNames,
      ),
      health: HealthSpecSchema,
      vantagePoints: Type.Optional(VantagePointsSpecSchema),
      traffic: Type.Optional(TrafficSpecSchema),
      database: Type.Optional(DatabaseSpecSchema),
      compute: Type.Optional(ComputeSpecSchema),
      guardrails: GuardrailsSpecSchema,
      objectives: Type.Optional(ObjectivesSpecSchema),
      manual: Type.Optional(ManualRequestSchema),
    },
    { ...closed, description: 'What must stay up and how to fail it over.' },
  ),
  ...Object.values(policySpecRules),
);

// ---------------------------------------------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------------------------------------------

export const ZoneStateSchema = StringEnum(['Healthy', 'Degraded', 'Impaired'], {
  description: 'Healthy, Degraded (failing probes, drained) or Impaired (do not act inside it, PB-3).',
});

export const PolicyPhaseSchema = StringEnum(['Healthy', 'Degraded', 'FailingOver', 'FailedOver', 'Recovering'], {
  description: 'Summary of where the policy stands.',
});

const Reasons = Type.Array(Text(1024), {
  maxItems: 16,
  description: 'Why the state is what it is, citing probes and rules.',
});

export const ZoneStatusSchema = Type.Object(
  {
    name: ZoneName(),
    region: RegionName(),
    state: ZoneStateSchema,
    since: Timestamp({ description: 'When the zone entered this state.' }),
    reasons: Type.Optional(Reasons),
  },
  { ...closed, description: 'Observed state of one zone.' },
);

export const RegionStatusSchema = Type.Object(
  {
    name: RegionName(),
    state: ZoneStateSchema,
    since: Timestamp({ description: 'When the region entered this state.' }),
    reasons: Type.Optional(Reasons),
  },
  { ...closed, description: 'Observed state of one region.' },
);

export const JournalStateSchema = StringEnum(['Pending', 'Done', 'Failed', 'Skipped'], {
  description: 'Pending is recorded before the call; Done/Failed after it; Skipped when a rule held it back.',
});

export const JournalEntrySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: 'Unique, stable id of the action.' }),
    action: Type.String({
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z][A-Za-z0-9]*$',
      description: 'Action kind, e.g. SetWeights, PromoteReadReplica, UpdateWriterRecord.',
    }),
    target: Text(512, { description: 'What the action acts on (record, instance, zone).' }),
    zone: Type.Optional(ZoneName()),
    region: Type.Optional(RegionName()),
    rule: RuleIdSchema({ description: 'Playbook rule the action follows.' }),
    state: JournalStateSchema,
    startedAt: Timestamp(),
    finishedAt: Type.Optional(Timestamp()),
    attempts: Type.Optional(Type.Integer({ format: 'int32', minimum: 0, maximum: 1000 })),
    error: Type.Optional(Text(2048, { description: 'Last error, when Failed.' })),
    requestToken: Type.Optional(
      Text(128, { description: 'Idempotency token or change id sent to AWS (e.g. Route 53 change id).' }),
    ),
    detail: Type.Optional(Text(1024, { description: 'Human-readable detail, e.g. the weights set.' })),
  },
  { ...closed, description: 'One action, recorded before it is taken so that it is never issued twice (PB-7).' },
);

export const LastFailoverSchema = Type.Object(
  {
    startedAt: Timestamp({ description: 'When the first failover action was recorded.' }),
    detectedAt: Type.Optional(Timestamp({ description: 'When the triggering degradation was first observed.' })),
    completedAt: Type.Optional(Timestamp({ description: 'When the last action was Done.' })),
    rpoSeconds: Type.Optional(MeasuredSeconds({ description: 'Replica lag at promotion time: data possibly lost.' })),
    fromRegion: Type.Optional(RegionName()),
    toRegion: Type.Optional(RegionName()),
    zones: Type.Optional(Type.Array(ZoneName(), { maxItems: 100, description: 'Zones drained.' })),
    reason: Type.Optional(Text(1024)),
  },
  { ...closed, description: 'The most recent failover.' },
);

export const FailoverPhaseSchema = StringEnum(
  ['Fencing', 'AwaitingPropagation', 'Promoting', 'Repointing', 'Settled', 'Aborted'],
  { description: 'Where the database failover stands (docs/failover.md).' },
);

export const FailoverStateSchema = Type.Object(
  {
    epoch: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Names this failover: trigger and time it was first seen, e.g. auto-20261203T101500Z.',
    }),
    trigger: StringEnum(['auto', 'manual', 'failback'], { description: 'What started it.' }),
    from: DbInstanceRefSchema,
    to: DbInstanceRefSchema,
    phase: FailoverPhaseSchema,
    startedAt: Timestamp({ description: 'When the target was recorded, before anything was fenced.' }),
    phaseSince: Timestamp({ description: 'When the current phase began.' }),
    reason: Text(1024, { description: 'Why the failover started (the evidence), or why it was aborted.' }),
    fence: Type.Optional(
      Type.Object(
        {
          previousValue: Type.Optional(Text(512, { description: 'The writer record value before the fence.' })),
          previousTtlSeconds: Type.Optional(
            Type.Integer({ minimum: 0, maximum: 2147483647, description: 'The writer record TTL before the fence.' }),
          ),
          changeId: Type.Optional(Text(128, { description: 'The Route 53 change that fenced the writer.' })),
          inSyncAt: Type.Optional(Timestamp({ description: 'When the fence change was first seen INSYNC.' })),
        },
        { ...closed, description: 'The writer-record fence (PB-7).' },
      ),
    ),
    promotion: Type.Optional(
      Type.Object(
        {
          attempts: Type.Integer({ minimum: 0, maximum: 1000, description: 'PromoteReadReplica calls recorded.' }),
          lastAttemptAt: Timestamp({ description: 'When the last PromoteReadReplica was recorded as sent.' }),
          lagSeconds: Type.Optional(
            Type.Number({ description: 'Replica lag when the promotion was sent (the RPO, PB-6).' }),
          ),
          forced: Type.Optional(Type.Boolean({ description: 'The lag budget was overridden by a person.' })),
        },
        { ...closed, description: 'The promotion (PB-6): recorded before PromoteReadReplica is called.' },
      ),
    ),
    promotedAt: Type.Optional(Timestamp({ description: 'When the target was first observed promoted.' })),
    finishedAt: Type.Optional(Timestamp({ description: 'When it reached Settled or Aborted.' })),
  },
  {
    ...closed,
    description:
      'The database failover as a durable state machine, written before each step is taken: the truth about where the writer is and what was sent (the journal is the audit trail).',
  },
);

export const PendingApprovalSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: 'Id to approve (spec.manual.approvalId).' }),
    action: Type.String({ minLength: 1, maxLength: 64, description: 'The action awaiting approval.' }),
    target: Text(512),
    region: Type.Optional(RegionName()),
    rule: RuleIdSchema(),
    reason: Text(1024),
    requestedAt: Timestamp(),
    lagSeconds: Type.Optional(MeasuredSeconds({ description: 'Replica lag when the approval was requested.' })),
  },
  { ...closed, description: 'An action that waits for a person (database promotion: Manual).' },
);

export const ManualRequestStatusSchema = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    action: Type.String({ maxLength: 32 }),
    state: StringEnum(['Accepted', 'Completed', 'Rejected']),
    message: Type.Optional(Text(1024)),
    updatedAt: Timestamp(),
  },
  { ...closed, description: 'What became of the last spec.manual request.' },
);

export const PolicyPreviewSchema = Type.Object(
  {
    requestId: Type.String({ maxLength: 64, description: 'The failover.io/preview-request annotation it answers.' }),
    computedAt: Timestamp({ description: 'When the leader planned it.' }),
    by: Text(253, { description: 'The operator replica (leader identity) whose health and observation it used.' }),
    phase: PolicyPhaseSchema,
    healthAsOf: Type.Optional(Timestamp({ description: 'When the health it planned from was last updated.' })),
    actions: Type.Array(
      Type.Object(
        {
          kind: Type.String({ maxLength: 64 }),
          target: Text(512),
          rule: RuleIdSchema(),
          region: Type.Optional(RegionName()),
          zone: Type.Optional(ZoneName()),
          reason: Text(1024),
        },
        closed,
      ),
      { maxItems: 50, description: 'The actions the leader would take now, in order (planned only, not executed).' },
    ),
    gates: Type.Array(
      Type.Object({ kind: Type.String({ maxLength: 64 }), rule: RuleIdSchema(), message: Text(1024) }, closed),
      { maxItems: 50, description: 'What holds actions back now.' },
    ),
    error: Type.Optional(Text(1024, { description: 'Why no plan could be made (e.g. the observation failed).' })),
  },
  {
    ...closed,
    description:
      'What the leader would do now, planned from its own health and a fresh observation, never executed (failoverctl plan --now).',
  },
);

const ScopeNames = (description: string) =>
  Type.Array(Text(128), { maxItems: LIMITS.regions * LIMITS.zonesPerRegion + LIMITS.regions, description });

export const VantageMemberStatusSchema = Type.Object(
  {
    name: DnsLabel({ description: 'The member (its --vantage).' }),
    self: Type.Optional(Type.Boolean({ description: 'True for the operator that wrote this status.' })),
    verdictAt: Type.Optional(Timestamp({ description: 'When its latest verdict was published.' })),
    ageSeconds: Type.Optional(Type.Integer({ format: 'int64', minimum: 0, description: 'Age of that verdict.' })),
    fresh: Type.Boolean({ description: 'Its verdict is younger than staleAfterSeconds, so it counts.' }),
    impaired: Type.Optional(ScopeNames('Zones and regions it reports Impaired.')),
    degraded: Type.Optional(ScopeNames('Zones and regions it reports Degraded.')),
  },
  { ...closed, description: 'One vantage point as this operator last read it.' },
);

export const VantageDisagreementSchema = Type.Object(
  {
    scope: StringEnum(['zone', 'region'], { description: 'A zone or a region.' }),
    name: Text(128),
    region: RegionName(),
    local: ZoneStateSchema,
    agreed: ZoneStateSchema,
    reporting: Type.Array(DnsLabel(), {
      maxItems: 7,
      description: 'The members whose fresh verdict is as bad as the local one.',
    }),
  },
  { ...closed, description: 'Where this vantage sees worse than the members agree on: it does not act on it.' },
);

export const VantageStatusSchema = Type.Object(
  {
    self: DnsLabel({ description: "This operator's vantage name." }),
    region: Type.Optional(RegionName({ description: 'The region this operator runs in.' })),
    quorum: Type.Integer({ format: 'int32', minimum: 1, maximum: 7 }),
    fresh: Type.Integer({ format: 'int32', minimum: 0, maximum: 7, description: 'Members with a fresh verdict.' }),
    agreement: StringEnum(['Reached', 'Alone'], {
      description:
        "Reached: at least quorum members have fresh verdicts and the states acted on are theirs. Alone: fewer are fresh; only what spec.vantagePoints.whenAlone allows is done on this vantage's own evidence.",
    }),
    readAt: Type.Optional(Timestamp({ description: "When the peers' verdicts were last read." })),
    readError: Type.Optional(Text(1024, { description: 'Why the last read failed in every region, if it did.' })),
    members: Type.Array(VantageMemberStatusSchema, { maxItems: 7 }),
    disagreements: Type.Optional(Type.Array(VantageDisagreementSchema, { maxItems: 64 })),
  },
  {
    ...closed,
    description: 'The vantage points of spec.vantagePoints and what they agree on (docs/vantage-points.md).',
  },
);

export const FailoverPolicyStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ format: 'int64', minimum: 0 })),
    conditions: Type.Optional(ConditionsSchema('Ready, Degraded, FailingOver, FailedOver, Suspended, InvalidSpec.')),
    phase: Type.Optional(PolicyPhaseSchema),
    activeRegion: Type.Optional(RegionName({ description: 'Region currently serving (and writing).' })),
    degradedZones: Type.Optional(
      Text(1024, { description: 'Comma-separated zones that are not Healthy (for kubectl get).' }),
    ),
    zones: Type.Optional(Type.Array(ZoneStatusSchema, { maxItems: LIMITS.regions * LIMITS.zonesPerRegion })),
    regions: Type.Optional(Type.Array(RegionStatusSchema, { maxItems: LIMITS.regions })),
    activeWriter: Type.Optional(DbInstanceRefSchema),
    weights: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.Integer({ format: 'int32', minimum: 0, maximum: 255 }), {
        maxProperties: LIMITS.records,
        description: 'Current weight per record setIdentifier.',
      }),
    ),
    journal: Type.Optional(
      Type.Array(JournalEntrySchema, {
        maxItems: LIMITS.journal,
        description: 'The most recent actions, oldest first (at most 50).',
      }),
    ),
    lastFailover: Type.Optional(LastFailoverSchema),
    failover: Type.Optional(FailoverStateSchema),
    lastActionAt: Type.Optional(Timestamp({ description: 'When the last AWS write was made (cooldown, PB-9).' })),
    pendingApproval: Type.Optional(PendingApprovalSchema),
    manual: Type.Optional(ManualRequestStatusSchema),
    preview: Type.Optional(PolicyPreviewSchema),
    vantages: Type.Optional(VantageStatusSchema),
  },
  { ...closed, description: 'Observed state, written by the operator.' },
);

export const FailoverPolicySchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(POLICY_KIND),
    metadata: ObjectMetaSchema,
    spec: FailoverPolicySpecSchema,
    status: Type.Optional(FailoverPolicyStatusSchema),
  },
  { additionalProperties: false },
);

export type FailoverPolicy = Static<typeof FailoverPolicySchema>;
export type FailoverPolicySpec = Static<typeof FailoverPolicySpecSchema>;
export type FailoverPolicyStatus = Static<typeof FailoverPolicyStatusSchema>;
export type PolicyPreview = Static<typeof PolicyPreviewSchema>;
export type VantageStatus = Static<typeof VantageStatusSchema>;
export type VantagePointsSpec = Static<typeof VantagePointsSpecSchema>;
export type RegionSpec = Static<typeof RegionSpecSchema>;
export type ProbeSpec = Static<typeof ProbeSchema>;
export type HealthSpec = Static<typeof HealthSpecSchema>;
export type Route53Traffic = Static<typeof Route53TrafficSchema>;
export type DataPlaneSpec = Static<typeof DataPlaneSchema>;
export type WeightedRecord = Static<typeof WeightedRecordSchema>;
export type RdsDatabase = Static<typeof RdsDatabaseSchema>;
export type DbInstanceRef = Static<typeof DbInstanceRefSchema>;
export type Ec2Compute = Static<typeof Ec2ComputeSchema>;
export type GuardrailsSpec = Static<typeof GuardrailsSpecSchema>;
export type ObjectivesSpec = Static<typeof ObjectivesSpecSchema>;
export type ManualRequest = Static<typeof ManualRequestSchema>;
export type ZoneState = Static<typeof ZoneStateSchema>;
export type PolicyPhase = Static<typeof PolicyPhaseSchema>;
export type ZoneStatus = Static<typeof ZoneStatusSchema>;
export type RegionStatus = Static<typeof RegionStatusSchema>;
export type JournalEntry = Static<typeof JournalEntrySchema>;
export type JournalState = Static<typeof JournalStateSchema>;
export type LastFailover = Static<typeof LastFailoverSchema>;
export type FailoverState = Static<typeof FailoverStateSchema>;
export type FailoverPhase = Static<typeof FailoverPhaseSchema>;
export type PendingApproval = Static<typeof PendingApprovalSchema>;
export type ManualRequestStatus = Static<typeof ManualRequestStatusSchema>;
