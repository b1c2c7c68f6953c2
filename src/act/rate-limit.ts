// Middleware 5 of 7 (PB-8): don't stampede the control plane. Per-API limits shared by every policy in the process,
// plus each policy's own write budget (`guardrails.maxWritesPerMinute`). Every limit is a sliding-window limit
// (rate-window.ts): "at most N in ANY window", never a token bucket's "N at once, then the rate" — a bucket of
// 5 refilled at 5/s lets 10 requests through in one second, and Route 53 throttled the sixth.
//
// - Route 53's API limit is account-wide (5 requests/s across all Route 53 calls, reads and writes), so it has ONE
//   limit whatever the region; the default stays below it (at most 4 in any second) to leave room for other tools.
//   That default assumes this operator is the only one in its account: several operators in one account (vantage
//   points, docs/vantage-points.md) would each take 4. Each is then given its SHARE instead
//   (--route53-requests-per-second; `route53ShareOfAccount` for N of them), and the limits below scale with it.
//   It is also PACED (at most 1 in any 1000/share ms, 250 ms by default): a limit held where we send is not yet a
//   limit where AWS counts. Four grants at one instant and the next four exactly 1 s later are "4 in any second"
//   here, but the requests reach the service after varying delays (signing, sockets, a busy event loop), so a late
//   first batch and a quick second one land 6 in one second there (seen at the fault proxy). Spaced 250 ms apart,
//   the count AWS sees exceeds 5 only if delays differ by more than 250 ms. A burst of four costs 750 ms; a drain
//   does not notice.
// - Route 53 READS (ListResourceRecordSets…) also take from a read share first, below the shared limit: half of it
//   (by default at most 2 in any second of the 4; with a share of 1, one read every 2 s — never none). Reads queue
//   there, and enter the shared limit no faster than that, so in an outage a change batch waits for at most a grant
//   or two instead of behind a backlog of observations (PB-8: writes that move traffic come before reads). Reads an
//   action makes itself — the current records before a change, the GetChange polls after it — belong to that write
//   (`partOfAction`) and skip the read share.
//   Idle capacity is LENT to reads: a read also takes any grant of the shared limit that is free at that moment and
//   that nobody holds a reservation for (`tryTake`), whether it is just arriving or already queued in the read share
//   (it then gives its place there back). So an initial sync lists hosted zones at the whole share (10 zones × 2
//   pages: 5 s instead of 10). A borrowed grant is never a reservation, so nothing borrowed ever gets ahead of a
//   waiting write: a write waits, as before, for the current pacing slot and at most the one read the read share let
//   into the shared limit (two pacing slots, 500 ms at the default share).
// - Every other service gets one limit per service+region.
// - Every write ATTEMPT also spends the write budget of each policy whose changes it carries (`meta.policy`, and
//   `meta.writeBudgets` for a change batch coalesced from several policies): at most maxWritesPerMinute in any
//   60 s and at most a sixth of it (at least 1) in any 10 s.
// - Every REQUEST takes its grants when it goes out: an attempt's first before the attempt starts, and each further
//   request of an adapter call that sends several (a health check and then its tags, a listing page by page) when
//   the adapter asks for it (`nextRequest`). Taking them all before the first would let them go out back to back
//   after the last grant: a burst of two from each of three operators at a share of 1 each is 6 in one second.
//
// The limiter sits inside the retry middleware: every attempt, retries included, spends its grants.

import type { AwsService } from '../cloud/types.ts';
import { createRateWindowLimiter, type RateWindow, type RateWindowLimiter } from './rate-window.ts';
import type { CallContext, CallMeta, Clock, Middleware } from './types.ts';

export type RateLimits = Record<AwsService, readonly RateWindow[]>;

const perSecond = (limit: number): RateWindow[] => [{ limit, windowMs: 1_000 }];

/**
 * `rate` requests a second, evenly spaced: at most one in any 1000/rate ms, and so at most `rate` in any second. A
 * rate below 1 is one request every 1/rate seconds (0.5: one every 2 s). A fractional rate above 1 averages `rate`
 * but still lets ceil(rate) through in some seconds (1.5: one every 667 ms, two in some seconds).
 */
export const pacedPerSecond = (rate: number): RateWindow[] => [
  { limit: Math.ceil(rate), windowMs: 1_000 },
  { limit: 1, windowMs: Math.ceil(1_000 / rate) },
];

/**
 * Route 53's documented API limit: five requests per second per AWS account, all Route 53 requests together
 * (docs/vantage-points.md cites AWS). The simulated Route 53 throttles above it too (sim-dns.ts).
 */
export const ROUTE53_ACCOUNT_REQUESTS_PER_SECOND = 5;

