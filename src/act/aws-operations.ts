// Which AWS operations the operator can issue, and why: the single source for docs/iam-policy.json (whose actions
// a unit test holds equal to `requiredIamActions()`, test/unit/chart/iam-policy.test.ts).
//
// Writes come only from planned actions, so each action kind declares what performAction (perform-action.ts) may
// send for it; the `satisfies` below makes a new action kind fail to compile until it declares its operations.
// Reads come from the observation paths (probes, the engine's observation of the cloud, the data-plane state, the
// record cache and change polling), each declared by path. The adapters in src/cloud/aws implement a few more
// operations than these (StopInstances, DetachVolume, CreateDBSnapshot); nothing outside the adapters calls them,
// which the same test checks, so the IAM document does not grant them.

import type { ActionKind } from '../decide/types.ts';

/** An IAM action: `service:Operation`, with the IAM service prefix (EBS calls are `ec2:`). */
export type IamAction = `${'route53' | 'rds' | 'ec2' | 'cloudwatch' | 'iam' | 'dynamodb'}:${string}`;

/** Route 53 writes go through a read of the group, the change, and GetChange until INSYNC. */
const ROUTE53_UPSERT = [
  'route53:ListResourceRecordSets',
  'route53:ChangeResourceRecordSets',
  'route53:GetChange',
] as const satisfies readonly IamAction[];

/** What performAction may send for each action kind. */
export const ACTION_OPERATIONS = {
  SetWeights: ROUTE53_UPSERT,
  SetWriterRecord: ['route53:ChangeResourceRecordSets', 'route53:GetChange'],
  SetVerdicts: ['cloudwatch:PutMetricData'],
  PrepareDataPlane: [
    'cloudwatch:PutMetricAlarm',
    'cloudwatch:PutMetricData',
    'route53:CreateHealthCheck',
    'route53:ChangeTagsForResource',
    ...ROUTE53_UPSERT,
  ],
  /** The promotion lock (#14): a conditional PutItem, GetItem of the holder when refused; then the promotion. */
  PromoteReplica: ['rds:DescribeDBInstances', 'dynamodb:PutItem', 'dynamodb:GetItem', 'rds:PromoteReadReplica'],
  LaunchReplacements: ['ec2:RunInstances'],
  RestoreVolume: ['ec2:CreateVolume'],
  RebootDBInstance: ['rds:DescribeDBInstances', 'rds:RebootDBInstance'],
  RebootInstances: ['ec2:RebootInstances'],
} as const satisfies Record<ActionKind, readonly IamAction[]>;

/**
 * IAM actions an operation needs besides its own, though no call of that name is sent: RunInstances from a launch
 * template that tags what it creates needs ec2:CreateTags (conditioned on ec2:CreateAction = RunInstances), and
 * one with an instance profile needs iam:PassRole for its role.
 */
export const IMPLIED_ACTIONS = {
  'ec2:RunInstances': ['ec2:CreateTags', 'iam:PassRole'],
} as const satisfies Partial<Record<IamAction, readonly IamAction[]>>;

/** What each observation path reads. */
export const OBSERVATION_OPERATIONS = {
  /** probes[].ec2.zoneState (probe-ec2.ts). */
  'probe.ec2.zoneState': ['ec2:DescribeAvailabilityZones'],
  /** probes[].ec2.instanceStatus: the tagged fleet, then its status checks (probe-ec2.ts). */
  'probe.ec2.instanceStatus': ['ec2:DescribeInstances', 'ec2:DescribeInstanceStatus'],
  /** probes[].rds.instanceStatus and the endpoint behind rds.connect (probe-rds.ts, probe-rds-connect.ts). */
  'probe.rds': ['rds:DescribeDBInstances'],
  /** probes[].rds.replicaLag: ReplicaLag from CloudWatch (probe-rds.ts, cloudwatch.ts). */
  'probe.rds.replicaLag': ['cloudwatch:GetMetricStatistics'],
  /** The engine's observation: records, databases, lag, fleet health, volumes and their snapshots (observe-cloud.ts). */
  'engine.observeCloud': [
    'route53:ListResourceRecordSets',
    'rds:DescribeDBInstances',
    'cloudwatch:GetMetricStatistics',
    'ec2:DescribeInstances',
    'ec2:DescribeInstanceStatus',
    'ec2:DescribeVolumes',
    'ec2:DescribeSnapshots',
  ],
  /** The shared record cache and the confirmation of pending changes (record-cache.ts, policy-engine.ts). */
  'engine.records': ['route53:ListResourceRecordSets', 'route53:GetChange'],
  /** The data-plane inventory: the operator's health checks by tag, and its verdict alarms (data-plane-state.ts). */
  'engine.dataPlaneState': ['route53:ListHealthChecks', 'route53:ListTagsForResources', 'cloudwatch:DescribeAlarms'],
  /** Vantage verdicts (#14): this vantage's verdicts published, its peers' read back (src/vantage/exchange.ts). */
  'vantage.verdicts': ['cloudwatch:PutMetricData', 'cloudwatch:GetMetricData'],
} as const satisfies Record<string, readonly IamAction[]>;

/** Every IAM action the operator needs: what the actions and the observation paths issue, and what those imply. */
export function requiredIamActions(): Set<IamAction> {
  const issued: IamAction[] = [...Object.values(ACTION_OPERATIONS), ...Object.values(OBSERVATION_OPERATIONS)].flat();
  const implied = issued.flatMap((a) =>
    a in IMPLIED_ACTIONS ? IMPLIED_ACTIONS[a as keyof typeof IMPLIED_ACTIONS] : [],
  );
  return new Set([...issued, ...implied]);
}
