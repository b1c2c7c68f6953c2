// A token bucket on the injected clock. Hand-written rather than taken from `limiter` or `p-throttle`: both read
// the wall clock and wait on real timers with no way to inject a clock, so the simulation (virtual time) and tests
// could not drive them; neither accepts an AbortSignal for a waiter either.
//
// Reservation style (as Go's golang.org/x/time/rate): `take` removes a token at once, letting the balance go
// negative, and sleeps until the debt is repaid. Concurrent waiters therefore queue in arrival order, each spaced
// one token interval after the previous — no thundering herd of waiters re-checking the same bucket. A waiter
// whose signal aborts returns its token.

import type { Clock } from './types.ts';

export interface TokenBucketOptions {
  /** Tokens added per second (the sustained rate). */
  ratePerSecond: number;
  /** Bucket size (the burst). The bucket starts full. */
  burst: number;
}

export interface TokenBucket {
  /** Waits (on the injected clock) for one token; rejects with `signal.reason` if the signal aborts first. */
  take(signal?: AbortSignal): Promise<void>;
  /** Current balance (negative while waiters are queued). For tests and metrics. */
  tokens(): number;
}

export function createTokenBucket(clock: Clock, options: TokenBucketOptions): TokenBucket {
  if (!(options.ratePerSecond > 0) || !(options.burst >= 1)) {
    throw new RangeError(`token bucket needs ratePerSecond > 0 and burst >= 1, got ${JSON.stringify(options)}`);
  }
  const perMs = options.ratePerSecond / 1000;
  let balance = options.burst;
  let refilledAt = clock.now();

  function refill(): void {
    const now = clock.now();
    balance = Math.min(options.burst, balance + (now - refilledAt) * perMs);
    refilledAt = now;
  }

  return {
    async take(signal) {
      signal?.throwIfAborted();
      refill();
      balance -= 1;
      if (balance >= 0) return;
      const waitMs = Math.ceil(-balance / perMs);
      try {
        await clock.sleep(waitMs, signal);
      } catch (err) {
        balance += 1; // give the reservation back: later waiters move up
        throw err;
      }
    },
    tokens() {
      refill();
      return balance;
    },
  };
}
