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
  | 'dry-run';

export interface TimelineEntry {
  at: number;
  kind: TimelineKind;
  message: string;
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
