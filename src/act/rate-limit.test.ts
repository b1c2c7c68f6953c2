import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from './call-pipeline.ts';
import { createRateLimiter } from './rate-limit.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import { createTokenBucket } from './token-bucket.ts';
import type { CallMeta } from './types.ts';

const silent = pino({ level: 'silent' });

describe('token bucket', () => {
  it('lets the burst through at once, then spaces calls to the rate', async () => {
    const clock = createVirtualClock();
    const bucket = createTokenBucket(clock, { ratePerSecond: 4, burst: 5 });
    const times: number[] = [];
    const all = Promise.all(Array.from({ length: 9 }, () => bucket.take().then(() => times.push(clock.now()))));
    await clock.run(all);
    expect(times).toEqual([0, 0, 0, 0, 0, 250, 500, 750, 1000]);
  });

  it('refills while idle, never beyond the burst', async () => {
    const clock = createVirtualClock();
    const bucket = createTokenBucket(clock, { ratePerSecond: 4, burst: 5 });
    await clock.run(Promise.all(Array.from({ length: 5 }, () => bucket.take())));
    await clock.advance(60_000);
    expect(bucket.tokens()).toBe(5);
  });

  it('returns the token of a waiter that aborts, so the next waiter moves up', async () => {
    const clock = createVirtualClock();
    const bucket = createTokenBucket(clock, { ratePerSecond: 1, burst: 1 });
    await bucket.take();
    const controller = new AbortController();
    const abandoned = bucket.take(controller.signal);
    abandoned.catch(() => {});
    controller.abort(new Error('shutdown'));
    await expect(abandoned).rejects.toThrow('shutdown');
    const times: number[] = [];
    await clock.run(bucket.take().then(() => times.push(clock.now())));
    expect(times).toEqual([1000]);
  });
});

describe('rate limiter', () => {
  const route53 = (policy: string, region = 'us-east-1'): CallMeta => ({
    service: 'route53',
    operation: 'GetChange',
    region,
    write: false,
    partOfAction: true,
    policy,
  });

  it('shares the account-wide Route 53 bucket across policies and regions, through one pipeline', async () => {
    const clock = createVirtualClock();
    const pipeline = createCallPipeline({ clock, logger: silent, isZoneImpaired: () => false });
    const times: Record<string, number[]> = { a: [], b: [] };
    const calls = [];
    for (let i = 0; i < 5; i++) {
      for (const [policy, region] of [
        ['a', 'us-east-1'],
        ['b', 'us-west-2'],
      ] as const) {
        calls.push(pipeline.call(route53(policy, region), async () => times[policy]!.push(clock.now())));
      }
    }
    await clock.run(Promise.all(calls));
    const all = [...times.a!, ...times.b!].sort((x, y) => x - y);
    // default 4/s burst 5: ten calls from two policies take 5 × 250 ms after the burst
    expect(all).toEqual([0, 0, 0, 0, 0, 250, 500, 750, 1000, 1250]);
    expect(times.a!.length).toBe(5);
    expect(times.b!.length).toBe(5);
  });

  it('lets a Route 53 change through within a token interval while a backlog of reads waits in its own bucket', async () => {
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock);
    const signal = new AbortController().signal;
    const read: CallMeta = {
      service: 'route53',
      operation: 'ListResourceRecordSets',
      region: 'us-east-1',
      write: false,
    };
    const readTimes: number[] = [];
    // 40 observations queue up (an outage wakes every policy) …
    const reads = Promise.all(
      Array.from({ length: 40 }, () => limiter.acquire(read, signal).then(() => readTimes.push(clock.now()))),
    );
    await clock.advance(1_000);
    // … then a drain reads the records it is about to change, and sends its change batch: neither may wait ~10 s
    // behind them.
    const at: number[] = [];
    const drain = (async () => {
      const meta = { service: 'route53', region: 'us-east-1', policy: 'shop/orders' } as const;
      await limiter.acquire({ ...meta, operation: 'ListResourceRecordSets', write: false, partOfAction: true }, signal);
      at.push(clock.now());
      await limiter.acquire({ ...meta, operation: 'ChangeResourceRecordSets', write: true }, signal);
      at.push(clock.now());
    })();
    await clock.run(Promise.all([reads, drain]));
    expect(at[1]! - 1_000).toBeLessThanOrEqual(500);
    // Reads run at their own 2/s (after a burst of 4); the shared 4/s bucket is never exceeded.
    expect(readTimes.filter((t) => t <= 10_000).length).toBeLessThanOrEqual(4 + 2 * 10);
    expect(readTimes).toHaveLength(40);
  });

  it('keeps separate buckets per region for regional services', async () => {
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock, { ec2: { ratePerSecond: 1, burst: 1 } });
    const signal = new AbortController().signal;
    const meta = (region: string): CallMeta => ({
      service: 'ec2',
      operation: 'DescribeAvailabilityZones',
      region,
      write: false,
    });
    await clock.run(
      Promise.all([limiter.acquire(meta('us-east-1'), signal), limiter.acquire(meta('us-west-2'), signal)]),
    );
    expect(clock.now()).toBe(0);
    await clock.run(limiter.acquire(meta('us-east-1'), signal));
    expect(clock.now()).toBe(1000);
  });

  it("holds a policy to its maxWritesPerMinute on top of the API buckets, without slowing another policy's writes", async () => {
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock);
    const signal = new AbortController().signal;
    const write = (policy: string): CallMeta => ({
      service: 'rds',
      operation: 'RebootDBInstance',
      region: 'us-east-1',
      zone: 'us-east-1b',
      write: true,
      policy,
      maxWritesPerMinute: 6, // burst 1, one every 10 s
    });
    const times: number[] = [];
    const a = Promise.all([0, 1, 2].map(() => limiter.acquire(write('a'), signal).then(() => times.push(clock.now()))));
    let bAt = -1;
    const b = limiter.acquire(write('b'), signal).then(() => {
      bAt = clock.now();
    });
    await clock.run(Promise.all([a, b]));
    expect(times).toEqual([0, 10_000, 20_000]);
    expect(bAt).toBe(0);
  });
});
