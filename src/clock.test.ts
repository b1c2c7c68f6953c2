import { describe, expect, it } from 'vitest';
import { clockTimeout, createVirtualClock } from './clock.ts';

describe('virtual clock', () => {
  it('fires sleepers in time order, ties in creation order, with now() at each timer', async () => {
    const clock = createVirtualClock(1000);
    const fired: string[] = [];
    const sleeper = (name: string, ms: number) => clock.sleep(ms).then(() => fired.push(`${name}@${clock.now()}`));
    void sleeper('c', 300);
    void sleeper('a', 100);
    void sleeper('b1', 200);
    void sleeper('b2', 200);
    await clock.advance(250);
    expect(fired).toEqual(['a@1100', 'b1@1200', 'b2@1200']);
    expect(clock.now()).toBe(1250);
    await clock.advance(100);
    expect(fired.at(-1)).toBe('c@1300');
  });

  it('lets awaiting code run between firings, so sleeps it schedules are honoured in the same advance', async () => {
    const clock = createVirtualClock(0);
    const ticks: number[] = [];
    void (async () => {
      for (let i = 0; i < 5; i++) {
        await clock.sleep(10);
        await Promise.resolve(); // more microtask hops between sleeps
        ticks.push(clock.now());
      }
    })();
    await clock.advance(35);
    expect(ticks).toEqual([10, 20, 30]);
    await clock.advance(100);
    expect(ticks).toEqual([10, 20, 30, 40, 50]);
  });

  it('interleaves two loops deterministically by time', async () => {
    const clock = createVirtualClock(0);
    const log: string[] = [];
    const loop = async (name: string, every: number) => {
      for (;;) {
        await clock.sleep(every);
        log.push(`${name}${clock.now()}`);
        if (clock.now() >= 60) return;
      }
    };
    void loop('a', 20);
    void loop('b', 30);
    await clock.runUntil(60);
    // At 60 both are due; b's timer was created first (at 30, a's at 40), so b fires first.
    expect(log).toEqual(['a20', 'b30', 'a40', 'b60', 'a60']);
  });

  it('does not move time on its own', async () => {
    const clock = createVirtualClock(5);
    let done = false;
    void clock.sleep(1).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(done).toBe(false);
    expect(clock.now()).toBe(5);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerAt()).toBe(6);
  });

  it('rejects an aborted sleep with the reason and drops its timer', async () => {
    const clock = createVirtualClock(0);
    const controller = new AbortController();
    const slept = clock.sleep(1000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refuses two concurrent advances', async () => {
    const clock = createVirtualClock(0);
    const first = clock.advance(10);
    await expect(clock.advance(10)).rejects.toThrow(/already being advanced/);
    await first;
  });

  it('clockTimeout aborts on the clock, not the wall clock, and can be cleared', async () => {
    const clock = createVirtualClock(0);
    const t = clockTimeout(clock, 2000);
    await clock.advance(1999);
    expect(t.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(t.signal.aborted).toBe(true);
    expect((t.signal.reason as Error).name).toBe('TimeoutError');

    const cleared = clockTimeout(clock, 100);
    cleared.clear();
    await clock.advance(200);
    expect(cleared.signal.aborted).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});
