// One Route 53 change batch for many policies (PB-8). Route 53 allows 5 requests/second for the whole account
// (AWS-FACTS.md). When one AZ fails, every policy whose weighted group lives in the same hosted zone drains at
// once; one ChangeResourceRecordSets and a few GetChange polls each put the last drain of 100 policies more than a
// minute behind the first. So writes to a hosted zone go through this coalescer:
//
// - a policy's share first spends its OWN write budget (`guardrails.maxWritesPerMinute`, PB-8) — its share of the
//   first attempt of the batch it will ride — then queues on the hosted zone. Every further attempt of that batch
//   (a retry) spends the budget of every policy in it again, and so does a policy's own resend after its merged
//   batch failed: every attempt is a request Route 53 counts, so every attempt is budgeted;
// - one request per hosted zone is in flight at a time (Route 53 answers PriorRequestNotComplete to concurrent
//   changes of a zone anyway). It goes through the call pipeline like any write — retries, breaker, one Route 53
//   grant per attempt, timeout — and at the moment it holds the grant it takes everything queued for the zone so
//   far: no artificial delay when nothing else is queued, and whatever queued while it waited rides along;
// - drains known to be on their way ride along too: the executor says a policy is about to write to a zone
//   (`expect`, when it starts saving the intent of a weight change) and the zone's next batch waits for those
//   policies to queue — never longer than `lingerMs` after its first write queued, and not at all when nobody is
//   expected (a lone drain goes at once). When one AZ fails, a hundred policies decide within milliseconds but
//   save their intents over a few hundred; without this the first few left alone and the rest waited a whole
//   request (and its grant) for the next batch (bench/reconcile: three batches, the last 2.5 s after the
//   decision; with it and the other fixes of #16, one batch 0.65–0.73 s after). A linger, not a reservation:
//   Kafka's producer `linger.ms`, bounded by what the next batch would cost anyway;
// - a batch never holds two policies' changes to the same record group (name, type) — so never two changes of one
//   (name, type, setIdentifier) — and stays within 1,000 records / 32,000 characters; the later request waits for
//   the next batch, so writes to one record keep their order. Group, not record: each policy checked PB-5 ("never
//   every weight 0") against the group as it read it; two such changes to one group in one atomic batch could
//   together zero it;
// - a batch is atomic: if a merged one fails with a non-retryable error, each policy's records are sent on their
//   own, so one bad policy cannot block the others. A retryable error that outlasted the retries (throttling,
//   timeouts), an open breaker, shutdown or the end of leadership fail every policy in the batch, as they would
//   have failed alone: the pipeline runs every write under the leadership term, so a deposed leader's batch in
//   flight or in its retry wait stops at once, and what is still queued is refused before it goes out;
// - every policy in a batch gets the batch's change id (its journal's requestToken), and the GetChange polls of
//   one change id are shared by its waiters (`changeStatus`): one poll per interval, not one per policy.
//
// A policy's write leaves its own `completed AWS call` debug line (policy, latency, change id, batch size), so the
// per-policy write trail reads as before even though the request was shared.

import type { Logger } from 'pino';
import { isCloudError } from '../cloud/errors.ts';
import type { Dns, DnsChangeStatus, DnsRecord } from '../cloud/types.ts';
import type { CallPipeline } from './call-pipeline.ts';
import { CircuitOpenError, LeadershipExpiredError } from './errors.ts';
import type { RateLimiter } from './rate-limit.ts';
import {
  type ChangeBatchLimits,
  changeBatchSize,
  ROUTE53_BATCH_LIMITS,
  ROUTE53_CONTROL_PLANE_REGION,
} from './route53-batches.ts';
import type { Clock } from './types.ts';

/** Change ids whose last status is remembered for sharing; older ones are forgotten first. */
const MAX_REMEMBERED_CHANGES = 1_000;

export interface ChangeCoalescerDeps {
  /** The Dns writes go to (the record cache's write-through wrapper in the engine). */
  dns: Pick<Dns, 'upsertRecords' | 'getChangeStatus'>;
  pipeline: CallPipeline;
  /** The pipeline's limiter: a policy's share spends its write budget here. */
  rateLimiter: Pick<RateLimiter, 'acquireWriteBudget'>;
  clock: Clock;
  logger: Logger;
  /** Process shutdown: a shared request outlives the policy that started it, not the process. */
  signal?: AbortSignal;
  /** Batch limits; Route 53's by default (tests make them small). */
  limits?: ChangeBatchLimits;
  /**
   * How long a zone's batch waits, at most, after its first write queued, for policies still expected (`expect`).
   * DEFAULT_LINGER_MS by default.
   */
  lingerMs?: number;
}

