import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../clock.ts';
import type { Reconciler } from './controller.ts';
import { TerminalError } from './errors.ts';
import { Informer } from './informer.ts';
import type { ObjectRef } from './keys.ts';
import { Manager, type ManagerExit, type ManagerOptions } from './manager.ts';
import { fakeLeaseStore } from './testing/fake-lease.ts';
import { fakeListWatch, type Widget, widget } from './testing/fake-list-watch.ts';
import { flushMicrotasks } from './testing/flush.ts';

const logger = pino({ level: 'silent' });
const stops: AbortController[] = [];
afterEach(() => {
  for (const c of stops.splice(0)) c.abort();
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function setup(options: Partial<ManagerOptions> & { clock?: VirtualClock } = {}) {
  const clock = options.clock ?? createVirtualClock(1_700_000_000_000);
  const server = fakeListWatch<Widget>();
  const registry = new Registry();
  const manager = new Manager({ clock, logger, registry, shutdownTimeoutMs: 5_000, ...options });
  const informer = new Informer<Widget>({
    resource: { group: 'x.io', version: 'v1', plural: 'widgets' },
    list: server.list,
    watch: server.watch,
    clock,
    logger,
    resyncPeriodMs: 0,
    metrics: manager.metrics.informer,
  });
  const stop = new AbortController();
  stops.push(stop);
  let exit: ManagerExit | undefined;
  const start = () => {
    const running = manager.start(stop.signal);
    void running.then((e) => {
      exit = e;
    });
    return running;
  };
  return { clock, server, informer, registry, manager, stop, start, exit: () => exit };
}

/** Waits (in real time) until the manager's health and metrics servers listen; their base URLs. */
async function listening(manager: Manager): Promise<{ health: string; metrics: string }> {
  for (let i = 0; i < 200 && manager.metricsPort() === undefined; i++) await new Promise((r) => setTimeout(r, 5));
  return { health: `http://127.0.0.1:${manager.healthPort()}`, metrics: `http://127.0.0.1:${manager.metricsPort()}` };
}

describe('Manager', () => {
  it('reconciles every key and follows the verdict: done, requeue after, backoff on error, stop on terminal', async () => {
    const { clock, server, informer, manager, registry, stop, start } = setup();
    server.state.objects = [widget('ns', 'ok', '1'), widget('ns', 'flaky', '2'), widget('ns', 'broken', '3')];
    const calls: string[] = [];
    let flakyFailures = 1;
    const reconcile: Reconciler = async (req: ObjectRef) => {
      calls.push(req.name);
      if (req.name === 'ok') return { requeueAfterMs: 30_000 };
      if (req.name === 'flaky' && flakyFailures-- > 0) throw new Error('AWS throttled');
      if (req.name === 'broken') throw new TerminalError('spec can never work');
      return undefined;
    };
    manager.addController({ name: 'widgets', informer, reconcile, workers: 2 });
    const running = start();
    await flushMicrotasks();
    expect(calls.sort()).toEqual(['broken', 'flaky', 'ok']);
    calls.length = 0;
    await clock.advance(1_000); // flaky: first backoff step (1 s, jitter only shortens it)
    expect(calls).toEqual(['flaky']);
    await clock.advance(29_000);
    expect(calls).toEqual(['flaky', 'ok']);
    await clock.advance(600_000);
    expect(calls.filter((c) => c === 'broken')).toHaveLength(0);
    expect(calls.filter((c) => c === 'flaky')).toHaveLength(1);
    const metrics = await registry.metrics();
    // A terminal error counts as an error, and as a terminal one, as in controller-runtime.
    expect(metrics).toContain('controller_runtime_reconcile_total{controller="widgets",result="error"} 2');
    expect(metrics).toContain('controller_runtime_reconcile_errors_total{controller="widgets"} 2');
    expect(metrics).toContain('controller_runtime_terminal_reconcile_errors_total{controller="widgets"} 1');
    expect(metrics).toContain('controller_runtime_max_concurrent_reconciles{controller="widgets"} 2');
    expect(metrics).toContain('controller_runtime_active_workers{controller="widgets"} 0');
    expect(metrics).toContain('workqueue_retries_total{name="widgets",controller="widgets"} 1');
    expect(metrics).toContain('workqueue_longest_running_processor_seconds{name="widgets",controller="widgets"} 0');
    stop.abort();
    expect(await running).toBe('stopped');
  });

  it('serves /healthz always and /readyz once caches synced on the health port, /metrics on its own', async () => {
    const { clock, server, informer, manager, stop, start } = setup({
      health: { port: 0, host: '127.0.0.1' },
      metrics: { port: 0, host: '127.0.0.1' },
    });
    server.state.listFailures = 1;
    manager.addController({ name: 'widgets', informer, reconcile: async () => undefined });
    const running = start();
    const { health: base, metrics: metricsBase } = await listening(manager);
    expect(metricsBase).not.toBe(base);
    await flushMicrotasks();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('[-]informer-synced:widgets.x.io');
    await clock.advance(1_000);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${metricsBase}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain(
      'failover_operator_informer_lists_total{resource="widgets.x.io",outcome="error"} 1',
    );
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect((await fetch(`${metricsBase}/healthz`)).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    stop.abort();
    await running;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    await expect(fetch(`${metricsBase}/metrics`)).rejects.toThrow();
  });

  it('on stop drains in-flight reconciles first, then releases the lease', async () => {
    const lease = fakeLeaseStore();
    const { server, informer, manager, stop, start } = setup({
      leaderElection: { lease: lease.api, leaseRef: { namespace: 'ns', name: 'op' }, identity: 'me' },
    });
    server.state.objects = [widget('ns', 'a', '1')];
    const release = deferred();
    let holderWhenReconcileFinished: string | undefined;
    manager.addController({
      name: 'widgets',
      informer,
      reconcile: async () => {
        await release.promise;
        holderWhenReconcileFinished = lease.store.lease?.spec?.holderIdentity;
        return undefined;
      },
    });
    const running = start();
    await flushMicrotasks();
    expect(manager.isLeader()).toBe(true);
    stop.abort();
    await flushMicrotasks();
    expect(manager.isReady()).toBe(false);
    expect(lease.store.lease?.spec?.holderIdentity).toBe('me');
    release.resolve();
    expect(await running).toBe('stopped');
    expect(holderWhenReconcileFinished).toBe('me');
    expect(lease.store.lease?.spec?.holderIdentity).toBeUndefined();
  });

  it('aborts reconciles that outlive the shutdown deadline', async () => {
    const { clock, server, informer, manager, stop, start } = setup({ shutdownTimeoutMs: 5_000 });
    server.state.objects = [widget('ns', 'a', '1')];
    let reconcileSignal: AbortSignal | undefined;
    manager.addController({
      name: 'widgets',
      informer,
      reconcile: (_req, signal) => {
        reconcileSignal = signal;
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    const running = start();
    await flushMicrotasks();
    stop.abort();
    await clock.advance(4_999);
    expect(reconcileSignal?.aborted).toBe(false);
    await clock.advance(1);
    expect(reconcileSignal?.aborted).toBe(true);
    expect(await running).toBe('stopped');
  });

  it('follows while another replica leads, then reconciles the keys it queued once it takes over', async () => {
    const lease = fakeLeaseStore();
    lease.holdBy('other');
    const { clock, server, informer, manager, stop, start } = setup({
      leaderElection: { lease: lease.api, leaseRef: { namespace: 'ns', name: 'op' }, identity: 'me' },
    });
    server.state.objects = [widget('ns', 'a', '1')];
    const calls: string[] = [];
    manager.addController({
      name: 'widgets',
      informer,
      reconcile: async (req) => {
        calls.push(req.name);
        return undefined;
      },
    });
    const running = start();
    await flushMicrotasks();
    server.lastWatch().emit('ADDED', widget('ns', 'b', '11'));
    for (let i = 0; i < 5; i++) {
      lease.holdBy('other');
      await clock.advance(2_000);
    }
    expect(calls).toEqual([]);
    expect(manager.isReady()).toBe(true); // warm follower
    await clock.advance(20_000); // 'other' stopped renewing: its lease expires on our clock
    expect(manager.isLeader()).toBe(true);
    expect(calls.sort()).toEqual(['a', 'b']);
    stop.abort();
    await running;
  });

  it('stops at once and reports it when leadership is lost', async () => {
    const lease = fakeLeaseStore();
    const { clock, server, informer, manager, start, exit } = setup({
      leaderElection: { lease: lease.api, leaseRef: { namespace: 'ns', name: 'op' }, identity: 'me' },
    });
    server.state.objects = [widget('ns', 'a', '1')];
    let reconcileSignal: AbortSignal | undefined;
    manager.addController({
      name: 'widgets',
      informer,
      reconcile: (_req, signal) => {
        reconcileSignal = signal;
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    const running = start();
    await flushMicrotasks();
    lease.store.failReads = true;
    lease.store.failWrites = true;
    await clock.advance(8_000);
    expect(reconcileSignal?.aborted).toBe(false);
    await clock.advance(2_000);
    expect(reconcileSignal?.aborted).toBe(true);
    expect(await running).toBe('leadership-lost');
    expect(exit()).toBe('leadership-lost');
  });

  it("gives writes the leadership term's signal: aborted before leading, live while leading, aborted at its end", async () => {
    const lease = fakeLeaseStore();
    lease.holdBy('other');
    const { clock, informer, manager, start } = setup({
      leaderElection: { lease: lease.api, leaseRef: { namespace: 'ns', name: 'op' }, identity: 'me' },
    });
    manager.addController({ name: 'widgets', informer, reconcile: async () => undefined });
    const before = manager.leadershipSignal();
    expect(before.aborted).toBe(true); // never led yet: writes are refused
    const running = start();
    await flushMicrotasks();
    expect(manager.leadershipSignal().aborted).toBe(true); // following
    await clock.advance(25_000); // the other holder stopped renewing: its lease expired on our clock
    await flushMicrotasks();
    expect(manager.isLeader()).toBe(true);
    const term = manager.leadershipSignal();
    expect(term.aborted).toBe(false);

    // Leadership lost: the term's signal aborts when leadership ends, before the manager returns.
    lease.store.failReads = true;
    lease.store.failWrites = true;
    let abortedWhileLeaderFlag: boolean | undefined;
    term.addEventListener('abort', () => {
      abortedWhileLeaderFlag = manager.isLeader();
    });
    await clock.advance(10_000);
    expect(term.aborted).toBe(true);
    expect(abortedWhileLeaderFlag).toBe(false); // isLeader() is already false when writes are told to stop
    expect(await running).toBe('leadership-lost');
    expect(manager.leadershipSignal().aborted).toBe(true);
  });

  it('runs leader-only runnables only while leading and others always', async () => {
    const lease = fakeLeaseStore();
    lease.holdBy('other');
    const { informer, manager, stop, start } = setup({
      leaderElection: { lease: lease.api, leaseRef: { namespace: 'ns', name: 'op' }, identity: 'me' },
    });
    const started: string[] = [];
    manager.addInformer(informer);
    for (const needLeaderElection of [true, false]) {
      manager.addRunnable({
        name: needLeaderElection ? 'executor' : 'probes',
        needLeaderElection,
        run: async (signal) => {
          started.push(needLeaderElection ? 'executor' : 'probes');
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
        },
      });
    }
    const running = start();
    await flushMicrotasks();
    expect(started).toEqual(['probes']);
    stop.abort();
    expect(await running).toBe('stopped');
  });

  it('refuses registration after start and duplicate controller names', async () => {
    const { informer, manager, stop, start } = setup();
    manager.addController({ name: 'widgets', informer, reconcile: async () => undefined });
    expect(() => manager.addController({ name: 'widgets', informer, reconcile: async () => undefined })).toThrow(
      /already registered/,
    );
    const running = start();
    expect(() => manager.addInformer(informer)).toThrow(/already started/);
    stop.abort();
    await running;
  });
});
