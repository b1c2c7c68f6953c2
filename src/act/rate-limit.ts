// Middleware 5 of 7 (PB-8): don't stampede the control plane. Per-API token buckets shared by every policy in the
// process, plus each policy's own write budget (`guardrails.maxWritesPerMinute`).
//
// - Route 53's API limit is account-wide (5 requests/s across all Route 53 calls), so it has ONE bucket whatever
//   the region; the default stays a little below the limit (4/s, burst 5) to leave room for other tools.
// - Route 53 READS (ListResourceRecordSets…) also take from a read bucket first, at a rate below the shared one
//   (default 2/s of the 4/s): reads queue there, and enter the shared bucket no faster than that, so in an outage
//   a change batch waits for at most a couple of tokens instead of behind a backlog of observations (PB-8: writes
//   that move traffic come before reads). Reads an action makes itself — the current records before a change, the
//   GetChange polls after it — belong to that write (`partOfAction`) and skip the read bucket.
// - Every other service gets one bucket per service+region.
// - A policy's writes also take from its write bucket: sustained rate maxWritesPerMinute/60 per second, burst a
//   sixth of it (at least 1). A token bucket bounds the long-run rate, not every sliding minute: in the worst
//   minute a policy can make maxWritesPerMinute × 7/6 writes.
//
// The limiter sits inside the retry middleware: every attempt, retries included, spends a token.

import type { AwsService } from '../cloud/types.ts';
import { createTokenBucket, type TokenBucket, type TokenBucketOptions } from './token-bucket.ts';
import type { CallMeta, Clock, Middleware } from './types.ts';

export type RateLimits = Record<AwsService, TokenBucketOptions>;

/** Route 53 reads' own budget, within the shared route53 bucket (see the header). */
export const DEFAULT_ROUTE53_READ_LIMIT: TokenBucketOptions = { ratePerSecond: 2, burst: 4 };

export const DEFAULT_RATE_LIMITS: RateLimits = {
  route53: { ratePerSecond: 4, burst: 5 },
  ec2: { ratePerSecond: 10, burst: 20 },
  ebs: { ratePerSecond: 5, burst: 10 },
  rds: { ratePerSecond: 5, burst: 10 },
  cloudwatch: { ratePerSecond: 10, burst: 20 },
};

export interface RateLimiter {
  /** Waits for every token the call needs (API bucket, then the policy's write bucket for writes). */
  acquire(meta: CallMeta, signal: AbortSignal): Promise<void>;
  /**
   * Waits for one token of a policy's own write budget only, no API token: for a policy's share of a write whose
   * one request carries several policies' changes (change-coalescer.ts); that request spends the API token.
   */
  acquireWriteBudget(policy: string, maxWritesPerMinute: number | undefined, signal: AbortSignal): Promise<void>;
}

/** One per process: pass the same instance to every pipeline so that all policies share the API buckets. */
export function createRateLimiter(
  clock: Clock,
  limits: Partial<RateLimits> = {},
  route53Reads: TokenBucketOptions = DEFAULT_ROUTE53_READ_LIMIT,
): RateLimiter {
  const resolved: RateLimits = { ...DEFAULT_RATE_LIMITS, ...limits };
  const route53ReadBucket = createTokenBucket(clock, route53Reads);
  const apiBuckets = new Map<string, TokenBucket>();
  const writeBuckets = new Map<string, { perMinute: number; bucket: TokenBucket }>();

  function apiBucket(meta: CallMeta): TokenBucket {
    const key = meta.service === 'route53' ? 'route53' : `${meta.service}/${meta.region}`;
    let bucket = apiBuckets.get(key);
    if (bucket === undefined) {
      bucket = createTokenBucket(clock, resolved[meta.service]);
      apiBuckets.set(key, bucket);
    }
    return bucket;
  }

  function writeBucket(policy: string, perMinute: number): TokenBucket {
    const existing = writeBuckets.get(policy);
    if (existing !== undefined && existing.perMinute === perMinute) return existing.bucket;
    // A changed budget (spec edited) starts a fresh bucket.
    const bucket = createTokenBucket(clock, {
      ratePerSecond: perMinute / 60,
      burst: Math.max(1, Math.ceil(perMinute / 6)),
    });
    writeBuckets.set(policy, { perMinute, bucket });
    return bucket;
  }

  async function acquireWriteBudget(policy: string, perMinute: number | undefined, signal: AbortSignal) {
    if (perMinute !== undefined && perMinute > 0) await writeBucket(policy, perMinute).take(signal);
  }

  return {
    acquireWriteBudget,
    async acquire(meta, signal) {
      // The policy budget first: a policy over its own budget should not hold a shared API token while it waits.
      if (meta.write && meta.policy !== undefined) {
        await acquireWriteBudget(meta.policy, meta.maxWritesPerMinute, signal);
      }
      if (meta.service === 'route53' && !meta.write && !meta.partOfAction) {
        await route53ReadBucket.take(signal);
      }
      await apiBucket(meta).take(signal);
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
