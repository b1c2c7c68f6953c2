import { describe, expect, it } from 'vitest';
import type { HealthView, ZoneState } from '../health/types.ts';
import { agree, majority, quorumState, type VantageSettings } from './agreement.ts';
import type { VantageVerdict } from './verdict.ts';

const NOW = 1_800_000_000_000;

const settings = (over: Partial<VantageSettings> = {}): VantageSettings => ({
  self: 'a',
  members: ['a', 'b', 'c'],
  quorum: 2,
  staleAfterMs: 60_000,
  whenAlone: { drain: true, promote: false },
  ...over,
});

function view(zoneA: ZoneState, region: ZoneState = 'Healthy'): HealthView {
  return {
    at: NOW,
    zones: [
      { name: 'us-east-1a', region: 'us-east-1', state: zoneA, since: NOW - 1000, reasons: ['probe web down'] },
      { name: 'us-east-1b', region: 'us-east-1', state: 'Healthy', since: NOW - 1000, reasons: [] },
    ],
    regions: [
      {
        name: 'us-east-1',
        state: region,
        since: NOW - 1000,
        reasons: [],
        evidence: { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] },
      },
    ],
  };
}

function zoneVerdict(vantage: string, state: ZoneState, ageMs = 5_000, zone = 'us-east-1a'): VantageVerdict {
  const at = Math.floor((NOW - ageMs) / 1000) * 1000;
  return { vantage, scope: 'zone', region: 'us-east-1', zone, state, sequence: at / 1000, at };
}
function regionVerdict(vantage: string, state: ZoneState, ageMs = 5_000): VantageVerdict {
  const at = Math.floor((NOW - ageMs) / 1000) * 1000;
  return { vantage, scope: 'region', region: 'us-east-1', state, sequence: at / 1000, at };
}

const zoneA = (v: HealthView) => v.zones.find((z) => z.name === 'us-east-1a')?.state;

describe('quorumState and majority', () => {
  it('takes the quorum-th worst state', () => {
    expect(quorumState(['Impaired', 'Healthy', 'Impaired'], 2)).toBe('Impaired');
    expect(quorumState(['Impaired', 'Healthy', 'Healthy'], 2)).toBe('Healthy');
    expect(quorumState(['Impaired', 'Degraded', 'Healthy'], 2)).toBe('Degraded');
    expect(quorumState(['Impaired', 'Degraded', 'Healthy'], 1)).toBe('Impaired');
    expect(quorumState(['Impaired', 'Degraded', 'Healthy'], 3)).toBe('Healthy');
  });
  it('majority of n is floor(n/2)+1', () => {
    expect([1, 2, 3, 4, 5, 7].map(majority)).toEqual([1, 2, 2, 3, 3, 4]);
  });
});

