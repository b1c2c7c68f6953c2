import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { createCustomResourceInformer, type Informer } from '../../../src/runtime/informer.ts';
import { WorkQueue } from '../../../src/runtime/work-queue.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { ensureWidgetCrd, type Widget, widget, widgets } from './widget-crd.ts';

const logger = pino({ level: 'silent' });
const waitOpts = { timeout: 10_000, interval: 25 };

describe('informer on a real custom resource', () => {
  const kc = testbed().kubeConfig();
  const api = kc.makeApiClient(CustomObjectsApi);
  const clock = systemClock();
  const stop = new AbortController();
  let namespace: string;
  let informer: Informer<Widget>;
  let queue: WorkQueue;
  let running: Promise<void>;

  /** Drains the queue (as a worker would) and returns the keys seen. */
  async function drain(): Promise<string[]> {
    const keys: string[] = [];
    while (queue.len() > 0) {
      const key = await queue.get();
      if (key === undefined) break;
      keys.push(key);
      queue.done(key);
    }
    return keys;
  }

  beforeAll(async () => {
    await ensureWidgetCrd(kc);
    namespace = await createNamespace(kc, 'rt');
    await api.createNamespacedCustomObject({ ...widgets, namespace, body: widget(namespace, 'pre-existing', 1) });
    informer = createCustomResourceInformer<Widget>(kc, {
      resource: widgets,
      namespace,
      clock,
      logger,
      resyncPeriodMs: 2_000,
    });
    queue = new WorkQueue({ name: 'widgets', clock });
    informer.onKey((key) => queue.add(key));
    running = informer.run(stop.signal);
    await informer.waitForSync(AbortSignal.timeout(10_000));
  });

  afterAll(async () => {
    stop.abort();
    queue.shutDown();
    await running;
  });

  it('lists what exists before it started', async () => {
    expect(informer.keys()).toEqual([`${namespace}/pre-existing`]);
    expect(await drain()).toEqual([`${namespace}/pre-existing`]);
  });

  it('enqueues the key on create, update and delete, and keeps the cache current', async () => {
    const key = `${namespace}/w1`;
    await drain();

    await api.createNamespacedCustomObject({ ...widgets, namespace, body: widget(namespace, 'w1', 1) });
    await vi.waitFor(() => expect(informer.get(key)?.spec?.size).toBe(1), waitOpts);
    expect(await drain()).toContain(key);

    await api.patchNamespacedCustomObject(
      { ...widgets, namespace, name: 'w1', body: { spec: { size: 5 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await vi.waitFor(() => expect(informer.get(key)?.spec?.size).toBe(5), waitOpts);
    expect(await drain()).toContain(key);

    await api.deleteNamespacedCustomObject({ ...widgets, namespace, name: 'w1' });
    await vi.waitFor(() => expect(informer.get(key)).toBeUndefined(), waitOpts);
    expect(await drain()).toContain(key);
  });

  it('resync re-enqueues every cached key although nothing changed', async () => {
    await drain();
    expect(queue.len()).toBe(0);
    await vi.waitFor(() => expect(queue.len()).toBeGreaterThan(0), { timeout: 5_000, interval: 25 });
    expect(await drain()).toEqual([`${namespace}/pre-existing`]);
  });
});
