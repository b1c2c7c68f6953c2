import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type Clock, sleepQuietly } from './clock.ts';
import { Controller, type ControllerOptions, type Reconciler } from './controller.ts';
import { type HealthServer, startHealthServer } from './http-server.ts';
import type { Informer } from './informer.ts';
import { LeaderElector, type LeaderElectorOptions } from './leader-election.ts';
import { createRuntimeMetrics, type RuntimeMetrics } from './metrics.ts';
import { type MetricsServer, type SecureMetricsOptions, startMetricsServer } from './metrics-server.ts';

/**
 * The runtime's lifecycle, after controller-runtime's Manager.
 *
 * Start, in order: the health/metrics server → every informer (all replicas, so followers stay warm) → wait for
 * caches to sync (then /readyz passes) → runnables that need no leadership → leader election → on leading: each
 * controller's workers and the leader-only runnables.
 *
 * Stop (when `signal` aborts, or leadership is lost), in order, within `shutdownTimeoutMs` (default 30 s):
 * /readyz fails → queues stop handing out keys and in-flight reconciles drain (at the deadline their signal aborts)
 * → the Lease is released, so a successor takes over at once *after* we stopped acting (PB-7: one writer)
 * → informers stop → the HTTP server closes. Losing leadership aborts in-flight reconciles at once.
 */
export interface ManagerOptions {
  clock: Clock;
  logger: Logger;
  /** Receives the runtime's metrics and is served on /metrics. */
  registry: Registry;
  /** /healthz and /readyz, plain HTTP. Port 0 picks a free port (see `healthPort()`); omitted: no server. */
  health?: { port: number; host?: string };
  /**
   * /metrics: HTTPS with a reviewed bearer token when `secure` is given, else plain HTTP. Port 0 picks a free port
   * (see `metricsPort()`); omitted: no server.
   */
  metrics?: { port: number; host?: string; secure?: SecureMetricsOptions };
  /** Omitted: this replica leads unconditionally (single replica, simulation, tests). */
  leaderElection?: Omit<LeaderElectorOptions, 'clock' | 'logger' | 'metrics' | 'onStartedLeading' | 'onStoppedLeading'>;
  shutdownTimeoutMs?: number;
}

export interface AddControllerOptions<T extends KubernetesObject> {
  name: string;
  informer: Informer<T>;
  reconcile: Reconciler;
  workers?: number;
  urgentWorkers?: number;
  queue?: ControllerOptions<T>['queue'];
}

export interface Runnable {
  name: string;
  /** True: runs only while this replica leads. */
  needLeaderElection: boolean;
  /** Runs until `signal` aborts. */
  run(signal: AbortSignal): Promise<void>;
}

/** Why `start` returned: asked to stop, or leadership was lost (exit non-zero and let the pod restart). */
export type ManagerExit = 'stopped' | 'leadership-lost';

export const MANAGER_DEFAULTS = { shutdownTimeoutMs: 30_000 } as const;

