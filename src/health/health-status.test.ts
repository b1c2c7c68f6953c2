import { describe, expect, it } from 'vitest';
import {
  healthConditions,
  regionStatuses,
  rfc3339,
  transitionEventMessage,
  transitionEventReason,
  zoneStatuses,
} from './health-status.ts';
import type { HealthView } from './types.ts';

const T0 = Date.UTC(2011, 3, 21, 7, 55, 0);

function view(
  zoneStates: Record<string, 'Healthy' | 'Degraded' | 'Impaired'>,
  regionState: 'Healthy' | 'Degraded' | 'Impaired',
  regionReasons: string[] = [],
): HealthView {
  return {
    at: T0 + 60_000,
    zones: Object.entries(zoneStates).map(([name, state]) => ({
      name,
      region: 'us-east-1',
      state,
      since: T0,
      reasons: state === 'Healthy' ? [] : [`api (http, down): GET ${name} timeout`],
    })),
    regions: [
      {
        name: 'us-east-1',
        state: regionState,
        since: T0,
        reasons: regionReasons,
        evidence: { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] },
      },
    ],
  };
}

describe('health status mapping', () => {
  it('maps zones and regions to the status shape with RFC 3339 times', () => {
    const v = view({ 'us-east-1a': 'Impaired', 'us-east-1b': 'Healthy' }, 'Degraded', ['zone us-east-1a Impaired']);
    expect(zoneStatuses(v)).toEqual([
      {
        name: 'us-east-1a',
        region: 'us-east-1',
        state: 'Impaired',
        since: '2011-04-21T07:55:00Z',
        reasons: ['api (http, down): GET us-east-1a timeout'],
      },
      { name: 'us-east-1b', region: 'us-east-1', state: 'Healthy', since: '2011-04-21T07:55:00Z', reasons: [] },
    ]);
    expect(regionStatuses(v)).toEqual([
      { name: 'us-east-1', state: 'Degraded', since: '2011-04-21T07:55:00Z', reasons: ['zone us-east-1a Impaired'] },
    ]);
    expect(rfc3339(T0 + 1234)).toBe('2011-04-21T07:55:01Z');
  });

  it('keeps reasons within the status schema bounds (16 items, 1024 characters)', () => {
    const v = view({ 'us-east-1a': 'Degraded' }, 'Degraded');
    v.zones[0]!.reasons = Array.from({ length: 40 }, (_, i) => `r${i} ${'x'.repeat(2000)}`);
    const [zone] = zoneStatuses(v);
    expect(zone!.reasons).toHaveLength(16);
    expect(zone!.reasons.every((r) => r.length <= 1024)).toBe(true);
    expect(zone!.reasons[15]).toBe('… and 25 more');
  });

  it('all healthy: Ready True, Degraded False', () => {
    const [ready, degraded] = healthConditions(view({ 'us-east-1a': 'Healthy' }, 'Healthy'), { observedGeneration: 3 });
    expect(ready).toMatchObject({
      type: 'Ready',
      status: 'True',
      observedGeneration: 3,
      lastTransitionTime: '2011-04-21T07:56:00Z',
    });
    expect(degraded).toMatchObject({ type: 'Degraded', status: 'False', reason: 'AllZonesHealthy' });
  });

  it('a degraded zone sets Degraded True with ZoneDegraded; an impaired one ZoneImpaired', () => {
    const [, d1] = healthConditions(view({ 'us-east-1a': 'Degraded' }, 'Degraded'));
    expect(d1).toMatchObject({ status: 'True', reason: 'ZoneDegraded' });
    expect(d1!.message).toContain('zone us-east-1a Degraded since 2011-04-21T07:55:00Z');
    const [ready, d2] = healthConditions(view({ 'us-east-1a': 'Impaired', 'us-east-1b': 'Degraded' }, 'Degraded'));
    expect(ready!.status).toBe('True');
    expect(d2).toMatchObject({ status: 'True', reason: 'ZoneImpaired' });
  });

  it('an impaired region makes Ready False with RegionImpaired', () => {
    const [ready, degraded] = healthConditions(
      view({ 'us-east-1a': 'Impaired', 'us-east-1b': 'Impaired' }, 'Impaired', [
        '2 of 3 zones impaired: us-east-1a, us-east-1b (threshold 2, PB-2)',
      ]),
    );
    expect(ready).toMatchObject({ status: 'False', reason: 'RegionImpaired' });
    expect(ready!.message).toContain('2 of 3 zones impaired');
    expect(degraded).toMatchObject({ status: 'True', reason: 'RegionImpaired' });
  });

  it('region-wide control-plane errors alone read ControlPlaneErrors', () => {
    const [, degraded] = healthConditions(
      view({ 'us-east-1a': 'Healthy' }, 'Degraded', ['region-wide: control-plane (aws-api, degraded): ebs 50%']),
    );
    expect(degraded).toMatchObject({ status: 'True', reason: 'ControlPlaneErrors' });
  });

  it('keeps lastTransitionTime while a condition status is unchanged', () => {
    const previous = [
      {
        type: 'Ready',
        status: 'True' as const,
        reason: 'Reconciled',
        message: '',
        lastTransitionTime: '2011-01-01T00:00:00Z',
      },
      {
        type: 'Degraded',
        status: 'False' as const,
        reason: 'AllZonesHealthy',
        message: '',
        lastTransitionTime: '2011-01-01T00:00:00Z',
      },
    ];
    const [ready, degraded] = healthConditions(view({ 'us-east-1a': 'Degraded' }, 'Degraded'), { previous });
    expect(ready!.lastTransitionTime).toBe('2011-01-01T00:00:00Z');
    expect(degraded!.lastTransitionTime).toBe('2011-04-21T07:56:00Z');
  });

  it('writes Event messages citing PB-2 for impairment and PB-9 for degradation and recovery', () => {
    const base = { scope: 'zone' as const, name: 'us-east-1a', region: 'us-east-1', at: T0 };
    const impaired = {
      ...base,
      from: 'Degraded' as const,
      to: 'Impaired' as const,
      reasons: ['4 consecutive failed rounds (impairedAfterRounds 4, PB-2)', 'api (http, down): timeout'],
    };
    expect(transitionEventMessage(impaired)).toBe(
      'PB-2 Decide per zone, then per region: zone us-east-1a (us-east-1) Degraded → Impaired: 4 consecutive failed rounds (impairedAfterRounds 4, PB-2); api (http, down): timeout',
    );
    expect(transitionEventReason(impaired)).toBe('ZoneImpaired');
    const healthy = {
      ...base,
      from: 'Impaired' as const,
      to: 'Healthy' as const,
      reasons: ['12 consecutive passing rounds (recoveryThreshold 12, PB-9)'],
    };
    expect(transitionEventMessage(healthy)).toMatch(/^PB-9 Hysteresis both ways: zone us-east-1a/);
    const region = {
      scope: 'region' as const,
      name: 'us-east-1',
      region: 'us-east-1',
      at: T0,
      from: 'Degraded' as const,
      to: 'Impaired' as const,
      reasons: ['2 of 3 zones impaired'],
    };
    expect(transitionEventMessage(region)).toBe(
      'PB-2 Decide per zone, then per region: region us-east-1 Degraded → Impaired: 2 of 3 zones impaired',
    );
    expect(transitionEventReason(region)).toBe('RegionImpaired');
    const long = { ...impaired, reasons: Array.from({ length: 200 }, (_, i) => `reason ${i} ${'x'.repeat(20)}`) };
    expect(transitionEventMessage(long).length).toBeLessThanOrEqual(1024);
  });
});
