import { CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { withRequestTimeout } from './api-timeout.ts';
import { type Clock, sleepQuietly } from './clock.ts';
import { ConflictError, httpStatusOf, translateApiError } from './errors.ts';

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, following client-go's leaderelection package (client-node
 * ships none). Only the leader acts on AWS; followers keep their caches and probes warm (DESIGN.md).
 *
 * - **Acquire.** A candidate takes the Lease when it does not exist, when its holder released it (empty
 *   holderIdentity), or when it has not changed for `leaseDurationSeconds` *as observed on our own clock* (we
 *   never compare our clock with the holder's renewTime, so clock skew between nodes cannot steal a lease).
 *   Candidates retry every `retryPeriodSeconds`, jittered up to +120% so they do not collide.
 * - **Write safely.** Every write carries the resourceVersion that was read; a 409 Conflict means someone else wrote
 *   first, so this attempt did not win.
 * - **Renew.** The leader renews every `retryPeriodSeconds`. If it cannot renew for `renewDeadlineSeconds`, or
 *   sees another holder, it stops leading at once: `onStoppedLeading` runs and the signal given to
 *   `onStartedLeading` aborts. renewDeadline < leaseDuration leaves a margin in which the old leader has already
 *   stopped before anyone else may take over (PB-7: one writer).
 * - **Release.** When `run`'s signal aborts, the leader clears holderIdentity (and shortens the lease to 1 s) so a
 *   successor takes over at its next retry instead of waiting for expiry. Abort only after work has drained.
 *
 * Defaults: lease 15 s, renew deadline 10 s, retry period 2 s (client-go's and controller-runtime's).
 */

export interface LeaseApi {
  /** The Lease, or undefined when it does not exist. */
  get(): Promise<V1Lease | undefined>;
  /** Throws ConflictError when it already exists. */
  create(lease: V1Lease): Promise<V1Lease>;
  /** Throws ConflictError when `lease.metadata.resourceVersion` is stale. */
  replace(lease: V1Lease): Promise<V1Lease>;
}

export interface LeaderElectionMetrics {
  leaderStatus(lease: string, leading: boolean): void;
}

export interface LeaderElectorOptions {
  lease: LeaseApi;
  /** Which Lease `lease` reads and writes (used to create it, and in logs and metrics). */
  leaseRef: { namespace: string; name: string };
  identity: string;
  clock: Clock;
  logger: Logger;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  random?: () => number;
  metrics?: LeaderElectionMetrics;
  /** Runs when this replica becomes leader; `signal` aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Runs when this replica stops leading (lost or released). */
  onStoppedLeading?: () => void;
  /** Runs when a different holder is observed. */
  onNewLeader?: (identity: string) => void;
}

export const LEADER_ELECTION_DEFAULTS = {
  leaseDurationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
} as const;

/** client-go's JitterFactor for candidates' retries. */
const RETRY_JITTER = 1.2;

export type ElectionEnd = 'stopped' | 'lost';

type Attempt = 'leading' | 'held' | 'conflict' | 'failed' | 'timeout';

export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #logger: Logger;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #random: () => number;
  #leading = false;
  /** When the Lease was last acquired or renewed by us (our clock). */
  #renewedAt = 0;
  #observedVersion: string | undefined;
  #observedAt = 0;
  #observedHolder = '';
  #lease: V1Lease | undefined;
  readonly #leaseName: string;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.#leaseDurationMs = (options.leaseDurationSeconds ?? LEADER_ELECTION_DEFAULTS.leaseDurationSeconds) * 1000;
    this.#renewDeadlineMs = (options.renewDeadlineSeconds ?? LEADER_ELECTION_DEFAULTS.renewDeadlineSeconds) * 1000;
    this.#retryPeriodMs = (options.retryPeriodSeconds ?? LEADER_ELECTION_DEFAULTS.retryPeriodSeconds) * 1000;
    this.#random = options.random ?? Math.random;
    this.#leaseName = `${options.leaseRef.namespace}/${options.leaseRef.name}`;
    this.#logger = options.logger.child({ lease: this.#leaseName, identity: options.identity });
    if (this.#leaseDurationMs <= this.#renewDeadlineMs) {
      throw new Error('leaseDurationSeconds must be greater than renewDeadlineSeconds');
    }
    if (this.#renewDeadlineMs <= RETRY_JITTER * this.#retryPeriodMs) {
      throw new Error('renewDeadlineSeconds must be greater than retryPeriodSeconds * 1.2');
    }
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Until when (our clock) this replica may act as leader: its last successful renew plus the renew deadline. A
   * renew that has not succeeded by then ends leadership; the renew deadline is shorter than the lease duration, so
   * another replica can take the Lease only after this time has passed by at least their difference (5 s by
   * default). 0 when not leading. AWS writes check it right before they go out (src/act/leader-guard.ts).
   */
  leadershipValidUntil(): number {
    return this.#leading ? this.#renewedAt + this.#renewDeadlineMs : 0;
  }

  /** The holder last observed on the Lease ('' when free or unknown). */
  observedLeader(): string {
    return this.#observedHolder;
  }

  /**
   * Campaigns until leading, then renews until leadership is lost ('lost') or `signal` aborts ('stopped', after
   * releasing the Lease). Never throws for API failures; they are logged and retried.
   */
  async run(signal: AbortSignal): Promise<ElectionEnd> {
    this.#o.metrics?.leaderStatus(this.#leaseName, false);
    if (!(await this.#acquire(signal))) return 'stopped';

    this.#renewedAt = this.#o.clock.now();
    this.#leading = true;
    this.#o.metrics?.leaderStatus(this.#leaseName, true);
    this.#logger.info('Acquired lease; started leading');
    const leadership = new AbortController();
    const started = Promise.resolve()
      .then(() => this.#o.onStartedLeading(leadership.signal))
      .catch((err: unknown) => this.#logger.error({ err }, 'onStartedLeading failed'));

    const end = await this.#renewUntilLostOrStopped(signal);
    this.#leading = false;
    leadership.abort(new Error(end === 'lost' ? 'leadership lost' : 'leadership released'));
    this.#o.metrics?.leaderStatus(this.#leaseName, false);
    if (end === 'stopped') await this.#release();
    try {
      this.#o.onStoppedLeading?.();
    } catch (err) {
      this.#logger.error({ err }, 'onStoppedLeading failed');
    }
    await started;
    return end;
  }

  async #acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      // Bounded like a renewal, and abandoned on abort, so a hanging API call cannot wedge the candidate.
      const attempt = await this.#withTimeout(this.#tryAcquireOrRenew(), this.#renewDeadlineMs, signal);
      if (attempt === 'leading' && !signal.aborted) return true;
      const waitMs = this.#retryPeriodMs * (1 + this.#random() * RETRY_JITTER);
      await sleepQuietly(this.#o.clock, waitMs, signal);
    }
    return false;
  }

  async #renewUntilLostOrStopped(signal: AbortSignal): Promise<ElectionEnd> {
    const { clock } = this.#o;
    let renewedAt = clock.now();
    for (;;) {
      await sleepQuietly(clock, this.#retryPeriodMs, signal);
      if (signal.aborted) return 'stopped';
      const remainingMs = this.#renewDeadlineMs - (clock.now() - renewedAt);
      const attempt = await this.#withTimeout(this.#tryAcquireOrRenew(), remainingMs);
      if (attempt === 'leading') {
        renewedAt = clock.now();
        this.#renewedAt = renewedAt;
        continue;
      }
      if (attempt === 'held') {
        this.#logger.error({ holder: this.#observedHolder }, 'Lost leadership: lease held by another replica');
        return 'lost';
      }
      const sinceRenewMs = clock.now() - renewedAt;
      if (sinceRenewMs >= this.#renewDeadlineMs) {
        this.#logger.error(
          { sinceRenewMs, renewDeadlineMs: this.#renewDeadlineMs, attempt },
          'Lost leadership: failed to renew lease within the renew deadline',
        );
        return 'lost';
      }
      this.#logger.warn({ attempt, sinceRenewMs }, 'Failed to renew lease; retrying');
    }
  }

  async #withTimeout(attempt: Promise<Attempt>, timeoutMs: number, signal?: AbortSignal): Promise<Attempt> {
    const cancel = new AbortController();
    const stop = signal ? AbortSignal.any([cancel.signal, signal]) : cancel.signal;
    const timeout = sleepQuietly(this.#o.clock, timeoutMs, stop).then(() => 'timeout' as const);
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      cancel.abort();
    }
  }

  /**
   * One read-modify-write of the Lease; while leading, first one write on the Lease as this replica last wrote it
   * (client-go's fast path since 1.26: under a busy apiserver a renewal is one round trip, not two). Any failure of
   * that write, a 409 when someone else wrote the Lease included, falls back to reading it.
   */
  async #tryAcquireOrRenew(): Promise<Attempt> {
    const { clock, identity } = this.#o;
    const mine = this.#lease;
    if (this.#leading && mine?.metadata?.resourceVersion && mine.spec?.holderIdentity === identity) {
      const now = clock.now();
      try {
        this.#lease = await this.#o.lease.replace({
          ...mine,
          spec: { ...mine.spec, ...this.#desiredSpec(mine.spec, now) },
        });
        this.#observe(this.#lease, now);
        return 'leading';
      } catch (err) {
        this.#logger.debug({ err, status: httpStatusOf(err) }, 'Optimistic lease renewal failed; reading the lease');
      }
    }
    let current: V1Lease | undefined;
    try {
      current = await this.#o.lease.get();
    } catch (err) {
      this.#logger.warn({ err, status: httpStatusOf(err) }, 'Failed to read lease');
      return 'failed';
    }
    const now = clock.now();
    const desiredSpec = (previous: V1Lease['spec']) => this.#desiredSpec(previous, now);

    if (!current) {
      try {
        this.#lease = await this.#o.lease.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { ...this.#o.leaseRef },
          spec: { ...desiredSpec(undefined), leaseTransitions: 0 },
        });
        this.#observe(this.#lease, now);
        return 'leading';
      } catch (err) {
        return this.#writeFailed(err);
      }
    }

    this.#observe(current, now);
    const holder = current.spec?.holderIdentity ?? '';
    const durationMs = (current.spec?.leaseDurationSeconds ?? this.#leaseDurationMs / 1000) * 1000;
    const expired = this.#observedAt + durationMs <= now;
    if (holder && holder !== identity && !expired) return 'held';

    try {
      this.#lease = await this.#o.lease.replace({
        ...current,
        metadata: { ...current.metadata, resourceVersion: current.metadata?.resourceVersion },
        spec: { ...current.spec, ...desiredSpec(current.spec) },
      });
      this.#observe(this.#lease, now);
      return 'leading';
    } catch (err) {
      return this.#writeFailed(err);
    }
  }

  /** The Lease's spec with this replica holding it from `now`, after `previous` (a renewal keeps its acquireTime). */
  #desiredSpec(previous: V1Lease['spec'], now: number): NonNullable<V1Lease['spec']> {
    const identity = this.#o.identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: previous?.holderIdentity === identity && previous.acquireTime ? previous.acquireTime : micro(now),
      renewTime: micro(now),
      // As in client-go: every change of holder (including from a released lease) is a transition.
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (previous?.holderIdentity === identity ? 0 : 1),
    };
  }

  #writeFailed(err: unknown): Attempt {
    if (err instanceof ConflictError || httpStatusOf(err) === 409) {
      this.#logger.debug('Lease write conflicted; another replica wrote first');
      return 'conflict';
    }
    this.#logger.warn({ err, status: httpStatusOf(err) }, 'Failed to write lease');
    return 'failed';
  }

  /** Remembers when (on our clock) the Lease last changed, and reports new holders. */
  #observe(lease: V1Lease, now: number): void {
    const version = lease.metadata?.resourceVersion;
    if (version !== this.#observedVersion) {
      this.#observedVersion = version;
      this.#observedAt = now;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.#observedHolder) {
      this.#observedHolder = holder;
      if (holder && holder !== this.#o.identity) {
        this.#logger.info({ holder }, 'Observed a new leader');
        this.#o.onNewLeader?.(holder);
      }
    }
  }

  /** Clears holderIdentity so a successor need not wait for the lease to expire. */
  async #release(): Promise<void> {
    const { clock, identity } = this.#o;
    try {
      const current = await this.#o.lease.get();
      if (!current || current.spec?.holderIdentity !== identity) return;
      const now = clock.now();
      const { holderIdentity: _released, ...rest } = current.spec ?? {};
      await this.#o.lease.replace({
        ...current,
        spec: { ...rest, leaseDurationSeconds: 1, acquireTime: micro(now), renewTime: micro(now) },
      });
      this.#logger.info('Released lease');
    } catch (err) {
      this.#logger.warn({ err, status: httpStatusOf(err) }, 'Failed to release lease; successor waits for expiry');
    }
  }
}

