// What the simulated cloud was asked, kept bounded so that a week-long simulation does not grow without limit:
//
// - counters per (service, operation, outcome, error code and kind), each with the first call it counted;
// - per operation, attempts per clock minute as they happen (the busiest minute so far and the total);
// - how long finished calls took, to the second, and the calls still in flight;
// - every write (an operation other than Describe*, List*, Get*) in full, up to a cap: writes are what the playbook
//   audits (PB-3: no zone-targeted write into an impaired zone; PB-7: one promotion; PB-8: no snapshots), and the
//   operator's own write budget keeps them few;
// - a ring of the most recent calls, for tests and debugging.
//
// Drill reports read the counters and the writes, never the ring. Records are compatible with the health layer's
// ApiCallSample (service, operation, region, zone, ok, latencyMs, at), so a listener can feed the PB-1
// control-plane signal directly.

import type { AwsService, RegionName, ZoneName } from '../types.ts';

export interface CallScope {
  service: AwsService;
  operation: string; // AWS operation name, e.g. RebootInstances
  region: RegionName;
  /** Set when the call targets one zone (a launch, a volume, an instance in that zone, a zone-filtered read). */
  zone?: ZoneName;
  /** What it acted on: instance ids, DB identifier, hosted zone id ... */
  target?: string;
}

/** pending: not finished yet; hung: stuck in a simulated hang (and not yet aborted). */
export type CallOutcome = 'pending' | 'hung' | 'ok' | 'error' | 'aborted';

export interface SimCallRecord extends CallScope {
  seq: number;
  at: number; // epoch ms (clock time) when the call started
  finishedAt?: number;
  latencyMs: number;
  outcome: CallOutcome;
  ok: boolean;
  /** CloudError code and kind for failed calls. */
  code?: string;
  kind?: string;
}

/** Finished calls with the same service, operation, outcome, code and kind. */
export interface CallCounter {
  service: AwsService;
  operation: string;
  outcome: 'ok' | 'error' | 'aborted';
  code?: string;
  kind?: string;
  count: number;
  /** The first call it counted. */
  first: SimCallRecord;
}

export type CallFilter = Partial<Pick<CallCounter, 'service' | 'operation' | 'outcome' | 'code' | 'kind'>>;

export interface MinuteRate {
  /** Attempts (calls started) of the operation. */
  total: number;
  /** Most attempts started within one clock minute. */
  worst: number;
  /** Start (epoch ms) of the first minute with that many; undefined when there was no attempt. */
  worstMinuteAt?: number;
}

export interface CallLogOptions {
  /** Size of the ring of recent calls. */
  recentCapacity?: number;
  /** Most writes kept in full; later ones are only counted (writesDropped). */
  writeCapacity?: number;
}

export const CALL_LOG_DEFAULTS = { recentCapacity: 5_000, writeCapacity: 50_000 } as const;

export interface CallLog {
  /** The most recent calls (at most recentCapacity), oldest first; live records: pending calls update in place. */
  recent(): readonly SimCallRecord[];
  /** Recent calls that targeted `zone`, optionally only those started during [from, to). */
  targeting(zone: ZoneName, from?: number, to?: number): SimCallRecord[];
  /** Every write so far, oldest first (up to writeCapacity). */
  writes(): readonly SimCallRecord[];
  /** Writes made after writeCapacity was reached: counted, not kept. */
  writesDropped(): number;
  /** Every counter of finished calls. */
  counters(): readonly CallCounter[];
  /** Finished calls matching the filter, plus unfinished ones when it asks for no outcome or for pending/hung. */
  count(filter?: CallFilter | { outcome: 'pending' | 'hung' }): number;
  /** Attempts of `operation` per clock minute. */
  perMinute(operation: string): MinuteRate;
  /** Calls that took longer than `ms` (to the second) or have not finished. */
  countLongerThan(ms: number): number;
  /** Calls started so far. */
  total(): number;
  /** When the first call started. */
  firstAt(): number | undefined;
  /** Called once per call when it finishes (ok, error or aborted). Returns an unsubscribe function. */
  onFinished(listener: (call: SimCallRecord) => void): () => void;
  start(scope: CallScope, at: number): SimCallRecord;
  markHung(call: SimCallRecord): void;
  finish(
    call: SimCallRecord,
    at: number,
    outcome: 'ok' | 'error' | 'aborted',
    error?: { code: string; kind: string },
  ): void;
}

/** Reads do not change the cloud; everything else is a write. */
export function isWriteOperation(operation: string): boolean {
  return !/^(Describe|List|Get)/.test(operation);
}

