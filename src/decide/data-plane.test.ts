// The data-plane path in the planner: preparation only in steady state, drains as verdicts (never a record edit once
// prepared), never every record unhealthy, never a healthy zone drained.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ZoneState } from '../health/types.ts';
import { effectiveWeights, verdictResources, verdictsFor } from './data-plane.ts';
import { plan } from './planner.ts';
import {
  ALL_ZONES,
  cloud,
  DEFAULT_RECORDS,
  dataPlanePolicy,
  health,
  input,
  NORMAL_WEIGHTS,
  preparedCloud,
  T0,
} from './test-fixtures.ts';
import type { PlanInput, Verdict } from './types.ts';

const KEY = 'shop/checkout';
const DP = { signalRegion: 'us-west-2', namespace: 'FailoverOperator', periodSeconds: 60 };
const IDS = DEFAULT_RECORDS.map((r) => r.setIdentifier);

/** A prepared policy: every record carries its check, every alarm exists, the verdicts in force as given. */
const prepared = (
  weights: Record<string, number>,
  verdicts: Record<string, Verdict> = {},
): Pick<PlanInput, 'cloud'> => ({
  cloud: preparedCloud(weights, verdicts),
});

const zoneStates = (states: Record<string, ZoneState>) => ({ health: health(states, { since: T0 - 60_000 }) });

describe('data-plane path in the planner', () => {
  it('prepares in steady state only, and names what is missing', () => {
    const steady = plan(
      input({ policy: dataPlanePolicy(), cloud: cloud({ dataPlane: { checks: {}, alarms: {}, verdicts: {} } }) }),
    );
    expect(steady.actions.map((a) => a.action.kind)).toEqual(['PrepareDataPlane']);
    expect(steady.dataPlane).toMatchObject({ ready: false, reason: 'NotPrepared' });
    expect(steady.dataPlane?.message).toContain('use1-a (no health check, no verdict alarm in us-west-2)');

    const degraded = plan(
      input({
        policy: dataPlanePolicy(),
        cloud: cloud({ dataPlane: { checks: {}, alarms: {}, verdicts: {} } }),
        ...zoneStates({ 'us-east-1a': 'Degraded' }),
      }),
    );
    // Not prepared and a zone fails: the drain is a record edit, and nothing is prepared mid-event.
    expect(degraded.actions.map((a) => a.action.kind)).toEqual(['SetWeights']);
  });

  it('a prepared policy drains a zone with verdicts, not a record edit', () => {
    const p = plan(
      input({ policy: dataPlanePolicy(), ...prepared(NORMAL_WEIGHTS), ...zoneStates({ 'us-east-1a': 'Degraded' }) }),
    );
    expect(p.dataPlane).toMatchObject({ ready: true, reason: 'Prepared' });
    expect(p.actions.map((a) => a.action)).toEqual([
      {
        kind: 'SetVerdicts',
        signalRegion: 'us-west-2',
        verdicts: { 'use1-a': 'drain', 'use1-b': 'serve', 'use1-c': 'serve', usw2: 'serve' },
      },
    ]);
  });

  it('once the verdict is in force, plans nothing more; on recovery returns the zone with verdicts', () => {
    const drained = { 'use1-a': 'drain' } as const;
    const held = plan(
      input({
        policy: dataPlanePolicy(),
        ...prepared(NORMAL_WEIGHTS, drained),
        ...zoneStates({ 'us-east-1a': 'Degraded' }),
      }),
    );
    expect(held.actions).toEqual([]);
    const back = plan(input({ policy: dataPlanePolicy(), ...prepared(NORMAL_WEIGHTS, drained) }));
    expect(back.actions.map((a) => a.action)).toEqual([
      {
        kind: 'SetVerdicts',
        signalRegion: 'us-west-2',
        verdicts: { 'use1-a': 'serve', 'use1-b': 'serve', 'use1-c': 'serve', usw2: 'serve' },
      },
    ]);
  });

  it('a region lost onto a weight-0 standby: every weighted record drained, the standby served (Route 53 rule 2)', () => {
    const v = verdictsFor(
      DEFAULT_RECORDS,
      NORMAL_WEIGHTS,
      { 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 100 },
      new Set(),
    );
    expect(v).toEqual({ 'use1-a': 'drain', 'use1-b': 'drain', 'use1-c': 'drain', usw2: 'serve' });
    expect(effectiveWeights(DEFAULT_RECORDS, NORMAL_WEIGHTS, v!)).toEqual({
      'use1-a': 0,
      'use1-b': 0,
      'use1-c': 0,
      usw2: 1,
    });
  });

  it('a change health checks cannot express (unequal shares) is left to a record edit', () => {
    expect(
      verdictsFor(DEFAULT_RECORDS, NORMAL_WEIGHTS, { 'use1-a': 200, 'use1-b': 50, 'use1-c': 50, usw2: 0 }, new Set()),
    ).toBeUndefined();
    // Returning traffic to records whose stored weight was edited to 0 needs an edit too.
    expect(
      verdictsFor(
        DEFAULT_RECORDS,
        { ...NORMAL_WEIGHTS, 'use1-a': 0 },
        { 'use1-a': 100, 'use1-b': 100, 'use1-c': 100, usw2: 0 },
        new Set(),
      ),
    ).toBeUndefined();
  });

  it('names are stable, within AWS limits, and start with the prefix the IAM policy allows', () => {
    const a = verdictResources(KEY, 'use1-a', DP);
    expect(verdictResources(KEY, 'use1-a', DP)).toEqual(a);
    expect(a.alarmName.startsWith('failover-operator-')).toBe(true);
    expect(a.callerReference.length).toBeLessThanOrEqual(64);
    expect(verdictResources(KEY, 'use1-a', { ...DP, signalRegion: 'us-west-1' }).callerReference).not.toBe(
      a.callerReference,
    );
    const long = verdictResources(`${'n'.repeat(63)}/${'p'.repeat(253)}`, 'x'.repeat(128), DP);
    expect(long.alarmName.length).toBeLessThanOrEqual(255);
  });
});

