import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloudError, type CloudErrorKind } from '../cloud/errors.ts';
import {
  DEFAULT_RETRY_OPTIONS,
  firstRealError,
  fullJitterDelayMs,
  type RetryOptions,
  retryMiddleware,
} from './retry.ts';
import { runThrough } from './testing/middleware-harness.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import type { CallMeta } from './types.ts';

const read: CallMeta = { service: 'ec2', operation: 'DescribeInstanceStatus', region: 'us-east-1', write: false };
const err = (kind: CloudErrorKind, code: string = kind) =>
  new CloudError({ kind, service: 'ec2', operation: 'DescribeInstanceStatus', code, message: code });

/** A function failing with the given errors in turn, then returning 'ok'; records the virtual time of each attempt. */
function flaky(clock: { now(): number }, errors: Error[]) {
  const attempts: number[] = [];
  const fn = async () => {
    attempts.push(clock.now());
    const next = errors.shift();
    if (next) throw next;
    return 'ok';
  };
  return { fn, attempts };
}

describe('fullJitterDelayMs', () => {
  it('draws uniformly below min(cap, base × 2^(n-1)) for every retry and kind', () => {
    const kinds: CloudErrorKind[] = ['retryable', 'timeout', 'throttled', 'busy'];
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.integer({ min: 1, max: 12 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (kind, retry, r) => {
          const base = DEFAULT_RETRY_OPTIONS.baseDelayMs[kind as 'retryable'];
          const ceiling = Math.min(DEFAULT_RETRY_OPTIONS.maxDelayMs, base * 2 ** (retry - 1));
          const delay = fullJitterDelayMs(kind, retry, DEFAULT_RETRY_OPTIONS, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling);
        },
      ),
    );
  });

  it('is full jitter: near 0 for a low draw, near the ceiling for a high one', () => {
    expect(fullJitterDelayMs('retryable', 3, DEFAULT_RETRY_OPTIONS, () => 0)).toBe(0);
    expect(fullJitterDelayMs('retryable', 3, DEFAULT_RETRY_OPTIONS, () => 0.999)).toBe(799);
  });
});