export class Manager {
  readonly #o: ManagerOptions;
  readonly #logger: Logger;
  readonly #metrics: RuntimeMetrics;
  readonly #controllers: Controller<KubernetesObject>[] = [];
  readonly #informers = new Set<Informer<KubernetesObject>>();
  readonly #runnables: Runnable[] = [];
  #elector: LeaderElector | undefined;
  #health: HealthServer | undefined;
  #metricsServer: MetricsServer | undefined;
  #started = false;
  #stopping = false;
  #leading = false;
  /** The current leadership term's work signal; aborted while not leading. */
  #leadership: AbortSignal = AbortSignal.abort(new Error('not leading'));

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.#logger = options.logger.child({ component: 'manager' });
    this.#metrics = createRuntimeMetrics(options.registry);
  }

  /** The runtime's metric sinks, for informers built outside the manager. */
  get metrics(): RuntimeMetrics {
    return this.#metrics;
  }

  /** Registers a reconciler for one kind, with its own work queue. */
  addController<T extends KubernetesObject>(options: AddControllerOptions<T>): Controller<T> {
    this.#assertNotStarted();
    if (this.#controllers.some((c) => c.name === options.name)) {
      throw new Error(`controller ${options.name} is already registered`);
    }
    const controller = new Controller<T>({
      ...options,
      clock: this.#o.clock,
      logger: this.#o.logger,
      metrics: { workQueue: this.#metrics.workQueue, reconcile: this.#metrics.reconcile },
    });
    this.#controllers.push(controller as unknown as Controller<KubernetesObject>);
    this.#informers.add(options.informer as unknown as Informer<KubernetesObject>);
    return controller;
  }

  /** Registers an informer no controller owns (e.g. a cache a reconciler reads), so it starts and gates readiness. */
  addInformer<T extends KubernetesObject>(informer: Informer<T>): void {
    this.#assertNotStarted();
    this.#informers.add(informer as unknown as Informer<KubernetesObject>);
  }

  addRunnable(runnable: Runnable): void {
    this.#assertNotStarted();
    this.#runnables.push(runnable);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Until when (this process's clock) it may act as leader (LeaderElector): 0 when not leading, unbounded when it
   * leads without an election (a single replica by configuration).
   */
  leadershipValidUntil(): number {
    if (!this.#leading) return 0;
    return this.#elector ? this.#elector.leadershipValidUntil() : Number.POSITIVE_INFINITY;
  }

  /**
   * The signal of the current leadership term: it aborts the moment leadership ends (lost, or released at
   * shutdown once reconciles drained) — before the Lease can pass to anyone else — and is already aborted while
   * this replica does not lead. AWS writes run under it (src/act/leader-guard.ts), so a deposed leader's write in
   * flight, retry wait or coalesced batch stops at once, not when the process does.
   */
  leadershipSignal(): AbortSignal {
    return this.#leadership;
  }

  /** Informers synced and not stopping. */
  isReady(): boolean {
    return Object.values(this.#readiness()).every(Boolean);
  }

  healthPort(): number | undefined {
    return this.#health?.port;
  }

  metricsPort(): number | undefined {
    return this.#metricsServer?.port;
  }

  /** Runs until `signal` aborts or leadership is lost; resolves after the ordered shutdown. */
  async start(signal: AbortSignal): Promise<ManagerExit> {
    this.#assertNotStarted();
    this.#started = true;
    const { clock } = this.#o;
    const informersStop = new AbortController();
    const electionStop = new AbortController();
    const dispatchStop = new AbortController();
    const workStop = new AbortController();
    const lost = new AbortController();
    const background: Array<Promise<unknown>> = [];
    const leaderWork: Array<Promise<unknown>> = [];

    if (this.#o.health) {
      this.#health = await startHealthServer({
        ...this.#o.health,
        readiness: () => this.#readiness(),
        logger: this.#o.logger,
      });
    }
    if (this.#o.metrics) {
      this.#metricsServer = await startMetricsServer({
        ...this.#o.metrics,
        registry: this.#o.registry,
        logger: this.#o.logger,
      });
    }

    const informerRuns = [...this.#informers].map((informer) =>
      informer.run(informersStop.signal).catch((err: unknown) => {
        this.#logger.error({ err, resource: informer.resourceName }, 'Informer stopped unexpectedly');
      }),
    );

    let exit: ManagerExit = 'stopped';
    try {
      await Promise.all([...this.#informers].map((informer) => informer.waitForSync(signal)));
      this.#logger.info({ informers: this.#informers.size }, 'Caches synced');

      const startLeaderWork = (leadership: AbortSignal) => {
        this.#leading = true;
        const dispatch = AbortSignal.any([leadership, dispatchStop.signal]);
        const work = AbortSignal.any([leadership, workStop.signal]);
        this.#leadership = work;
        // Not leading from the moment the term ends, so whoever reacts to its signal already sees isLeader() false.
        leadership.addEventListener(
          'abort',
          () => {
            this.#leading = false;
          },
          { once: true },
        );
        for (const controller of this.#controllers) {
          // Keys that arrived while following are already queued; resync-on-lead covers any a relist dropped.
          for (const key of controller.informer.keys()) controller.queue.add(key);
          leaderWork.push(controller.run({ dispatch, work }));
        }
        for (const runnable of this.#runnables.filter((r) => r.needLeaderElection)) {
          leaderWork.push(this.#runRunnable(runnable, work));
        }
      };

      for (const runnable of this.#runnables.filter((r) => !r.needLeaderElection)) {
        background.push(this.#runRunnable(runnable, workStop.signal));
      }

      if (this.#o.leaderElection) {
        this.#elector = new LeaderElector({
          ...this.#o.leaderElection,
          clock,
          logger: this.#o.logger,
          metrics: this.#metrics.leaderElection,
          onStartedLeading: startLeaderWork,
          onStoppedLeading: () => {
            this.#leading = false;
          },
        });
        const electing = this.#elector.run(electionStop.signal).then((end) => {
          if (end === 'lost') lost.abort();
        });
        background.push(electing);
      } else {
        startLeaderWork(new AbortController().signal);
      }

      await waitForAbort(AbortSignal.any([signal, lost.signal]));
      if (lost.signal.aborted && !signal.aborted) exit = 'leadership-lost';
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      await this.#shutdown({
        exit,
        dispatchStop,
        workStop,
        electionStop,
        informersStop,
        leaderWork,
        background,
        informerRuns,
      });
    }
    return exit;
  }

  async #shutdown(s: {
    exit: ManagerExit;
    dispatchStop: AbortController;
    workStop: AbortController;
    electionStop: AbortController;
    informersStop: AbortController;
    leaderWork: Array<Promise<unknown>>;
    background: Array<Promise<unknown>>;
    informerRuns: Array<Promise<unknown>>;
  }): Promise<void> {
    const { clock } = this.#o;
    const timeoutMs = this.#o.shutdownTimeoutMs ?? MANAGER_DEFAULTS.shutdownTimeoutMs;
    const deadline = clock.now() + timeoutMs;
    this.#stopping = true;
    this.#logger.info({ reason: s.exit, shutdownTimeoutMs: timeoutMs }, 'Stopping');

    s.dispatchStop.abort();
    if (!(await this.#within(Promise.all(s.leaderWork), deadline))) {
      this.#logger.warn('Shutdown deadline passed while reconciles were in flight; aborted them');
      s.workStop.abort();
      await this.#within(Promise.all(s.leaderWork), clock.now() + 1_000);
    }
    s.workStop.abort();

    s.electionStop.abort();
    await this.#within(Promise.all(s.background), Math.max(deadline, clock.now() + 2_000));

    s.informersStop.abort();
    await this.#within(Promise.all(s.informerRuns), Math.max(deadline, clock.now() + 1_000));

    await Promise.all([this.#health?.close(), this.#metricsServer?.close()]);
    this.#logger.info({ reason: s.exit }, 'Stopped');
  }

  /** Waits for `work` until the clock reaches `deadline`; true when it finished in time. */
  async #within(work: Promise<unknown>, deadline: number): Promise<boolean> {
    const cancel = new AbortController();
    const timedOut = sleepQuietly(this.#o.clock, deadline - this.#o.clock.now(), cancel.signal).then(() => false);
    try {
      return await Promise.race([work.then(() => true), timedOut]);
    } finally {
      cancel.abort();
    }
  }

  async #runRunnable(runnable: Runnable, signal: AbortSignal): Promise<void> {
    try {
      await runnable.run(signal);
    } catch (err) {
      if (!signal.aborted) this.#logger.error({ err, runnable: runnable.name }, 'Runnable failed');
    }
  }

  #readiness(): Record<string, boolean> {
    const checks: Record<string, boolean> = { 'not-stopping': !this.#stopping };
    for (const informer of this.#informers) checks[`informer-synced:${informer.resourceName}`] = informer.hasSynced();
    return checks;
  }

  #assertNotStarted(): void {
    if (this.#started) throw new Error('manager already started');
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
