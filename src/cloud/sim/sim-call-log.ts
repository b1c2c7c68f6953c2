// Every call made to the simulated cloud, in order, with its outcome. Drill reports use it to prove PB-3 (no
// zone-targeted action went into an impaired zone) and PB-8 (no stampede: call rates, retries, hangs cut short).
// Entries are compatible with the health layer's ApiCallSample (service, operation, region, zone, ok, latencyMs,
// at), so a listener can feed the PB-1 control-plane signal directly.

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

export interface CallLog {
  /** Every call so far, oldest first (live records: pending calls update in place). */
  all(): readonly SimCallRecord[];
  filter(predicate: (call: SimCallRecord) => boolean): SimCallRecord[];
  /** Calls that targeted `zone`, optionally only during [from, to). */
  targeting(zone: ZoneName, from?: number, to?: number): SimCallRecord[];
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

export function createCallLog(): CallLog {
  const calls: SimCallRecord[] = [];
  const listeners = new Set<(call: SimCallRecord) => void>();
  return {
    all: () => calls,
    filter: (predicate) => calls.filter(predicate),
    targeting: (zone, from = Number.NEGATIVE_INFINITY, to = Number.POSITIVE_INFINITY) =>
      calls.filter((c) => c.zone === zone && c.at >= from && c.at < to),
    onFinished(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start(scope, at) {
      const record: SimCallRecord = { ...scope, seq: calls.length, at, latencyMs: 0, outcome: 'pending', ok: false };
      calls.push(record);
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
      for (const listener of listeners) listener(call);
    },
  };
}
