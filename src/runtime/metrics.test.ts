import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { findSamples, parseExposition, sampleValue } from '../metrics/parse-exposition.ts';
import { createRuntimeMetrics, RECONCILE_TIME_BUCKETS, WORKQUEUE_DURATION_BUCKETS } from './metrics.ts';

async function setup() {
  const registry = new Registry();
  const metrics = createRuntimeMetrics(registry);
  const samples = async () => parseExposition(await registry.metrics());
  return { registry, metrics, samples };
}

describe('createRuntimeMetrics', () => {
  it("uses controller-runtime's buckets: reconcile time 5 ms … 60 s, work queue ExponentialBuckets(1e-8, 10, 12)", () => {
    expect(RECONCILE_TIME_BUCKETS).toHaveLength(40);
    expect([RECONCILE_TIME_BUCKETS[0], RECONCILE_TIME_BUCKETS.at(-1)]).toEqual([0.005, 60]);
    expect(WORKQUEUE_DURATION_BUCKETS).toEqual([1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000]);
  });

  it('counts a terminal error as an error and a terminal one, an aborted reconcile as neither', async () => {
    const { metrics, samples } = await setup();
    const c = { controller: 'failoverpolicy' };
    metrics.reconcile.workers('failoverpolicy', 16);
    for (const outcome of ['success', 'error', 'terminal', 'aborted', 'requeue_after'] as const) {
      metrics.reconcile.started('failoverpolicy');
      metrics.reconcile.reconciled('failoverpolicy', outcome, 0.2);
    }
    const s = await samples();
    const total = (result: string) => sampleValue(s, 'controller_runtime_reconcile_total', { ...c, result });
    expect([total('success'), total('error'), total('aborted'), total('requeue_after')]).toEqual([1, 2, 1, 1]);
    expect(total('terminal')).toBeUndefined();
    expect(sampleValue(s, 'controller_runtime_reconcile_errors_total', c)).toBe(2);
    expect(sampleValue(s, 'controller_runtime_terminal_reconcile_errors_total', c)).toBe(1);
    expect(sampleValue(s, 'controller_runtime_reconcile_time_seconds_count', c)).toBe(5);
    expect(sampleValue(s, 'controller_runtime_max_concurrent_reconciles', c)).toBe(16);
    expect(sampleValue(s, 'controller_runtime_active_workers', c)).toBe(0);
  });

  it('starts every result and error series at 0 when the workers start', async () => {
    const { metrics, samples } = await setup();
    metrics.reconcile.workers('failoverdrill', 2);
    const s = await samples();
    expect(findSamples(s, 'controller_runtime_reconcile_total', { controller: 'failoverdrill' })).toHaveLength(4);
    expect(sampleValue(s, 'controller_runtime_reconcile_errors_total', { controller: 'failoverdrill' })).toBe(0);
  });

  it("labels the work queue families with name and controller, both the controller's name", async () => {
    const { metrics, samples } = await setup();
    let inFlight = { unfinishedSeconds: 0, longestRunningSeconds: 0 };
    metrics.workQueue.inFlight('failoverpolicy', () => inFlight);
    metrics.workQueue.depth('failoverpolicy', 3);
    metrics.workQueue.added('failoverpolicy');
    metrics.workQueue.retried('failoverpolicy');
    metrics.workQueue.queueDuration('failoverpolicy', 0.5);
    inFlight = { unfinishedSeconds: 7.5, longestRunningSeconds: 5 };
    const s = await samples();
    const q = { name: 'failoverpolicy', controller: 'failoverpolicy' };
    expect(findSamples(s, 'workqueue_depth', {})).toEqual([
      { name: 'workqueue_depth', labels: { ...q, priority: '' }, value: 3 },
    ]);
    expect(sampleValue(s, 'workqueue_adds_total', q)).toBe(1);
    expect(sampleValue(s, 'workqueue_retries_total', q)).toBe(1);
    expect(sampleValue(s, 'workqueue_queue_duration_seconds_bucket', { ...q, le: '1' })).toBe(1);
    // Read at collection time.
    expect(sampleValue(s, 'workqueue_unfinished_work_seconds', q)).toBe(7.5);
    expect(sampleValue(s, 'workqueue_longest_running_processor_seconds', q)).toBe(5);
  });

  it('reports leadership as leader_election_master_status{name} and informer lists by outcome', async () => {
    const { metrics, samples } = await setup();
    metrics.leaderElection.leaderStatus('failover-operator', true);
    metrics.informer.listed('failoverpolicies.failover.io', 'success');
    metrics.informer.listed('failoverpolicies.failover.io', 'error');
    const s = await samples();
    expect(sampleValue(s, 'leader_election_master_status', { name: 'failover-operator' })).toBe(1);
    const lists = (outcome: string) =>
      sampleValue(s, 'failover_operator_informer_lists_total', { resource: 'failoverpolicies.failover.io', outcome });
    expect([lists('ok'), lists('error')]).toEqual([1, 1]);
  });
});