/** One operator's share of its account's Route 53 limit by default: all of it but one request a second. */
export const DEFAULT_ROUTE53_REQUESTS_PER_SECOND = ROUTE53_ACCOUNT_REQUESTS_PER_SECOND - 1;

/** The smallest share below one a second (FO_ROUTE53_REQUESTS_PER_SECOND): one request every 2 s, a read every 4 s. */
export const MIN_ROUTE53_FRACTIONAL_SHARE = 0.5;

/**
 * The share of the account's Route 53 limit each of `operators` operators in one account should take: together at
 * most the default (4 in any second), one request a second left to other tools. Route 53 counts requests per
 * second, so up to four operators get a whole number each (floor(4/N): 4, 2, 1, 1), which holds in every second;
 * more get a tenth-rounded fraction (5: 0.8, 6: 0.6, 7 or more: 0.5), one request every 1/share seconds each — 4 a
 * second on average, but nothing stops them from landing in the same second (the retry middleware absorbs a rare
 * Throttling). The simulator runs its vantages with it; docs/vantage-points.md advises it.
 */
export function route53ShareOfAccount(operators: number): number {
  const n = Math.max(1, Math.floor(operators));
  const even = DEFAULT_ROUTE53_REQUESTS_PER_SECOND / n;
  if (even >= 1) return Math.floor(even);
  return Math.max(MIN_ROUTE53_FRACTIONAL_SHARE, Math.floor(even * 10) / 10);
}

/**
 * The Route 53 limits of an operator whose share of the account is `requestsPerSecond`: every Route 53 call within
 * it, and reads within half of it (see the header).
 */
export function route53Limits(requestsPerSecond: number): { all: RateWindow[]; reads: RateWindow[] } {
  return { all: pacedPerSecond(requestsPerSecond), reads: pacedPerSecond(requestsPerSecond / 2) };
}

const DEFAULT_ROUTE53_LIMITS = route53Limits(DEFAULT_ROUTE53_REQUESTS_PER_SECOND);

/** Route 53 reads' own share, within the shared route53 limit (see the header). */
export const DEFAULT_ROUTE53_READ_LIMIT: readonly RateWindow[] = DEFAULT_ROUTE53_LIMITS.reads;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  route53: DEFAULT_ROUTE53_LIMITS.all,
  ec2: perSecond(10),
  ebs: perSecond(5),
  rds: perSecond(5),
  cloudwatch: perSecond(10),
  // The promotion lock only (one conditional write per promotion, a read when refused).
  dynamodb: perSecond(10),
};

/**
 * Slack on a policy's budget windows. A budget grant is taken BEFORE the request waits its turn in the API limit
 * (so a policy over its budget never holds a shared API grant), and the request then reaches AWS a little later
 * still. Two grants exactly a window apart would then land inside one window where the requests are counted (seen
 * at the fault proxy: 7 writes in a minute for a budget of 6). The slack covers that wait in all but a pile-up.
 */
export const WRITE_BUDGET_SLACK_MS = 2_000;

/**
 * A policy's write budget as windows: the minute, and a sixth of it per 10 s so it is not spent in one burst — each
 * with WRITE_BUDGET_SLACK_MS added.
 */
export function writeBudgetWindows(maxWritesPerMinute: number): RateWindow[] {
  return [
    { limit: maxWritesPerMinute, windowMs: 60_000 + WRITE_BUDGET_SLACK_MS },
    { limit: Math.max(1, Math.ceil(maxWritesPerMinute / 6)), windowMs: 10_000 + WRITE_BUDGET_SLACK_MS },
  ];
}

export interface RateLimiter {
  /**
   * Waits for every grant the attempt's first request needs: the policies' write budgets for writes, then the read
   * share for an observation's Route 53 read, then the API limit.
   */
  acquire(meta: CallMeta, signal: AbortSignal): Promise<void>;
  /**
   * Waits for the grants of one more request of the same attempt (an adapter call that sends several, as it sends
   * each): the read share for an observation's Route 53 read, then the API limit. The write budgets are per attempt.
   */
  acquireNextRequest(meta: CallMeta, signal: AbortSignal): Promise<void>;
  /**
   * Waits for one grant of a policy's own write budget only, no API grant: for a policy's share of the first
   * attempt of a request that carries several policies' changes (change-coalescer.ts); that request spends the
   * API grant, and its retries spend every carried policy's budget again (`CallMeta.writeBudgets`).
   */
  acquireWriteBudget(policy: string, maxWritesPerMinute: number | undefined, signal: AbortSignal): Promise<void>;
}