function micro(ms: number): V1MicroTime {
  return new V1MicroTime(ms);
}

/**
 * Deadline of one Lease call. The elector abandons an attempt at the renew deadline anyway; this closes the request
 * itself, well inside the retry period, so a hung call neither lingers nor holds a socket.
 */
export const LEASE_CALL_TIMEOUT_MS = 5_000;

/** A LeaseApi over client-node's CoordinationV1Api for the Lease `namespace/name`. */
export function createLeaseApi(
  kubeConfig: KubeConfig,
  ref: { namespace: string; name: string },
  timeoutMs: number = LEASE_CALL_TIMEOUT_MS,
): LeaseApi {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  const timeout = withRequestTimeout(timeoutMs);
  const what = `lease ${ref.namespace}/${ref.name}`;
  return {
    async get() {
      try {
        return await api.readNamespacedLease(ref, timeout);
      } catch (err) {
        if (httpStatusOf(err) === 404) return undefined;
        throw err;
      }
    },
    async create(lease) {
      try {
        return await api.createNamespacedLease({ namespace: ref.namespace, body: lease }, timeout);
      } catch (err) {
        return translateApiError(err, what);
      }
    },
    async replace(lease) {
      try {
        return await api.replaceNamespacedLease({ ...ref, body: lease }, timeout);
      } catch (err) {
        return translateApiError(err, what);
      }
    },
  };
}