describe('data-plane path: properties', () => {
  const arbState = fc.constantFrom<ZoneState>('Healthy', 'Healthy', 'Degraded', 'Impaired');
  const arbVerdict = fc.constantFrom<Verdict>('serve', 'drain');
  const arbWeights = fc.record({
    'use1-a': fc.integer({ min: 0, max: 255 }),
    'use1-b': fc.integer({ min: 0, max: 255 }),
    'use1-c': fc.integer({ min: 0, max: 255 }),
    usw2: fc.integer({ min: 0, max: 255 }),
  });

  it('never asks for every record to be unhealthy, never drains a healthy zone, never edits records for a drain once prepared', () => {
    fc.assert(
      fc.property(
        fc.record({
          states: fc.record(Object.fromEntries(ALL_ZONES.map((z) => [z, arbState]))) as fc.Arbitrary<
            Record<string, ZoneState>
          >,
          stored: arbWeights.filter((w) => Object.values(w).some((x) => x > 0)),
          inForce: fc.record({ 'use1-a': arbVerdict, 'use1-b': arbVerdict, 'use1-c': arbVerdict, usw2: arbVerdict }),
        }),
        ({ states, stored, inForce }) => {
          const before = effectiveWeights(DEFAULT_RECORDS, stored, inForce);
          const p = plan(
            input({
              policy: dataPlanePolicy(),
              ...prepared(stored, inForce),
              health: health(states, { since: T0 - 60_000 }),
            }),
          );
          for (const a of p.actions) {
            if (a.action.kind === 'SetVerdicts') {
              const v = a.action.verdicts;
              expect(Object.values(v).some((x) => x === 'serve')).toBe(true);
              // A zone record whose zone is Healthy is never drained by a verdict.
              for (const r of DEFAULT_RECORDS) {
                if (
                  r.zone !== undefined &&
                  (states[r.zone] ?? 'Healthy') === 'Healthy' &&
                  v[r.setIdentifier] === 'drain'
                ) {
                  // …unless Route 53 would not answer it anyway (rule 2: a weight-0 record while a weighted one serves).
                  expect(stored[r.setIdentifier as keyof typeof stored]).toBe(0);
                }
              }
              // The answers the verdicts give: never every record unhealthy (Route 53 would answer all of them).
              const after = effectiveWeights(DEFAULT_RECORDS, stored, v);
              expect(IDS.some((id) => v[id] === 'serve' && (after[id] ?? 0) > 0)).toBe(true);
            }
            // A database failover's fence step stays a record edit by design (PB-7, docs/static-stability.md).
            if (a.action.kind === 'SetWeights' && a.rule !== 'PB-7') {
              // A record edit only when verdicts cannot express the change, never to take traffic from a zone
              // that verdicts could drain: no record served before loses all traffic by an edit.
              const w = a.action.weights;
              const drainedByEdit = IDS.filter((id) => (before[id] ?? 0) > 0 && (w[id] ?? 0) === 0);
              const expressible = verdictsFor(DEFAULT_RECORDS, stored, w, new Set());
              if (drainedByEdit.length > 0) expect(expressible).toBeUndefined();
            }
            expect(a.action.kind).not.toBe('PrepareDataPlane');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
