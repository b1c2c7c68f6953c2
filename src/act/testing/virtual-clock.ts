// The project's virtual clock (src/clock.ts) plus `run(promise)`: drive time forward timer by timer until the
// promise settles, so code that sleeps, backs off or times out runs in microseconds and deterministically.

import { type VirtualClock as BaseVirtualClock, createVirtualClock as createBaseVirtualClock } from '../../clock.ts';

export interface VirtualClock extends BaseVirtualClock {
  /** Fires timers in order (jumping time to each) until `promise` settles; fails if it is stuck with no timer. */
  run<T>(promise: Promise<T>, options?: { maxMs?: number }): Promise<T>;
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createVirtualClock(start = 0): VirtualClock {
  const clock = createBaseVirtualClock(start);
  async function run<T>(promise: Promise<T>, options: { maxMs?: number } = {}): Promise<T> {
    const limit = clock.now() + (options.maxMs ?? 24 * 3_600_000);
    let settled = false;
    const mark = () => {
      settled = true;
    };
    promise.then(mark, mark);
    for (;;) {
      await yieldTurn();
      if (settled) return promise;
      const next = clock.nextTimerAt();
      if (next === undefined)
        throw new Error(`virtual clock: promise still pending at ${clock.now()} with no timer left`);
      if (next > limit) throw new Error(`virtual clock: promise still pending after ${options.maxMs} ms`);
      await clock.runNext();
    }
  }
  return Object.assign(clock, { run });
}
