// What the health layer produces and the planner consumes. The model that turns probe results into these states
// lives in health-model.ts (pure); probes and the scheduler produce ProbeResults.

import type { RegionName, ZoneName } from '../cloud/types.ts';

export type ZoneState = 'Healthy' | 'Degraded' | 'Impaired';
export type RegionState = 'Healthy' | 'Degraded' | 'Impaired';

export type ProbeKind = 'http' | 'tcp' | 'ec2-zone' | 'ec2-instances' | 'rds' | 'replica-lag' | 'aws-api';

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
}

export interface ZoneHealth {
  name: ZoneName;
  region: RegionName;
  state: ZoneState;
  since: number; // epoch ms of the last state change
  reasons: string[];
}

export interface RegionHealth {
  name: RegionName;
  state: RegionState;
  since: number;
  reasons: string[];
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