export function createCallLog(options: CallLogOptions = {}): CallLog {
  const recentCapacity = Math.max(1, options.recentCapacity ?? CALL_LOG_DEFAULTS.recentCapacity);
  const writeCapacity = Math.max(0, options.writeCapacity ?? CALL_LOG_DEFAULTS.writeCapacity);
  const ring: SimCallRecord[] = [];
  let ringStart = 0; // index of the oldest record once the ring is full
  const writes: SimCallRecord[] = [];
  let writesDropped = 0;
  const counters = new Map<string, CallCounter>();
  const rates = new Map<string, MinuteRate & { minuteAt: number; inMinute: number }>();
  const secondsTaken = new Map<number, number>(); // ceil(latency in s) → finished calls
  const inFlight = new Set<SimCallRecord>();
  const listeners = new Set<(call: SimCallRecord) => void>();
  let started = 0;
  let firstAt: number | undefined;

  const recent = () => (ring.length < recentCapacity ? ring : [...ring.slice(ringStart), ...ring.slice(0, ringStart)]);

  function countAttempt(operation: string, at: number): void {
    const minuteAt = Math.floor(at / 60_000) * 60_000;
    let rate = rates.get(operation);
    if (!rate) {
      rate = { total: 0, worst: 0, minuteAt, inMinute: 0 };
      rates.set(operation, rate);
    }
    // Calls start in clock order, so a minute once left is never counted again.
    if (minuteAt !== rate.minuteAt) {
      rate.minuteAt = minuteAt;
      rate.inMinute = 0;
    }
    rate.total++;
    rate.inMinute++;
    if (rate.inMinute > rate.worst) {
      rate.worst = rate.inMinute;
      rate.worstMinuteAt = minuteAt;
    }
  }

  function countFinished(call: SimCallRecord, outcome: CallCounter['outcome']): void {
    const key = [call.service, call.operation, outcome, call.code ?? '', call.kind ?? ''].join('\u0000');
    const counter = counters.get(key);
    if (counter) counter.count++;
    else {
      counters.set(key, {
        service: call.service,
        operation: call.operation,
        outcome,
        ...(call.code === undefined ? {} : { code: call.code }),
        ...(call.kind === undefined ? {} : { kind: call.kind }),
        count: 1,
        first: call,
      });
    }
    const seconds = Math.ceil(call.latencyMs / 1000);
    secondsTaken.set(seconds, (secondsTaken.get(seconds) ?? 0) + 1);
  }

  const matches = (counter: CallCounter, filter: CallFilter) =>
    (Object.keys(filter) as (keyof CallFilter)[]).every((k) => filter[k] === undefined || counter[k] === filter[k]);

  return {
    recent,
    targeting: (zone, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY) =>
      recent().filter((c) => c.zone === zone && c.at >= from && c.at < to),
    writes: () => writes,
    writesDropped: () => writesDropped,
    counters: () => [...counters.values()],
    count(filter = {}) {
      const outcome = filter.outcome;
      if (outcome === 'pending' || outcome === 'hung') {
        return [...inFlight].filter((c) => c.outcome === outcome).length;
      }
      let n = 0;
      for (const counter of counters.values()) if (matches(counter, filter as CallFilter)) n += counter.count;
      if (outcome === undefined) {
        const { service, operation, code, kind } = filter as CallFilter;
        if (code === undefined && kind === undefined) {
          for (const c of inFlight) {
            if (
              (service === undefined || c.service === service) &&
              (operation === undefined || c.operation === operation)
            )
              n++;
          }
        }
      }
      return n;
    },
    perMinute(operation) {
      const rate = rates.get(operation);
      if (!rate) return { total: 0, worst: 0 };
      return {
        total: rate.total,
        worst: rate.worst,
        ...(rate.worstMinuteAt === undefined ? {} : { worstMinuteAt: rate.worstMinuteAt }),
      };
    },
    countLongerThan(ms) {
      let n = inFlight.size;
      for (const [seconds, count] of secondsTaken) if (seconds * 1000 > ms) n += count;
      return n;
    },
    total: () => started,
    firstAt: () => firstAt,
    onFinished(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start(scope, at) {
      const record: SimCallRecord = { ...scope, seq: started, at, latencyMs: 0, outcome: 'pending', ok: false };
      started++;
      firstAt ??= at;
      if (ring.length < recentCapacity) ring.push(record);
      else {
        ring[ringStart] = record;
        ringStart = (ringStart + 1) % recentCapacity;
      }
      if (isWriteOperation(scope.operation)) {
        if (writes.length < writeCapacity) writes.push(record);
        else writesDropped++;
      }
      countAttempt(scope.operation, at);
      inFlight.add(record);
      return record;
    },
    markHung(call) {
      call.outcome = 'hung';
    },
    finish(call, at, outcome, error) {
      call.finishedAt = at;
      call.latencyMs = at - call.at;
      call.outcome = outcome;
      call.ok = outcome === 'ok';
      if (error) {
        call.code = error.code;
        call.kind = error.kind;
      }
      // Counted once, should a call be finished twice.
      if (inFlight.delete(call)) countFinished(call, outcome);
      for (const listener of listeners) listener(call);
    },
  };
}
