import { CoreV1Api, type CoreV1Event, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import { KUBE_API_TIMEOUT_MS, withRequestTimeout } from './api-timeout.ts';
import type { Clock } from './clock.ts';
import { httpStatusOf } from './errors.ts';

/**
 * Records core/v1 Events about our objects (PB-11: every step is explained), like client-go's EventRecorder:
 *
 * - **Aggregation.** An event identical to one recorded within `dedupeWindowMs` (same object, type, reason and
 *   message; default 10 min) is not created again: the existing Event's `count` and `lastTimestamp` are patched.
 *   A condition flapping between two states therefore yields two Events with growing counts, not a stream.
 * - **Never fatal.** A failed write is logged and dropped; `record` never throws, so reconcile never fails on it.
 * - Writes for one aggregation key are serialised, so concurrent identical events cannot create duplicates.
 * - **Never in the way.** At most `maxInFlight` Event writes are in flight (default 2; client-go writes them from one
 *   goroutine): when one AZ fails, a hundred policies' health Events must not race their own journal intents to
 *   the apiserver — 200 Event POSTs at the moment of the decision were as many writes again as the intents that
 *   gate the drains (bench/reconcile). The rest wait their turn in memory, in order.
 */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventSpec {
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, a constant (e.g. a condition reason). */
  reason: string;
  message: string;
  /** What was done or failed (events.k8s.io `action`). */
  action?: string;
}

export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  patch(namespace: string, name: string, body: Record<string, unknown>): Promise<CoreV1Event>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  /** Reporting controller, e.g. `failover-operator`. */
  component: string;
  /** Reporting instance, e.g. the pod name. */
  instance?: string;
  clock: Clock;
  logger: Logger;
  dedupeWindowMs?: number;
  /** Bound on remembered aggregation keys (oldest forgotten first). */
  maxKeys?: number;
  /** Event writes in flight at once; EVENT_DEFAULTS.maxInFlight by default. */
  maxInFlight?: number;
  random?: () => number;
}

export const EVENT_DEFAULTS = { dedupeWindowMs: 10 * 60_000, maxKeys: 4_096, maxInFlight: 2 } as const;

interface Aggregate {
  eventName: string | undefined;
  count: number;
  lastSeen: number;
  chain: Promise<void>;
}

export class EventRecorder {
  readonly #o: EventRecorderOptions;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #random: () => number;
  readonly #aggregates = new Map<string, Aggregate>();
  readonly #limit: LimitFunction;

  constructor(options: EventRecorderOptions) {
    this.#o = options;
    this.#limit = pLimit(Math.max(1, options.maxInFlight ?? EVENT_DEFAULTS.maxInFlight));
    this.#windowMs = options.dedupeWindowMs ?? EVENT_DEFAULTS.dedupeWindowMs;
    this.#maxKeys = options.maxKeys ?? EVENT_DEFAULTS.maxKeys;
    this.#random = options.random ?? Math.random;
  }

  /** Records (or aggregates) an Event; resolves when written or when the write failed and was logged. */
  record(involved: InvolvedObject, spec: EventSpec): Promise<void> {
    const now = this.#o.clock.now();
    this.#evictOlderThan(now - this.#windowMs);
    const key = aggregationKey(involved, spec);
    let aggregate = this.#aggregates.get(key);
    if (aggregate) {
      this.#aggregates.delete(key); // re-insert below: Map order is least recently seen first
    } else {
      aggregate = { eventName: undefined, count: 0, lastSeen: now, chain: Promise.resolve() };
    }
    aggregate.count++;
    aggregate.lastSeen = now;
    this.#aggregates.set(key, aggregate);
    const entry = aggregate;
    const count = entry.count;
    entry.chain = entry.chain.then(() => this.#limit(() => this.#write(involved, spec, entry, count, now)));
    return entry.chain;
  }

  async #write(involved: InvolvedObject, spec: EventSpec, entry: Aggregate, count: number, now: number) {
    const log = {
      namespace: involved.namespace,
      name: involved.name,
      kind: involved.kind,
      reason: spec.reason,
      type: spec.type,
    };
    try {
      if (entry.eventName) {
        try {
          await this.#o.sink.patch(involved.namespace, entry.eventName, {
            count,
            lastTimestamp: rfc3339(now),
          });
          return;
        } catch (err) {
          if (httpStatusOf(err) !== 404) throw err;
          // The Event expired (the API server keeps them ~1 h): create a fresh one carrying the count.
        }
      }
      const created = await this.#o.sink.create(involved.namespace, this.#newEvent(involved, spec, count, now));
      entry.eventName = created.metadata?.name;
    } catch (err) {
      this.#o.logger.warn({ ...log, err, status: httpStatusOf(err) }, 'Failed to record event; dropped');
    }
  }

  #newEvent(involved: InvolvedObject, spec: EventSpec, count: number, now: number): CoreV1Event {
    const suffix = Math.floor(this.#random() * 0xffff)
      .toString(16)
      .padStart(4, '0');
    const timestamp = new Date(Math.floor(now / 1000) * 1000);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${involved.name}.${now.toString(16)}${suffix}`, namespace: involved.namespace },
      involvedObject: {
        apiVersion: involved.apiVersion,
        kind: involved.kind,
        namespace: involved.namespace,
        name: involved.name,
        ...(involved.uid ? { uid: involved.uid } : {}),
      },
      type: spec.type,
      reason: spec.reason,
      message: spec.message,
      ...(spec.action ? { action: spec.action } : {}),
      count,
      firstTimestamp: timestamp,
      lastTimestamp: timestamp,
      source: { component: this.#o.component },
      reportingComponent: this.#o.component,
      reportingInstance: this.#o.instance ?? this.#o.component,
    };
  }

  #evictOlderThan(cutoff: number): void {
    for (const [key, aggregate] of this.#aggregates) {
      if (aggregate.lastSeen >= cutoff && this.#aggregates.size <= this.#maxKeys) break;
      this.#aggregates.delete(key);
    }
  }
}

function aggregationKey(involved: InvolvedObject, spec: EventSpec): string {
  return JSON.stringify([
    involved.namespace,
    involved.kind,
    involved.name,
    involved.uid ?? '',
    spec.type,
    spec.reason,
    spec.message,
  ]);
}

/** metav1.Time has second precision. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** An EventSink over client-node's CoreV1Api. */
export function createEventSink(kubeConfig: KubeConfig): EventSink {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const timeout = withRequestTimeout(KUBE_API_TIMEOUT_MS);
  const mergePatch = withRequestTimeout(
    KUBE_API_TIMEOUT_MS,
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  return {
    create: (namespace, body) => api.createNamespacedEvent({ namespace, body }, timeout),
    patch: (namespace, name, body) => api.patchNamespacedEvent({ namespace, name, body }, mergePatch),
  };
}
