// The operator's domain metrics (PB-11: every side effect leaves a metric): probe results, zone/region health,
// actions, planner skips, AWS calls and their circuit breakers, the journal, replica lag, drill results and the
// build. The runtime's own metrics (controller_runtime_*, workqueue_*, informer_*, leader election) live in
// src/runtime/metrics.ts and are not repeated here. docs/metrics.md is the reference of both (a test keeps it so).
//
// Labels mean one thing in every family: a FailoverPolicy is `namespace` and `name` (never a joined "ns/name"),
// `outcome` is how one probe, action or call ended, `state` is a health state, `action` an action kind,
// `probe_kind` a probe kind. Cardinality stays bounded: zones, regions and replicas come from the policies'
// specs, kinds, rules, states and outcomes are closed sets, and AWS labels are (service, operation, region) of the
// calls the operator itself makes. A policy's series are removed when it is forgotten (deleted or suspended).

import { Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';
import type { CircuitState } from '../act/circuit-breaker.ts';
import type { ActionMetrics } from '../act/trail.ts';
import type { CallOutcome } from '../act/types.ts';
import type { HealthView, ProbeResult } from '../health/types.ts';
import type { DrillReport } from '../simulate/drill-report.ts';

export const METRIC_PREFIX = 'failover_operator_';

const HEALTH_STATES = ['Healthy', 'Degraded', 'Impaired'] as const;
const JOURNAL_STATES = ['Pending', 'Done', 'Failed', 'Skipped'] as const;

/** failover_operator_circuit_breaker_state's values. */
export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** What failover_operator_build_info reports (src/metrics/build-info.ts reads it). */
export interface BuildInfo {
  version: string;
  /** The source revision the image was built from; absent when unknown. */
  revision?: string;
  nodeVersion: string;
}

/** A replica's lag as the last observation saw it (CloudWatch ReplicaLag; -1: replication not running). */
export interface ReplicaLagSample {
  region: string;
  id: string;
  lagSeconds?: number;
}

/** A policy key `namespace/name` as the two labels every per-policy family carries. */
export function policyLabels(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

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
  /** Lag of each replica of the policy's database, as of its last observation; an unknown lag is removed. */
  observeReplicaLag(policy: string, databases: readonly ReplicaLagSample[]): void;
  /** A circuit breaker (service, region, operation class) moved to a new state. */
  observeCircuitBreaker(
    breaker: { service: string; region: string; operationClass: string },
    state: CircuitState,
  ): void;
  /** RTO, RPO and detection time of a finished drill; a measure the drill did not reach is removed. */
  recordDrillReport(report: DrillReport): void;
  /**
   * Removes every series of a policy that is gone or no longer tracked. Until `trackPolicy` names it again, late
   * observations of it (a reconcile, probe round or action that was in flight when it was untracked) are dropped, so
   * a deleted policy's series do not come back.
   */
  forgetPolicy(policy: string): Promise<void>;
  /** The policy is tracked (again): its observations are recorded. */
  trackPolicy(policy: string): void;
}

/** How many forgotten policies are remembered as such (oldest first out): bounds the memory of a churning cluster. */
export const MAX_FORGOTTEN_POLICIES = 4096;

/**
 * Creates the operator's metrics on `registry` (never the global one). Call once per registry. `build`, when
 * given, is exported as failover_operator_build_info.
 */
export function createOperatorMetrics(
  registry: Registry,
  options: { prefix?: string; build?: BuildInfo } = {},
): OperatorMetrics {
  const prefix = options.prefix ?? METRIC_PREFIX;
  const registers = [registry];
  if (options.build) {
    const { version, revision, nodeVersion } = options.build;
    new Gauge({
      name: `${prefix}build_info`,
      help: 'Always 1; the labels say which build of the operator runs (version, revision, node_version).',
      labelNames: ['version', 'revision', 'node_version'],
      registers,
    }).set({ version, revision: revision ?? '', node_version: nodeVersion }, 1);
  }
  const probeResults = new Counter({
    name: `${prefix}probe_results_total`,
    help: 'Probe results by policy, probe, probe kind, region, zone and outcome (ok, error).',
    labelNames: ['namespace', 'name', 'probe', 'probe_kind', 'region', 'zone', 'outcome'],
    registers,
  });
  const probeDuration = new Histogram({
    name: `${prefix}probe_duration_seconds`,
    help: 'Latency of probes that reported one, by probe kind, region and zone.',
    labelNames: ['probe_kind', 'region', 'zone'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const zoneState = new Gauge({
    name: `${prefix}zone_state`,
    help: 'Health state of a zone: 1 for the current state, 0 for the others.',
    labelNames: ['namespace', 'name', 'region', 'zone', 'state'],
    registers,
  });
  const regionState = new Gauge({
    name: `${prefix}region_state`,
    help: 'Health state of a region: 1 for the current state, 0 for the others.',
    labelNames: ['namespace', 'name', 'region', 'state'],
    registers,
  });
  const actions = new Counter({
    name: `${prefix}actions_total`,
    help: 'Actions by policy, action kind, playbook rule and outcome (done, failed, skipped, dry-run).',
    labelNames: ['namespace', 'name', 'action', 'rule', 'outcome'],
    registers,
  });
  const actionDuration = new Histogram({
    name: `${prefix}action_duration_seconds`,
    help: 'Duration of actions by action kind, AWS calls and settling included.',
    labelNames: ['action'],
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const skippedActions = new Counter({
    name: `${prefix}skipped_actions_total`,
    help: 'Actions the planner held back, by policy, action kind and playbook rule; counted once per reconcile.',
    labelNames: ['namespace', 'name', 'action', 'rule'],
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
    labelNames: ['service', 'operation', 'region', 'error_kind'],
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
    help: 'Entries in a policy journal by entry state (Pending, Done, Failed, Skipped), as of its last reconcile.',
    labelNames: ['namespace', 'name', 'journal_state'],
    registers,
  });
  const recordWeight = new Gauge({
    name: `${prefix}record_weight`,
    help: 'Route 53 weight of each weighted record of a policy, as of its last reconcile (0 = drained, PB-5).',
    labelNames: ['namespace', 'name', 'set_identifier'],
    registers,
  });
  const drillRto = new Gauge({
    name: `${prefix}drill_rto_seconds`,
    help: 'Recovery time of the last drill of a scenario: first fault to service restored.',
    labelNames: ['namespace', 'name', 'scenario'],
    registers,
  });
  const drillRpo = new Gauge({
    name: `${prefix}drill_rpo_seconds`,
    help: 'Recovery point of the last drill of a scenario: replication lag at promotion (0 without one).',
    labelNames: ['namespace', 'name', 'scenario'],
    registers,
  });
  const drillDetection = new Gauge({
    name: `${prefix}drill_detection_seconds`,
    help: 'Detection time of the last drill of a scenario: first fault to the first zone leaving Healthy.',
    labelNames: ['namespace', 'name', 'scenario'],
    registers,
  });
  const replicaLag = new Gauge({
    name: `${prefix}replica_lag_seconds`,
    help: 'Replication lag of each replica of a policy (CloudWatch ReplicaLag; -1: replication not running), as of its last observation.',
    labelNames: ['namespace', 'name', 'region', 'replica'],
    registers,
  });
  const breakerState = new Gauge({
    name: `${prefix}circuit_breaker_state`,
    help: 'State of the AWS circuit breaker of a service, region and operation class: 0 closed, 1 half-open, 2 open.',
    labelNames: ['service', 'region', 'operation_class'],
    registers,
  });
  const perPolicy: Array<{
    get(): Promise<{ values: Array<{ labels: LabelValues<string> }> }>;
    remove(labels: LabelValues<string>): void;
  }> = [probeResults, zoneState, regionState, actions, skippedActions, journalEntries, recordWeight, replicaLag];

  function setDrillGauge(
    gauge: Gauge,
    labels: { namespace: string; name: string; scenario: string },
    value: number | null,
  ) {
    if (value === null) gauge.remove(labels);
    else gauge.set(labels, value);
  }

  // Policies forgotten and not tracked since, in the order they were forgotten.
  const forgotten = new Set<string>();

  return {
    observeAction({ policy, kind, rule, result, durationMs }) {
      if (forgotten.has(policy)) return;
      actions.inc({ ...policyLabels(policy), action: kind, rule, outcome: result });
      // Skipped and dry-run actions make no call: their duration would only drag the histogram towards zero.
      if (result === 'done' || result === 'failed') actionDuration.observe({ action: kind }, durationMs / 1000);
    },
    observeHealthRound(policy, results, view) {
      if (forgotten.has(policy)) return;
      const p = policyLabels(policy);
      for (const r of results) {
        const zone = r.zone ?? '';
        probeResults.inc({
          ...p,
          probe: r.probe,
          probe_kind: r.kind,
          region: r.region,
          zone,
          outcome: r.ok ? 'ok' : 'error',
        });
        if (r.latencyMs !== undefined)
          probeDuration.observe({ probe_kind: r.kind, region: r.region, zone }, r.latencyMs / 1000);
      }
      for (const z of view.zones) {
        for (const state of HEALTH_STATES) {
          zoneState.set({ ...p, region: z.region, zone: z.name, state }, z.state === state ? 1 : 0);
        }
      }
      for (const r of view.regions) {
        for (const state of HEALTH_STATES) {
          regionState.set({ ...p, region: r.name, state }, r.state === state ? 1 : 0);
        }
      }
    },
    observeAwsCall(o) {
      const { service, operation, region } = o;
      awsCalls.inc({ service, operation, region, outcome: o.ok ? 'ok' : 'error' });
      awsCallDuration.observe({ service, operation }, o.latencyMs / 1000);
      if (o.ok) return;
      const kind = o.errorKind ?? 'unknown';
      awsErrors.inc({ service, operation, region, error_kind: kind });
      if (kind === 'throttled') awsThrottles.inc({ service, region });
    },
    observeSkippedActions(policy, skipped) {
      if (forgotten.has(policy)) return;
      const p = policyLabels(policy);
      for (const s of skipped) skippedActions.inc({ ...p, action: s.kind, rule: s.rule });
    },
    observeJournal(policy, journal) {
      if (forgotten.has(policy)) return;
      const p = policyLabels(policy);
      for (const state of JOURNAL_STATES) {
        journalEntries.set({ ...p, journal_state: state }, journal.filter((e) => e.state === state).length);
      }
    },
    observeWeights(policy, weights) {
      if (forgotten.has(policy)) return;
      const p = policyLabels(policy);
      for (const [setIdentifier, weight] of Object.entries(weights)) {
        recordWeight.set({ ...p, set_identifier: setIdentifier }, weight);
      }
    },
    observeReplicaLag(policy, databases) {
      if (forgotten.has(policy)) return;
      const p = policyLabels(policy);
      for (const db of databases) {
        const labels = { ...p, region: db.region, replica: db.id };
        if (db.lagSeconds === undefined) replicaLag.remove(labels);
        else replicaLag.set(labels, db.lagSeconds);
      }
    },
    observeCircuitBreaker({ service, region, operationClass }, state) {
      breakerState.set({ service, region, operation_class: operationClass }, CIRCUIT_STATE_VALUE[state]);
    },
    recordDrillReport(report) {
      const labels = { ...policyLabels(report.policy), scenario: report.scenario };
      setDrillGauge(drillRto, labels, report.rtoSeconds);
      setDrillGauge(drillRpo, labels, report.rpoSeconds);
      setDrillGauge(drillDetection, labels, report.detectionSeconds);
    },
    trackPolicy(policy) {
      forgotten.delete(policy);
    },
    async forgetPolicy(policy) {
      forgotten.delete(policy); // re-inserted last: the newest is evicted last
      forgotten.add(policy);
      if (forgotten.size > MAX_FORGOTTEN_POLICIES) forgotten.delete(forgotten.values().next().value as string);
      // prom-client removes a series only by its full label set, so find the policy's series first.
      const { namespace, name } = policyLabels(policy);
      for (const metric of perPolicy) {
        const { values } = await metric.get();
        for (const v of values) {
          if (v.labels.namespace === namespace && v.labels.name === name) metric.remove(v.labels);
        }
      }
    },
  };
}