describe('agree', () => {
  it('partition: this vantage alone sees the zone Impaired, two peers see it Healthy → no drain, a disagreement', () => {
    const r = agree(
      settings(),
      view('Impaired', 'Impaired'),
      {
        verdicts: ['b', 'c'].flatMap((m) => [
          zoneVerdict(m, 'Healthy'),
          zoneVerdict(m, 'Healthy', 5_000, 'us-east-1b'),
          regionVerdict(m, 'Healthy'),
        ]),
      },
      NOW,
    );
    expect(zoneA(r.view)).toBe('Healthy');
    expect(r.view.regions[0]?.state).toBe('Healthy');
    expect(r.alone).toBe(false);
    expect(r.view.zones[0]?.reasons[0]).toMatch(/vantage agreement: Healthy .*this vantage sees Impaired/);
  });

  it('real outage: a quorum agrees → the zone is Impaired for every vantage, even one that sees it Healthy', () => {
    const peers = { verdicts: [zoneVerdict('b', 'Impaired'), zoneVerdict('c', 'Impaired')] };
    expect(zoneA(agree(settings(), view('Impaired'), peers, NOW).view)).toBe('Impaired');
    expect(zoneA(agree(settings(), view('Healthy'), peers, NOW).view)).toBe('Impaired');
  });

  it('stale verdicts do not count; with too few fresh voters the vantage is alone', () => {
    const peers = { verdicts: [zoneVerdict('b', 'Healthy', 61_000), zoneVerdict('c', 'Healthy', 120_000)] };
    const r = agree(settings(), view('Impaired', 'Impaired'), peers, NOW);
    expect(r.alone).toBe(true);
    expect(zoneA(r.view)).toBe('Impaired'); // whenAlone.drain defaults to true
    expect(r.view.regions[0]?.state).toBe('Degraded'); // never Impaired alone unless whenAlone.promote
    expect(r.members.find((m) => m.name === 'b')?.fresh).toBe(false);
  });

  it('alone with whenAlone.drain false does not drain; with promote true the region may be Impaired', () => {
    const noDrain = agree(
      settings({ whenAlone: { drain: false, promote: false } }),
      view('Impaired'),
      { verdicts: [] },
      NOW,
    );
    expect(zoneA(noDrain.view)).toBe('Healthy');
    const promote = agree(
      settings({ whenAlone: { drain: true, promote: true } }),
      view('Impaired', 'Impaired'),
      { verdicts: [] },
      NOW,
    );
    expect(promote.view.regions[0]?.state).toBe('Impaired');
  });

  it('ignores verdicts from non-members and its own published verdicts, and keeps the latest per member', () => {
    const peers = {
      verdicts: [
        zoneVerdict('x', 'Impaired'),
        zoneVerdict('a', 'Impaired'),
        zoneVerdict('b', 'Impaired', 30_000),
        zoneVerdict('b', 'Healthy', 2_000),
        zoneVerdict('c', 'Healthy'),
      ],
    };
    const r = agree(settings(), view('Impaired'), peers, NOW);
    expect(zoneA(r.view)).toBe('Healthy');
    expect(
      r.scopes.find((s) => s.name === 'us-east-1a')?.votes.map(({ vantage, state }) => ({ vantage, state })),
    ).toEqual([
      { vantage: 'a', state: 'Impaired' },
      { vantage: 'b', state: 'Healthy' },
      { vantage: 'c', state: 'Healthy' },
    ]);
  });

  it('two members, default quorum 2: one alone cannot drain against the other', () => {
    const s = settings({ members: ['a', 'b'], quorum: majority(2) });
    expect(zoneA(agree(s, view('Impaired'), { verdicts: [zoneVerdict('b', 'Healthy')] }, NOW).view)).toBe('Healthy');
    expect(zoneA(agree(s, view('Impaired'), { verdicts: [zoneVerdict('b', 'Degraded')] }, NOW).view)).toBe('Degraded');
  });

  it('recovery needs the quorum too: one vantage still seeing it Impaired keeps it drained only with another', () => {
    const peers = { verdicts: [zoneVerdict('b', 'Healthy'), zoneVerdict('c', 'Impaired')] };
    expect(zoneA(agree(settings(), view('Healthy'), peers, NOW).view)).toBe('Healthy');
    expect(zoneA(agree(settings(), view('Impaired'), peers, NOW).view)).toBe('Impaired');
  });
});

describe('capacity actor', () => {
  it('is the first fresh member in members order, the same for every vantage reading the same verdicts', () => {
    const fresh = {
      verdicts: [zoneVerdict('a', 'Impaired'), zoneVerdict('b', 'Impaired'), zoneVerdict('c', 'Impaired')],
    };
    expect(agree(settings({ self: 'b' }), view('Impaired'), fresh, NOW).capacityActor).toBe('a');
    expect(agree(settings({ self: 'c' }), view('Impaired'), fresh, NOW).capacityActor).toBe('a');
    // a's verdicts went stale (it died with its region): b acts on capacity.
    const aDead = { verdicts: [zoneVerdict('a', 'Healthy', 120_000), zoneVerdict('c', 'Impaired')] };
    expect(agree(settings({ self: 'b' }), view('Impaired'), aDead, NOW).capacityActor).toBe('b');
    expect(
      agree(settings({ self: 'c' }), view('Impaired'), { verdicts: [zoneVerdict('b', 'Impaired')] }, NOW).capacityActor,
    ).toBe('b');
  });
});
