import { describe, expect, it } from 'vitest';
import { combine } from '../../cloud/sim/sim-endpoints.ts';
import { seededRandom } from '../../cloud/sim/sim-random.ts';
import { K8GB_DEFAULTS, k8gbUnhealthyAt } from './k8gb.ts';

const T = 600_000;
const replay = (history: Array<{ at: number; condition: ReturnType<typeof combine> }>) => ({
  history,
  startMs: 0,
  fromMs: T,
  untilMs: T + 3_600_000,
  random: seededRandom(1, 'test'),
});

describe('k8gb-style GSLB baseline', () => {
  it('a dead endpoint at T is dropped at the next reconcile on its 30 s grid', () => {
    const down = [{ at: T, condition: combine([{ down: true }]) }];
    // Grid 0 + 7 s + k × 30 s: the first reconcile at or after T = 600 s is 607 s.
    expect(k8gbUnhealthyAt(replay(down), { ...K8GB_DEFAULTS, phaseMs: 7_000 })).toBe(T + 7_000);
    // Phase 0: a reconcile falls on T itself.
    expect(k8gbUnhealthyAt(replay(down), { ...K8GB_DEFAULTS, phaseMs: 0 })).toBe(T);
    // Within one requeue period whatever the phase.
    for (let phase = 0; phase < 30_000; phase += 2_500) {
      const at = k8gbUnhealthyAt(replay(down), { ...K8GB_DEFAULTS, phaseMs: phase })!;
      expect(at - T).toBeGreaterThanOrEqual(0);
      expect(at - T).toBeLessThan(30_000);
    }
  });

  it('a readiness look gives up after 1 s: answers slower than that count as failing (a gray failure drains)', () => {
    const slow = [{ at: T, condition: combine([{ latencyMs: 1_500 }]) }];
    expect(k8gbUnhealthyAt(replay(slow), { ...K8GB_DEFAULTS, phaseMs: 1_000 })).toBe(T + 1_000);
    const fine = [{ at: T, condition: combine([{ latencyMs: 500 }]) }];
    expect(k8gbUnhealthyAt(replay(fine), { ...K8GB_DEFAULTS, phaseMs: 1_000 })).toBeUndefined();
  });

  it('a fault that ends between two reconciles is never seen', () => {
    const blip = [
      { at: T + 1_000, condition: combine([{ down: true }]) },
      { at: T + 20_000, condition: combine([]) },
    ];
    expect(k8gbUnhealthyAt(replay(blip), { ...K8GB_DEFAULTS, phaseMs: 0 })).toBeUndefined();
  });
});
