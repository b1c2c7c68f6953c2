import { describe, expect, it } from 'vitest';
import type { HealthView, ZoneState } from '../health/types.ts';
import { agree, type VantageSettings } from './agreement.ts';
import { agreementEvents, DISAGREEMENT_GRACE_MS } from './events.ts';
import type { VantageVerdict } from './verdict.ts';

const T = 1_800_000_000_000;
const settings: VantageSettings = {
  self: 'a',
  members: ['a', 'b', 'c'],
  quorum: 2,
  staleAfterMs: 60_000,
  whenAlone: { drain: true, promote: false },
};

function view(state: ZoneState, since: number, at: number): HealthView {
  return {
    at,
    zones: [{ name: 'us-east-1a', region: 'us-east-1', state, since, reasons: [] }],
    regions: [],
  };
}
const peer = (vantage: string, state: ZoneState, at: number): VantageVerdict => ({
  vantage,
  scope: 'zone',
  region: 'us-east-1',
  zone: 'us-east-1a',
  state,
  sequence: at / 1000,
  at,
});

describe('agreement events', () => {
  it('no VantageDisagreement while the peers have not yet had time to see what this vantage sees', () => {
    // a sees us-east-1a Impaired since T; b and c still say Healthy from verdicts published 5 s later.
    const early = agree(
      settings,
      view('Impaired', T, T + 6_000),
      { verdicts: [peer('b', 'Healthy', T + 5_000), peer('c', 'Healthy', T + 5_000)] },
      T + 6_000,
    );
    expect(agreementEvents(settings, early, undefined).map((e) => e.reason)).toEqual([]);
    // b and c publish Healthy again well after: a partition on a's side is likely.
    const later = agree(
      settings,
      view('Impaired', T, T + 40_000),
      { verdicts: [peer('b', 'Healthy', T + DISAGREEMENT_GRACE_MS + 10_000), peer('c', 'Healthy', T + 30_000)] },
      T + 40_000,
    );
    const events = agreementEvents(settings, later, early);
    expect(events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'VantageDisagreement']]);
    expect(events[0]?.message).toMatch(/vantage a sees zone us-east-1a Impaired, but the members agree on Healthy/);
    // Once only, not on every reconcile.
    expect(agreementEvents(settings, later, later)).toEqual([]);
  });

  it('VantageAgreement when the agreed state changes; ActingAlone when the peers go stale', () => {
    const healthy = agree(
      settings,
      view('Healthy', T - 60_000, T),
      { verdicts: [peer('b', 'Healthy', T), peer('c', 'Healthy', T)] },
      T,
    );
    const agreed = agree(
      settings,
      view('Impaired', T + 1_000, T + 10_000),
      { verdicts: [peer('b', 'Impaired', T + 9_000), peer('c', 'Healthy', T + 9_000)] },
      T + 10_000,
    );
    const events = agreementEvents(settings, agreed, healthy);
    expect(events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'VantageAgreement']]);
    expect(events[0]?.message).toContain(
      'zone us-east-1a agreed Impaired (was Healthy) by quorum 2 of 3 (a=Impaired, b=Impaired, c=Healthy)',
    );
    const alone = agree(
      settings,
      view('Impaired', T + 1_000, T + 200_000),
      { verdicts: [peer('b', 'Impaired', T + 9_000)] },
      T + 200_000,
    );
    expect(agreementEvents(settings, alone, agreed).map((e) => e.reason)).toEqual(['ActingAlone']);
  });
});
