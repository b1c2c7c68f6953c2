// The timeline of a simulation or drill: what the scenario did, what the operator saw, decided, did and skipped.
// Times are scenario seconds (0 = the scenario's minute 0; negative during warm-up).

import type { ActionEventReason } from '../act/trail.ts';

export type TimelineKind =
  | 'scenario'
  | 'health'
  | 'phase'
  | 'gate'
  | 'action'
  | 'settling'
  | 'skip'
  | 'failure'
  | 'dry-run'
  /** A vantage point's agreement Event (VantageAgreement, VantageDisagreement, ActingAlone) or its life (#14). */
  | 'vantage';

export interface TimelineEntry {
  at: number;
  kind: TimelineKind;
  message: string;
  /** Which vantage saw, decided or did it, in a simulation with several (spec.vantagePoints); absent with one. */
  vantage?: string;
  /** vantage: the Event's reason (VantageAgreement, VantageDisagreement, ActingAlone). */
  reason?: string;
  rule?: string | undefined;
  /** health: zone/region and its new state; phase: the new phase. */
  scope?: 'zone' | 'region';
  name?: string;
  state?: string;
  action?: {
    id: string;
    kind: string;
    target: string;
    zone?: string;
    region?: string;
    weights?: Record<string, number>;
  };
}

export const TIMELINE_KIND_OF_EVENT: Record<ActionEventReason, TimelineKind> = {
  ActionPerformed: 'action',
  ActionFailed: 'failure',
  ActionSkipped: 'skip',
  ActionDryRun: 'dry-run',
  ActionSettling: 'settling',
};

/**
 * A time as every report writes it: seconds from the scenario's first fault, `T+12s` (`T-30s` in the warm-up before
 * it). One frame for the headline, the expectations and the timeline; the report's header gives T+0's clock time.
 */
export function formatFaultTime(secondsFromFault: number): string {
  const s = Math.round(secondsFromFault);
  return `T${s < 0 ? '-' : '+'}${Math.abs(s)}s`;
}

/** Scenario seconds of the first fault: the scenario's first event in the timeline (0 when it has none). */
export function firstFaultSeconds(timeline: readonly TimelineEntry[]): number {
  return timeline.find((e) => e.kind === 'scenario')?.at ?? 0;
}

/**
 * A timeline entry's message without the rule it already names in its own column (the Events the timeline records
 * start with their rule: `PB-5 performed SetWeights …`).
 */
export function messageWithoutRule(entry: Pick<TimelineEntry, 'rule' | 'message'>): string {
  const { rule, message } = entry;
  return rule && message.startsWith(`${rule} `) ? message.slice(rule.length + 1) : message;
}
