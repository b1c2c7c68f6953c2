// Middleware 5 of 7 (PB-8): don't stampede the control plane. Per-API limits shared by every policy in the process,
// plus each policy's own write budget (`guardrails.maxWritesPerMinute`). Every limit is a sliding-window limit
// (rate-window.ts): "at most N in ANY window", never a token bucket's "N at once, then the rate" — a bucket of
// 5 refilled at 5/s lets 10 requests through in one second, and Route 53 throttled the sixth.
//
// - Route 53's API limit is account-wide (5 requests/s across all Route 53 calls, reads and writes), so it has ONE
//   limit whatever the region; the default stays below it (at most 4 in any second) to leave room for other tools.
//   It is also PACED (at most 1 in any 250 ms): a limit held where we send is not yet a limit where AWS counts.
//   Four grants at one instant and the next four exactly 1 s later are "4 in any second" here, but the requests
//   reach the service after varying delays (signing, sockets, a busy event loop), so a late first batch and a quick
//   second one land 6 in one second there (seen at the fault proxy). Spaced 250 ms apart, the count AWS sees
//   exceeds 5 only if delays differ by more than 250 ms. A burst of four costs 750 ms; a drain does not notice.
// - Route 53 READS (ListResourceRecordSets…) also take from a read share first, below the shared limit (default at
//   most 2 in any second of the 4): reads queue there, and enter the shared limit no faster than that, so in an
//   outage a change batch waits for at most a grant or two instead of behind a backlog of observations (PB-8:
//   writes that move traffic come before reads). Reads an action makes itself — the current records before a
//   change, the GetChange polls after it — belong to that write (`partOfAction`) and skip the read share.
// - Every other service gets one limit per service+region.
// - Every write ATTEMPT also spends the write budget of each policy whose changes it carries (`meta.policy`, and
//   `meta.writeBudgets` for a change batch coalesced from several policies): at most maxWritesPerMinute in any
//   60 s and at most a sixth of it (at least 1) in any 10 s.
//
// The limiter sits inside the retry middleware: every attempt, retries included, spends its grants.

import type { AwsService } from '../cloud/types.ts';
import { createRateWindowLimiter, type RateWindow, type RateWindowLimiter } from './rate-window.ts';
import type { CallMeta, Clock, Middleware } from './types.ts';

export type RateLimits = Record<AwsService, readonly RateWindow[]>;

const perSecond = (limit: number): RateWindow[] => [{ limit, windowMs: 1_000 }];

/** At most `limit` in any second AND evenly spaced: at most one in any 1000/limit ms (see the header). */
export const pacedPerSecond = (limit: number): RateWindow[] => [
  { limit, windowMs: 1_000 },
  { limit: 1, windowMs: Math.floor(1_000 / limit) },
];

/** Route 53 reads' own share, within the shared route53 limit (see the header). */
export const DEFAULT_ROUTE53_READ_LIMIT: readonly RateWindow[] = pacedPerSecond(2);

export const DEFAULT_RATE_LIMITS: RateLimits = {
  route53: pacedPerSecond(4),
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
  /** Waits for every grant the attempt needs (the policies' write budgets for writes, then the API limits). */
  acquire(meta: CallMeta, signal: AbortSignal): Promise<void>;
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
      if (meta.service === 'route53' && !meta.write && !meta.partOfAction) {
        await route53ReadShare.take(signal);
      }
      const limit = apiLimit(meta);
      for (let i = 0; i < Math.max(1, meta.requests ?? 1); i++) await limit.take(signal);
    },
  };
}

export function rateLimitMiddleware(limiter: RateLimiter): Middleware {
  return {
    name: 'rate-limit',
    wrap: (next) => async (ctx) => {
      await limiter.acquire(ctx.meta, ctx.signal);
      return next(ctx);
    },
  };
}
