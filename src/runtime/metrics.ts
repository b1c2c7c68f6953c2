import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReconcileMetrics } from './controller.ts';
import type { InformerMetrics } from './informer.ts';
import type { LeaderElectionMetrics } from './leader-election.ts';
import type { WorkQueueMetrics } from './work-queue.ts';

export interface RuntimeMetrics {
  workQueue: WorkQueueMetrics;
  informer: InformerMetrics;
  leaderElection: LeaderElectionMetrics;
  reconcile: ReconcileMetrics;
}

/**
 * prom-client sinks for the runtime, registered on the registry passed in (never the global one). Names follow
 * controller-runtime's (`reconcile_total{controller,result}`, `reconcile_time_seconds`, `workqueue_*`,
 * `leader_election_master_status`) under one prefix.
 */
export function createRuntimeMetrics(registry: Registry, prefix = 'failover_operator_'): RuntimeMetrics {
  const registers = [registry];
  const depth = new Gauge({
    name: `${prefix}workqueue_depth`,
    help: 'Keys waiting in a work queue.',
    labelNames: ['name'],
    registers,
  });
  const adds = new Counter({
    name: `${prefix}workqueue_adds_total`,
    help: 'Keys added to a work queue (deduplicated adds excluded).',
    labelNames: ['name'],
    registers,
  });
  const retries = new Counter({
    name: `${prefix}workqueue_retries_total`,
    help: 'Keys requeued with backoff.',
    labelNames: ['name'],
    registers,
  });
  const workDuration = new Histogram({
    name: `${prefix}workqueue_work_duration_seconds`,
    help: 'Time a worker spent on one key.',
    labelNames: ['name'],
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60],
    registers,
  });
  const reconcileTotal = new Counter({
    name: `${prefix}reconcile_total`,
    help: 'Reconciles by controller and result (success, requeue_after, error, terminal, aborted).',
    labelNames: ['controller', 'result'],
    registers,
  });
  const reconcileTime = new Histogram({
    name: `${prefix}reconcile_time_seconds`,
    help: 'Duration of reconciles.',
    labelNames: ['controller'],
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60],
    registers,
  });
  const watchEvents = new Counter({
    name: `${prefix}informer_watch_events_total`,
    help: 'Watch events received, by resource and event type.',
    labelNames: ['resource', 'type'],
    registers,
  });
  const watchRestarts = new Counter({
    name: `${prefix}informer_watch_restarts_total`,
    help: 'Watches restarted, by reason (closed, timeout, expired, error, relist).',
    labelNames: ['resource', 'reason'],
    registers,
  });
  const lists = new Counter({
    name: `${prefix}informer_lists_total`,
    help: 'Full lists of a resource, by result.',
    labelNames: ['resource', 'result'],
    registers,
  });
  const leader = new Gauge({
    name: `${prefix}leader_election_master_status`,
    help: '1 while this replica holds the lease.',
    labelNames: ['name'],
    registers,
  });

  return {
    workQueue: {
      depth: (name, value) => depth.set({ name }, value),
      added: (name) => adds.inc({ name }),
      retried: (name) => retries.inc({ name }),
      workDuration: (name, seconds) => workDuration.observe({ name }, seconds),
    },
    informer: {
      watchEvent: (resource, type) => watchEvents.inc({ resource, type }),
      watchRestarted: (resource, reason) => watchRestarts.inc({ resource, reason }),
      listed: (resource, result) => lists.inc({ resource, result }),
    },
    leaderElection: {
      leaderStatus: (name, leading) => leader.set({ name }, leading ? 1 : 0),
    },
    reconcile: {
      reconciled: (controller, result, seconds) => {
        reconcileTotal.inc({ controller, result });
        reconcileTime.observe({ controller }, seconds);
      },
    },
  };
}
