import { describe, expect, it } from 'vitest';
import { combine } from '../../cloud/sim/sim-endpoints.ts';
import { seededRandom } from '../../cloud/sim/sim-random.ts';
import { ROUTE53_DEFAULT_CHECKERS, route53UnhealthyAt } from './route53-health-check.ts';

const T = 600_000; // the fault, clock ms
const down = [{ at: T, condition: combine([{ down: true }]) }];
const replay = (history: typeof down, seed: number) => ({
  history,
  startMs: 0,
  fromMs: T,
  untilMs: T + 3_600_000,
  random: seededRandom(seed, 'test'),
});

describe('Route 53 health-check failover baseline', () => {
  it.each([
    [10, 20_000, 30_000],
    [30, 60_000, 90_000],
  ] as const)(
    'a dead endpoint at T, %is interval × 3: unhealthy between T+%ims and T+%ims, for any checker phases',
    (interval, earliest, latest) => {
      for (let seed = 1; seed <= 50; seed++) {
        const at = route53UnhealthyAt(replay(down, seed), { requestIntervalSeconds: interval, failureThreshold: 3 });
        expect(at).toBeDefined();
        expect(at! - T).toBeGreaterThanOrEqual(earliest);
        expect(at! - T).toBeLessThanOrEqual(latest);
      }
    },
  );

  it('needs more than 82% of the checkers: with one checker unhealthy of eight the check stays healthy', () => {
    // A fault that lasts 25 s at a 10 s interval: some checkers see three failures in a row, not 7 of 8.
    const brief = [
      { at: T, condition: combine([{ down: true }]) },
      { at: T + 21_000, condition: combine([]) },
    ];
    for (let seed = 1; seed <= 20; seed++) {
      expect(route53UnhealthyAt(replay(brief, seed), { requestIntervalSeconds: 10, failureThreshold: 3 })).toBe(
        undefined,
      );
    }
    expect(ROUTE53_DEFAULT_CHECKERS).toBe(8);
  });

  it('judges gray latency by its own 2 s answer limit: 1.9 s answers pass, 2.5 s answers fail', () => {
    const slow = (latencyMs: number) => [{ at: T, condition: combine([{ latencyMs }]) }];
    const settings = { requestIntervalSeconds: 10, failureThreshold: 3 } as const;
    expect(route53UnhealthyAt(replay(slow(1_900), 1), settings)).toBeUndefined();
    const at = route53UnhealthyAt(replay(slow(2_500), 1), settings);
    expect(at! - T).toBeLessThanOrEqual(30_000);
  });

  it('a healthy endpoint is never held unhealthy; the same seed gives the same time', () => {
    const settings = { requestIntervalSeconds: 30, failureThreshold: 3 } as const;
    expect(route53UnhealthyAt(replay([], 1), settings)).toBeUndefined();
    expect(route53UnhealthyAt(replay(down, 9), settings)).toBe(route53UnhealthyAt(replay(down, 9), settings));
  });
});