/**
 * A batch waits at most this long for drains known to be on their way. About one Route 53 request round trip
 * plus its pacing slot: the wait the late drains would otherwise spend on the next batch, so waiting never costs
 * the early ones more than it saves the late ones. Bounded, so an intent save stuck on a slow apiserver holds
 * nobody else for long.
 */
export const DEFAULT_LINGER_MS = 400;

export interface ChangeRequest {
  hostedZoneId: string;
  /**
   * UPSERTs that fit one change batch on their own, at most one per (name, type, setIdentifier), already checked
   * against PB-5 by the caller for each group they touch.
   */
  records: DnsRecord[];
  /** The change comment when the records are sent on their own. */
  comment: string;
  /** Policy key on whose behalf: its write budget, its log lines. */
  policy: string;
  maxWritesPerMinute?: number;
  /** The caller's cancellation: it stops waiting; records already sent may still be applied. */
  signal: AbortSignal;
}

export interface ChangeCoalescer {
  /** Sends the records in the next change batch of their hosted zone; resolves with that batch's change id. */
  submit(request: ChangeRequest): Promise<string>;
  /**
   * The change's status, shared by every waiter: INSYNC once seen is remembered; otherwise a status fetched less
   * than `maxAgeMs` ago is reused, and concurrent fetches of one change id share one GetChange.
   */
  changeStatus(changeId: string, opts: { signal: AbortSignal; maxAgeMs: number }): Promise<DnsChangeStatus>;
  /**
   * Says that `policy` is about to submit a change to `hostedZoneId` (its intent is being saved, its group read):
   * the zone's next batch waits for it, at most `lingerMs` after that batch's first write queued. The policy's
   * submit to that zone ends the expectation, and so does the returned release (idempotent; call it when the
   * action ends whichever way, so one that never submits holds nobody).
   */
  expect(hostedZoneId: string, policy: string): () => void;
}

interface Queued {
  request: ChangeRequest;
  /** The record groups (name|type) it changes. */
  groups: string[];
  resolve: (changeId: string) => void;
  reject: (error: unknown) => void;
  taken: boolean;
}

interface ZoneQueue {
  queued: Queued[];
  flying: boolean;
  /** Policies expected to submit soon (`expect`), each with the token of its current expectation. */
  expected: Map<string, symbol>;
  /** When the oldest write still queued arrived (the linger's start). */
  firstQueuedAt?: number;
  /** Wakes the lingering drain when the last expected policy queued or left. */
  wake?: () => void;
}

interface ChangeState {
  status?: DnsChangeStatus;
  fetchedAt?: number;
  inflight?: Promise<DnsChangeStatus>;
}

const groupKey = (r: DnsRecord) => {
  const name = r.name.toLowerCase();
  return `${name.endsWith('.') ? name : `${name}.`}|${r.type.toUpperCase()}`;
};
const recordKey = (r: DnsRecord) => `${groupKey(r)}|${r.setIdentifier ?? ''}`;

