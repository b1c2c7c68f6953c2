import { CustomObjectsApi, type KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { raceAbort } from './abort.ts';
import { withRequestTimeout } from './api-timeout.ts';
import { type Clock, sleepQuietly } from './clock.ts';
import { httpStatusOf } from './errors.ts';
import { objectKey } from './keys.ts';

/**
 * A typed, list-then-watch cache over one custom resource, modelled on client-go's reflector and
 * kubernetes-fluent-client's watcher. It exists to feed work queues with `namespace/name` keys; it never tells a
 * handler *what* happened (no ADDED/MODIFIED branching downstream), only *which* object to look at again.
 *
 * Loop: list (paged) → replace cache → watch from the list's resourceVersion (with bookmarks) → apply events.
 * - Watch closed by the server after delivering events, or client-node's 30 s inactivity timeout: re-watch at
 *   once from the last resourceVersion (cheap; no backoff, it is routine). A watch closed within 1 s without
 *   delivering anything backs off like an error, so a misbehaving server cannot make us spin.
 * - 410 Gone / "too old resource version" (HTTP or a watch ERROR event): relist at once.
 * - Any other failure: wait a jittered exponential backoff (default 1 s doubling to 30 s, each wait uniformly in
 *   [d/2, d]), then re-watch; a failed list is retried the same way. The backoff resets after a healthy watch.
 * - Every `relistPeriodMs` (default 30 min) the watch is dropped and the collection re-listed: a full relist
 *   repairs anything a watch silently missed (drift), at the cost of one list call.
 * - Every `resyncPeriodMs` (default 5 min) every cached key is handed to the handlers again, so reconcilers
 *   re-check the world even when nothing changed in Kubernetes (AWS state drifts on its own).
 * - Every object is cached through `transform` (default: without `metadata.managedFields`, as controller-runtime's
 *   DefaultTransform can be set to do), so a thousand cached policies hold only what a reader may look at.
 * - `run(signal)` stops everything when `signal` aborts.
 */

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export type WatchRestartReason = 'closed' | 'timeout' | 'expired' | 'error' | 'relist';

export interface InformerMetrics {
  watchEvent(resource: string, type: WatchEventType): void;
  watchRestarted(resource: string, reason: WatchRestartReason): void;
  listed(resource: string, result: 'success' | 'error'): void;
}

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/** Lists one page of the collection. */
export type ListFn<T> = (page: { limit: number; continueToken?: string }) => Promise<ListPage<T>>;

/** client-node's `Watch.watch` shape: resolves with a controller once connected; `onDone` fires exactly once. */
export type WatchFn = (
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  onEvent: (type: string, object: unknown) => void,
  onDone: (err: unknown) => void,
) => Promise<AbortController>;

export interface InformerOptions<T> {
  resource: ResourceRef;
  /** Watch one namespace; omitted: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  list: ListFn<T>;
  watch: WatchFn;
  clock: Clock;
  logger: Logger;
  random?: () => number;
  metrics?: InformerMetrics;
  resyncPeriodMs?: number;
  relistPeriodMs?: number;
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  pageSize?: number;
  /**
   * Applied to every listed or watched object before it is cached, as client-go's `SetTransform`: drops what no
   * reader needs, for as long as the object stays cached. Default: `stripManagedFields`.
   */
  transform?: (object: T) => T;
}

export const INFORMER_DEFAULTS = {
  resyncPeriodMs: 5 * 60_000,
  relistPeriodMs: 30 * 60_000,
  reconnectBaseDelayMs: 1_000,
  reconnectMaxDelayMs: 30_000,
  pageSize: 500,
} as const;

/** A watch open at least this long counts as healthy even without events. */
const MIN_HEALTHY_WATCH_MS = 1_000;

type KeyHandler = (key: string) => void;

/**
 * The object without `metadata.managedFields` (controller-runtime's `TransformStripManagedFields`): server-side
 * apply's bookkeeping, about 7 KB of a FailoverPolicy's 11 KB, which nothing here reads, and which our merge
 * patches never send back.
 */
export function stripManagedFields<T extends KubernetesObject>(object: T): T {
  if (object.metadata?.managedFields === undefined) return object;
  const { managedFields: _, ...metadata } = object.metadata;
  return { ...object, metadata };
}

type WatchOutcome = { kind: 'stopped' } | { kind: 'relist' } | { kind: 'ended'; err: unknown; healthy: boolean };

export class Informer<T extends KubernetesObject> {
  /** `plural.group`, used in logs and metric labels. */
  readonly resourceName: string;
  readonly #options: InformerOptions<T>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #transform: (object: T) => T;
  readonly #cache = new Map<string, T>();
  readonly #handlers = new Set<KeyHandler>();
  readonly #syncWaiters: Array<() => void> = [];
  #resourceVersion = '';
  #lastListAt = 0;
  #synced = false;
  #failures = 0;
  #running = false;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
    this.#transform = options.transform ?? stripManagedFields;
    this.resourceName = `${options.resource.plural}.${options.resource.group}`;
    this.#logger = options.logger.child({ resource: this.resourceName });
  }

  /** Registers a handler that receives the key of every object that may need another look. */
  onKey(handler: KeyHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** The cached object for `namespace/name`, if any. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves when the cache has synced, or rejects when `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return raceAbort(
      new Promise<void>((resolve) => {
        this.#syncWaiters.push(resolve);
      }),
      signal,
    );
  }

  /** Lists, watches and resyncs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`informer ${this.resourceName} is already running`);
    this.#running = true;
    try {
      await Promise.all([this.#listWatchLoop(signal), this.#resyncLoop(signal)]);
    } finally {
      this.#running = false;
    }
  }

  async #listWatchLoop(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      if (needList) {
        try {
          await raceAbort(this.#relist(), signal);
          needList = false;
        } catch (err) {
          if (signal.aborted) break;
          this.#options.metrics?.listed(this.resourceName, 'error');
          const delayMs = this.#nextBackoff();
          this.#logger.warn({ err, retryInMs: delayMs, rule: 'PB-8' }, 'List failed; retrying with backoff');
          await sleepQuietly(this.#clock, delayMs, signal);
          continue;
        }
      }
      const outcome = await this.#watchOnce(signal);
      if (outcome.kind === 'stopped') break;
      if (outcome.kind === 'relist') {
        this.#options.metrics?.watchRestarted(this.resourceName, 'relist');
        this.#logger.debug({ relistPeriodMs: this.#relistPeriodMs }, 'Relist period elapsed; relisting');
        needList = true;
        continue;
      }
      const { err, healthy } = outcome;
      if (healthy || isTimeout(err)) this.#failures = 0;
      if ((err === null || err === undefined) && healthy) {
        this.#options.metrics?.watchRestarted(this.resourceName, 'closed');
        continue;
      }
      if (isTimeout(err)) {
        this.#options.metrics?.watchRestarted(this.resourceName, 'timeout');
        continue;
      }
      if (httpStatusOf(err) === 410) {
        this.#options.metrics?.watchRestarted(this.resourceName, 'expired');
        this.#logger.info({ resourceVersion: this.#resourceVersion }, 'Watch expired (410 Gone); relisting');
        needList = true;
        continue;
      }
      // An error, or a watch the server closed before sending anything: back off so we never spin.
      this.#options.metrics?.watchRestarted(this.resourceName, err ? 'error' : 'closed');
      const delayMs = this.#nextBackoff();
      this.#logger.warn(
        { err, status: httpStatusOf(err), retryInMs: delayMs, rule: 'PB-8' },
        'Watch failed; reconnecting with backoff',
      );
      await sleepQuietly(this.#clock, delayMs, signal);
    }
  }

  async #resyncLoop(signal: AbortSignal): Promise<void> {
    const periodMs = this.#options.resyncPeriodMs ?? INFORMER_DEFAULTS.resyncPeriodMs;
    if (periodMs <= 0) return;
    while (!signal.aborted) {
      await sleepQuietly(this.#clock, periodMs, signal);
      if (signal.aborted || !this.#synced) continue;
      const keys = this.keys();
      this.#logger.debug({ keys: keys.length }, 'Resynced cached objects');
      for (const key of keys) this.#notify(key);
    }
  }

  /** Lists every page, swaps the cache and hands out the key of every object that exists or just vanished. */
  async #relist(): Promise<void> {
    const pageSize = this.#options.pageSize ?? INFORMER_DEFAULTS.pageSize;
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#options.list(continueToken ? { limit: pageSize, continueToken } : { limit: pageSize });
      for (const item of page.items) fresh.set(objectKey(item), this.#transform(item));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);

    const vanished = [...this.#cache.keys()].filter((key) => !fresh.has(key));
    this.#cache.clear();
    for (const [key, item] of fresh) this.#cache.set(key, item);
    this.#resourceVersion = resourceVersion;
    this.#lastListAt = this.#clock.now();
    this.#options.metrics?.listed(this.resourceName, 'success');
    this.#logger.info({ objects: fresh.size, resourceVersion }, 'Listed objects');
    if (!this.#synced) {
      this.#synced = true;
      for (const wake of this.#syncWaiters.splice(0)) wake();
    }
    for (const key of [...fresh.keys(), ...vanished]) this.#notify(key);
  }

  async #watchOnce(signal: AbortSignal): Promise<WatchOutcome> {
    const stop = new AbortController();
    const forwardAbort = () => stop.abort();
    signal.addEventListener('abort', forwardAbort, { once: true });
    const connectedAt = this.#clock.now();
    let healthy = false;
    let finish!: (err: unknown) => void;
    const ended = new Promise<unknown>((resolve) => {
      finish = resolve;
    });
    const onEvent = (type: string, object: unknown) => {
      if (stop.signal.aborted) return;
      healthy = true;
      const failure = this.#apply(type, object);
      if (failure) finish(failure);
    };
    const stopped = new Promise<'stopped'>((resolve) => {
      stop.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
    });
    const relistInMs = this.#lastListAt + this.#relistPeriodMs - this.#clock.now();
    const relistDue = sleepQuietly(this.#clock, relistInMs, stop.signal).then(() => 'relist' as const);
    let connection: AbortController | undefined;
    this.#options
      .watch(this.#path(), this.#watchQuery(), onEvent, (err) => finish(err ?? null))
      .then(
        (controller) => {
          connection = controller;
          if (stop.signal.aborted) controller.abort();
        },
        (err: unknown) => finish(err),
      );
    try {
      const first = await Promise.race([ended.then((err) => ({ err })), stopped, relistDue]);
      if (signal.aborted || first === 'stopped') return { kind: 'stopped' };
      if (first === 'relist') return { kind: 'relist' };
      // Healthy: it delivered events, or it stayed open a while (a quiet collection is not a failure).
      const lived = this.#clock.now() - connectedAt >= MIN_HEALTHY_WATCH_MS;
      return { kind: 'ended', err: first.err, healthy: healthy || lived };
    } finally {
      signal.removeEventListener('abort', forwardAbort);
      stop.abort();
      connection?.abort();
    }
  }

  /** Applies one watch event to the cache; returns an error to end the watch with, for ERROR events. */
  #apply(type: string, object: unknown): Error | undefined {
    this.#options.metrics?.watchEvent(this.resourceName, type as WatchEventType);
    if (type === 'ERROR') return statusError(object);
    const item = object as T;
    const resourceVersion = item.metadata?.resourceVersion;
    if (resourceVersion) this.#resourceVersion = resourceVersion;
    if (type === 'BOOKMARK') return undefined;
    const key = objectKey(item);
    if (type === 'DELETED') this.#cache.delete(key);
    else this.#cache.set(key, this.#transform(item));
    this.#notify(key);
    return undefined;
  }

  #notify(key: string): void {
    for (const handler of this.#handlers) {
      try {
        handler(key);
      } catch (err) {
        this.#logger.error({ err, key }, 'Key handler threw; key dropped for this event');
      }
    }
  }

  #nextBackoff(): number {
    const base = this.#options.reconnectBaseDelayMs ?? INFORMER_DEFAULTS.reconnectBaseDelayMs;
    const max = this.#options.reconnectMaxDelayMs ?? INFORMER_DEFAULTS.reconnectMaxDelayMs;
    const ceiling = Math.min(max, base * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  get #relistPeriodMs(): number {
    return this.#options.relistPeriodMs ?? INFORMER_DEFAULTS.relistPeriodMs;
  }

  #path(): string {
    const { group, version, plural } = this.#options.resource;
    const namespace = this.#options.namespace;
    return namespace
      ? `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}`
      : `/apis/${group}/${version}/${plural}`;
  }

  #watchQuery(): Record<string, string | number | boolean | undefined> {
    return {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      // Server-side end of the watch, randomised like client-go so replicas do not reconnect together.
      timeoutSeconds: Math.round(300 + this.#random() * 300),
      labelSelector: this.#options.labelSelector,
    };
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && err.name === 'TimeoutError';
}

/** A watch ERROR event carries a metav1.Status; surface it as an error with the HTTP `code`. */
function statusError(object: unknown): Error {
  const status = (object ?? {}) as { code?: number; reason?: string; message?: string };
  return Object.assign(new Error(`watch error: ${status.reason ?? 'Unknown'}: ${status.message ?? ''}`), {
    code: status.code,
  });
}

/** Deadline of one list page: a hung list would otherwise stall the list-watch loop for good. */
export const LIST_PAGE_TIMEOUT_MS = 30_000;

/**
 * Builds an informer for a custom resource from a KubeConfig: lists through `CustomObjectsApi` (each page with a
 * deadline; a timed-out page is a failed list, retried with backoff), watches through client-node's `Watch` (its
 * own connect and inactivity timeout).
 */
export function createCustomResourceInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  options: Omit<InformerOptions<T>, 'list' | 'watch'>,
): Informer<T> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const timeout = withRequestTimeout(LIST_PAGE_TIMEOUT_MS);
  const watcher = new Watch(kubeConfig);
  const { group, version, plural } = options.resource;
  const { namespace, labelSelector } = options;
  const list: ListFn<T> = async ({ limit, continueToken }) => {
    const common = { group, version, plural, limit, _continue: continueToken, labelSelector };
    const page: unknown = namespace
      ? await api.listNamespacedCustomObject({ ...common, namespace }, timeout)
      : await api.listClusterCustomObject(common, timeout);
    return page as ListPage<T>;
  };
  return new Informer<T>({
    ...options,
    list,
    watch: (path, query, onEvent, onDone) => watcher.watch(path, query, onEvent, onDone),
  });
}
