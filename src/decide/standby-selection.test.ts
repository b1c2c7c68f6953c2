import { describe, expect, it } from 'vitest';
import type { RegionState } from '../health/types.ts';
import {
  chooseStandbyRegion,
  isWithinRpoBudget,
  judgeLag,
  type ObservedDb,
  type StandbyCriteria,
} from './standby-selection.ts';
import { PRIMARY_ARN, replicaDb, T0 } from './test-fixtures.ts';

const regions: Record<string, RegionState> = {
  'us-east-1': 'Impaired',
  'us-west-2': 'Healthy',
  'eu-west-1': 'Degraded',
  'ap-south-1': 'Impaired',
};

function replica(id: string, region: string, o: Partial<ObservedDb> = {}): ObservedDb {
  return replicaDb({ id, region, zone: `${region}a`, arn: `arn:aws:rds:${region}:1:db:${id}`, ...o });
}

function criteria(o: Partial<StandbyCriteria> = {}): StandbyCriteria {
  return {
    from: { id: 'orders', arn: PRIMARY_ARN, region: 'us-east-1' },
    allowedIds: new Set(['orders', 'a', 'b', 'c', 'd', 'e']),
    regionState: (r) => regions[r],
    zoneState: () => 'Healthy',
    lag: { maxLagSeconds: 30, maxLagAgeMs: 180_000, now: T0 },
    force: false,
    ...o,
  };
}

const ids = (dbs: ObservedDb[]) => dbs.map((d) => d.id);

describe('chooseStandbyRegion', () => {
  it.each([
    [
      'lowest lag wins among healthy regions',
      [replica('b', 'us-west-2', { lagSeconds: 9 }), replica('a', 'us-west-2', { lagSeconds: 3 })],
      ['a', 'b'],
    ],
    [
      'a healthy region beats a degraded one even with more lag',
      [replica('a', 'eu-west-1', { lagSeconds: 1 }), replica('b', 'us-west-2', { lagSeconds: 20 })],
      ['b', 'a'],
    ],
    [
      'same lag: available before backing-up',
      [replica('a', 'us-west-2', { status: 'backing-up' }), replica('b', 'us-west-2')],
      ['b', 'a'],
    ],
    ['full tie: by id', [replica('b', 'us-west-2'), replica('a', 'us-west-2')], ['a', 'b']],
  ])('%s', (_name, dbs, expected) => {
    const choice = chooseStandbyRegion(dbs, criteria());
    expect(ids(choice.ranked)).toEqual(expected);
    expect(choice.chosen?.id).toBe(expected[0]);
  });

  it.each([
    [
      'over the lag budget',
      replica('a', 'us-west-2', { lagSeconds: 31 }),
      'replica lag 31s exceeds the 30s RPO budget',
      true,
    ],
    ['unknown lag', replica('a', 'us-west-2', { lagSeconds: undefined }), 'replica lag unknown', true],
    ['in an impaired region', replica('a', 'ap-south-1'), 'region ap-south-1 impaired', false],
    [
      'in the failed region',
      replica('a', 'us-east-1'),
      'in region us-east-1, the region being failed over from',
      false,
    ],
    [
      'replicating from someone else',
      replica('a', 'us-west-2', { replicaSourceId: 'other' }),
      'replicates from other, not from orders',
      false,
    ],
  ])('rejects a replica %s', (_name, db, reason, overLag) => {
    const choice = chooseStandbyRegion([db], criteria());
    expect(choice.chosen).toBeUndefined();
    expect(choice.rejected).toEqual([{ id: 'a', reason, overLag }]);
  });

  it('ignores instances that are not replicas or not in the policy', () => {
    const choice = chooseStandbyRegion(
      [replica('a', 'us-west-2', { replicaSourceId: undefined }), replica('zz', 'us-west-2')],
      criteria(),
    );
    expect(choice).toEqual({ ranked: [], rejected: [] });
  });

  it('rejects a replica whose zone is impaired', () => {
    const choice = chooseStandbyRegion([replica('a', 'us-west-2')], criteria({ zoneState: () => 'Impaired' }));
    expect(choice.rejected[0]?.reason).toBe('zone us-west-2a impaired');
  });

  it('force overrides the lag budget, never health', () => {
    const dbs = [replica('a', 'us-west-2', { lagSeconds: 500 }), replica('b', 'ap-south-1', { lagSeconds: 1 })];
    const choice = chooseStandbyRegion(dbs, criteria({ force: true }));
    expect(choice.chosen?.id).toBe('a');
    expect(ids(choice.ranked)).toEqual(['a']);
  });

  it('restricts to a requested region', () => {
    const dbs = [replica('a', 'us-west-2', { lagSeconds: 1 }), replica('b', 'eu-west-1', { lagSeconds: 2 })];
    expect(chooseStandbyRegion(dbs, criteria({ region: 'eu-west-1' })).chosen?.id).toBe('b');
  });

  it('is a pure sort: input order does not matter', () => {
    const dbs = [
      replica('c', 'eu-west-1', { lagSeconds: 2 }),
      replica('a', 'us-west-2', { lagSeconds: 7 }),
      replica('b', 'us-west-2', { lagSeconds: 7 }),
    ];
    const forward = chooseStandbyRegion(dbs, criteria());
    const backward = chooseStandbyRegion([...dbs].reverse(), criteria());
    expect(forward).toEqual(backward);
    expect(ids(forward.ranked)).toEqual(['a', 'b', 'c']);
  });
});

describe('isWithinRpoBudget', () => {
  const budget = { maxLagSeconds: 30, maxLagAgeMs: 180_000, now: T0 };
  it.each([
    [0, T0, true],
    [30, T0, true],
    [30, T0 - 180_000, true],
    [30.5, T0, false],
    [undefined, T0, false],
    [-1, T0, false], // RDS: replication is not running
    [5, T0 - 180_001, false], // the latest datapoint is older than maxLagAgeSeconds
    [5, undefined, false], // a datapoint without a time cannot be judged fresh
  ])('lag %s at %s within 30s: %s', (lag, at, expected) => {
    expect(isWithinRpoBudget(replicaDb({ lagSeconds: lag, lagAt: at }), budget)).toBe(expected);
  });

  it('says why a lag does not qualify', () => {
    expect(judgeLag(replicaDb({ lagSeconds: -1 }), budget)).toMatchObject({ ok: false, why: 'negative' });
    expect(judgeLag(replicaDb({ lagAt: T0 - 600_000 }), budget)).toMatchObject({ ok: false, why: 'stale' });
    expect(judgeLag(replicaDb({ lagSeconds: 31 }), budget)).toMatchObject({ ok: false, why: 'over' });
    expect(judgeLag(replicaDb({ lagSeconds: undefined }), budget)).toMatchObject({ ok: false, why: 'unknown' });
    expect(judgeLag(replicaDb(), budget)).toMatchObject({ ok: true });
  });
});

describe('unobserved replicas', () => {
  it.each(['unreachable', 'not-found', 'unknown'])('a replica with status %s is never chosen', (status) => {
    const choice = chooseStandbyRegion([replica('a', 'us-west-2', { status })], criteria());
    expect(choice.chosen).toBeUndefined();
    expect(choice.rejected[0]?.reason).toMatch(/not observ|could not be described|unknown/i);
  });
});
