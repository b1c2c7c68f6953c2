import type { CoreV1Event } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../clock.ts';
import { EVENT_DEFAULTS, EventRecorder, type EventSink, type InvolvedObject } from './events.ts';

function memorySink() {
  const events = new Map<string, CoreV1Event>();
  const calls: string[] = [];
  const state = { failCreates: 0 };
  const sink: EventSink = {
    async create(namespace, event) {
      calls.push('create');
      if (state.failCreates > 0) {
        state.failCreates--;
        throw Object.assign(new Error('forbidden'), { code: 403 });
      }
      const stored = structuredClone(event);
      events.set(`${namespace}/${event.metadata?.name}`, stored);
      return stored;
    },
    async patch(namespace, name, body) {
      calls.push('patch');
      const existing = events.get(`${namespace}/${name}`);
      if (!existing) throw Object.assign(new Error('not found'), { code: 404 });
      Object.assign(existing, body);
      return existing;
    },
  };
  return { sink, events, calls, state };
}

const policy: InvolvedObject = {
  apiVersion: 'failover.io/v1alpha1',
  kind: 'FailoverPolicy',
  namespace: 'shop',
  name: 'checkout',
  uid: 'u-1',
};

function setup(dedupeWindowMs = 60_000) {
  const clock = createVirtualClock(1_700_000_000_000);
  const memory = memorySink();
  const recorder = new EventRecorder({
    sink: memory.sink,
    component: 'failover-operator',
    clock,
    logger: pino({ level: 'silent' }),
    dedupeWindowMs,
  });
  return { clock, recorder, ...memory };
}

describe('EventRecorder', () => {
  it('creates an Event about the involved object', async () => {
    const { recorder, events } = setup();
    await recorder.record(policy, { type: 'Warning', reason: 'ZoneImpaired', message: 'PB-2 us-east-1a impaired' });
    const [event] = [...events.values()];
    expect(event).toMatchObject({
      type: 'Warning',
      reason: 'ZoneImpaired',
      message: 'PB-2 us-east-1a impaired',
      count: 1,
      involvedObject: { kind: 'FailoverPolicy', name: 'checkout', namespace: 'shop', uid: 'u-1' },
      source: { component: 'failover-operator' },
    });
    expect(event?.metadata?.name).toMatch(/^checkout\./);
  });

  it('aggregates a flapping condition into one Event per message with a count', async () => {
    const { clock, recorder, events, calls } = setup();
    for (let i = 0; i < 6; i++) {
      const degraded = i % 2 === 0;
      await recorder.record(policy, {
        type: degraded ? 'Warning' : 'Normal',
        reason: degraded ? 'Degraded' : 'Recovered',
        message: degraded ? 'zone us-east-1a degraded' : 'zone us-east-1a healthy',
      });
      await clock.advance(5_000);
    }
    expect(events.size).toBe(2);
    expect([...events.values()].map((e) => e.count)).toEqual([3, 3]);
    expect(calls.filter((c) => c === 'create')).toHaveLength(2);
    const degraded = [...events.values()].find((e) => e.reason === 'Degraded');
    expect(degraded?.lastTimestamp).toBe(new Date(1_700_000_020_000).toISOString().replace('.000Z', 'Z'));
  });

  it('serialises concurrent identical events into one Event', async () => {
    const { recorder, events } = setup();
    const spec = { type: 'Normal', reason: 'Reconciled', message: 'ok' } as const;
    await Promise.all([recorder.record(policy, spec), recorder.record(policy, spec), recorder.record(policy, spec)]);
    expect(events.size).toBe(1);
    expect([...events.values()][0]?.count).toBe(3);
  });

  it('starts a new Event after the dedupe window', async () => {
    const { clock, recorder, events } = setup(60_000);
    const spec = { type: 'Normal', reason: 'Reconciled', message: 'ok' } as const;
    await recorder.record(policy, spec);
    await clock.advance(61_000);
    await recorder.record(policy, spec);
    expect(events.size).toBe(2);
  });

  it('re-creates an Event that expired on the server, keeping the count', async () => {
    const { recorder, events } = setup();
    const spec = { type: 'Normal', reason: 'Reconciled', message: 'ok' } as const;
    await recorder.record(policy, spec);
    events.clear();
    await recorder.record(policy, spec);
    expect([...events.values()][0]?.count).toBe(2);
  });

  it('never throws when the write fails; the next event is still written', async () => {
    const { recorder, events, state } = setup();
    state.failCreates = 1;
    await expect(recorder.record(policy, { type: 'Warning', reason: 'Failed', message: 'x' })).resolves.toBeUndefined();
    expect(events.size).toBe(0);
    await recorder.record(policy, { type: 'Warning', reason: 'Failed', message: 'x' });
    expect(events.size).toBe(1);
  });

  it('keeps at most maxInFlight Event writes in flight; the rest are written after, in order', async () => {
    const { recorder, sink, events } = setup();
    let inFlight = 0;
    let most = 0;
    const order: string[] = [];
    const releases: Array<() => void> = [];
    const create = sink.create.bind(sink);
    sink.create = async (namespace, event) => {
      inFlight++;
      most = Math.max(most, inFlight);
      order.push(event.involvedObject.name ?? '');
      await new Promise<void>((resolve) => releases.push(resolve));
      inFlight--;
      return create(namespace, event);
    };
    const names = Array.from({ length: 10 }, (_, i) => `p-${i}`);
    const all = Promise.all(
      names.map((name) =>
        recorder.record({ ...policy, name }, { type: 'Warning', reason: 'ZoneDegraded', message: 'us-east-1a' }),
      ),
    );
    for (let round = 0; round < 10; round++) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(inFlight).toBeLessThanOrEqual(EVENT_DEFAULTS.maxInFlight);
      releases.shift()?.();
    }
    await all;
    expect(most).toBe(EVENT_DEFAULTS.maxInFlight);
    expect(order).toEqual(names);
    expect(events.size).toBe(10);
  });
});
