// The health model's evidence for irreversible steps (health-model.ts rules 2 and 7): gray timeouts are slow, not
// down; only hard-down endpoint results give data-plane evidence; EC2 metadata is informational; RDS control-plane
// errors never make a database down; and each DB instance keeps its own streak.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createHealthState,
  type HealthSettings,
  type HealthState,
  type HealthTopology,
  observeResults,
  resolveHealthSettings,
} from './health-model.ts';
import type { ProbeKind, ProbeResult, RegionEvidence, ZoneState } from './types.ts';

const E1 = 'us-east-1';
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;
const topology: HealthTopology = {
  regions: [
    { name: E1, zones: [...ZONES] },
    { name: 'us-west-2', zones: ['us-west-2a', 'us-west-2b'] },
  ],
  writerZone: { region: E1, zone: 'us-east-1a' },
};
const TIMEOUT_MS = 2000;
/** The DESIGN defaults: 5 s interval, failureThreshold 2, impairedAfterRounds 4, recoveryThreshold 12. */
const settings = resolveHealthSettings();

type Endpoint = { answerMs: number } | 'timeout' | 'refused';

/** One http result for `zone`: an answer after answerMs, a timeout at 2 s, or a refused connection. */
function http(zone: string, what: Endpoint, source = 'operator'): ProbeResult {
  const base = { probe: 'api', kind: 'http' as const, region: E1, zone, at: 0, source };
  if (what === 'timeout') {
    return {
      ...base,
      ok: false,
      severity: 'down',
      latencyMs: TIMEOUT_MS,
      timedOut: true,
      timeoutMs: TIMEOUT_MS,
      detail: `GET https://api-${zone}.example.com/healthz: timeout after ${TIMEOUT_MS}ms`,
    };
  }
  if (what === 'refused') {
    return { ...base, ok: false, severity: 'down', latencyMs: 1, detail: 'connect ECONNREFUSED' };
  }
  return { ...base, ok: true, latencyMs: what.answerMs, detail: `status 200 in ${what.answerMs}ms` };
}

function db(
  kind: Extract<ProbeKind, 'rds' | 'rds-connect'>,
  subject: string,
  verdict: 'ok' | 'down',
  opts: { zone?: string; timedOut?: boolean; callFailed?: boolean; latencyMs?: number } = {},
): ProbeResult {
  return {
    probe: 'database',
    kind,
    region: E1,
    ...(opts.zone ? { zone: opts.zone } : {}),
    subject,
    ok: verdict === 'ok',
    ...(verdict === 'ok' ? {} : { severity: 'down' as const }),
    at: 0,
    latencyMs: opts.latencyMs ?? 5,
    ...(opts.timedOut ? { timedOut: true, timeoutMs: TIMEOUT_MS } : {}),
    ...(opts.callFailed ? { callFailed: true } : {}),
    detail: `${kind} ${subject}: ${verdict}`,
    source: 'operator',
  };
}

/** Folds batches 5 s apart; returns each state after its batch. */
function run(s: HealthSettings, rounds: ProbeResult[][]): HealthState[] {
  let state = createHealthState(s, topology);
  return rounds.map((results, i) => {
    state = observeResults(state, s, results, (i + 1) * 5000).state;
    return state;
  });
}

const zoneState = (s: HealthState, zone: string): ZoneState => s.zones.find((z) => z.name === zone)!.state;
const regionOf = (s: HealthState) => s.regions.find((r) => r.name === E1)!;
const evidence = (s: HealthState): RegionEvidence => regionOf(s).evidence;
const everyZone = (what: (zone: string) => Endpoint) => ZONES.map((z) => http(z, what(z)));

