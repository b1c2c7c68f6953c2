import { describe, expect, it } from 'vitest';
import {
  decodeVerdict,
  encodeVerdict,
  MAX_CLOCK_AHEAD_MS,
  nextSequence,
  verdictDatums,
  verdictMetric,
  verdictOf,
} from './verdict.ts';

describe('verdict values', () => {
  it('round-trips state and sequence, and the Maximum of a series is its latest verdict', () => {
    const seq = 1_800_000_000;
    for (const state of ['Healthy', 'Degraded', 'Impaired'] as const) {
      expect(decodeVerdict(encodeVerdict(state, seq))).toEqual({ state, sequence: seq });
    }
    const series = [encodeVerdict('Impaired', seq), encodeVerdict('Healthy', seq + 1)];
    expect(decodeVerdict(Math.max(...series))?.state).toBe('Healthy');
  });

  it('rejects values it did not write', () => {
    for (const v of [-4, 1.5, encodeVerdict('Impaired', 10) + 1, Number.NaN, 2 ** 60]) {
      expect(decodeVerdict(v)).toBeUndefined();
    }
  });

  it('sequences strictly increase even within one second or when the clock steps back', () => {
    expect(nextSequence(undefined, 5_500)).toBe(5);
    expect(nextSequence(5, 5_900)).toBe(6);
    expect(nextSequence(6, 3_000)).toBe(7);
    expect(nextSequence(7, 10_000)).toBe(10);
  });

  it('reads a metric back into a verdict; a verdict from the future beyond the skew allowance does not count', () => {
    const now = 1_800_000_000_000;
    const m = verdictMetric('shop/web', 'usw2', 'zone', 'us-east-1', 'us-east-1a');
    expect(verdictOf(m, encodeVerdict('Impaired', now / 1000 - 3), now)).toMatchObject({
      vantage: 'usw2',
      scope: 'zone',
      zone: 'us-east-1a',
      state: 'Impaired',
      at: now - 3000,
    });
    expect(verdictOf(m, encodeVerdict('Impaired', (now + MAX_CLOCK_AHEAD_MS + 2000) / 1000), now)).toBeUndefined();
    const r = verdictMetric('shop/web', 'usw2', 'region', 'us-east-1');
    expect(verdictOf(r, encodeVerdict('Degraded', now / 1000), now)).toMatchObject({
      scope: 'region',
      state: 'Degraded',
    });
  });

  it('one datum per zone and per region, all with the same sequence', () => {
    const data = verdictDatums(
      'shop/web',
      'use1',
      {
        zones: [
          { name: 'us-east-1a', region: 'us-east-1', state: 'Impaired' },
          { name: 'us-west-2a', region: 'us-west-2', state: 'Healthy' },
        ],
        regions: [{ name: 'us-east-1', state: 'Degraded' }],
      },
      100,
    );
    expect(data.map((d) => [d.metricName, d.dimensions.Zone ?? d.dimensions.Region, d.value, d.at])).toEqual([
      ['ZoneVerdict', 'us-east-1a', 402, 100_000],
      ['ZoneVerdict', 'us-west-2a', 400, 100_000],
      ['RegionVerdict', 'us-east-1', 401, 100_000],
    ]);
  });
});
