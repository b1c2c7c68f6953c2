import { type Clock, sleepQuietly } from './clock.ts';

/**
 * A rate-limited, deduplicating work queue of `namespace/name` keys, modelled on client-go's workqueue as used by
 * controller-runtime. One queue per controller (never one global queue for all kinds).
 *
 * Guarantees:
 * - **Dedupe.** A key added while it waits is stored once.
 * - **Per-key serialisation.** A key is handed to at most one worker at a time. A key added while it is being
 *   processed is marked dirty and handed out again after `done(key)`, so the latest state is always reconciled.
 * - **Per-key backoff.** `addRateLimited(key)` delays the key by `min(cap, base * 2^failures)`, jittered down by up
 *   to `jitter` of itself so that keys failing together do not retry in lock-step (PB-8). `forget(key)` resets it.
 * - **Delayed adds.** `addAfter(key, ms)`; when a key is waiting more than once, the earliest deadline wins.
 * - **Shutdown.** `shutDown()` stops handing out keys and cancels pending delayed adds; `run()` returns once every
 *   in-flight key is done (drain).
 * - **Urgent keys.** `addUrgent(key)` (a health transition: detection → action) puts the key ahead of every ordinary
 *   key, and `run` may start extra workers that take urgent keys only: a zone decision reaches every policy it
 *   affects at once instead of after the ordinary workers free up, while resyncs and the initial sync stay within
 *   the ordinary worker count. Per-key serialisation holds across both lanes.
 *
 * Defaults: base delay 1 s, cap 5 min, jitter 0.2 (a retry lands in [0.8·d, d]).
 */
export interface WorkQueueMetrics {
  /** Keys waiting to be handed out. */
  depth(queue: string, depth: number): void;
  /** A key entered the queue (deduplicated adds do not count). */
  added(queue: string): void;
  /** A key was requeued with backoff. */
  retried(queue: string): void;
  /** Time a key waited between its add and a worker taking it (client-go's queue latency). */
  queueDuration(queue: string, seconds: number): void;
  /** Time one worker spent on one key. */
  workDuration(queue: string, seconds: number): void;
  /**
   * The queue's keys in flight, read when metrics are collected (client-go updates these on a ticker; a scrape-time
   * read is exact and costs nothing between scrapes).
   */
  inFlight(queue: string, read: () => InFlightWork): void;
}

/** Work handed out and not yet done. */
export interface InFlightWork {
  /** Sum over the keys in flight of how long each has been processed (stuck workers make this grow). */
  unfinishedSeconds: number;
  /** How long the longest-running key has been processed; 0 when idle. */
  longestRunningSeconds: number;
}

export interface WorkQueueOptions {
  name: string;
  clock: Clock;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Fraction (0..1) of a backoff delay that is randomised away. */
  jitter?: number;
  /** Uniform [0, 1) source, injected for deterministic tests. */
  random?: () => number;
  metrics?: WorkQueueMetrics;
}

export const WORK_QUEUE_DEFAULTS = { baseDelayMs: 1_000, maxDelayMs: 300_000, jitter: 0.2 } as const;