describe('gray latency at the timeout edge (rule 2)', () => {
  // Latency 1995–2004 ms against a 2 s timeout: about every other probe times out, sometimes several in a row.
  const grayPattern: Endpoint[] = [
    { answerMs: 1995 },
    'timeout',
    { answerMs: 1999 },
    'timeout',
    'timeout',
    'timeout',
    'timeout',
    'timeout',
    'timeout',
    { answerMs: 1997 },
    'timeout',
    'timeout',
  ];
  const gray = Array.from({ length: 60 }, (_, i) => everyZone(() => grayPattern[i % grayPattern.length]!));

  it('slow answers and timeouts at the edge keep zones Degraded: never Impaired, never data-plane evidence', () => {
    const states = run(settings, gray);
    for (const s of states) {
      for (const z of ZONES) expect(zoneState(s, z)).not.toBe('Impaired');
      expect(regionOf(s).state).not.toBe('Impaired');
      expect(evidence(s)).toEqual({ dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] });
    }
    // The slowness itself is seen: every zone is Degraded (drained), and the reasons say why.
    const last = states.at(-1)!;
    expect(ZONES.map((z) => zoneState(last, z))).toEqual(['Degraded', 'Degraded', 'Degraded']);
    expect(last.zones[0]!.reasons.join('\n')).toContain('gray: the last answer took');
  });

  it('for any mix of slow answers (>= half the timeout) and timeouts, with a quorum of sources too', () => {
    const step = fc.oneof(
      fc.constant<Endpoint>('timeout'),
      fc.integer({ min: 1000, max: 1999 }).map((ms) => ({ answerMs: ms })),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 1999 }),
        fc.array(step, { minLength: 1, maxLength: 40 }),
        (first, rest) => {
          const seq: Endpoint[] = [{ answerMs: first }, ...rest];
          for (const s of [settings, resolveHealthSettings({ quorum: 2 })]) {
            const rounds = seq.map((what) => [http('us-east-1a', what), http('us-east-1a', what, 'eu-west-1')]);
            for (const state of run(s, rounds)) {
              expect(zoneState(state, 'us-east-1a')).not.toBe('Impaired');
              expect(evidence(state).dataPlaneDownZones).toEqual([]);
            }
          }
        },
      ),
    );
  });

  it('a blackout (fast answers, then nothing) impairs and gives evidence exactly as fast as plain down results', () => {
    const fast = everyZone(() => ({ answerMs: 25 }));
    const dark = everyZone((z) => (z === 'us-east-1c' ? { answerMs: 25 } : 'timeout'));
    const states = run(settings, [fast, fast, fast, dark, dark, dark, dark, dark]);
    // Timeouts from round 4: Degraded after failureThreshold (2), Impaired after impairedAfterRounds (4) timeouts.
    expect(states.map((s) => zoneState(s, 'us-east-1a'))).toEqual([
      'Healthy',
      'Healthy',
      'Healthy',
      'Healthy',
      'Degraded',
      'Degraded',
      'Impaired',
      'Impaired',
    ]);
    expect(states.map((s) => evidence(s).dataPlaneDownZones)).toEqual([
      [],
      [],
      [],
      [],
      [],
      [],
      ['us-east-1a', 'us-east-1b'],
      ['us-east-1a', 'us-east-1b'],
    ]);
    expect(regionOf(states[6]!).state).toBe('Impaired');
    // The same timeline with untagged `down` results (what the model saw before timeouts were marked).
    const plain = run(settings, [fast, fast, fast, ...Array.from({ length: 5 }, () => dark.map(untag))]);
    expect(plain.map((s) => zoneState(s, 'us-east-1a'))).toEqual(states.map((s) => zoneState(s, 'us-east-1a')));
  });

  it('a timeout is gray only while the slow answer is fresh (staleAfterMs), and a refusal is always down', () => {
    const s = resolveHealthSettings({ recoveryThreshold: 3 }); // stale after 15 s
    const slowThenDark = [
      everyZone(() => ({ answerMs: 1500 })),
      ...Array.from({ length: 8 }, () => everyZone(() => 'timeout' as const)),
    ];
    const states = run(s, slowThenDark);
    // Answer at 5 s; timeouts at 10, 15, 20 s are gray (degraded failures); from 25 s they are down. The zone is
    // Impaired by the first down one (rule 5 counts the whole failure streak), but data-plane evidence needs
    // impairedAfterRounds hard-down results of their own: 4 of them by 40 s.
    expect(states.map((st) => zoneState(st, 'us-east-1a'))).toEqual([
      'Healthy',
      'Healthy',
      'Degraded',
      'Degraded',
      'Impaired',
      'Impaired',
      'Impaired',
      'Impaired',
      'Impaired',
    ]);
    expect(states.map((st) => evidence(st).dataPlaneDownZones.length)).toEqual([0, 0, 0, 0, 0, 0, 0, 3, 3]);
    const refused = run(settings, [
      everyZone(() => ({ answerMs: 1900 })),
      ...Array.from({ length: 4 }, () => everyZone(() => 'refused' as const)),
    ]);
    expect(zoneState(refused.at(-1)!, 'us-east-1a')).toBe('Impaired');
    expect(evidence(refused.at(-1)!).dataPlaneDownZones).toEqual([...ZONES]);
  });
});

