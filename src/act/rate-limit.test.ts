import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from './call-pipeline.ts';
import {
  createRateLimiter,
  DEFAULT_RATE_LIMITS,
  DEFAULT_ROUTE53_READ_LIMIT,
  pacedPerSecond,
  route53Limits,
  route53ShareOfAccount,
  WRITE_BUDGET_SLACK_MS,
} from './rate-limit.ts';
import { createRateWindowLimiter, type RateWindow } from './rate-window.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import type { CallMeta } from './types.ts';

const silent = pino({ level: 'silent' });

/** An observation's Route 53 read: it takes from the read share first. */
const route53Observation: CallMeta = {
  service: 'route53',
  operation: 'ListResourceRecordSets',
  region: 'us-east-1',
  write: false,
};

/** The most grants inside any half-open window [t, t + windowMs) of the sorted times. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('rate window limiter', () => {
  it('lets the limit through at once, then never more than the limit in any window', async () => {
    const clock = createVirtualClock();
    const limiter = createRateWindowLimiter(clock, [{ limit: 5, windowMs: 1_000 }]);
    const times: number[] = [];
    const all = Promise.all(Array.from({ length: 12 }, () => limiter.take().then(() => times.push(clock.now()))));
    await clock.run(all);
    expect(times).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 1000, 1000, 2000, 2000]);
    expect(busiestWindow(times, 1_000)).toBe(5);
  });

  it('is a true limit where a token bucket of the same size and rate is not (10 in one second)', async () => {
    const clock = createVirtualClock();
    const limiter = createRateWindowLimiter(clock, [{ limit: 5, windowMs: 1_000 }]);
    const times: number[] = [];
    // Idle long enough for a bucket to be full, then a trickle that a bucket would top up every 200 ms.
    await clock.advance(10_000);
    const all = Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        clock.sleep(i * 100).then(() => limiter.take().then(() => times.push(clock.now()))),
      ),
    );
    await clock.run(all);
    expect(busiestWindow(times, 1_000)).toBeLessThanOrEqual(5);
  });

  it('tryTake grants only what is free now and reserved by nobody; nextFreeAt says when the next grant is', async () => {
    const clock = createVirtualClock();
    const limiter = createRateWindowLimiter(clock, [
      { limit: 2, windowMs: 1_000 },
      { limit: 1, windowMs: 250 },
    ]);
    expect(limiter.tryTake()).toBe(true);
    expect(limiter.tryTake()).toBe(false); // inside the 250 ms pacing
    expect(limiter.nextFreeAt()).toBe(250);
    const waiter = limiter.take(); // reserves 250
    await clock.advance(250);
    await waiter;
    expect(limiter.nextFreeAt()).toBe(1_000); // 2 in the last second
    const late = limiter.take(); // reserves 1000
    await clock.advance(750);
    expect(limiter.tryTake()).toBe(false); // 1000 is the waiter's, not a borrower's
    await late;
    await clock.advance(249);
    expect(limiter.tryTake()).toBe(false); // 250 and 1000 in the second up to now (1249)
    await clock.advance(1);
    expect(limiter.tryTake()).toBe(true); // 1250: 250 has left the window
  });

  it('bounds every window it is given: the minute and its sixth', async () => {
    const clock = createVirtualClock();
    const limiter = createRateWindowLimiter(clock, [
      { limit: 30, windowMs: 60_000 },
      { limit: 5, windowMs: 10_000 },
    ]);
    const times: number[] = [];
    await clock.run(Promise.all(Array.from({ length: 70 }, () => limiter.take().then(() => times.push(clock.now())))));
    expect(busiestWindow(times, 10_000)).toBe(5);
    expect(busiestWindow(times, 60_000)).toBe(30);
  });

  it('frees the window while idle, never beyond the limit', async () => {
    const clock = createVirtualClock();
    const limiter = createRateWindowLimiter(clock, [{ limit: 5, windowMs: 1_000 }]);
    await clock.run(Promise.all(Array.from({ length: 5 }, () => limiter.take())));
    expect(limiter.available()).toBe(0);
    await clock.advance(60_000);
    expect(limiter.available()).toBe(5);
  });

  it('gives back the reservation of a waiter that aborts, so the next waiter moves up', async () => {
    const clock = createVirtualClock();
    const limiter = createRateWindowLimiter(clock, [{ limit: 1, windowMs: 1_000 }]);
    await limiter.take();
    const controller = new AbortController();
    const abandoned = limiter.take(controller.signal);
    abandoned.catch(() => {});
    controller.abort(new Error('shutdown'));
    await expect(abandoned).rejects.toThrow('shutdown');
    const times: number[] = [];
    await clock.run(limiter.take().then(() => times.push(clock.now())));
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
    // default: at most 4 in any second, whichever policy or region, one every 250 ms
    expect(all).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250]);
    expect(times.a!.length).toBe(5);
    expect(times.b!.length).toBe(5);
  });

  it('keeps Route 53 under its 5/s where AWS counts, even when requests reach it up to 200 ms late', async () => {
    // The limit is held where we send, but AWS counts arrivals: a burst granted at one instant, delayed
    // unevenly on its way, and the next burst granted exactly a window later can land 6 in one second.
    const arrivals = async (windows: RateWindow[]): Promise<number> => {
      const clock = createVirtualClock();
      const limiter = createRateWindowLimiter(clock, windows);
      const granted: number[] = [];
      await clock.run(
        Promise.all(Array.from({ length: 40 }, () => limiter.take().then(() => granted.push(clock.now())))),
      );
      let seed = 7;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      // The first request of each burst is the slow one (signing, a new socket), the rest are quick.
      return busiestWindow(
        granted.map((t, i) => t + (i % 4 === 0 ? 150 + 50 * random() : 10 * random())),
        1_000,
      );
    };
    expect(await arrivals([{ limit: 4, windowMs: 1_000 }])).toBeGreaterThan(5); // what CI saw at the fault proxy
    expect(await arrivals(DEFAULT_RATE_LIMITS.route53 as RateWindow[])).toBeLessThanOrEqual(5);
  });

  it('lets a Route 53 change through within a token interval while a backlog of reads waits in its own bucket', async () => {
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock);
    const signal = new AbortController().signal;
    const read = route53Observation;
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
    // Reads borrow every idle grant of the shared limit: the 40 reads and the drain's two calls take 42 consecutive
    // pacing slots (not the read share's one every 500 ms, ≥ 19.5 s); all Route 53 grants together stay at 4 in any
    // second, one every 250 ms.
    expect(Math.max(...readTimes)).toBe(41 * 250);
    const all = [...readTimes, ...at];
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(4);
    expect(busiestWindow(all, 250)).toBe(1);
    expect(readTimes).toHaveLength(40);
  });

  it('keeps separate buckets per region for regional services', async () => {
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock, { ec2: [{ limit: 1, windowMs: 1_000 }] });
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
      maxWritesPerMinute: 6, // at most one in any 10 s
    });
    const times: number[] = [];
    const a = Promise.all([0, 1, 2].map(() => limiter.acquire(write('a'), signal).then(() => times.push(clock.now()))));
    let bAt = -1;
    const b = limiter.acquire(write('b'), signal).then(() => {
      bAt = clock.now();
    });
    await clock.run(Promise.all([a, b]));
    // One in any 10 s, with the slack that keeps it true where AWS counts the requests.
    expect(times).toEqual([0, 10_000 + WRITE_BUDGET_SLACK_MS, 2 * (10_000 + WRITE_BUDGET_SLACK_MS)]);
    expect(bAt).toBe(0);
  });

  it('keeps a policy inside its budget where the requests arrive, though each waited its turn in the API limit', async () => {
    // A budget grant is taken before the API limit's turn; what AWS counts is when the request goes out. With a
    // queue of other Route 53 calls ahead of the first write and none ahead of the seventh, grants exactly a minute
    // apart would put seven writes into one minute of arrivals.
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock);
    const signal = new AbortController().signal;
    const others: CallMeta = {
      service: 'route53',
      operation: 'GetChange',
      region: 'us-east-1',
      write: false,
      partOfAction: true,
    };
    const write: CallMeta = {
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      region: 'us-east-1',
      write: true,
      policy: 'shop/web',
      maxWritesPerMinute: 6,
    };
    const sent: number[] = [];
    const queue = Promise.all(Array.from({ length: 6 }, () => limiter.acquire(others, signal)));
    const writes = Promise.all(
      Array.from({ length: 7 }, () => limiter.acquire(write, signal).then(() => sent.push(clock.now()))),
    );
    await clock.run(Promise.all([queue, writes]));
    expect(busiestWindow(sent, 60_000)).toBeLessThanOrEqual(6);
  });
});

describe("an operator's share of the account's Route 53 limit", () => {
  const signal = new AbortController().signal;
  const change: CallMeta = { ...route53Observation, operation: 'ChangeResourceRecordSets', write: true };

  /** Grant times of `count` calls of each kind, all asked for at once, through a limiter with that share. */
  async function grants(share: number, count: { reads: number; writes: number }) {
    const clock = createVirtualClock();
    const { all, reads } = route53Limits(share);
    const limiter = createRateLimiter(clock, { route53: all }, reads);
    const times = { reads: [] as number[], writes: [] as number[] };
    const take = (meta: CallMeta, into: number[]) => limiter.acquire(meta, signal).then(() => into.push(clock.now()));
    await clock.run(
      Promise.all([
        ...Array.from({ length: count.reads }, () => take(route53Observation, times.reads)),
        ...Array.from({ length: count.writes }, () => take(change, times.writes)),
      ]),
    );
    return { ...times, all: [...times.reads, ...times.writes] };
  }

  it('keeps the default of one operator per account: 4 in any second, reads 2 of them', () => {
    expect(route53Limits(4)).toEqual({ all: DEFAULT_RATE_LIMITS.route53, reads: DEFAULT_ROUTE53_READ_LIMIT });
    expect(DEFAULT_RATE_LIMITS.route53).toEqual([
      { limit: 4, windowMs: 1_000 },
      { limit: 1, windowMs: 250 },
    ]);
    expect(DEFAULT_ROUTE53_READ_LIMIT).toEqual([
      { limit: 2, windowMs: 1_000 },
      { limit: 1, windowMs: 500 },
    ]);
  });

  it('with a share of 1, grants at most 1 in any second, reads and writes together, and both get through', async () => {
    const { reads, writes, all } = await grants(1, { reads: 6, writes: 6 });
    expect(busiestWindow(all, 1_000)).toBe(1);
    expect(reads).toHaveLength(6);
    expect(writes).toHaveLength(6);
    expect(Math.max(...all)).toBe(11_000); // 12 grants, one a second
  });

  it('gives reads half the share, and lends them the rest while it is idle: alone they go at the whole share', async () => {
    for (const [share, readShareMs] of [
      [4, 500],
      [2, 1_000],
      [1, 2_000],
      [0.5, 4_000],
    ] as const) {
      expect(route53Limits(share).reads, `share ${share}`).toEqual(pacedPerSecond(share / 2));
      expect(1_000 / (share / 2), `share ${share}`).toBe(readShareMs);
      const { reads } = await grants(share, { reads: 5, writes: 0 });
      expect(reads, `share ${share}`).toEqual([0, 1, 2, 3, 4].map((i) => i * (1_000 / share)));
    }
  });

  it('never lends a read a grant a waiting write is due: the write goes within two pacing slots, reads after it', async () => {
    const clock = createVirtualClock();
    const limiter = createRateLimiter(clock);
    const readTimes: number[] = [];
    const reads = Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.acquire(route53Observation, signal).then(() => readTimes.push(clock.now())),
      ),
    );
    await clock.advance(1_100);
    const writeAt: number[] = [];
    const write = limiter.acquire(change, signal).then(() => writeAt.push(clock.now()));
    await clock.run(Promise.all([reads, write]));
    expect(writeAt[0]! - 1_100).toBeLessThanOrEqual(500);
    const all = [...readTimes, ...writeAt];
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(4);
    expect(busiestWindow(all, 250)).toBe(1);
    expect(readTimes).toHaveLength(20);
    // Nothing idle was left while reads waited: 21 grants in 21 consecutive slots.
    expect(Math.max(...all)).toBe(20 * 250);
  });

  it('with a share of 0.5, one request every 2 s', async () => {
    const { all } = await grants(0.5, { reads: 3, writes: 3 });
    expect(busiestWindow(all, 2_000)).toBe(1);
    expect(Math.max(...all)).toBe(10_000);
  });

  it('splits the default 4 among the operators of one account: whole numbers up to four, then fractions', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12].map(route53ShareOfAccount)).toEqual([4, 2, 1, 1, 0.8, 0.6, 0.5, 0.5]);
    // Up to four operators, every second holds: the shares add up to at most 4 of the account's 5.
    for (const n of [1, 2, 3, 4]) expect(n * route53ShareOfAccount(n)).toBeLessThanOrEqual(4);
  });

  it('paces a fractional rate: 1.5 is one every 667 ms (at most 2 in a second), 0.5 one every 2 s', () => {
    expect(pacedPerSecond(1.5)).toEqual([
      { limit: 2, windowMs: 1_000 },
      { limit: 1, windowMs: 667 },
    ]);
    expect(pacedPerSecond(0.5)).toEqual([
      { limit: 1, windowMs: 1_000 },
      { limit: 1, windowMs: 2_000 },
    ]);
  });
});
