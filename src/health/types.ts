// What the health layer produces and the planner consumes. The model that turns probe results into these states
// lives in health-model.ts (pure); probes and the scheduler produce ProbeResults.

import type { RegionName, ZoneName } from '../cloud/types.ts';

export type ZoneState = 'Healthy' | 'Degraded' | 'Impaired';
export type RegionState = 'Healthy' | 'Degraded' | 'Impaired';

export type ProbeKind =
  | 'http'
  | 'tcp'
  | 'ec2-zone'
  | 'ec2-instances'
  | 'rds'
  | 'rds-connect'
  | 'replica-lag'
  | 'aws-api';

/** One probe's verdict on one target (a zone, or a whole region when `zone` is absent) in one round. */
export interface ProbeResult {
  probe: string; // the policy's probe name
  kind: ProbeKind;
  region: RegionName;
  zone?: ZoneName;
  ok: boolean;
  /**
   * How bad a failure is. `degraded`: a leading signal (slow, rising API error rate, PB-1); `down`: the target is
   * unreachable or reported impaired. Absent when ok.
   */
  severity?: 'degraded' | 'down';
  at: number; // epoch ms
  latencyMs?: number;
  /** Human-readable evidence, e.g. "GET https://api-us-east-1a.example.com/healthz: timeout after 2000ms". */
  detail: string;
  /** Vantage point that observed it (the operator itself unless an external signal is configured). */
  source: string;
  /**
   * What the result is about within its target, when a target holds several things: the DB instance identifier for
   * `rds` and `rds-connect` results. Part of the streak key, so two instances' results never share a streak.
   */
  subject?: string;
  /** Nothing answered within the probe's timeout (`timeoutMs`). Absent when something answered or failed sooner. */
  timedOut?: boolean;
  /** The timeout that expired, with `timedOut`. */
  timeoutMs?: number;
  /**
   * The probe's own call failed before the target could answer (the scheduler caught an exception it threw): for
   * the AWS API probes (ec2, rds) a control-plane error, which says nothing about the target itself.
   */
  callFailed?: boolean;
}

export interface ZoneHealth {
  name: ZoneName;
  region: RegionName;
  state: ZoneState;
  since: number; // epoch ms of the last state change
  reasons: string[];
}

/**
 * Independent classes of evidence about a region, for the irreversible steps (promotion, PB-6): what the planner
 * reads besides `state`, which is the drain-level verdict. Each list is sorted; see health-model.ts rule 7.
 */
export interface RegionEvidence {
  /**
   * Zones where `quorum` sources each see an endpoint probe (http, tcp) hard-down — no answer at all, or a wrong
   * one, not merely slow — for `impairedAfterRounds` consecutive results.
   */
  dataPlaneDownZones: ZoneName[];
  /** Zones EC2 reports impaired or unavailable (DescribeAvailabilityZones). Informational: AWS's word alone. */
  metadataImpairedZones: ZoneName[];
  /**
   * DB instances of the region seen down: their connect probe (rds-connect) hard-down for `failureThreshold`
   * results, or RDS itself reporting them failed / gone for `failureThreshold` results. A DescribeDBInstances call
   * that errors or times out is a control-plane error and never counts.
   */
  downDatabases: string[];
}

export interface RegionHealth {
  name: RegionName;
  state: RegionState;
  since: number;
  reasons: string[];
  evidence: RegionEvidence;
}

/** The health of every zone and region a policy names, as of `at`. Input to the planner. */
export interface HealthView {
  at: number;
  zones: ZoneHealth[];
  regions: RegionHealth[];
}

export interface HealthTransition {
  scope: 'zone' | 'region';
  name: string;
  region: RegionName;
  from: ZoneState;
  to: ZoneState;
  at: number;
  reasons: string[];
}
