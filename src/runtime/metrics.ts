import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReconcileMetrics } from './controller.ts';
import type { InformerMetrics } from './informer.ts';
import type { LeaderElectionMetrics } from './leader-election.ts';
import type { InFlightWork, WorkQueueMetrics } from './work-queue.ts';

export interface RuntimeMetrics {
  workQueue: WorkQueueMetrics;
  informer: InformerMetrics;
  leaderElection: LeaderElectionMetrics;
  reconcile: ReconcileMetrics;
}

/** controller-runtime's reconcile_time_seconds buckets (pkg/internal/controller/metrics). */
export const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** client-go's workqueue latency buckets as controller-runtime registers them: ExponentialBuckets(10e-9, 10, 12). */
export const WORKQUEUE_DURATION_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

/** reconcile_total's result label: controller-runtime's values we produce, and `aborted` (see below). */
const REPORTED_RESULTS = ['success', 'requeue_after', 'error', 'aborted'] as const;

/** The informer families have no controller-runtime counterpart, so they keep the project's prefix. */
export const INFORMER_METRIC_PREFIX = 'failover_operator_';

/**
 * prom-client sinks for the runtime, registered on the registry passed in (never the global one). The reconcile,
 * work queue and leader election families carry controller-runtime's own names, types, labels and buckets, with no
 * project prefix, so that dashboards and alerts written for kubebuilder operators work unchanged:
 * `controller_runtime_*` (pkg/internal/controller/metrics), `workqueue_*` (pkg/metrics/workqueue.go, where `name`
 * and `controller` are both the controller's name and `priority` is empty) and `leader_election_master_status`.
 *
 * One difference: a reconcile cut short because this replica stopped leading or is shutting down counts as
 * `result="aborted"`, not as an error, so that a rolling upgrade does not fire reconcile-error alerts. A terminal
 * error counts as `result="error"` and in both error counters, as in controller-runtime.
 */
export function createRuntimeMetrics(registry: Registry): RuntimeMetrics {
  const registers = [registry];
  const queueLabels = ['name', 'controller'] as const;
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue by workqueue and priority',
    labelNames: ['name', 'controller', 'priority'],
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: queueLabels,
    registers,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: queueLabels,
    buckets: WORKQUEUE_DURATION_BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: queueLabels,
    buckets: WORKQUEUE_DURATION_BUCKETS,
    registers,
  });
  const inFlight = new Map<string, () => InFlightWork>();
  const unfinished = new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help:
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
      'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at ' +
      'which this increases.',
    labelNames: queueLabels,
    registers,
    collect() {
      for (const [name, read] of inFlight) this.set({ name, controller: name }, read().unfinishedSeconds);
    },
  });
  const longestRunning = new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: queueLabels,
    registers,
    collect() {
      for (const [name, read] of inFlight) this.set({ name, controller: name }, read().longestRunningSeconds);
    },
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: queueLabels,
    registers,
  });
  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers,
  });
  const terminalErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller',
    labelNames: ['controller'],
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: RECONCILE_TIME_BUCKETS,
    registers,
  });
  const maxConcurrent = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'],
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'],
    registers,
  });
  const watchEvents = new Counter({
    name: `${INFORMER_METRIC_PREFIX}informer_watch_events_total`,
    help: 'Watch events received, by resource and event type.',
    labelNames: ['resource', 'type'],
    registers,
  });
  const watchRestarts = new Counter({
    name: `${INFORMER_METRIC_PREFIX}informer_watch_restarts_total`,
    help: 'Watches restarted, by resource and reason (closed, timeout, expired, error, relist).',
    labelNames: ['resource', 'reason'],
    registers,
  });
  const lists = new Counter({
    name: `${INFORMER_METRIC_PREFIX}informer_lists_total`,
    help: 'Full lists of a resource, by resource and outcome (ok, error).',
    labelNames: ['resource', 'outcome'],
    registers,
  });
  const leader = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporter is master of a given lease. 1 indicates the reporter is the leader, 0 otherwise.',
    labelNames: ['name'],
    registers,
  });

  return {
    workQueue: {
      depth: (name, value) => depth.set({ name, controller: name, priority: '' }, value),
      added: (name) => adds.inc({ name, controller: name }),
      retried: (name) => retries.inc({ name, controller: name }),
      queueDuration: (name, seconds) => queueDuration.observe({ name, controller: name }, seconds),
      workDuration: (name, seconds) => workDuration.observe({ name, controller: name }, seconds),
      inFlight: (name, read) => {
        inFlight.set(name, read);
        unfinished.set({ name, controller: name }, 0);
        longestRunning.set({ name, controller: name }, 0);
      },
    },
    informer: {
      watchEvent: (resource, type) => watchEvents.inc({ resource, type }),
      watchRestarted: (resource, reason) => watchRestarts.inc({ resource, reason }),
      listed: (resource, result) => lists.inc({ resource, outcome: result === 'success' ? 'ok' : 'error' }),
    },
    leaderElection: {
      leaderStatus: (name, leading) => leader.set({ name }, leading ? 1 : 0),
    },
    reconcile: {
      workers: (controller, max) => {
        // As controller-runtime's initMetrics: every series exists from the start, so rate() and absent-based
        // alerts see a 0 before the first error rather than no series at all.
        maxConcurrent.set({ controller }, max);
        activeWorkers.set({ controller }, 0);
        for (const result of REPORTED_RESULTS) reconcileTotal.inc({ controller, result }, 0);
        reconcileErrors.inc({ controller }, 0);
        terminalErrors.inc({ controller }, 0);
      },
      started: (controller) => activeWorkers.inc({ controller }),
      reconciled: (controller, outcome, seconds) => {
        activeWorkers.dec({ controller });
        const result = outcome === 'terminal' ? 'error' : outcome;
        reconcileTotal.inc({ controller, result });
        if (result === 'error') reconcileErrors.inc({ controller });
        if (outcome === 'terminal') terminalErrors.inc({ controller });
        reconcileTime.observe({ controller }, seconds);
      },
    },
  };
}
