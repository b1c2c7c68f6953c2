import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../clock.ts';
import { Informer, type InformerMetrics } from './informer.ts';
import { fakeListWatch, type Widget, widget } from './testing/fake-list-watch.ts';
import { flushMicrotasks } from './testing/flush.ts';

/** How far away the next pending sleep is (the backoff the informer chose). */
function nextTimerIn(clock: VirtualClock): number {
  return (clock.nextTimerAt() ?? Number.NaN) - clock.now();
}

const running: AbortController[] = [];
afterEach(() => {
  for (const c of running.splice(0)) c.abort();
});

function setup(options: { resyncPeriodMs?: number; relistPeriodMs?: number; random?: () => number } = {}) {
  const clock = createVirtualClock(1_700_000_000_000);
  const server = fakeListWatch<Widget>();
  const events: Array<[string, string]> = [];
  const restarts: string[] = [];
  const metrics: InformerMetrics = {
    watchEvent: (_r, type) => events.push(['event', type]),
    watchRestarted: (_r, reason) => restarts.push(reason),
    listed: () => {},
  };
  const informer = new Informer<Widget>({
    resource: { group: 'x.io', version: 'v1', plural: 'widgets' },
    namespace: 'ns',
    list: server.list,
    watch: server.watch,
    clock,
    logger: pino({ level: 'silent' }),
    metrics,
    random: options.random ?? (() => 0.5),
    resyncPeriodMs: options.resyncPeriodMs ?? 60_000,
    relistPeriodMs: options.relistPeriodMs ?? 3_600_000,
  });
  const keys: string[] = [];
  informer.onKey((key) => keys.push(key));
  const controller = new AbortController();
  running.push(controller);
  const start = () => informer.run(controller.signal);
  return { clock, server, informer, keys, controller, start, events, restarts };
}

