// PB-11: every action leaves a trail — a log line, a Kubernetes Event and a metric, each citing the playbook rule.
// The executor depends only on these sinks; the controller wires them to the Events API and prom-client.

import type { ActionKind, PlannedAction } from '../decide/types.ts';

/** Event reasons of the executor (CamelCase, as the apiserver requires). */
export const ActionEventReason = {
  Performed: 'ActionPerformed',
  Failed: 'ActionFailed',
  Skipped: 'ActionSkipped',
  DryRun: 'ActionDryRun',
  Settling: 'ActionSettling',
} as const;
export type ActionEventReason = (typeof ActionEventReason)[keyof typeof ActionEventReason];

export interface ActionEvent {
  type: 'Normal' | 'Warning';
  reason: ActionEventReason;
  /** One sentence starting with the rule, e.g. `PB-3 skipped RebootDBInstance on orders-db: zone us-east-1a impaired`. */
  message: string;
  action?: PlannedAction;
  rule: string;
}

export interface EventSink {
  /** Best effort: the executor never fails an action because an Event could not be written. */
  emit(policyKey: string, event: ActionEvent): void | Promise<void>;
}

export type ActionResult = 'done' | 'failed' | 'skipped' | 'dry-run';

/** One sample per action outcome; the lead maps it to `failover_actions_total{kind,result,rule}` and a histogram. */
export interface ActionMetrics {
  observeAction(sample: {
    policy: string;
    kind: ActionKind;
    rule: string;
    result: ActionResult;
    durationMs: number;
  }): void;
}