/** One per process: pass the same instance to every pipeline so that all policies share the API limits. */
export function createRateLimiter(
  clock: Clock,
  limits: Partial<RateLimits> = {},
  route53Reads: readonly RateWindow[] = DEFAULT_ROUTE53_READ_LIMIT,
): RateLimiter {
  const resolved: RateLimits = { ...DEFAULT_RATE_LIMITS, ...limits };
  const route53ReadShare = createRateWindowLimiter(clock, route53Reads);
  const apiLimits = new Map<string, RateWindowLimiter>();
  const writeBudgets = new Map<string, { perMinute: number; limiter: RateWindowLimiter }>();

  function apiLimit(meta: CallMeta): RateWindowLimiter {
    const key = meta.service === 'route53' ? 'route53' : `${meta.service}/${meta.region}`;
    let limiter = apiLimits.get(key);
    if (limiter === undefined) {
      limiter = createRateWindowLimiter(clock, resolved[meta.service]);
      apiLimits.set(key, limiter);
    }
    return limiter;
  }

  function writeBudget(policy: string, perMinute: number): RateWindowLimiter {
    const existing = writeBudgets.get(policy);
    if (existing !== undefined && existing.perMinute === perMinute) return existing.limiter;
    // A changed budget (spec edited) starts afresh.
    const limiter = createRateWindowLimiter(clock, writeBudgetWindows(perMinute));
    writeBudgets.set(policy, { perMinute, limiter });
    return limiter;
  }

  async function acquireWriteBudget(policy: string, perMinute: number | undefined, signal: AbortSignal) {
    if (perMinute !== undefined && perMinute > 0)
      await writeBudget(policy, Math.max(1, Math.floor(perMinute))).take(signal);
  }

  async function acquireRequest(meta: CallMeta, signal: AbortSignal) {
    if (meta.service === 'route53' && !meta.write && !meta.partOfAction) {
      await acquireRoute53Read(apiLimit(meta), signal);
      return;
    }
    await apiLimit(meta).take(signal);
  }

  /**
   * An observation's Route 53 read: an idle grant of the shared limit at once, else its turn in the read share and
   * then in the shared limit — or, while it waits in the read share, a shared grant that falls idle (see the header).
   */
  async function acquireRoute53Read(shared: RateWindowLimiter, signal: AbortSignal): Promise<void> {
    if (shared.tryTake()) return;
    const leaveShare = new AbortController();
    const viaShare = route53ReadShare.take(AbortSignal.any([signal, leaveShare.signal])).then(() => true as const);
    viaShare.catch(() => {}); // given back on leaving: nobody waits for it
    try {
      for (;;) {
        const stopPolling = new AbortController();
        const wake = clock
          .sleep(Math.max(1, shared.nextFreeAt() - clock.now()), AbortSignal.any([signal, stopPolling.signal]))
          .then(() => false as const);
        wake.catch(() => {});
        const granted = await Promise.race([viaShare, wake]).finally(() => stopPolling.abort());
        if (granted) {
          await shared.take(signal);
          return;
        }
        if (shared.tryTake()) return;
      }
    } finally {
      leaveShare.abort(); // its read-share reservation back, unless it was granted
    }
  }

  return {
    acquireWriteBudget,
    async acquire(meta, signal) {
      // The policy budgets first: a policy over its own budget must not hold a shared API grant while it waits
      // (a grant is a reservation of a moment: the request has to go out then).
      if (meta.write) {
        if (meta.policy !== undefined) await acquireWriteBudget(meta.policy, meta.maxWritesPerMinute, signal);
        for (const carried of meta.writeBudgets?.() ?? []) {
          await acquireWriteBudget(carried.policy, carried.maxWritesPerMinute, signal);
        }
      }
      await acquireRequest(meta, signal);
    },
    acquireNextRequest: acquireRequest,
  };
}

/**
 * The context with its `nextRequest` wrapped by `around`, which calls the wait it is given (as it is when it has
 * none): for the middleware inside the limiter that keep its waits out of their clocks or re-check after them.
 */
export function aroundNextRequest(
  ctx: CallContext,
  around: (waitForGrant: () => Promise<void>) => Promise<void>,
): CallContext {
  const waitForGrant = ctx.nextRequest;
  return waitForGrant ? { ...ctx, nextRequest: () => around(waitForGrant) } : ctx;
}

export function rateLimitMiddleware(limiter: RateLimiter): Middleware {
  return {
    name: 'rate-limit',
    wrap: (next) => async (ctx) => {
      await limiter.acquire(ctx.meta, ctx.signal);
      return next({ ...ctx, nextRequest: () => limiter.acquireNextRequest(ctx.meta, ctx.signal) });
    },
  };
}
