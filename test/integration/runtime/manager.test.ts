import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { createEventSink, EventRecorder } from '../../../src/runtime/events.ts';
import { createCustomResourceInformer } from '../../../src/runtime/informer.ts';
import { keyOf } from '../../../src/runtime/keys.ts';
import { createLeaseApi } from '../../../src/runtime/leader-election.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { createStatusWriter } from '../../../src/runtime/status-writer.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { ensureWidgetCrd, type Widget, widget, widgets } from './widget-crd.ts';

const logger = pino({ level: 'silent' });
const waitOpts = { timeout: 15_000, interval: 50 };

describe('manager end to end on the real API server', () => {
  const kc = testbed().kubeConfig();
  const api = kc.makeApiClient(CustomObjectsApi);
  let namespace: string;

  beforeAll(async () => {
    await ensureWidgetCrd(kc);
    namespace = await createNamespace(kc, 'rt');
  });

  it('leads, reconciles a custom resource into its status with an Event, serves probes, and releases on stop', async () => {
    const clock = systemClock();
    const registry = new Registry();
    const leaseRef = { namespace, name: 'manager-test' };
    const manager = new Manager({
      clock,
      logger,
      registry,
      health: { port: 0, host: '127.0.0.1' },
      metrics: { port: 0, host: '127.0.0.1' },
      leaderElection: {
        lease: createLeaseApi(kc, leaseRef),
        leaseRef,
        identity: 'manager-test-replica',
        leaseDurationSeconds: 3,
        renewDeadlineSeconds: 2,
        retryPeriodSeconds: 0.4,
      },
      shutdownTimeoutMs: 5_000,
    });
    const informer = createCustomResourceInformer<Widget>(kc, {
      resource: widgets,
      namespace,
      clock,
      logger,
      metrics: manager.metrics.informer,
    });
    const status = createStatusWriter<{ observedSize?: number }>(kc, widgets);
    const events = new EventRecorder({ sink: createEventSink(kc), component: 'runtime-test', clock, logger });
    manager.addController({
      name: 'widgets',
      informer,
      workers: 2,
      // Level-based: read the cached object, converge its status, explain it.
      reconcile: async (req) => {
        const current = informer.get(keyOf(req));
        if (!current) return undefined;
        const size = current.spec?.size ?? 0;
        if (current.status?.observedSize === size) return undefined;
        await status.patchStatus(req, {
          status: { observedSize: size },
          resourceVersion: current.metadata?.resourceVersion,
        });
        await events.record(
          { apiVersion: current.apiVersion ?? '', kind: 'Widget', ...req, uid: current.metadata?.uid ?? '' },
          { type: 'Normal', reason: 'SizeObserved', message: `observed size ${size}` },
        );
        return undefined;
      },
    });

    const stop = new AbortController();
    const running = manager.start(stop.signal);
    await vi.waitFor(() => expect(manager.isLeader() && manager.isReady()).toBe(true), waitOpts);
    const base = `http://127.0.0.1:${manager.healthPort()}`;
    const metricsBase = `http://127.0.0.1:${manager.metricsPort()}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    await api.createNamespacedCustomObject({ ...widgets, namespace, body: widget(namespace, 'm1', 2) });
    const observedSize = async () =>
      ((await api.getNamespacedCustomObject({ ...widgets, namespace, name: 'm1' })) as Widget).status?.observedSize;
    await vi.waitFor(async () => expect(await observedSize()).toBe(2), waitOpts);

    await api.patchNamespacedCustomObject(
      { ...widgets, namespace, name: 'm1', body: { spec: { size: 7 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await vi.waitFor(async () => expect(await observedSize()).toBe(7), waitOpts);

    // The reconciler writes the status first and the Event after it: wait for the Event, do not race it.
    const core = kc.makeApiClient(CoreV1Api);
    await vi.waitFor(async () => {
      const recorded = await core.listNamespacedEvent({
        namespace,
        fieldSelector: 'involvedObject.name=m1,reason=SizeObserved',
      });
      expect(recorded.items.map((e) => e.message).sort()).toEqual(['observed size 2', 'observed size 7']);
    }, waitOpts);

    const metrics = await (await fetch(`${metricsBase}/metrics`)).text();
    expect(metrics).toMatch(/controller_runtime_reconcile_total\{controller="widgets",result="success"\} [1-9]/);
    expect(metrics).toContain('leader_election_master_status{name="');

    stop.abort();
    expect(await running).toBe('stopped');
    const lease = await createLeaseApi(kc, leaseRef).get();
    expect(lease?.spec?.holderIdentity).toBeUndefined();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
