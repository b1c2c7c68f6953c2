import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { FailoverPolicy } from '../api/index.ts';
import type { CloudObservation } from '../decide/types.ts';
import { createOperatorMetrics } from '../metrics/operator-metrics.ts';
import { findSamples, parseExposition } from '../metrics/parse-exposition.ts';
import { withMetrics } from './engine-stack.ts';
import type { PolicyEngine, ReconcileOutput } from './policy-engine.ts';

const KEY = 'shop/orders';
const P = { namespace: 'shop', name: 'orders' };

/** An engine whose reconcile returns what the test says, tracked until untracked. */
function stubEngine(output: () => ReconcileOutput) {
  let tracked = true;
  return {
    healthOf: () => (tracked ? { at: 0, zones: [], regions: [] } : undefined),
    track: () => {
      tracked = true;
    },
    untrack: () => {
      tracked = false;
    },
    reconcile: async () => output(),
  } as unknown as PolicyEngine;
}

const observation = (lag: number | undefined): CloudObservation =>
  ({
    at: 0,
    records: [],
    databases: [
      { region: 'us-east-1', id: 'orders', status: 'available' },
      { region: 'us-west-2', id: 'orders-usw2', status: 'available', replicaSourceId: 'orders', lagSeconds: lag },
    ],
  }) as unknown as CloudObservation;

describe('withMetrics', () => {
  it("reports each reconcile's replica lag, removes it when unknown and with the policy", async () => {
    const registry = new Registry();
    let lag: number | undefined = 12;
    const engine = withMetrics(
      stubEngine(() => ({ status: {}, observation: observation(lag), requeueAfterMs: 0 }) as ReconcileOutput),
      createOperatorMetrics(registry),
    );
    const lagSamples = async () =>
      findSamples(parseExposition(await registry.metrics()), 'failover_operator_replica_lag_seconds', P).map((s) => [
        s.labels.region,
        s.labels.replica,
        s.value,
      ]);
    await engine.reconcile(KEY, {} as FailoverPolicy, new AbortController().signal);
    expect(await lagSamples()).toEqual([['us-west-2', 'orders-usw2', 12]]);
    lag = undefined;
    await engine.reconcile(KEY, {} as FailoverPolicy, new AbortController().signal);
    expect(await lagSamples()).toEqual([]);
    lag = 3;
    await engine.reconcile(KEY, {} as FailoverPolicy, new AbortController().signal);
    engine.untrack(KEY);
    await new Promise((resolve) => setImmediate(resolve)); // forgetPolicy is asynchronous
    expect(await lagSamples()).toEqual([]);
  });

  it('a reconcile that finishes after the policy was untracked leaves no series behind; tracking again records', async () => {
    const registry = new Registry();
    let finish: (() => void) | undefined;
    const engine = withMetrics(
      stubEngine(() => ({ status: {}, observation: observation(5), requeueAfterMs: 0 }) as ReconcileOutput),
      createOperatorMetrics(registry),
    );
    const inner = engine.reconcile.bind(engine);
    const slow = (async () => {
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      return inner(KEY, {} as FailoverPolicy, new AbortController().signal);
    })();
    engine.reconcile = () => slow;
    const inFlight = engine.reconcile(KEY, {} as FailoverPolicy, new AbortController().signal);
    engine.untrack(KEY); // deleted while its reconcile is in flight
    await new Promise((resolve) => setImmediate(resolve));
    finish?.();
    await inFlight;
    const series = async () =>
      parseExposition(await registry.metrics()).filter(
        (s) => s.labels.namespace === P.namespace && s.labels.name === P.name,
      );
    expect(await series()).toEqual([]);
    engine.track(KEY, {} as FailoverPolicy);
    await inner(KEY, {} as FailoverPolicy, new AbortController().signal);
    expect((await series()).length).toBeGreaterThan(0);
  });
});
