import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Reason } from '../api/conditions.ts';
import {
  healthConditions,
  healthTransitionEvents,
  regionStatuses,
  rfc3339,
  transitionEventMessage,
  transitionEventReason,
  zoneStatuses,
} from './health-status.ts';
import type { HealthTransition, HealthView } from './types.ts';

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

describe('health Events: each reason only for the state it claims', () => {
  type State = 'Healthy' | 'Degraded' | 'Impaired';
  const STATES: State[] = ['Healthy', 'Degraded', 'Impaired'];
  const ZONES = ['us-east-1a', 'us-east-1b'] as const;

  /** After-view: the two zones and the region in the given states. */
  const viewAfter = (a: State, b: State, region: State): HealthView =>
    view({ 'us-east-1a': a, 'us-east-1b': b }, region, region === 'Healthy' ? [] : ['zone us-east-1a Impaired']);
  const zone = (name: string, from: State, to: State): HealthTransition => ({
    scope: 'zone',
    name,
    region: 'us-east-1',
    from,
    to,
    at: T0,
    reasons: [`${name} ${from} → ${to}`],
  });
  const region = (from: State, to: State): HealthTransition => ({
    scope: 'region',
    name: 'us-east-1',
    region: 'us-east-1',
    from,
    to,
    at: T0,
    reasons: [`us-east-1 ${from} → ${to}`],
  });
  const reasonsOf = (ts: HealthTransition[], v: HealthView) => healthTransitionEvents(ts, v).map((e) => e.reason);

  /** What each reason claims, as a predicate on (the batch of transitions, the view after it). */
  const CLAIMS: Record<string, (ts: readonly HealthTransition[], v: HealthView) => boolean> = {
    ZoneDegraded: (ts) => ts.some((t) => t.scope === 'zone' && t.to === 'Degraded'),
    ZoneImpaired: (ts) => ts.some((t) => t.scope === 'zone' && t.to === 'Impaired'),
    ZoneRecovered: (ts) => ts.some((t) => t.scope === 'zone' && t.to === 'Healthy'),
    RegionDegraded: (ts) => ts.some((t) => t.scope === 'region' && t.to === 'Degraded'),
    RegionImpaired: (ts) => ts.some((t) => t.scope === 'region' && t.to === 'Impaired'),
    RegionRecovered: (ts) => ts.some((t) => t.scope === 'region' && t.to === 'Healthy'),
    AllZonesHealthy: (ts, v) =>
      ts.some((t) => t.scope === 'zone' && t.to === 'Healthy') && v.zones.every((z) => z.state === 'Healthy'),
  };

  // For each reason: transitions that must emit it, and ones that must not (the named bugs of #17 among them).
  const TABLE: Array<{
    reason: string;
    emits: Array<[string, HealthTransition[], HealthView]>;
    not: Array<[string, HealthTransition[], HealthView]>;
  }> = [
    {
      reason: 'ZoneDegraded',
      emits: [
        [
          'zone Healthy → Degraded',
          [zone('us-east-1a', 'Healthy', 'Degraded')],
          viewAfter('Degraded', 'Healthy', 'Degraded'),
        ],
      ],
      not: [
        ['region Healthy → Degraded', [region('Healthy', 'Degraded')], viewAfter('Healthy', 'Healthy', 'Degraded')],
        [
          'zone Degraded → Impaired',
          [zone('us-east-1a', 'Degraded', 'Impaired')],
          viewAfter('Impaired', 'Healthy', 'Degraded'),
        ],
      ],
    },
    {
      reason: 'ZoneImpaired',
      emits: [
        [
          'zone Degraded → Impaired',
          [zone('us-east-1a', 'Degraded', 'Impaired')],
          viewAfter('Impaired', 'Healthy', 'Degraded'),
        ],
      ],
      not: [
        ['region Degraded → Impaired', [region('Degraded', 'Impaired')], viewAfter('Impaired', 'Impaired', 'Impaired')],
        [
          'zone Healthy → Degraded',
          [zone('us-east-1a', 'Healthy', 'Degraded')],
          viewAfter('Degraded', 'Healthy', 'Degraded'),
        ],
      ],
    },
    {
      reason: 'ZoneRecovered',
      emits: [
        [
          'one of two impaired zones recovers',
          [zone('us-east-1a', 'Impaired', 'Healthy')],
          viewAfter('Healthy', 'Impaired', 'Degraded'),
        ],
        [
          'the last zone recovers',
          [zone('us-east-1a', 'Degraded', 'Healthy')],
          viewAfter('Healthy', 'Healthy', 'Healthy'),
        ],
      ],
      not: [['region Degraded → Healthy', [region('Degraded', 'Healthy')], viewAfter('Healthy', 'Healthy', 'Healthy')]],
    },
    {
      reason: 'RegionDegraded',
      emits: [
        ['region Healthy → Degraded', [region('Healthy', 'Degraded')], viewAfter('Healthy', 'Healthy', 'Degraded')],
        ['region Impaired → Degraded', [region('Impaired', 'Degraded')], viewAfter('Impaired', 'Healthy', 'Degraded')],
      ],
      not: [
        [
          'zone Healthy → Degraded',
          [zone('us-east-1a', 'Healthy', 'Degraded')],
          viewAfter('Degraded', 'Healthy', 'Healthy'),
        ],
      ],
    },
    {
      reason: 'RegionImpaired',
      emits: [
        ['region Degraded → Impaired', [region('Degraded', 'Impaired')], viewAfter('Impaired', 'Impaired', 'Impaired')],
      ],
      not: [
        [
          'zone Degraded → Impaired',
          [zone('us-east-1a', 'Degraded', 'Impaired')],
          viewAfter('Impaired', 'Healthy', 'Degraded'),
        ],
      ],
    },
    {
      reason: 'RegionRecovered',
      emits: [
        ['region Degraded → Healthy', [region('Degraded', 'Healthy')], viewAfter('Healthy', 'Healthy', 'Healthy')],
      ],
      not: [
        [
          'zone Impaired → Healthy',
          [zone('us-east-1a', 'Impaired', 'Healthy')],
          viewAfter('Healthy', 'Healthy', 'Degraded'),
        ],
      ],
    },
    {
      reason: 'AllZonesHealthy',
      emits: [
        [
          'the last unhealthy zone recovers',
          [zone('us-east-1b', 'Impaired', 'Healthy')],
          viewAfter('Healthy', 'Healthy', 'Degraded'),
        ],
        [
          'both zones and the region recover in one batch',
          [
            zone('us-east-1a', 'Impaired', 'Healthy'),
            zone('us-east-1b', 'Degraded', 'Healthy'),
            region('Impaired', 'Healthy'),
          ],
          viewAfter('Healthy', 'Healthy', 'Healthy'),
        ],
      ],
      not: [
        [
          'one zone recovers while another is still Impaired',
          [zone('us-east-1a', 'Impaired', 'Healthy')],
          viewAfter('Healthy', 'Impaired', 'Degraded'),
        ],
        [
          'one zone recovers while another is still Degraded',
          [zone('us-east-1a', 'Impaired', 'Healthy')],
          viewAfter('Healthy', 'Degraded', 'Degraded'),
        ],
        [
          'a zone recovers and another goes Degraded in the same batch',
          [zone('us-east-1a', 'Impaired', 'Healthy'), zone('us-east-1b', 'Healthy', 'Degraded')],
          viewAfter('Healthy', 'Degraded', 'Degraded'),
        ],
        ['only the region recovers', [region('Degraded', 'Healthy')], viewAfter('Healthy', 'Healthy', 'Healthy')],
        [
          'a zone goes Degraded',
          [zone('us-east-1a', 'Healthy', 'Degraded')],
          viewAfter('Degraded', 'Healthy', 'Degraded'),
        ],
      ],
    },
  ];

  it('the table covers every health Event reason; each is a Reason constant, documented in docs/api.md', () => {
    expect(TABLE.map((r) => r.reason).sort()).toEqual(Object.keys(CLAIMS).sort());
    const docs = readFileSync('docs/api.md', 'utf8');
    for (const reason of Object.keys(CLAIMS)) {
      expect(Object.values(Reason)).toContain(reason);
      expect(docs).toMatch(new RegExp(`^\\| \`${reason}\` +\\|`, 'm'));
    }
  });

  for (const row of TABLE) {
    for (const [what, ts, v] of row.emits) {
      it(`${row.reason} is emitted when ${what}`, () => expect(reasonsOf(ts, v)).toContain(row.reason));
    }
    for (const [what, ts, v] of row.not) {
      it(`${row.reason} is not emitted when ${what}`, () => expect(reasonsOf(ts, v)).not.toContain(row.reason));
    }
  }

  it('every combination: a reason is emitted exactly when what it claims holds; Warning iff not Healthy', () => {
    const transitions: HealthTransition[] = [];
    for (const from of STATES)
      for (const to of STATES) {
        if (from === to) continue;
        transitions.push(region(from, to), ...ZONES.map((z) => zone(z, from, to)));
      }
    // Every batch of up to two transitions, against every after-view consistent with the zone transitions in it.
    const batches: HealthTransition[][] = transitions.flatMap((t, i) => [
      [t],
      ...transitions.slice(i + 1).map((u) => [t, u]),
    ]);
    let checked = 0;
    for (const ts of batches) {
      if (new Set(ts.map((t) => `${t.scope}/${t.name}`)).size < ts.length) continue; // one transition per target
      for (const a of STATES)
        for (const b of STATES)
          for (const r of STATES) {
            const v = viewAfter(a, b, r);
            const consistent = ts.every(
              (t) => (t.scope === 'zone' ? v.zones.find((z) => z.name === t.name)!.state : r) === t.to,
            );
            if (!consistent) continue;
            const events = healthTransitionEvents(ts, v);
            for (const [reason, claim] of Object.entries(CLAIMS)) {
              expect(
                events.some((e) => e.reason === reason),
                `${reason} for ${JSON.stringify(ts.map((t) => `${t.name} ${t.from}→${t.to}`))} a=${a} b=${b}`,
              ).toBe(claim(ts, v));
            }
            for (const e of events) {
              const t = ts.find((x) => transitionEventReason(x) === e.reason);
              if (t) expect(e.type).toBe(t.to === 'Healthy' ? 'Normal' : 'Warning');
              else expect(e).toMatchObject({ reason: 'AllZonesHealthy', type: 'Normal' });
            }
            expect(events.filter((e) => e.reason !== 'AllZonesHealthy')).toHaveLength(ts.length);
            checked++;
          }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('AllZonesHealthy cites PB-9 and names the zones', () => {
    const [, all] = healthTransitionEvents(
      [zone('us-east-1b', 'Impaired', 'Healthy')],
      viewAfter('Healthy', 'Healthy', 'Degraded'),
    );
    expect(all?.message).toBe('PB-9 Hysteresis both ways: every zone Healthy again (us-east-1a, us-east-1b)');
  });
});
