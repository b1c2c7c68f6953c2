import { describe, expect, it } from 'vitest';
import { combine } from '../../cloud/sim/sim-endpoints.ts';
import { ratio, runBaselines } from './baselines.ts';

const T = 600_000;
const inputs = (promoted: boolean) => ({
  zones: [
    { zone: 'us-east-1a', history: [{ at: T, condition: combine([{ down: true }]) }] },
    { zone: 'us-east-1b', history: [] },
  ],
  startMs: 0,
  fromMs: T,
  untilMs: T + 3_600_000,
  ttlSeconds: 60,
  seed: 1,
  ours: { detectionSeconds: 10, trafficShiftedSeconds: 40, rtoSeconds: promoted ? 300 : 40 },
  promoted,
});

describe('baselines beside our measures', () => {
  it('shift = detection + TTL; RTO = shift without a promotion; ratios are ours ÷ theirs on the clients-moved basis', () => {
    const { baselines, comparison } = runBaselines(inputs(false));
    expect(baselines.map((b) => b.name)).toEqual(['route53-health-check-10s', 'route53-health-check-30s', 'k8gb']);
    expect(comparison).toEqual({
      ratio: 'ours / theirs',
      ttlSeconds: 60,
      ours: { detectionSeconds: 10, trafficShiftedSeconds: 100, rtoSeconds: 100 },
    });
    for (const b of baselines) {
      expect(b.detectionSeconds).not.toBeNull();
      expect(b.trafficShiftedSeconds).toBe(b.detectionSeconds! + 60);
      expect(b.rtoSeconds).toBe(b.trafficShiftedSeconds);
      expect(b.ratios.detection).toBe(ratio(10, b.detectionSeconds));
      expect(b.ratios.trafficShifted).toBe(ratio(100, b.trafficShiftedSeconds));
    }
    const [r10, r30] = baselines;
    expect(r10!.detectionSeconds!).toBeGreaterThanOrEqual(20);
    expect(r10!.detectionSeconds!).toBeLessThanOrEqual(30);
    expect(r30!.detectionSeconds!).toBeGreaterThanOrEqual(60);
    expect(r30!.detectionSeconds!).toBeLessThanOrEqual(90);
  });

  it('with a promotion in our RTO no baseline has an RTO: n/a with the reason, no number invented', () => {
    const { baselines } = runBaselines(inputs(true));
    for (const b of baselines) {
      expect(b.rtoSeconds).toBeNull();
      expect(b.ratios.rto).toBeNull();
      expect(b.notes).toMatch(/never promotes the RDS replica/);
      expect(b.trafficShiftedSeconds).not.toBeNull();
    }
  });

  it('endpoints that never fail: nothing detected, nothing moved, no ratio', () => {
    const quiet = { ...inputs(false), zones: [{ zone: 'us-east-1a', history: [] }] };
    for (const b of runBaselines(quiet).baselines) {
      expect(b).toMatchObject({ detectionSeconds: null, trafficShiftedSeconds: null, rtoSeconds: null });
      expect(b.ratios).toEqual({ detection: null, trafficShifted: null, rto: null });
      expect(b.notes).toMatch(/never saw the endpoints fail/);
    }
  });

  it('ratio: 2 decimals; null for a missing side or a zero denominator', () => {
    expect(ratio(6, 29)).toBe(0.21);
    expect(ratio(null, 29)).toBeNull();
    expect(ratio(6, null)).toBeNull();
    expect(ratio(6, 0)).toBeNull();
  });
});