function untag(r: ProbeResult): ProbeResult {
  const { timedOut: _t, timeoutMs: _m, ...rest } = r;
  return rest;
}

describe('data-plane evidence (rule 7)', () => {
  it('needs impairedAfterRounds hard-down results from quorum sources', () => {
    const q = resolveHealthSettings({ quorum: 2 });
    const one = Array.from({ length: 6 }, () => [
      http('us-east-1a', 'refused', 'eu-west-1'),
      http('us-east-1a', { answerMs: 20 }),
    ]);
    expect(evidence(run(q, one).at(-1)!).dataPlaneDownZones).toEqual([]);
    const two = Array.from({ length: 4 }, () => [
      http('us-east-1a', 'refused', 'eu-west-1'),
      http('us-east-1a', 'refused'),
    ]);
    expect(run(q, two).map((s) => evidence(s).dataPlaneDownZones)).toEqual([[], [], [], ['us-east-1a']]);
  });

  it('degraded (slow over budget) results never count, and evidence clears once the zone answers again', () => {
    const slow: ProbeResult = { ...http('us-east-1a', { answerMs: 1800 }), ok: false, severity: 'degraded' };
    expect(
      evidence(
        run(
          settings,
          Array.from({ length: 10 }, () => [slow]),
        ).at(-1)!,
      ).dataPlaneDownZones,
    ).toEqual([]);
    const states = run(settings, [
      ...Array.from({ length: 4 }, () => [http('us-east-1a', 'refused')]),
      [http('us-east-1a', { answerMs: 20 })],
    ]);
    expect(evidence(states[3]!).dataPlaneDownZones).toEqual(['us-east-1a']);
    expect(evidence(states[4]!).dataPlaneDownZones).toEqual([]);
    expect(zoneState(states[4]!, 'us-east-1a')).toBe('Impaired'); // recovery still needs its window (rule 6)
  });

  it('only endpoint probes (http, tcp) give it: an ec2-instances or aws-api failure does not', () => {
    const other = (kind: ProbeKind): ProbeResult => ({ ...http('us-east-1a', 'refused'), probe: kind, kind });
    const states = run(
      settings,
      Array.from({ length: 6 }, () => [other('ec2-instances'), other('aws-api'), other('tcp')]),
    );
    expect(evidence(states.at(-1)!).dataPlaneDownZones).toEqual(['us-east-1a']);
    const noTcp = run(
      settings,
      Array.from({ length: 6 }, () => [other('ec2-instances'), other('aws-api')]),
    );
    expect(evidence(noTcp.at(-1)!).dataPlaneDownZones).toEqual([]);
  });
});

