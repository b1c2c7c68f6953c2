// A rate limit that is a true limit: at most `limit` grants in ANY window of `windowMs` (sliding, not aligned to
// seconds), for each of one or more windows, on the injected clock.
//
// Why not a token bucket: a bucket of capacity 5 refilled at 5/s passes its full burst and then one more token
// every 200 ms, so 10 requests can pass in one second. Route 53 allows 5 requests/second for the whole account and
// answers the sixth with `Throttling` (AWS-FACTS.md): such a bucket throttled us with our own traffic. A sliding
// window log bounds every window, so the limit we configure is the limit AWS sees. Several windows bound a rate at
// two scales at once: a policy's write budget is "maxWritesPerMinute in any 60 s, and at most a sixth of it in any
// 10 s" (no minute-long burst).
//
// Hand-written rather than taken from `limiter` or `p-throttle`: both read the wall clock and wait on real timers
// with no way to inject a clock, so the simulation (virtual time) and tests could not drive them; neither accepts
// an AbortSignal for a waiter either.
//
// Reservation style (as Go's golang.org/x/time/rate): `take` reserves the earliest time every window allows, at
// once, and sleeps until then. Concurrent waiters queue in arrival order — no thundering herd re-checking the same
// limit. A waiter whose signal aborts gives its reservation back (later arrivals may use it; the waiters already
// scheduled keep their times, which stays within the limit: a subset of an allowed schedule is allowed).
//
// A grant at `t` and the limit-th next one at `t + windowMs` are both allowed: every half-open window
// [t, t + windowMs) holds at most `limit` grants.

import type { Clock } from './types.ts';

export interface RateWindow {
  /** At most this many grants… */
  limit: number;
  /** …in any window of this many milliseconds. */
  windowMs: number;
}

export interface RateWindowLimiter {
  /** Waits (on the injected clock) for a grant; rejects with `signal.reason` if the signal aborts first. */
  take(signal?: AbortSignal): Promise<void>;
  /**
   * A grant now if one is free now and nobody holds a reservation: true, granted; false, nothing taken. Lets a
   * caller use idle capacity without ever getting ahead of a waiter.
   */
  tryTake(): boolean;
  /** When the next grant would be free (now, or later), as `take` would reserve it. */
  nextFreeAt(): number;
  /**
   * Grants still available now without waiting in the tightest window (negative while waiters are queued). For
   * tests and metrics.
   */
  available(): number;
}

export function createRateWindowLimiter(clock: Clock, windows: readonly RateWindow[]): RateWindowLimiter {
  if (windows.length === 0 || windows.some((w) => !Number.isInteger(w.limit) || w.limit < 1 || !(w.windowMs > 0))) {
    throw new RangeError(`rate windows need an integer limit >= 1 and windowMs > 0, got ${JSON.stringify(windows)}`);
  }
  const keep = Math.max(...windows.map((w) => w.limit));
  /** Grant times, ascending: the past ones still needed to bound a window, then the reservations of waiters. */
  const grants: number[] = [];

  function prune(now: number): void {
    // Only the last `limit` grants of a window can constrain the next one; older past grants are done with.
    while (grants.length > keep && grants[0]! <= now) grants.shift();
  }

  function earliest(now: number): number {
    let at = now;
    for (const w of windows) {
      const bounding = grants[grants.length - w.limit];
      if (bounding !== undefined) at = Math.max(at, bounding + w.windowMs);
    }
    return at;
  }

  return {
    async take(signal) {
      signal?.throwIfAborted();
      const now = clock.now();
      prune(now);
      const at = earliest(now);
      grants.push(at);
      if (at <= now) return;
      try {
        await clock.sleep(at - now, signal);
      } catch (err) {
        const index = grants.lastIndexOf(at);
        if (index >= 0) grants.splice(index, 1); // give the reservation back
        throw err;
      }
    },
    tryTake() {
      const now = clock.now();
      prune(now);
      const last = grants[grants.length - 1];
      if ((last !== undefined && last > now) || earliest(now) > now) return false;
      grants.push(now);
      return true;
    },
    nextFreeAt() {
      const now = clock.now();
      prune(now);
      return earliest(now);
    },
    available() {
      const now = clock.now();
      return Math.min(...windows.map((w) => w.limit - grants.filter((t) => t > now - w.windowMs).length));
    },
  };
}
