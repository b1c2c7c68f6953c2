// Time, injected. Everything that waits or reads the time takes a Clock, so the same controller code runs against
// the wall clock in production and against a virtual clock in the simulation and in tests, where a 30-hour outage
// replays in seconds and every run is identical.
//
// The virtual clock's time moves only when its driver calls advance()/runUntil(). Timers fire in (time, creation)
// order; after each firing the driver yields one macrotask turn (setImmediate), which lets every promise chain woken
// by that timer run to completion — including chains that schedule new sleeps, which are then honoured in order
// within the same advance. Code that awaits real I/O (sockets, files) is not drained by this: the simulation is
// in-memory on purpose.
//
// We hand-write this rather than use @sinonjs/fake-timers: we need AbortSignal-aware sleeps and clock-driven
// timeout signals without patching globals, and fake-timers' async tick yields through a real setTimeout(0) per
// timer (>= 1 ms each), too slow for hundreds of thousands of probe timers in a 30-hour replay.

import { setTimeout as sleepReal } from 'node:timers/promises';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface VirtualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): Promise<void>;
  /** Moves time forward to `t` (epoch ms), firing every timer due at or before it, in order. */
  runUntil(t: number): Promise<void>;
  /** Fires the next timer (moving time to it); false when there is none. */
  runNext(): Promise<boolean>;
  /** Timers waiting to fire. */
  pendingTimers(): number;
  /** When the next timer fires, or undefined when none is pending. */
  nextTimerAt(): number | undefined;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** The wall clock. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    async sleep(ms, signal) {
      if (signal?.aborted) throw abortReason(signal);
      await sleepReal(Math.max(0, ms), undefined, signal ? { signal } : {});
    },
  };
}

/**
 * The wall clock sped up `scale` times (scale 60: one real second is one virtual minute), starting at `startMs`.
 * For watching a simulation unfold live; tests and reports use the virtual clock instead.
 */
export function createScaledClock(scale: number, startMs: number = Date.now()): Clock {
  if (!(scale > 0)) throw new RangeError(`scale must be > 0, got ${scale}`);
  const realStart = performance.now();
  return {
    now: () => startMs + Math.floor((performance.now() - realStart) * scale),
    async sleep(ms, signal) {
      if (signal?.aborted) throw abortReason(signal);
      await sleepReal(Math.max(0, ms) / scale, undefined, signal ? { signal } : {});
    },
  };
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A deterministic clock whose time moves only when advanced. */
export function createVirtualClock(startMs = 0): VirtualClock {
  let now = startMs;
  let seq = 0;
  let driving = false;
  // Sorted by (at, seq): the next timer is at index 0. Insertion is a binary search; queues stay small.
  const timers: Timer[] = [];

  function insert(timer: Timer): void {
    let lo = 0;
    let hi = timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = timers[mid]!;
      if (t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    timers.splice(lo, 0, timer);
  }

  function remove(timer: Timer): void {
    const i = timers.indexOf(timer);
    if (i >= 0) timers.splice(i, 1);
  }

  async function fireNext(limit: number): Promise<boolean> {
    const next = timers[0];
    if (!next || next.at > limit) return false;
    timers.shift();
    now = Math.max(now, next.at);
    next.resolve();
    await yieldTurn();
    return true;
  }

  async function drive<T>(body: () => Promise<T>): Promise<T> {
    if (driving) throw new Error('virtual clock is already being advanced; await the previous advance first');
    driving = true;
    try {
      await yieldTurn(); // let work started before this call reach its first sleep
      return await body();
    } finally {
      driving = false;
    }
  }

  const clock: VirtualClock = {
    now: () => now,
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(abortReason(signal));
      if (!(ms > 0)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          remove(timer);
          reject(abortReason(signal!));
        };
        const timer: Timer = {
          at: now + ms,
          seq: seq++,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        insert(timer);
      });
    },
    runUntil(t) {
      return drive(async () => {
        while (await fireNext(t)) {
          // keep firing
        }
        now = Math.max(now, t);
        await yieldTurn();
      });
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance needs ms >= 0, got ${ms}`);
      return clock.runUntil(now + ms);
    },
    runNext() {
      return drive(() => fireNext(Number.POSITIVE_INFINITY));
    },
    pendingTimers: () => timers.length,
    nextTimerAt: () => timers[0]?.at,
  };
  return clock;
}

/**
 * An AbortSignal that aborts with a TimeoutError after `ms` of the clock's time (AbortSignal.timeout follows the
 * wall clock, which is wrong under a virtual clock), or earlier when `parent` aborts. Call `clear()` once the
 * guarded work is done so the timer does not linger.
 */
/** Preallocated: a reasonless abort() builds a DOMException with a stack trace, costly on hot paths. */
const TIMEOUT_CLEARED = new Error('timeout cleared');

export function clockTimeout(clock: Clock, ms: number, parent?: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const stop = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  clock.sleep(ms, stop.signal).then(
    () => controller.abort(new DOMException(`timed out after ${ms}ms`, 'TimeoutError')),
    () => {
      // cleared before the deadline
    },
  );
  return {
    signal: controller.signal,
    clear() {
      parent?.removeEventListener('abort', onParentAbort);
      stop.abort(TIMEOUT_CLEARED);
    },
  };
}