describe('EC2 zone metadata alone (rule 5 and rule 7)', () => {
  it('impairs the zones (drain) and lists them as metadata, but gives no data-plane evidence', () => {
    const ec2 = (zone: string): ProbeResult => ({
      probe: 'ec2',
      kind: 'ec2-zone',
      region: E1,
      zone,
      ok: zone === 'us-east-1c',
      ...(zone === 'us-east-1c' ? {} : { severity: 'down' as const }),
      at: 0,
      detail: `DescribeAvailabilityZones: ${zone} ${zone === 'us-east-1c' ? 'available' : 'impaired'}`,
      source: 'operator',
    });
    const states = run(
      settings,
      Array.from({ length: 10 }, () => [...ZONES.map(ec2), ...everyZone(() => ({ answerMs: 20 }))]),
    );
    const last = states.at(-1)!;
    expect(zoneState(last, 'us-east-1a')).toBe('Impaired');
    expect(zoneState(last, 'us-east-1b')).toBe('Impaired');
    expect(regionOf(last).state).toBe('Impaired'); // the drain-level verdict is unchanged …
    expect(evidence(last)).toEqual({
      dataPlaneDownZones: [], // … but nothing here may move a database
      metadataImpairedZones: ['us-east-1a', 'us-east-1b'],
      downDatabases: [],
    });
    expect(evidence(states[0]!).metadataImpairedZones).toEqual([]); // failureThreshold applies
  });
});

describe('database evidence (rule 7)', () => {
  it('DescribeDBInstances errors and timeouts alone never make the database down', () => {
    const errors = Array.from({ length: 20 }, (_, i) => [
      i % 2 === 0
        ? db('rds', 'orders', 'down', { callFailed: true })
        : db('rds', 'orders', 'down', { timedOut: true, latencyMs: TIMEOUT_MS }),
    ]);
    const states = run(settings, errors);
    for (const s of states) expect(evidence(s).downDatabases).toEqual([]);
    // It is still a failing signal: the region is Degraded (region-wide results never impair).
    expect(regionOf(states.at(-1)!).state).toBe('Degraded');
  });

  it('RDS reporting the instance failed, failureThreshold times in a row, does (zone or region track)', () => {
    const inZone = run(settings, [
      [db('rds', 'orders', 'down', { zone: 'us-east-1a' })],
      [db('rds', 'orders', 'down', { zone: 'us-east-1a' })],
    ]);
    expect(inZone.map((s) => evidence(s).downDatabases)).toEqual([[], ['orders']]);
    const regionWide = run(settings, [
      [db('rds', 'orders', 'down')],
      [db('rds', 'orders', 'down', { callFailed: true })], // an error breaks the streak: it is no report
      [db('rds', 'orders', 'down')],
      [db('rds', 'orders', 'down')],
    ]);
    expect(regionWide.map((s) => evidence(s).downDatabases)).toEqual([[], [], [], ['orders']]);
  });

  it('a connect probe with no answer or refused, failureThreshold times, does; a gray connect does not', () => {
    const hard = run(settings, [
      [db('rds-connect', 'orders', 'ok')],
      [db('rds-connect', 'orders', 'down', { timedOut: true, latencyMs: TIMEOUT_MS })],
      [db('rds-connect', 'orders', 'down', { latencyMs: 1 })],
    ]);
    expect(hard.map((s) => evidence(s).downDatabases)).toEqual([[], [], ['orders']]);
    const gray = run(
      settings,
      Array.from({ length: 12 }, (_, i) =>
        i % 3 === 0
          ? [db('rds-connect', 'orders', 'ok', { latencyMs: 1990 })]
          : [db('rds-connect', 'orders', 'down', { timedOut: true, latencyMs: TIMEOUT_MS })],
      ),
    );
    for (const s of gray) expect(evidence(s).downDatabases).toEqual([]);
  });

  it('keeps two instances apart: their results never share a streak, even in one batch', () => {
    const states = run(settings, [
      [db('rds', 'orders', 'down'), db('rds', 'orders-replica', 'ok')],
      [db('rds', 'orders-replica', 'ok'), db('rds', 'orders', 'down')],
      [db('rds-connect', 'orders-replica', 'down', { latencyMs: 1 }), db('rds-connect', 'orders', 'ok')],
    ]);
    expect(states.map((s) => evidence(s).downDatabases)).toEqual([[], ['orders'], ['orders']]);
    const streaks = regionOf(states[1]!).signal.probes;
    expect(streaks.map((p) => [p.subject, p.hardDowns])).toEqual([
      ['orders', 2],
      ['orders-replica', 0],
    ]);
  });
});