interface DelayedEntry {
  readyAt: number;
  token: symbol;
}

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #metrics: WorkQueueMetrics | undefined;

  readonly #queue: string[] = [];
  /** Urgent keys waiting, handed out before `#queue`. */
  readonly #urgentQueue: string[] = [];
  /** Keys whose next hand-out is urgent (waiting in `#urgentQueue`, or dirty while processed). */
  readonly #urgent = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each waiting key was first added, for the queue-duration metric. */
  readonly #addedAt = new Map<string, number>();
  /** When each key in flight was handed out. */
  readonly #processingSince = new Map<string, number>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, DelayedEntry>();
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  /** Workers of the urgent lane waiting for an urgent key. */
  readonly #urgentWaiters: Array<(key: string | undefined) => void> = [];
  readonly #stopDelays = new AbortController();
  readonly #idleWaiters: Array<() => void> = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.#clock = options.clock;
    this.#baseDelayMs = options.baseDelayMs ?? WORK_QUEUE_DEFAULTS.baseDelayMs;
    this.#maxDelayMs = options.maxDelayMs ?? WORK_QUEUE_DEFAULTS.maxDelayMs;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? WORK_QUEUE_DEFAULTS.jitter));
    this.#random = options.random ?? Math.random;
    this.#metrics = options.metrics;
    this.#metrics?.inFlight(this.name, () => this.inFlight());
  }

  /** Work handed out and not yet done, as of now. */
  inFlight(): InFlightWork {
    const now = this.#clock.now();
    let unfinishedMs = 0;
    let longestMs = 0;
    for (const since of this.#processingSince.values()) {
      unfinishedMs += now - since;
      longestMs = Math.max(longestMs, now - since);
    }
    return { unfinishedSeconds: unfinishedMs / 1000, longestRunningSeconds: longestMs / 1000 };
  }

  /** Enqueues a key now. No-op when it already waits or after shutdown; marks it dirty while it is processed. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (!this.#addedAt.has(key)) this.#addedAt.set(key, this.#clock.now());
    this.#metrics?.added(this.name);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /**
   * Enqueues a key now, ahead of every ordinary key, for any worker including the urgent lane's. A key already
   * waiting in line moves ahead; one being processed is handed out again, urgently, when it is done.
   */
  addUrgent(key: string): void {
    if (this.#shuttingDown || this.#urgent.has(key)) return;
    this.#urgent.add(key);
    if (this.#dirty.has(key) && !this.#processing.has(key)) {
      // Waiting in the ordinary line: move it ahead.
      const at = this.#queue.indexOf(key);
      if (at >= 0) this.#queue.splice(at, 1);
      this.#push(key);
      return;
    }
    this.add(key);
  }

  /** Enqueues a key after `delayMs`. The earliest pending deadline for a key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.#clock.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    const entry: DelayedEntry = { readyAt, token: Symbol(key) };
    this.#delayed.set(key, entry);
    void this.#fireAfter(key, entry, delayMs);
  }

  /** Requeues a key with its per-key exponential backoff and returns the delay chosen. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delayMs = this.backoffFor(failures);
    this.#metrics?.retried(this.name);
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** The delay for the (failures+1)-th consecutive failure: exponential, capped, jittered downwards. */
  backoffFor(failures: number): number {
    const exponential = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(failures, 62));
    return Math.round(exponential * (1 - this.#jitter * this.#random()));
  }

  /** Clears a key's failure history (call after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many consecutive failures a key has had. */
  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys waiting to be handed out (not counting delayed or in-flight keys). */
  len(): number {
    return this.#queue.length + this.#urgentQueue.length;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Waits for the next key and marks it as processing; resolves `undefined` once the queue shuts down.
   * Every key returned must be passed to `done(key)`.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#urgentQueue.shift() ?? this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Like `get`, for a worker of the urgent lane: waits for an urgent key only. */
  getUrgent(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#urgentQueue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => {
      this.#urgentWaiters.push(resolve);
    });
  }

  /** Marks a key as no longer processing; if it was re-added meanwhile, it goes back in line. */
  done(key: string): void {
    this.#processing.delete(key);
    this.#processingSince.delete(key);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#push(key);
    if (this.#processing.size === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /** Stops handing out keys, cancels delayed adds and wakes idle workers. In-flight keys finish normally. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#stopDelays.abort();
    this.#delayed.clear();
    this.#addedAt.clear();
    for (const wake of this.#waiters.splice(0)) wake(undefined);
    for (const wake of this.#urgentWaiters.splice(0)) wake(undefined);
  }

  /** Resolves once no key is being processed. */
  drained(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }

  /**
   * Runs `workers` loops that take keys (urgent ones first), and `urgentWorkers` more that take urgent keys only,
   * and calls `handle(key)` until `signal` aborts, then shuts the queue down and resolves after in-flight keys are
   * done. `handle` decides forget/requeue; an exception it throws is a bug in the caller and is reported to
   * `onUnexpectedError` (the key is requeued with backoff so it is not lost).
   */
  async run(
    handle: (key: string) => Promise<void>,
    options: {
      workers: number;
      urgentWorkers?: number;
      signal: AbortSignal;
      onUnexpectedError?: (key: string, err: unknown) => void;
    },
  ): Promise<void> {
    const stop = () => this.shutDown();
    if (options.signal.aborted) stop();
    options.signal.addEventListener('abort', stop, { once: true });
    const worker = (next: () => Promise<string | undefined>) => async () => {
      for (;;) {
        const key = await next();
        if (key === undefined) return;
        const started = this.#clock.now();
        try {
          await handle(key);
        } catch (err) {
          options.onUnexpectedError?.(key, err);
          this.addRateLimited(key);
        } finally {
          this.#metrics?.workDuration(this.name, (this.#clock.now() - started) / 1000);
          this.done(key);
        }
      }
    };
    try {
      await Promise.all([
        ...Array.from(
          { length: Math.max(1, options.workers) },
          worker(() => this.get()),
        ),
        ...Array.from(
          { length: Math.max(0, options.urgentWorkers ?? 0) },
          worker(() => this.getUrgent()),
        ),
      ]);
      await this.drained();
    } finally {
      options.signal.removeEventListener('abort', stop);
    }
  }

  #push(key: string): void {
    const urgent = this.#urgent.has(key);
    // An ordinary worker first, so the urgent lane is used only when they are all busy.
    const waiter = this.#waiters.shift() ?? (urgent ? this.#urgentWaiters.shift() : undefined);
    if (waiter) {
      waiter(this.#take(key));
      return;
    }
    (urgent ? this.#urgentQueue : this.#queue).push(key);
    this.#metrics?.depth(this.name, this.len());
  }

  #take(key: string): string {
    const now = this.#clock.now();
    this.#processing.add(key);
    this.#processingSince.set(key, now);
    this.#dirty.delete(key);
    this.#urgent.delete(key);
    const addedAt = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (addedAt !== undefined) this.#metrics?.queueDuration(this.name, (now - addedAt) / 1000);
    this.#metrics?.depth(this.name, this.len());
    return key;
  }

  async #fireAfter(key: string, entry: DelayedEntry, delayMs: number): Promise<void> {
    await sleepQuietly(this.#clock, delayMs, this.#stopDelays.signal);
    if (this.#delayed.get(key)?.token !== entry.token) return;
    this.#delayed.delete(key);
    this.add(key);
  }
}
