import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { ConflictError } from '../../../src/runtime/errors.ts';
import { createEventSink, EventRecorder } from '../../../src/runtime/events.ts';
import { createStatusWriter } from '../../../src/runtime/status-writer.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { ensureWidgetCrd, type Widget, widget, widgets } from './widget-crd.ts';

const logger = pino({ level: 'silent' });

describe('status subresource and Events on the real API server', () => {
  const kc = testbed().kubeConfig();
  const api = kc.makeApiClient(CustomObjectsApi);
  let namespace: string;

  beforeAll(async () => {
    await ensureWidgetCrd(kc);
    namespace = await createNamespace(kc, 'rt');
  });

  it('merge-patches status through the subresource, with a resourceVersion precondition', async () => {
    const created = (await api.createNamespacedCustomObject({
      ...widgets,
      namespace,
      body: widget(namespace, 's1', 3),
    })) as Widget;
    const writer = createStatusWriter<Record<string, unknown>>(kc, widgets);
    const ref = { namespace, name: 's1' };

    const first = await writer.patchStatus(ref, {
      status: { phase: 'Healthy', observedGeneration: 1 },
      resourceVersion: created.metadata?.resourceVersion,
    });
    expect(first.status).toEqual({ phase: 'Healthy', observedGeneration: 1 });

    // Merge semantics: untouched fields stay, null deletes.
    const second = await writer.patchStatus(ref, { status: { zones: ['a'], observedGeneration: null } });
    expect(second.status).toEqual({ phase: 'Healthy', zones: ['a'] });

    // The status subresource never changes spec or generation.
    const stored = (await api.getNamespacedCustomObject({ ...widgets, namespace, name: 's1' })) as Widget;
    expect(stored.spec).toEqual({ size: 3 });
    expect(stored.metadata?.generation).toBe(created.metadata?.generation);

    // A stale resourceVersion is a conflict, surfaced as the retryable ConflictError.
    await expect(
      writer.patchStatus(ref, { status: { phase: 'Stale' }, resourceVersion: created.metadata?.resourceVersion }),
    ).rejects.toBeInstanceOf(ConflictError);
    const unchanged = (await api.getNamespacedCustomObject({ ...widgets, namespace, name: 's1' })) as Widget;
    expect(unchanged.status?.phase).toBe('Healthy');
  });

  it('creates an Event for the object and aggregates repeats into its count', async () => {
    const created = (await api.createNamespacedCustomObject({
      ...widgets,
      namespace,
      body: widget(namespace, 'e1', 1),
    })) as Widget;
    const recorder = new EventRecorder({
      sink: createEventSink(kc),
      component: 'failover-operator-test',
      clock: systemClock(),
      logger,
    });
    const involved = {
      apiVersion: `${widgets.group}/${widgets.version}`,
      kind: 'Widget',
      namespace,
      name: 'e1',
      uid: created.metadata?.uid ?? '',
    };
    await recorder.record(involved, { type: 'Warning', reason: 'ZoneImpaired', message: 'PB-2 zone a impaired' });
    await recorder.record(involved, { type: 'Warning', reason: 'ZoneImpaired', message: 'PB-2 zone a impaired' });
    await recorder.record(involved, { type: 'Normal', reason: 'ZoneRecovered', message: 'PB-9 zone a healthy' });

    const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
      namespace,
      fieldSelector: 'involvedObject.name=e1',
    });
    const byReason = Object.fromEntries(events.items.map((e) => [e.reason, e]));
    expect(events.items).toHaveLength(2);
    expect(byReason.ZoneImpaired).toMatchObject({
      type: 'Warning',
      message: 'PB-2 zone a impaired',
      count: 2,
      involvedObject: { kind: 'Widget', name: 'e1', uid: created.metadata?.uid },
      source: { component: 'failover-operator-test' },
    });
    expect(byReason.ZoneRecovered?.count).toBe(1);
  });

  it('does not throw when the Event cannot be written', async () => {
    const recorder = new EventRecorder({
      sink: createEventSink(kc),
      component: 'failover-operator-test',
      clock: systemClock(),
      logger,
    });
    // The namespace does not exist: the API server refuses the write; record() logs and resolves.
    await expect(
      recorder.record(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'no-such-namespace-rt', name: 'x' },
        { type: 'Normal', reason: 'Test', message: 'dropped' },
      ),
    ).resolves.toBeUndefined();
  });
});
