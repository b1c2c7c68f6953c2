// Injected control-plane faults, per service / operation / region / zone: an API error rate (seeded dice, so runs
// are reproducible), added latency (on the simulation's clock) and hangs that last until the caller's AbortSignal
// fires — in April 2011 control-plane calls hung rather than failed.
//
// A rule matches a call when the call's services include the rule's service, the operation is listed (or the rule
// lists none), the region matches, and the call targets the rule's zone (zone rules only touch zone-targeted calls;
// a region-wide read such as DescribeAvailabilityZones is not "in" a zone) and not its exceptZone. Every matching
// rule applies: the largest latency, any hang, and each rule's error dice rolled in turn.

import type { CloudErrorKind } from '../errors.ts';
import type { AwsService, RegionName, ZoneName } from '../types.ts';
import type { CallScope } from './sim-call-log.ts';
import type { RandomSource } from './sim-random.ts';

/**
 * Which services' faults each simulated operation feels. The EBS API is part of the EC2 API (ec2 faults reach it),
 * and EC2 operations that touch EBS-backed instances feel ebs faults too (in 2011 they stalled with EBS).
 */
export const OPERATION_SERVICES: Readonly<Record<string, readonly AwsService[]>> = {
  // Route 53 (its control plane lives in us-east-1)
  ChangeResourceRecordSets: ['route53'],
  ListResourceRecordSets: ['route53'],
  GetChange: ['route53'],
  CreateHealthCheck: ['route53'],
  ListHealthChecks: ['route53'],
  ChangeTagsForResource: ['route53'],
  ListTagsForResources: ['route53'],
  // RDS
  DescribeDBInstances: ['rds'],
  PromoteReadReplica: ['rds'],
  RebootDBInstance: ['rds'],
  CreateDBSnapshot: ['rds'],
  CreateDBInstance: ['rds'],
  RestoreDBInstanceFromDBSnapshot: ['rds'],
  // DynamoDB (the promotion lock)
  PutItem: ['dynamodb'],
  GetItem: ['dynamodb'],
  // EC2
  DescribeAvailabilityZones: ['ec2'],
  DescribeInstanceStatus: ['ec2', 'ebs'],
  RunInstances: ['ec2', 'ebs'],
  RebootInstances: ['ec2'],
  StopInstances: ['ec2', 'ebs'],
  // EBS
  CreateVolume: ['ec2', 'ebs'],
  DescribeVolumes: ['ec2', 'ebs'],
  DetachVolume: ['ec2', 'ebs'],
  DescribeSnapshots: ['ec2', 'ebs'],
  CreateSnapshot: ['ec2', 'ebs'],
  // CloudWatch
  GetMetricStatistics: ['cloudwatch'],
  PutMetricAlarm: ['cloudwatch'],
  DescribeAlarms: ['cloudwatch'],
  PutMetricData: ['cloudwatch'],
};

export const SIM_SERVICES: readonly AwsService[] = ['route53', 'rds', 'ec2', 'ebs', 'cloudwatch'];

/** The operations a fault rule for `service` can name. */
export function operationsOf(service: AwsService): string[] {
  return Object.entries(OPERATION_SERVICES)
    .filter(([, services]) => services.includes(service))
    .map(([op]) => op);
}

/** The error a failed dice roll throws: a 5xx the AWS adapters classify as retryable. */
export const DEFAULT_FAULT_ERROR: Readonly<Record<AwsService, { code: string; kind: CloudErrorKind }>> = {
  route53: { code: 'ServiceUnavailable', kind: 'retryable' },
  rds: { code: 'InternalFailure', kind: 'retryable' },
  ec2: { code: 'InternalError', kind: 'retryable' },
  ebs: { code: 'InternalError', kind: 'retryable' },
  cloudwatch: { code: 'InternalFailure', kind: 'retryable' },
  dynamodb: { code: 'InternalServerError', kind: 'retryable' },
};

export interface FaultRule {
  service: AwsService;
  /** AWS operation names; absent: every operation of the service. */
  operations?: string[];
  region?: RegionName;
  zone?: ZoneName;
  exceptZone?: ZoneName;
  /** 0..1: share of matching calls that fail. */
  errorRate?: number;
  /** What a failure looks like; default DEFAULT_FAULT_ERROR[service]. */
  error?: { code: string; kind: CloudErrorKind; message?: string };
  latencyMs?: number;
  /** Matching calls never answer; they end only when the caller aborts. */
  hang?: boolean;
}

export interface FaultVerdict {
  latencyMs: number;
  hang: boolean;
  /** The first rule whose dice came up: the call fails with this error (after its latency). */
  error?: { code: string; kind: CloudErrorKind; message: string };
}

export interface SimFaults {
  /** Adds or replaces the rule with this id. */
  set(id: string, rule: FaultRule): void;
  get(id: string): FaultRule | undefined;
  remove(id: string): boolean;
  clear(): void;
  list(): Array<{ id: string; rule: FaultRule }>;
  /** Rolls the dice for one call (consumes randomness: call once per call). */
  evaluate(scope: CallScope): FaultVerdict;
}

export function ruleMatches(rule: FaultRule, scope: CallScope): boolean {
  const services = OPERATION_SERVICES[scope.operation] ?? [scope.service];
  if (!services.includes(rule.service)) return false;
  if (rule.operations && !rule.operations.includes(scope.operation)) return false;
  if (rule.region !== undefined && rule.region !== scope.region) return false;
  if (rule.zone !== undefined && rule.zone !== scope.zone) return false;
  if (rule.exceptZone !== undefined && rule.exceptZone === scope.zone) return false;
  return true;
}

export function createSimFaults(random: RandomSource): SimFaults {
  const rules = new Map<string, FaultRule>();
  return {
    set(id, rule) {
      if (rule.errorRate !== undefined && !(rule.errorRate >= 0 && rule.errorRate <= 1)) {
        throw new RangeError(`fault ${id}: errorRate must be within 0..1, got ${rule.errorRate}`);
      }
      rules.set(id, { ...rule });
    },
    get: (id) => rules.get(id),
    remove: (id) => rules.delete(id),
    clear: () => rules.clear(),
    list: () => [...rules].map(([id, rule]) => ({ id, rule })),
    evaluate(scope) {
      const verdict: FaultVerdict = { latencyMs: 0, hang: false };
      for (const [id, rule] of rules) {
        if (!ruleMatches(rule, scope)) continue;
        verdict.latencyMs = Math.max(verdict.latencyMs, rule.latencyMs ?? 0);
        verdict.hang ||= rule.hang === true;
        const rate = rule.errorRate ?? 0;
        if (rate <= 0 || verdict.error) continue;
        const roll = random.next(`fault:${id}|${scope.operation}|${scope.region}|${scope.zone ?? ''}`);
        if (roll < rate) {
          const e = rule.error ?? DEFAULT_FAULT_ERROR[rule.service];
          const where = scope.zone ?? scope.region;
          verdict.error = {
            code: e.code,
            kind: e.kind,
            message:
              rule.error?.message ?? `${scope.operation} failed in ${where}: simulated ${rule.service} fault (${id})`,
          };
        }
      }
      return verdict;
    },
  };
}
