import { describe, expect, it } from 'vitest';
import type { ZoneState } from '../health/types.ts';
import type { RecordSetting } from './policy-view.ts';
import { DEFAULT_RECORDS, NORMAL_WEIGHTS, REGION_OF } from './test-fixtures.ts';
import { computeWeights, rescale, type WeightInputs } from './traffic-weights.ts';

function inputs(o: {
  zones?: Record<string, ZoneState>;
  regions?: Record<string, 'Healthy' | 'Degraded' | 'Impaired'>;
  current?: Record<string, number>;
  fenced?: string[];
  writerRegion?: string;
  allowReturn?: boolean;
  records?: RecordSetting[];
}): WeightInputs {
  return {
    records: o.records ?? DEFAULT_RECORDS,
    regionOfRecord: (r) => r.region ?? (r.zone ? REGION_OF[r.zone] : undefined),
    zoneState: (z) => o.zones?.[z] ?? 'Healthy',
    regionState: (r) => o.regions?.[r] ?? 'Healthy',
    current: o.current ?? NORMAL_WEIGHTS,
    fencedRegions: new Set(o.fenced ?? []),
    homeRegion: 'us-east-1',
    allowReturn: o.allowReturn ?? true,
    ...(o.writerRegion ? { writerRegion: o.writerRegion } : {}),
  };
}

describe('computeWeights', () => {
  it.each([
    ['everything healthy keeps the configured weights', {}, { 'use1-a': 100, 'use1-b': 100, 'use1-c': 100, usw2: 0 }],
    [
      'an impaired zone is drained and the rest rescaled (PB-5)',
      { zones: { 'us-east-1a': 'Impaired' as const } },
      { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150, usw2: 0 },
    ],
    [
      'a degraded zone is drained too',
      { zones: { 'us-east-1b': 'Degraded' as const } },
      { 'use1-a': 150, 'use1-b': 0, 'use1-c': 150, usw2: 0 },
    ],
    [
      'two drained zones: the last one takes the total, clamped to 255',
      { zones: { 'us-east-1a': 'Impaired' as const, 'us-east-1b': 'Degraded' as const } },
      { 'use1-a': 0, 'use1-b': 0, 'use1-c': 255, usw2: 0 },
    ],
    [
      'every zone down: the healthy standby region record is activated rather than all zero',
      {
        zones: {
          'us-east-1a': 'Impaired' as const,
          'us-east-1b': 'Impaired' as const,
          'us-east-1c': 'Degraded' as const,
        },
      },
      { 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 255 },
    ],
    [
      'writer in the standby region: its zero-weight record is activated; healthy zones keep serving',
      { writerRegion: 'us-west-2' },
      { 'use1-a': 75, 'use1-b': 75, 'use1-c': 75, usw2: 75 },
    ],
    [
      'writer in the standby region, old region impaired and fenced: zone records follow zone health only (PB-7)',
      {
        zones: { 'us-east-1a': 'Impaired' as const, 'us-east-1b': 'Impaired' as const },
        regions: { 'us-east-1': 'Impaired' as const },
        fenced: ['us-east-1'],
        writerRegion: 'us-west-2',
      },
      { 'use1-a': 0, 'use1-b': 0, 'use1-c': 150, usw2: 150 },
    ],
    [
      'a fenced region drains its region record, never a healthy zone record',
      {
        records: [
          { setIdentifier: 'use1', region: 'us-east-1', weight: 100 },
          { setIdentifier: 'use1-c', zone: 'us-east-1c', weight: 100 },
          { setIdentifier: 'usw2', region: 'us-west-2', weight: 0 },
        ],
        current: { use1: 100, 'use1-c': 100, usw2: 0 },
        fenced: ['us-east-1'],
        writerRegion: 'us-west-2',
      },
      { use1: 0, 'use1-c': 100, usw2: 100 },
    ],
  ])('%s', (_name, o, expected) => {
    const d = computeWeights(inputs(o));
    expect(d.weights).toEqual(expected);
    expect(d.noHealthyTarget).toBe(false);
  });

  it('keeps the relative proportions of the configured weights', () => {
    const records = [
      { setIdentifier: 'a', zone: 'us-east-1a', weight: 50 },
      { setIdentifier: 'b', zone: 'us-east-1b', weight: 100 },
      { setIdentifier: 'c', zone: 'us-east-1c', weight: 150 },
    ];
    const d = computeWeights(
      inputs({ records, current: { a: 50, b: 100, c: 150 }, zones: { 'us-east-1c': 'Impaired' } }),
    );
    expect(d.weights).toEqual({ a: 100, b: 200, c: 0 });
    expect(d.drained).toEqual(['c']);
  });

  it('keeps the current weights and reports NoHealthyTarget when nothing can serve', () => {
    const current = { 'use1-a': 100, 'use1-b': 100, 'use1-c': 100, usw2: 0 };
    const d = computeWeights(
      inputs({
        current,
        zones: { 'us-east-1a': 'Impaired', 'us-east-1b': 'Impaired', 'us-east-1c': 'Impaired' },
        regions: { 'us-east-1': 'Impaired', 'us-west-2': 'Impaired' },
      }),
    );
    expect(d.noHealthyTarget).toBe(true);
    expect(d.weights).toEqual(current);
    expect(d.unhealthy).toEqual(['use1-a', 'use1-b', 'use1-c', 'usw2']);
  });

  it('holds a recovered record drained while returns are not allowed, and says so', () => {
    const d = computeWeights(
      inputs({ current: { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150, usw2: 0 }, allowReturn: false }),
    );
    expect(d.weights).toEqual({ 'use1-a': 0, 'use1-b': 150, 'use1-c': 150, usw2: 0 });
    expect(d.held).toEqual(['use1-a']);
  });

  it('returns a recovered record when allowed', () => {
    const d = computeWeights(inputs({ current: { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150, usw2: 0 } }));
    expect(d.weights).toEqual(NORMAL_WEIGHTS);
    expect(d.returning).toEqual(['use1-a']);
  });

  it('returns held records anyway when holding them would leave nothing serving', () => {
    const d = computeWeights(
      inputs({
        current: { 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 255 },
        regions: { 'us-west-2': 'Impaired' },
        allowReturn: false,
      }),
    );
    expect(d.weights).toEqual({ 'use1-a': 100, 'use1-b': 100, 'use1-c': 100, usw2: 0 });
    expect(d.held).toEqual([]);
  });

  it('drains a region record only when its region is Impaired, not Degraded', () => {
    const records = [
      { setIdentifier: 'use1', region: 'us-east-1', weight: 100 },
      { setIdentifier: 'usw2', region: 'us-west-2', weight: 100 },
    ];
    const current = { use1: 100, usw2: 100 };
    expect(computeWeights(inputs({ records, current, regions: { 'us-east-1': 'Degraded' } })).weights).toEqual(current);
    expect(computeWeights(inputs({ records, current, regions: { 'us-east-1': 'Impaired' } })).weights).toEqual({
      use1: 0,
      usw2: 200,
    });
  });
});

describe('rescale', () => {
  it('produces integers within 1–255 that keep proportions', () => {
    expect(
      rescale(
        [
          { id: 'a', base: 1 },
          { id: 'b', base: 2 },
        ],
        90,
      ),
    ).toEqual({ a: 30, b: 60 });
    expect(
      rescale(
        [
          { id: 'a', base: 1 },
          { id: 'b', base: 1000 },
        ],
        300,
      ),
    ).toEqual({ a: 1, b: 255 });
  });
});
