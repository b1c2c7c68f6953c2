import { randomUUID } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { ConflictError, isTerminalError } from './errors.ts';
import type { Informer } from './informer.ts';
import { type ObjectRef, splitKey } from './keys.ts';
import { WorkQueue, type WorkQueueMetrics, type WorkQueueOptions } from './work-queue.ts';

/**
 * A level-based reconciler (controller-runtime's contract): it gets only which object to look at, reads the
 * current state itself and converges it. Return `{ requeueAfterMs }` to be called again later (e.g. to poll AWS),
 * nothing when converged, throw to retry with per-key backoff, throw `TerminalError` to stop retrying.
 * `signal` aborts when this replica stops leading or the shutdown deadline passes.
 */
export type Reconciler = (req: ObjectRef, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal' | 'aborted';

export interface ReconcileMetrics {
  /** The controller's worker count, set when its workers start (controller-runtime's max_concurrent_reconciles). */
  workers(controller: string, max: number): void;
  /** A worker took a key (controller-runtime's active_workers goes up until `reconciled`). */
  started(controller: string): void;
  reconciled(controller: string, result: ReconcileOutcome, seconds: number): void;
}

export interface ControllerOptions<T extends KubernetesObject> {
  name: string;
  informer: Informer<T>;
  reconcile: Reconciler;
  /** Concurrent reconciles (different keys only). Default 1. */
  workers?: number;
  /**
   * Extra workers for keys added with `queue.addUrgent` only (a health transition), on top of `workers`: they run
   * when the ordinary workers are all busy. Default 0.
   */
  urgentWorkers?: number;
  clock: Clock;
  logger: Logger;
  queue?: Pick<WorkQueueOptions, 'baseDelayMs' | 'maxDelayMs' | 'jitter' | 'random'>;
  metrics?: { workQueue?: WorkQueueMetrics; reconcile?: ReconcileMetrics };
}

/**
 * One kind's reconcile loop: its own work queue, fed with keys by its informer from construction on (so a follower
 * already holds the keys when it becomes leader), and workers that run only while `run` is active.
 */
export class Controller<T extends KubernetesObject = KubernetesObject> {
  readonly name: string;
  readonly informer: Informer<T>;
  readonly queue: WorkQueue;
  readonly workers: number;
  readonly urgentWorkers: number;
  readonly #reconcile: Reconciler;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: ReconcileMetrics | undefined;

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.informer = options.informer;
    this.workers = Math.max(1, options.workers ?? 1);
    this.urgentWorkers = Math.max(0, options.urgentWorkers ?? 0);
    this.#reconcile = options.reconcile;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ controller: options.name });
    this.#metrics = options.metrics?.reconcile;
    this.queue = new WorkQueue({
      name: options.name,
      clock: options.clock,
      ...options.queue,
      ...(options.metrics?.workQueue ? { metrics: options.metrics.workQueue } : {}),
    });
    options.informer.onKey((key) => this.queue.add(key));
  }

  /**
   * Runs the workers until `dispatch` aborts, then waits for in-flight reconciles. Reconcilers get `work`, which
   * the caller aborts when they must stop mid-way (leadership lost, shutdown deadline).
   */
  run(signals: { dispatch: AbortSignal; work: AbortSignal }): Promise<void> {
    this.#logger.info({ workers: this.workers, urgentWorkers: this.urgentWorkers }, 'Started workers');
    this.#metrics?.workers(this.name, this.workers);
    return this.queue
      .run((key) => this.reconcileKey(key, signals.work).then(() => undefined), {
        workers: this.workers,
        urgentWorkers: this.urgentWorkers,
        signal: signals.dispatch,
        onUnexpectedError: (key, err) => this.#logger.error({ err, key }, 'Reconcile handler failed unexpectedly'),
      })
      .then(() => this.#logger.info('Stopped workers'));
  }

  /** Reconciles one key and turns the outcome into queue bookkeeping. */
  async reconcileKey(key: string, signal: AbortSignal): Promise<ReconcileOutcome> {
    const req = splitKey(key);
    const started = this.#clock.now();
    this.#metrics?.started(this.name);
    const outcome = await this.#attempt(key, req, signal);
    this.#metrics?.reconciled(this.name, outcome, (this.#clock.now() - started) / 1000);
    return outcome;
  }

  async #attempt(key: string, req: ObjectRef, signal: AbortSignal): Promise<ReconcileOutcome> {
    // controller-runtime's reconcileID: every line of one reconcile carries the same id.
    const log = { namespace: req.namespace, name: req.name, reconcileID: randomUUID() };
    let result: ReconcileResult | undefined;
    try {
      result = await this.#reconcile(req, signal);
    } catch (err) {
      if (isTerminalError(err)) {
        this.queue.forget(key);
        this.#logger.error({ ...log, err }, 'Reconcile failed with a terminal error; not retried');
        return 'terminal';
      }
      if (signal.aborted) {
        this.#logger.info({ ...log, err }, 'Reconcile aborted');
        return 'aborted';
      }
      const retries = this.queue.numRequeues(key);
      const retryInMs = this.queue.addRateLimited(key);
      if (err instanceof ConflictError) {
        // Optimistic concurrency doing its job (someone wrote the object first): re-read and retry, not an alarm.
        this.#logger.info(
          { ...log, err: err.message, retries, retryInMs },
          'Reconcile conflicted; requeued to re-read',
        );
      } else {
        // A retry is expected (the API timed out, AWS throttled): `error` says what failed, as controller-runtime
        // logs it; an error that is a bug in our code (TypeError and the like) keeps its stack under `err`.
        this.#logger.error(
          { ...log, ...(isProgrammingError(err) ? { err } : describeError(err)), retries, retryInMs, rule: 'PB-8' },
          'Reconcile failed; requeued with backoff',
        );
      }
      return 'error';
    }
    this.queue.forget(key);
    const requeueAfterMs = result?.requeueAfterMs;
    if (requeueAfterMs !== undefined && requeueAfterMs > 0) {
      this.queue.addAfter(key, requeueAfterMs);
      this.#logger.debug({ ...log, requeueAfterMs }, 'Reconciled; requeued after delay');
      return 'requeue_after';
    }
    this.#logger.debug(log, 'Reconciled');
    return 'success';
  }
}

function isProgrammingError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
}

/** An error as log fields without its stack: `error` ("Name: message") and, where the SDK or Node gives one, `errorCode`. */
export function describeError(err: unknown): { error: string; errorCode?: string } {
  if (!(err instanceof Error)) return { error: String(err) };
  const code = (err as { code?: unknown }).code;
  return { error: `${err.name}: ${err.message}`, ...(typeof code === 'string' ? { errorCode: code } : {}) };
}