export function createChangeCoalescer(deps: ChangeCoalescerDeps): ChangeCoalescer {
  const { dns, pipeline, clock, logger } = deps;
  const limits = deps.limits ?? ROUTE53_BATCH_LIMITS;
  const lingerMs = deps.lingerMs ?? DEFAULT_LINGER_MS;
  const zones = new Map<string, ZoneQueue>();
  const changes = new Map<string, ChangeState>();
  const neverAborted = new AbortController().signal;
  const processSignal = deps.signal ?? neverAborted;

  function zoneOf(hostedZoneId: string): ZoneQueue {
    let zone = zones.get(hostedZoneId);
    if (zone === undefined) {
      zone = { queued: [], flying: false, expected: new Map() };
      zones.set(hostedZoneId, zone);
    }
    return zone;
  }

  function forgetIfIdle(hostedZoneId: string, zone: ZoneQueue): void {
    if (!zone.flying && zone.queued.length === 0 && zone.expected.size === 0 && zones.get(hostedZoneId) === zone) {
      zones.delete(hostedZoneId);
    }
  }

  function unexpect(zone: ZoneQueue, policy: string, token?: symbol): void {
    if (!zone.expected.has(policy) || (token !== undefined && zone.expected.get(policy) !== token)) return;
    zone.expected.delete(policy);
    if (zone.expected.size === 0) zone.wake?.();
  }

  /**
   * Before a batch takes its grant: waits while policies are expected, until `lingerMs` after the oldest queued
   * write arrived. Nobody expected, or that moment passed (writes queued behind a request in flight): no wait.
   */
  async function linger(zone: ZoneQueue): Promise<void> {
    while (zone.expected.size > 0 && zone.queued.length > 0 && !processSignal.aborted) {
      const left = (zone.firstQueuedAt ?? clock.now()) + lingerMs - clock.now();
      if (left <= 0) return;
      const woken = new AbortController();
      zone.wake = () => woken.abort();
      try {
        await clock.sleep(left, AbortSignal.any([woken.signal, processSignal]));
      } catch {
        // Woken: everyone expected has queued (or left); or shutting down. The loop's condition decides.
      } finally {
        delete zone.wake;
      }
    }
  }

  const fits = (size: { records: number; chars: number }) =>
    size.records <= limits.maxRecords && size.chars <= limits.maxChars;

  /** Everything queued that fits one batch with no record group twice; the rest waits for the next request. */
  function takeBatch(zone: ZoneQueue): Queued[] {
    const batch: Queued[] = [];
    const keys = new Set<string>();
    const used = { records: 0, chars: 0 };
    const blocked = new Set<string>();
    for (const item of zone.queued) {
      // A group held back stays held back for every later item too: writes to one record keep their order.
      const conflicts = item.groups.some((k) => keys.has(k) || blocked.has(k));
      const size = changeBatchSize(item.request.records);
      const room = fits({ records: used.records + size.records, chars: used.chars + size.chars });
      if (conflicts || !room) {
        for (const k of item.groups) blocked.add(k);
        continue;
      }
      batch.push(item);
      for (const k of item.groups) keys.add(k);
      used.records += size.records;
      used.chars += size.chars;
    }
    for (const item of batch) item.taken = true;
    zone.queued = zone.queued.filter((item) => !item.taken);
    zone.firstQueuedAt = zone.queued.length > 0 ? clock.now() : undefined;
    return batch;
  }

  function commentFor(batch: Queued[]): string {
    if (batch.length === 1) return batch[0]!.request.comment;
    return `failover-operator PB-5 ${batch.length} policies: ${batch.map((i) => i.request.policy).join(' ')}`.slice(
      0,
      256,
    );
  }

  function logWrite(item: Queued, fields: Record<string, unknown>): void {
    logger.debug(
      {
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        region: ROUTE53_CONTROL_PLANE_REGION,
        policy: item.request.policy,
        write: true,
        hostedZoneId: item.request.hostedZoneId,
        rule: 'PB-8',
        ...fields,
      },
      'completed AWS call',
    );
  }

  /** Sends one policy's records alone (after its merged batch failed): its own request, its own grant. */
  async function sendAlone(item: Queued): Promise<void> {
    try {
      const changeId = await pipeline.call(
        {
          service: 'route53',
          operation: 'ChangeResourceRecordSets',
          region: ROUTE53_CONTROL_PLANE_REGION,
          write: true,
          idempotent: true, // UPSERT of the same values is a no-op
          // A request of its own: each attempt spends the policy's write budget.
          policy: item.request.policy,
          ...(item.request.maxWritesPerMinute !== undefined && {
            maxWritesPerMinute: item.request.maxWritesPerMinute,
          }),
          partOfAction: true,
          signal: processSignal,
        },
        (signal) =>
          dns.upsertRecords(item.request.hostedZoneId, item.request.records, item.request.comment, { signal }),
      );
      item.resolve(changeId);
    } catch (err) {
      item.reject(err);
    }
  }

  async function sendNext(hostedZoneId: string, zone: ZoneQueue): Promise<void> {
    let batch: Queued[] | undefined;
    let sentAt = 0;
    let attempts = 0;
    try {
      const changeId = await pipeline.call(
        {
          service: 'route53',
          operation: 'ChangeResourceRecordSets',
          region: ROUTE53_CONTROL_PLANE_REGION,
          write: true,
          idempotent: true, // UPSERT of the same values is a no-op: a retry may resend the batch
          partOfAction: true,
          // The first attempt's share was spent by each policy as it queued; a retry resends the batch taken by
          // then and spends every carried policy's budget again.
          writeBudgets: () =>
            (batch ?? []).map((item) => ({
              policy: item.request.policy,
              ...(item.request.maxWritesPerMinute !== undefined && {
                maxWritesPerMinute: item.request.maxWritesPerMinute,
              }),
            })),
          signal: processSignal,
        },
        (signal) => {
          // Here the call holds its Route 53 grant: take what is queued now. A retry resends the same batch.
          if (batch === undefined) {
            batch = takeBatch(zone);
            logger.debug(
              {
                hostedZoneId,
                policies: batch.length,
                waiting: zone.queued.length,
                expected: zone.expected.size,
                rule: 'PB-8',
              },
              'took change batch',
            );
          }
          attempts++;
          sentAt = clock.now();
          if (batch.length === 0) return Promise.resolve('');
          return dns.upsertRecords(
            hostedZoneId,
            batch.flatMap((item) => item.request.records),
            commentFor(batch),
            { signal },
          );
        },
      );
      const latencyMs = clock.now() - sentAt;
      for (const item of batch ?? []) {
        logWrite(item, { attempt: attempts, latencyMs, changeId, batchedPolicies: batch!.length });
        item.resolve(changeId);
      }
      if (batch && batch.length > 1) {
        logger.info(
          { hostedZoneId, changeId, policies: batch.length, rule: 'PB-8' },
          `PB-8 sent one change batch for ${batch.length} policies`,
        );
      }
    } catch (err) {
      // Failed before it held a grant (breaker open, shutdown): everything queued would fail the same way.
      const failed = batch ?? takeBatch(zone);
      // Non-retryable: Route 53 refused the batch as a whole (InvalidChangeBatch…), maybe for one policy's records.
      // Not a refusal of ours: an open breaker, or leadership ended (the batch was abandoned, nothing is resent).
      const terminal =
        !(err instanceof CircuitOpenError) &&
        !(err instanceof LeadershipExpiredError) &&
        !(isCloudError(err) && err.retryable);
      if (failed.length > 1 && terminal && !processSignal.aborted) {
        logger.warn(
          { hostedZoneId, policies: failed.length, err, rule: 'PB-8' },
          'PB-8 merged change batch failed; sent each policy on its own',
        );
        for (const item of failed) await sendAlone(item);
        return;
      }
      for (const item of failed) item.reject(err);
    }
  }

  async function drain(hostedZoneId: string, zone: ZoneQueue): Promise<void> {
    zone.flying = true;
    try {
      while (zone.queued.length > 0) {
        await linger(zone);
        if (zone.queued.length === 0) break; // everyone waiting left (cancelled) while it lingered
        await sendNext(hostedZoneId, zone);
      }
    } finally {
      zone.flying = false;
      forgetIfIdle(hostedZoneId, zone);
    }
  }

  function remember(changeId: string): ChangeState {
    let state = changes.get(changeId);
    if (state === undefined) {
      state = {};
      changes.set(changeId, state);
      if (changes.size > MAX_REMEMBERED_CHANGES) {
        const oldest = changes.keys().next().value;
        if (oldest !== undefined) changes.delete(oldest);
      }
    }
    return state;
  }

  return {
    async submit(request) {
      if (request.records.length === 0) throw new RangeError('a change request needs at least one record');
      if (!fits(changeBatchSize(request.records))) {
        throw new RangeError(`the records of ${request.policy} do not fit one change batch; send them in parts`);
      }
      const records = request.records.map(recordKey);
      if (new Set(records).size !== records.length) {
        throw new RangeError(`the records of ${request.policy} name one (name, type, setIdentifier) twice`);
      }
      await deps.rateLimiter.acquireWriteBudget(request.policy, request.maxWritesPerMinute, request.signal);
      request.signal.throwIfAborted();

      const queue = zoneOf(request.hostedZoneId);
      if (queue.queued.length === 0) queue.firstQueuedAt = clock.now();
      const result = new Promise<string>((resolve, reject) => {
        queue.queued.push({
          request,
          groups: [...new Set(request.records.map(groupKey))],
          resolve,
          reject,
          taken: false,
        });
      });
      unexpect(queue, request.policy);
      if (!queue.flying) void drain(request.hostedZoneId, queue);
      return untilAborted(result, request.signal, () => {
        // Not sent yet: leave the queue. Already sent: the write may land; the journal keeps the entry Pending.
        queue.queued = queue.queued.filter((item) => item.request !== request);
        forgetIfIdle(request.hostedZoneId, queue);
      });
    },

    expect(hostedZoneId, policy) {
      const zone = zoneOf(hostedZoneId);
      const token = Symbol(policy);
      zone.expected.set(policy, token);
      return () => {
        unexpect(zone, policy, token);
        forgetIfIdle(hostedZoneId, zone);
      };
    },

    async changeStatus(changeId, opts) {
      const state = remember(changeId);
      if (state.status === 'INSYNC') return 'INSYNC';
      if (state.inflight) return untilAborted(state.inflight, opts.signal);
      if (
        state.status !== undefined &&
        state.fetchedAt !== undefined &&
        clock.now() - state.fetchedAt < opts.maxAgeMs
      ) {
        return state.status;
      }
      const startedAt = clock.now();
      const flight = pipeline
        .call(
          {
            service: 'route53',
            operation: 'GetChange',
            region: ROUTE53_CONTROL_PLANE_REGION,
            write: false,
            partOfAction: true,
            signal: processSignal,
          },
          (signal) => dns.getChangeStatus(changeId, { signal }),
        )
        .then((status) => {
          state.status = status;
          state.fetchedAt = startedAt;
          return status;
        });
      state.inflight = flight;
      const clear = () => {
        if (state.inflight === flight) delete state.inflight;
      };
      flight.then(clear, clear);
      return untilAborted(flight, opts.signal);
    },
  };
}

/** Waits for a shared promise, but lets this one caller leave when its own signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort?.();
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort?.();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}