describe('Informer', () => {
  it('lists into the cache, enqueues every key and watches from the list resourceVersion', async () => {
    const { server, informer, keys, start } = setup();
    server.state.objects = [widget('ns', 'a', '5'), widget('ns', 'b', '7')];
    expect(informer.hasSynced()).toBe(false);
    void start();
    await informer.waitForSync();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(true);
    expect(keys.sort()).toEqual(['ns/a', 'ns/b']);
    expect(informer.get('ns/a')?.metadata?.resourceVersion).toBe('5');
    const call = server.lastWatch();
    expect(call.path).toBe('/apis/x.io/v1/namespaces/ns/widgets');
    expect(call.query).toMatchObject({ resourceVersion: '10', allowWatchBookmarks: true });
  });

  it('keeps the cache current from watch events and hands out only keys', async () => {
    const { server, informer, keys, start, events } = setup();
    void start();
    await flushMicrotasks();
    const call = server.lastWatch();
    call.emit('ADDED', widget('ns', 'a', '11', 1));
    call.emit('MODIFIED', widget('ns', 'a', '12', 2));
    call.emit('BOOKMARK', { metadata: { resourceVersion: '13' } });
    call.emit('ADDED', widget('ns', 'b', '14'));
    call.emit('DELETED', widget('ns', 'b', '15'));
    expect(keys).toEqual(['ns/a', 'ns/a', 'ns/b', 'ns/b']);
    expect(informer.get('ns/a')?.spec?.size).toBe(2);
    expect(informer.get('ns/b')).toBeUndefined();
    expect(events.map(([, t]) => t)).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK', 'ADDED', 'DELETED']);
    // A closed watch resumes from the last resourceVersion without relisting.
    call.end(null);
    await flushMicrotasks();
    expect(server.state.watches).toHaveLength(2);
    expect(server.lastWatch().query.resourceVersion).toBe('15');
    expect(server.state.listCalls).toBe(1);
  });

  it('caches listed and watched objects without managedFields, and keeps the rest of metadata', async () => {
    const { server, informer, start } = setup();
    const managed = (w: Widget): Widget => ({
      ...w,
      metadata: { ...w.metadata, uid: 'u1', managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
    });
    server.state.objects = [managed(widget('ns', 'a', '5'))];
    void start();
    await informer.waitForSync();
    await flushMicrotasks();
    server.lastWatch().emit('ADDED', managed(widget('ns', 'b', '6')));
    for (const key of ['ns/a', 'ns/b']) {
      expect(informer.get(key)?.metadata).not.toHaveProperty('managedFields');
      expect(informer.get(key)?.metadata?.uid).toBe('u1');
    }
    expect(informer.get('ns/b')?.spec?.size).toBe(1);
  });

  it('backs off when a watch closes before delivering anything, so it cannot spin', async () => {
    const { clock, server, start } = setup({ random: () => 0, resyncPeriodMs: 0 });
    void start();
    await flushMicrotasks();
    server.lastWatch().end(null);
    await flushMicrotasks();
    expect(server.state.watches).toHaveLength(1);
    await clock.advance(500);
    expect(server.state.watches).toHaveLength(2);
  });

  it('re-watches at once after client-side inactivity timeouts', async () => {
    const { server, start, restarts } = setup();
    void start();
    await flushMicrotasks();
    server.lastWatch().end(new DOMException('timed out', 'TimeoutError'));
    await flushMicrotasks();
    expect(server.state.watches).toHaveLength(2);
    expect(restarts).toEqual(['timeout']);
  });

  it('relists on 410 Gone, from an HTTP error or a watch ERROR event, and reports vanished objects', async () => {
    const { server, informer, keys, start, restarts } = setup();
    server.state.objects = [widget('ns', 'a', '5'), widget('ns', 'b', '6')];
    void start();
    await flushMicrotasks();
    keys.length = 0;
    // While we were disconnected, b was deleted and c created.
    server.state.objects = [widget('ns', 'a', '5'), widget('ns', 'c', '20')];
    server.state.resourceVersion = '21';
    server.lastWatch().emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });
    await flushMicrotasks();
    expect(server.state.listCalls).toBe(2);
    expect(informer.keys().sort()).toEqual(['ns/a', 'ns/c']);
    expect(keys.sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
    expect(server.lastWatch().query.resourceVersion).toBe('21');

    server.lastWatch().end(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await flushMicrotasks();
    expect(server.state.listCalls).toBe(3);
    expect(restarts).toEqual(['expired', 'expired']);
  });

  it('reconnects after watch errors with growing, jittered, capped backoff that resets after a healthy watch', async () => {
    const { clock, server, start } = setup({ random: () => 0, resyncPeriodMs: 0 });
    void start();
    await flushMicrotasks();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const before = server.state.watches.length;
      server.lastWatch().end(Object.assign(new Error('boom'), { statusCode: 500 }));
      await flushMicrotasks();
      expect(server.state.watches).toHaveLength(before); // not reconnected yet
      const wait = nextTimerIn(clock);
      waits.push(wait);
      await clock.advance(wait);
      expect(server.state.watches).toHaveLength(before + 1);
    }
    // random() = 0 picks the lower half of each jitter window [d/2, d]: 1 s, 2 s, 4 s, … capped at 30 s.
    expect(waits).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    server.lastWatch().emit('ADDED', widget('ns', 'a', '30'));
    server.lastWatch().end(Object.assign(new Error('boom'), { statusCode: 500 }));
    await flushMicrotasks();
    expect(nextTimerIn(clock)).toBe(500);
  });

  it('jitters reconnect delays within [d/2, d]', async () => {
    const { clock, server, start } = setup({ random: () => 0.998, resyncPeriodMs: 0 });
    void start();
    await flushMicrotasks();
    server.lastWatch().end(new Error('connection reset'));
    await flushMicrotasks();
    expect(nextTimerIn(clock)).toBe(999);
  });

  it('retries a failed list with backoff and only then reports synced', async () => {
    const { clock, server, informer, start } = setup();
    server.state.listFailures = 2;
    void start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(750);
    expect(server.state.listCalls).toBe(2);
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(1_500);
    expect(server.state.listCalls).toBe(3);
    expect(informer.hasSynced()).toBe(true);
  });

  it('resync hands every cached key out again each period, without any change', async () => {
    const { clock, server, keys, start } = setup({ resyncPeriodMs: 60_000 });
    server.state.objects = [widget('ns', 'a', '5'), widget('ns', 'b', '6')];
    void start();
    await flushMicrotasks();
    keys.length = 0;
    await clock.advance(59_999);
    expect(keys).toEqual([]);
    await clock.advance(1);
    expect(keys.sort()).toEqual(['ns/a', 'ns/b']);
    await clock.advance(60_000);
    expect(keys).toHaveLength(4);
  });

  it('relists periodically to repair drift a watch missed', async () => {
    const { clock, server, informer, start, restarts } = setup({ relistPeriodMs: 600_000, resyncPeriodMs: 0 });
    server.state.objects = [widget('ns', 'a', '5')];
    void start();
    await flushMicrotasks();
    server.state.objects = [widget('ns', 'a', '9', 3)]; // changed, but the watch never said so
    await clock.advance(600_000);
    expect(server.state.listCalls).toBe(2);
    expect(informer.get('ns/a')?.spec?.size).toBe(3);
    expect(restarts).toEqual(['relist']);
    expect(server.state.watches[0]?.controller.signal.aborted).toBe(true);
  });

  it('stops on abort: run resolves and the watch connection is closed', async () => {
    const { server, start, controller } = setup();
    const done = start();
    await flushMicrotasks();
    controller.abort();
    await done;
    expect(server.lastWatch().controller.signal.aborted).toBe(true);
  });
});
