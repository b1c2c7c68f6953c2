// The operator's domain metrics (PB-11: every side effect leaves a metric): probe results, zone/region health,
// actions, planner skips, AWS calls, the journal and drill results. The runtime's own metrics (reconcile_*,
// workqueue_*, informer_*, leader election) live in src/runtime/metrics.ts and are not repeated here.
//
// Cardinality stays bounded: `policy` is namespace/name, zones and regions come from the policies' specs, kinds,
// rules, states and results are closed sets, and AWS labels are (service, operation, region) of the calls the
// operator itself makes. A policy's series are removed when it is forgotten (deleted or suspended).

import { Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';
import type { ActionMetrics } from '../act/trail.ts';
import type { CallOutcome } from '../act/types.ts';
import type { HealthView, ProbeResult } from '../health/types.ts';
import type { DrillReport } from '../simulate/drill-report.ts';

export const METRIC_PREFIX = 'failover_operator_';

const HEALTH_STATES = ['Healthy', 'Degraded', 'Impaired'] as const;
const JOURNAL_STATES = ['Pending', 'Done', 'Failed', 'Skipped'] as const;

export interface SkippedActionSample {
  kind: string;
  rule: string;
}

export interface OperatorMetrics extends ActionMetrics {
  /** One health round of a policy: its probe results and the resulting view. */
  observeHealthRound(policy: string, results: readonly ProbeResult[], view: HealthView): void;
  /** One attempt of an AWS call (the call pipeline's `onCall`). */
  observeAwsCall(outcome: CallOutcome): void;
  /** Actions the planner held back in one reconcile (counted once per reconcile that planned them). */
  observeSkippedActions(policy: string, skipped: readonly SkippedActionSample[]): void;
  /** The policy's journal as of the last reconcile: entries per state. */
  observeJournal(policy: string, journal: readonly { state: string }[]): void;
  /** Route 53 weight of each record of the policy's weighted group, as of its last reconcile (PB-5). */
  observeWeights(policy: string, weights: Readonly<Record<string, number>>): void;
  /** RTO, RPO and detection time of a finished drill; a measure the drill did not reach is removed. */
  recordDrillReport(report: DrillReport): void;
  /** Removes every series of a policy that is gone or no longer tracked. */
  forgetPolicy(policy: string): Promise<void>;
}

/** Creates the operator's metrics on `registry` (never the global one). Call once per registry. */
export function createOperatorMetrics(registry: Registry, prefix = METRIC_PREFIX): OperatorMetrics {
  const registers = [registry];
  const probeResults = new Counter({
    name: `${prefix}probe_results_total`,
    help: 'Probe results by policy, probe, kind, region, zone and result (ok, fail).',
    labelNames: ['policy', 'probe', 'kind', 'region', 'zone', 'result'],
    registers,
  });
  const probeDuration = new Histogram({
    name: `${prefix}probe_duration_seconds`,
    help: 'Latency of probes that reported one, by kind, region and zone.',
    labelNames: ['kind', 'region', 'zone'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const zoneState = new Gauge({
    name: `${prefix}zone_state`,
    help: 'Health state of a zone: 1 for the current state, 0 for the others.',
    labelNames: ['policy', 'region', 'zone', 'state'],
    registers,
  });
  const regionState = new Gauge({
    name: `${prefix}region_state`,
    help: 'Health state of a region: 1 for the current state, 0 for the others.',
    labelNames: ['policy', 'region', 'state'],
    registers,
  });
  const actions = new Counter({
    name: `${prefix}actions_total`,
    help: 'Actions by policy, kind, playbook rule and result (done, failed, skipped, dry-run).',
    labelNames: ['policy', 'kind', 'rule', 'result'],
    registers,
  });
  const actionDuration = new Histogram({
    name: `${prefix}action_duration_seconds`,
    help: 'Duration of actions by kind, AWS calls and settling included.',
    labelNames: ['kind'],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const skippedActions = new Counter({
    name: `${prefix}skipped_actions_total`,
    help: 'Actions the planner held back, by policy, kind and playbook rule; counted once per reconcile.',
    labelNames: ['policy', 'kind', 'rule'],
    registers,
  });
  const awsCalls = new Counter({
    name: `${prefix}aws_calls_total`,
    help: 'AWS call attempts by service, operation, region and outcome (ok, error).',
    labelNames: ['service', 'operation', 'region', 'outcome'],
    registers,
  });
  const awsErrors = new Counter({
    name: `${prefix}aws_errors_total`,
    help: 'Failed AWS call attempts by service, operation, region and error kind (throttled, busy, timeout…).',
    labelNames: ['service', 'operation', 'region', 'kind'],
    registers,
  });
  const awsThrottles = new Counter({
    name: `${prefix}aws_throttles_total`,
    help: 'AWS call attempts refused as throttled, by service and region.',
    labelNames: ['service', 'region'],
    registers,
  });
  const awsCallDuration = new Histogram({
    name: `${prefix}aws_call_duration_seconds`,
    help: 'Duration of AWS call attempts by service and operation.',
    labelNames: ['service', 'operation'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const journalEntries = new Gauge({
    name: `${prefix}journal_entries`,
    help: 'Entries in a policy journal by state, as of its last reconcile.',
    labelNames: ['policy', 'state'],
    registers,
  });
  const recordWeight = new Gauge({
    name: `${prefix}record_weight`,
    help: 'Route 53 weight of each weighted record of a policy, as of its last reconcile (0 = drained, PB-5).',
    labelNames: ['policy', 'set_identifier'],
    registers,
  });
  const drillRto = new Gauge({
    name: `${prefix}drill_rto_seconds`,
    help: 'Recovery time of the last drill of a scenario: first fault to service restored.',
    labelNames: ['policy', 'scenario'],
    registers,
  });
  const drillRpo = new Gauge({
    name: `${prefix}drill_rpo_seconds`,
    help: 'Recovery point of the last drill of a scenario: replication lag at promotion (0 without one).',
    labelNames: ['policy', 'scenario'],
    registers,
  });
  const drillDetection = new Gauge({
    name: `${prefix}drill_detection_seconds`,
    help: 'Detection time of the last drill of a scenario: first fault to the first zone leaving Healthy.',
    labelNames: ['policy', 'scenario'],
    registers,
  });
  const perPolicy: Array<{
    get(): Promise<{ values: Array<{ labels: LabelValues<string> }> }>;
    remove(labels: LabelValues<string>): void;
  }> = [probeResults, zoneState, regionState, actions, skippedActions, journalEntries, recordWeight];

  function setDrillGauge(gauge: Gauge, labels: { policy: string; scenario: string }, value: number | null) {
    if (value === null) gauge.remove(labels);
    else gauge.set(labels, value);
  }

  return {
    observeAction({ policy, kind, rule, result, durationMs }) {
      actions.inc({ policy, kind, rule, result });
      // Skipped and dry-run actions make no call: their duration would only drag the histogram towards zero.
      if (result === 'done' || result === 'failed') actionDuration.observe({ kind }, durationMs / 1000);
    },
    observeHealthRound(policy, results, view) {
      for (const r of results) {
        const zone = r.zone ?? '';
        probeResults.inc({
          policy,
          probe: r.probe,
          kind: r.kind,
          region: r.region,
          zone,
          result: r.ok ? 'ok' : 'fail',
        });
        if (r.latencyMs !== undefined)
          probeDuration.observe({ kind: r.kind, region: r.region, zone }, r.latencyMs / 1000);
      }
      for (const z of view.zones) {
        for (const state of HEALTH_STATES) {
          zoneState.set({ policy, region: z.region, zone: z.name, state }, z.state === state ? 1 : 0);
        }
      }
      for (const r of view.regions) {
        for (const state of HEALTH_STATES) {
          regionState.set({ policy, region: r.name, state }, r.state === state ? 1 : 0);
        }
      }
    },
    observeAwsCall(o) {
      const { service, operation, region } = o;
      awsCalls.inc({ service, operation, region, outcome: o.ok ? 'ok' : 'error' });
      awsCallDuration.observe({ service, operation }, o.latencyMs / 1000);
      if (o.ok) return;
      const kind = o.errorKind ?? 'unknown';
      awsErrors.inc({ service, operation, region, kind });
      if (kind === 'throttled') awsThrottles.inc({ service, region });
    },
    observeSkippedActions(policy, skipped) {
      for (const s of skipped) skippedActions.inc({ policy, kind: s.kind, rule: s.rule });
    },
    observeJournal(policy, journal) {
      for (const state of JOURNAL_STATES) {
        journalEntries.set({ policy, state }, journal.filter((e) => e.state === state).length);
      }
    },
    observeWeights(policy, weights) {
      for (const [setIdentifier, weight] of Object.entries(weights)) {
        recordWeight.set({ policy, set_identifier: setIdentifier }, weight);
      }
    },
    recordDrillReport(report) {
      const labels = { policy: report.policy, scenario: report.scenario };
      setDrillGauge(drillRto, labels, report.rtoSeconds);
      setDrillGauge(drillRpo, labels, report.rpoSeconds);
      setDrillGauge(drillDetection, labels, report.detectionSeconds);
    },
    async forgetPolicy(policy) {
      // prom-client removes a series only by its full label set, so find the policy's series first.
      for (const metric of perPolicy) {
        const { values } = await metric.get();
        for (const v of values) if (v.labels.policy === policy) metric.remove(v.labels);
      }
    },
  };
}
