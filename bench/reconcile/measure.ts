// Pure helpers of the reconcile benchmark: options, percentiles, Prometheus histogram quantiles, following the
// fault proxy's bounded request log without losing or double-counting calls, and attributing Route 53 writes to
// policies. No I/O here, so the orchestration in reconcile.bench.ts stays readable.

import type { Sample } from '../../src/metrics/parse-exposition.ts';

// ---------------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------------

export interface BenchOptions {
  quick: boolean;
  /** FailoverPolicy objects created in the apiserver. */
  policies: number;
  /** Route 53 hosted zones in moto; policies are spread round-robin over them (one weighted record group each). */
  hostedZones: number;
  /** Length of the steady-state window, seconds (≥ 120 sees two 60 s resync cycles). */
  windowSeconds: number;
  /** Give up waiting for every policy to be reconciled once after this long, seconds. */
  reconcileTimeoutSeconds: number;
  /** Give up waiting for every affected policy's first write after the zone fault, seconds. */
  outageTimeoutSeconds: number;
  /** Test bed folder (FO_TESTBED_DIR for test/env/up.sh); a private one by default. */
  testbedDir: string;
  /** Leave a test bed this run started running at the end. */
  keepBed: boolean;
  /** Parallel creates against the apiserver. */
  createConcurrency: number;
}

export const USAGE = `usage: node bench/reconcile/reconcile.bench.ts [--quick] [--policies N] [--hosted-zones N]
       [--window SECONDS] [--reconcile-timeout SECONDS] [--outage-timeout SECONDS]
       [--testbed-dir DIR] [--keep-bed] [--create-concurrency N]

  --quick               smoke run: 100 policies over 4 hosted zones, 70 s window (one resync) (flags given after it still apply)
  --policies N          FailoverPolicy objects (default 1000)
  --hosted-zones N      Route 53 hosted zones in moto (default 10); policies are spread round-robin over them
  --window SECONDS      steady-state window (default 180: at least two 60 s resync cycles)
  --testbed-dir DIR     test bed folder for test/env/up.sh (default .testbed/bench-reconcile, a private bed, so
                        integration runs cannot reset moto or clear the proxy log under the bench; pass .testbed to
                        share the integration bed)
  --keep-bed            leave a bed this run started running (the next run reuses it in well under a second)`;

export class UsageError extends Error {}

const NUMERIC_FLAGS = {
  '--policies': 'policies',
  '--hosted-zones': 'hostedZones',
  '--window': 'windowSeconds',
  '--reconcile-timeout': 'reconcileTimeoutSeconds',
  '--outage-timeout': 'outageTimeoutSeconds',
  '--create-concurrency': 'createConcurrency',
} as const satisfies Record<string, keyof BenchOptions>;