describe('retry middleware', () => {
  it('retries retryable errors with the seeded full-jitter delays, on the virtual clock', async () => {
    const clock = createVirtualClock();
    const { fn, attempts } = flaky(clock, [err('retryable'), err('retryable')]);
    const result = clock.run(runThrough([retryMiddleware(clock, seededRandom(42))], read, fn));
    await expect(result).resolves.toBe('ok');

    const expected = seededRandom(42);
    const d1 = fullJitterDelayMs('retryable', 1, DEFAULT_RETRY_OPTIONS, expected);
    const d2 = fullJitterDelayMs('retryable', 2, DEFAULT_RETRY_OPTIONS, expected);
    expect(attempts).toEqual([0, d1, d1 + d2]);
    expect(d1).toBeLessThan(200);
    expect(d2).toBeLessThan(400);
  });

  it('does not retry terminal, not-found or non-cloud errors', async () => {
    for (const error of [err('terminal'), err('not-found'), new Error('bug')]) {
      const clock = createVirtualClock();
      const { fn, attempts } = flaky(clock, [error]);
      await expect(clock.run(runThrough([retryMiddleware(clock, Math.random)], read, fn))).rejects.toBe(error);
      expect(attempts).toHaveLength(1);
    }
  });

  it('waits longer after throttling (and busy) than after a plain retryable error', async () => {
    const elapsed = async (kind: CloudErrorKind) => {
      const clock = createVirtualClock();
      const { fn } = flaky(clock, [err(kind)]);
      await clock.run(runThrough([retryMiddleware(clock, () => 0.5)], read, fn));
      return clock.now();
    };
    const retryable = await elapsed('retryable');
    const throttled = await elapsed('throttled');
    const busy = await elapsed('busy');
    expect(retryable).toBe(100);
    expect(throttled).toBe(500);
    expect(busy).toBe(1_000);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = createVirtualClock();
    const errors = Array.from({ length: 10 }, () => err('retryable'));
    const { fn, attempts } = flaky(clock, errors);
    const options: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3 };
    await expect(
      clock.run(runThrough([retryMiddleware(clock, seededRandom(1), options)], read, fn)),
    ).rejects.toMatchObject({
      kind: 'retryable',
    });
    expect(attempts).toHaveLength(3);
  });

  it('starts no retry past the total deadline', async () => {
    const clock = createVirtualClock();
    const { fn, attempts } = flaky(
      clock,
      Array.from({ length: 10 }, () => err('busy')),
    );
    const options: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 10, deadlineMs: 5_000 };
    await expect(clock.run(runThrough([retryMiddleware(clock, () => 0.99, options)], read, fn))).rejects.toMatchObject({
      kind: 'busy',
    });
    // busy delays at 0.99: 1980, 3960 → the second would end past 5 s, so only one retry happened.
    expect(attempts).toEqual([0, 1980]);
  });

  it('does not repeat a non-idempotent write after an ambiguous failure, but does after throttling', async () => {
    const promote: CallMeta = { service: 'rds', operation: 'PromoteReadReplica', region: 'us-west-2', write: true };
    for (const [kind, expectedAttempts] of [
      ['retryable', 1],
      ['timeout', 1],
      ['throttled', 2],
      ['busy', 2],
    ] as const) {
      const clock = createVirtualClock();
      const { fn, attempts } = flaky(clock, [err(kind)]);
      await clock.run(runThrough([retryMiddleware(clock, seededRandom(3))], promote, fn)).catch(() => {});
      expect(attempts, kind).toHaveLength(expectedAttempts);
    }
    const clock = createVirtualClock();
    const { fn, attempts } = flaky(clock, [err('retryable')]);
    await clock.run(runThrough([retryMiddleware(clock, seededRandom(3))], { ...promote, idempotent: true }, fn));
    expect(attempts).toHaveLength(2);
  });

  it('stops waiting and retrying when the caller aborts during the backoff', async () => {
    const clock = createVirtualClock();
    const controller = new AbortController();
    const { fn, attempts } = flaky(clock, [err('throttled'), err('throttled')]);
    const call = runThrough([retryMiddleware(clock, () => 0.9)], { ...read, signal: controller.signal }, fn);
    call.catch(() => {});
    await clock.advance(100);
    controller.abort(new Error('shutdown'));
    await expect(call).rejects.toThrow('shutdown');
    expect(attempts).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('firstRealError', () => {
  it('reports the first real error when the attempts end on throttling, naming the throttling after it', () => {
    const out = firstRealError([
      err('retryable', 'InternalFailure'),
      err('throttled', 'Throttling'),
      err('throttled', 'Throttling'),
    ]);
    expect(out).toBeInstanceOf(CloudError);
    expect(out).toMatchObject({ kind: 'retryable', code: 'InternalFailure' });
    expect((out as Error).message).toMatch(/InternalFailure.*attempt 1 of 3.*throttled on 2 later attempts/);
  });

  it('keeps the last error when it is not throttling, or when every attempt was throttled', () => {
    const last = err('timeout', 'TimeoutError');
    expect(firstRealError([err('retryable'), last])).toBe(last);
    const throttled = err('throttled', 'Throttling');
    expect(firstRealError([err('throttled', 'Throttling'), throttled])).toBe(throttled);
  });

  it('is what the retry middleware throws after its attempts run out', async () => {
    const clock = createVirtualClock();
    const { fn } = flaky(clock, [
      err('retryable', 'InternalFailure'),
      err('throttled', 'Throttling'),
      err('throttled', 'Throttling'),
    ]);
    const options: RetryOptions = { ...DEFAULT_RETRY_OPTIONS, maxAttempts: 3 };
    await expect(
      clock.run(runThrough([retryMiddleware(clock, seededRandom(1), options)], read, fn)),
    ).rejects.toMatchObject({
      kind: 'retryable',
      code: 'InternalFailure',
    });
  });
});