export function parseOptions(argv: readonly string[], defaultTestbedDir: string): BenchOptions {
  const quick = argv.includes('--quick');
  const options: BenchOptions = {
    quick,
    policies: quick ? 100 : 1000,
    hostedZones: quick ? 4 : 10,
    windowSeconds: quick ? 70 : 180,
    reconcileTimeoutSeconds: quick ? 300 : 1200,
    outageTimeoutSeconds: quick ? 180 : 600,
    testbedDir: defaultTestbedDir,
    keepBed: false,
    createConcurrency: 16,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--quick') continue;
    if (flag === '--keep-bed') {
      options.keepBed = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') throw new UsageError(USAGE);
    const value = argv[i + 1];
    if (flag === '--testbed-dir') {
      if (!value) throw new UsageError(`--testbed-dir needs a folder, e.g. --testbed-dir .testbed/bench-reconcile`);
      options.testbedDir = value;
      i++;
      continue;
    }
    const key = (NUMERIC_FLAGS as Record<string, (typeof NUMERIC_FLAGS)[keyof typeof NUMERIC_FLAGS]>)[flag];
    if (key === undefined) throw new UsageError(`unknown flag ${flag}\n${USAGE}`);
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n <= 0) {
      throw new UsageError(`${flag} needs a whole number > 0, got ${JSON.stringify(value)}; e.g. ${flag} 10`);
    }
    options[key] = n;
    i++;
  }
  if (options.hostedZones > options.policies) {
    throw new UsageError(
      `--hosted-zones (${options.hostedZones}) must not exceed --policies (${options.policies}): every hosted zone needs a policy`,
    );
  }
  return options;
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------------------------

/** Nearest-rank percentile of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Summary in the unit given (e.g. ms → s with scale 1/1000), rounded to 3 decimals. */
export function distribution(values: readonly number[], scale = 1): Distribution | undefined {
  if (values.length === 0) return undefined;
  const s = values.map((v) => v * scale);
  return {
    n: s.length,
    min: round3(Math.min(...s)),
    p50: round3(percentile(s, 0.5)),
    p99: round3(percentile(s, 0.99)),
    max: round3(Math.max(...s)),
  };
}

export interface HistogramDelta {
  /** Upper bounds (le), ascending, +Inf last. */
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

/**
 * The change of one Prometheus histogram between two scrapes, for the series whose labels include `labels`
 * (summed over the rest). Undefined when the histogram is absent from either scrape.
 */
export function histogramDelta(
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): HistogramDelta | undefined {
  const pick = (samples: readonly Sample[]) => {
    const matches = (s: Sample) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
    const byLe = new Map<number, number>();
    let count = 0;
    let sum = 0;
    let seen = false;
    for (const s of samples) {
      if (!matches(s)) continue;
      if (s.name === `${name}_bucket`) {
        const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
        byLe.set(le, (byLe.get(le) ?? 0) + s.value);
        seen = true;
      } else if (s.name === `${name}_count`) count += s.value;
      else if (s.name === `${name}_sum`) sum += s.value;
    }
    return seen ? { byLe, count, sum } : undefined;
  };
  const a = pick(before);
  const b = pick(after);
  if (!b) return undefined;
  const buckets = [...b.byLe.entries()]
    .sort(([x], [y]) => x - y)
    .map(([le, count]) => ({ le, count: count - (a?.byLe.get(le) ?? 0) }));
  return { buckets, count: b.count - (a?.count ?? 0), sum: b.sum - (a?.sum ?? 0) };
}

/**
 * Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank; a rank in the +Inf
 * bucket answers the highest finite bound (so "p99 = 60" means "≥ 60 s"). NaN for an empty histogram.
 */
export function histogramQuantile(h: HistogramDelta, q: number): number {
  const total = h.buckets.at(-1)?.count ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const { le, count } of h.buckets) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** Sum of a counter's samples whose labels include `labels`, after minus before. */
export function counterDelta(
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const sum = (samples: readonly Sample[]) =>
    samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((acc, s) => acc + s.value, 0);
  return sum(after) - sum(before);
}

// ---------------------------------------------------------------------------------------------------------------
// The fault proxy's request log
// ---------------------------------------------------------------------------------------------------------------

/** One call as GET /__faults/log reports it (test/fault-proxy/server.ts LogEntry). */
export interface ProxyCall {
  at: string;
  service: string;
  region: string;
  action: string;
  status: number;
  effect: string;
  method?: string;
  path?: string;
}

/** Reads (Describe*, List*, Get*) never change AWS; every other operation does. */
export function isWrite(action: string): boolean {
  return !/^(Describe|List|Get)/.test(action);
}

/**
 * The proxy keeps only its most recent calls (500) and entries carry no sequence number, so a poller must find
 * where the new snapshot overlaps the previous one: the longest suffix of `previous` that is a prefix of `next`.
 * What follows the overlap is new. No overlap while `previous` was non-empty means either the log was cleared
 * or more calls than the log holds arrived between polls — `gap` says calls may have been missed.
 */
export function newSince(
  previous: readonly ProxyCall[],
  next: readonly ProxyCall[],
): { fresh: ProxyCall[]; gap: boolean } {
  const key = (c: ProxyCall) => `${c.at}|${c.method}|${c.path}|${c.status}|${c.action}|${c.effect}`;
  const prev = previous.map(key);
  const cur = next.map(key);
  for (let k = Math.min(prev.length, cur.length); k > 0; k--) {
    let same = true;
    for (let j = 0; j < k; j++) {
      if (prev[prev.length - k + j] !== cur[j]) {
        same = false;
        break;
      }
    }
    if (same) return { fresh: next.slice(k), gap: false };
  }
  return { fresh: [...next], gap: prev.length > 0 && cur.length > 0 };
}

export interface CallRates {
  /** `service operation` → calls per minute. */
  perMinute: Record<string, number>;
  total: number;
  totalPerMinute: number;
  writes: number;
  /** `service operation` → count, writes only. */
  writesByOperation: Record<string, number>;
  /** Calls answered with a status other than 2xx (0 = hung or reset). */
  errors: Record<string, number>;
}

export function callRates(calls: readonly ProxyCall[], seconds: number): CallRates {
  const counts: Record<string, number> = {};
  const writesByOperation: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let writes = 0;
  for (const c of calls) {
    const op = `${c.service} ${c.action}`;
    counts[op] = (counts[op] ?? 0) + 1;
    if (isWrite(c.action)) {
      writes++;
      writesByOperation[op] = (writesByOperation[op] ?? 0) + 1;
    }
    if (c.status < 200 || c.status >= 300) {
      const e = `${op} ${c.status}`;
      errors[e] = (errors[e] ?? 0) + 1;
    }
  }
  const perMin = (n: number) => Math.round((n * 60 * 10) / seconds) / 10;
  const perMinute = Object.fromEntries(
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([op, n]) => [op, perMin(n)]),
  );
  return { perMinute, total: calls.length, totalPerMinute: perMin(calls.length), writes, writesByOperation, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Attributing writes to policies
// ---------------------------------------------------------------------------------------------------------------

/** A write attempt as the operator logged it (`completed AWS call` / `AWS call failed`, write=true). */
export interface OperatorWrite {
  policy: string;
  operation: string;
  /** When the operator saw the answer (pino time, epoch ms). */
  at: number;
  latencyMs: number;
  /**
   * Which coalesced change batch carried it: the change id with the batch's latency and size (moto answers one
   * change id for every change, so the id alone does not tell batches apart). One request at the proxy carried
   * every write with the same key.
   */
  batch?: string;
}

/**
 * Policies share hosted zones and the proxy log names only the zone, so each operator-logged write is paired with
 * the proxy's entry for it: same hosted zone, proxy time within [answer − latency − slack, answer + slack], the
 * latest such unpaired entry. Writes of one coalesced change batch (same `batch` key) were one request at the
 * proxy: the batch is paired once and every policy in it gets that request's time. Returns policy → proxy
 * time (epoch ms) of its first paired write; a write with no proxy entry falls back to the operator's time
 * (`unpaired` counts them).
 */
export function firstWritePerPolicy(
  operatorWrites: readonly OperatorWrite[],
  proxyCalls: readonly ProxyCall[],
  hostedZoneOf: (policy: string) => string | undefined,
  slackMs = 50,
): { firstWriteAt: Map<string, number>; paired: number; unpaired: number } {
  const candidates = proxyCalls
    .filter((c) => c.action === 'ChangeResourceRecordSets')
    .map((c) => ({ at: Date.parse(c.at), path: c.path ?? '', used: false }));
  const firstWriteAt = new Map<string, number>();
  /** Batch → the proxy time of the one request that carried it. */
  const batchSentAt = new Map<string, number>();
  let paired = 0;
  let unpaired = 0;
  for (const w of [...operatorWrites].sort((a, b) => a.at - b.at)) {
    if (w.operation !== 'ChangeResourceRecordSets') continue;
    let at = w.at;
    const batch = w.batch ? batchSentAt.get(w.batch) : undefined;
    if (batch !== undefined) {
      at = batch;
      paired++;
    } else {
      const zone = hostedZoneOf(w.policy);
      let best: (typeof candidates)[number] | undefined;
      for (const c of candidates) {
        if (c.used || zone === undefined || !c.path.includes(zone)) continue;
        if (c.at < w.at - w.latencyMs - slackMs || c.at > w.at + slackMs) continue;
        if (!best || c.at > best.at) best = c;
      }
      if (best) {
        best.used = true;
        at = best.at;
        paired++;
        if (w.batch) batchSentAt.set(w.batch, best.at);
      } else unpaired++;
    }
    const prior = firstWriteAt.get(w.policy);
    if (prior === undefined || at < prior) firstWriteAt.set(w.policy, at);
  }
  return { firstWriteAt, paired, unpaired };
}
