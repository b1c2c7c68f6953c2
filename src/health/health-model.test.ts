import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  createHealthState,
  type HealthSettings,
  type HealthState,
  type HealthTopology,
  judgeRound,
  observeRound,
  resolveHealthSettings,
} from './health-model.ts';
import type { HealthTransition, ProbeKind, ProbeResult, ZoneState } from './types.ts';

const E1 = 'us-east-1';
const W2 = 'us-west-2';
const topology: HealthTopology = {
  regions: [
    { name: E1, zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
    { name: W2, zones: ['us-west-2a', 'us-west-2b'] },
  ],
  writerZone: { region: E1, zone: 'us-east-1a' },
};

type Verdict = 'ok' | 'degraded' | 'down';

function result(
  zone: string | undefined,
  verdict: Verdict,
  opts: { probe?: string; kind?: ProbeKind; source?: string; region?: string; at?: number; detail?: string } = {},
): ProbeResult {
  return {
    probe: opts.probe ?? 'api',
    kind: opts.kind ?? 'http',
    region: opts.region ?? (zone ? zone.slice(0, -1) : E1),
    ...(zone ? { zone } : {}),
    ok: verdict === 'ok',
    ...(verdict === 'ok' ? {} : { severity: verdict }),
    at: opts.at ?? 0,
    detail: opts.detail ?? `GET https://api-${zone}.example.com/healthz: ${verdict}`,
    source: opts.source ?? 'operator',
  };
}

/** Runs rounds 5 s apart; returns the state history (after each round) and all transitions. */
function run(
  settings: HealthSettings,
  rounds: ProbeResult[][],
  start: HealthState = createHealthState(settings, topology),
) {
  let state = start;
  const states: HealthState[] = [];
  const transitions: HealthTransition[] = [];
  rounds.forEach((results, i) => {
    const out = observeRound(state, settings, results, (i + 1) * 5000);
    state = out.state;
    states.push(state);
    transitions.push(...out.transitions);
  });
  return { state, states, transitions };
}

const zoneState = (s: HealthState, zone: string): ZoneState => s.zones.find((z) => z.name === zone)!.state;
const regionState = (s: HealthState, region: string): ZoneState => s.regions.find((r) => r.name === region)!.state;

/** One round where the listed zones report `verdict` and every other us-east-1 zone is ok. */
function round(failing: Record<string, Verdict>): ProbeResult[] {
  return ['us-east-1a', 'us-east-1b', 'us-east-1c'].map((z) => result(z, failing[z] ?? 'ok'));
}

describe('resolveHealthSettings', () => {
  it('fills the DESIGN defaults and derives impairedAfterRounds from failureThreshold', () => {
    expect(resolveHealthSettings()).toEqual({
      intervalMs: 5000,
      failureThreshold: 2,
      recoveryThreshold: 12,
      impairedAfterRounds: 4,
      regionImpairedZones: 2,
      quorum: 1,
      degradedProbesToFail: 1,
    });
    const s = resolveHealthSettings({
      intervalSeconds: 10,
      failureThreshold: 3,
      regionImpairedWhen: { impairedZones: 3 },
    });
    expect(s).toMatchObject({
      intervalMs: 10_000,
      failureThreshold: 3,
      impairedAfterRounds: 6,
      regionImpairedZones: 3,
    });
  });

  it('never lets Impaired come before Degraded could, and rejects nonsense', () => {
    expect(resolveHealthSettings({ failureThreshold: 3, impairedAfterRounds: 1 }).impairedAfterRounds).toBe(3);
    expect(() => resolveHealthSettings({ failureThreshold: 0 })).toThrow(RangeError);
    expect(() => resolveHealthSettings({ recoveryThreshold: 1.5 })).toThrow(RangeError);
    expect(() => resolveHealthSettings({ intervalSeconds: 0 })).toThrow(RangeError);
  });
});

describe('observeRound: scripted sequences', () => {
  const settings = resolveHealthSettings({ failureThreshold: 2, recoveryThreshold: 4 });

  it('a zone that fails steadily goes Degraded after failureThreshold rounds and Impaired after 2x', () => {
    const { states, transitions } = run(
      settings,
      Array.from({ length: 5 }, () => round({ 'us-east-1a': 'down' })),
    );
    expect(states.map((s) => zoneState(s, 'us-east-1a'))).toEqual([
      'Healthy',
      'Degraded',
      'Degraded',
      'Impaired',
      'Impaired',
    ]);
    const zoneT = transitions.filter((t) => t.scope === 'zone');
    expect(zoneT.map((t) => [t.name, t.from, t.to, t.at])).toEqual([
      ['us-east-1a', 'Healthy', 'Degraded', 10_000],
      ['us-east-1a', 'Degraded', 'Impaired', 20_000],
    ]);
    expect(zoneT[0]!.reasons[0]).toContain('2 consecutive failed rounds');
    expect(zoneT[0]!.reasons.some((r) => r.includes('GET https://api-us-east-1a.example.com/healthz: down'))).toBe(
      true,
    );
    // One impaired zone of three: the region is Degraded, not Impaired (PB-2).
    expect(regionState(states[4]!, E1)).toBe('Degraded');
    expect(zoneState(states[4]!, 'us-east-1b')).toBe('Healthy');
  });

  it('flapping input (fail, ok, fail, ok …) never leaves Healthy', () => {
    const rounds = Array.from({ length: 40 }, (_, i) => round(i % 2 === 0 ? { 'us-east-1a': 'down' } : {}));
    const { transitions, state } = run(settings, rounds);
    expect(transitions).toEqual([]);
    expect(zoneState(state, 'us-east-1a')).toBe('Healthy');
  });

  it('recovery needs recoveryThreshold consecutive passing rounds; one failure restarts the count (PB-9)', () => {
    const failing = Array.from({ length: 4 }, () => round({ 'us-east-1a': 'down' }));
    const almost = Array.from({ length: 3 }, () => round({}));
    const blip = [round({ 'us-east-1a': 'down' })];
    const good = Array.from({ length: 4 }, () => round({}));
    const { states } = run(settings, [...failing, ...almost, ...blip, ...good]);
    const a = states.map((s) => zoneState(s, 'us-east-1a'));
    expect(a.slice(3, 8)).toEqual(['Impaired', 'Impaired', 'Impaired', 'Impaired', 'Impaired']);
    expect(a.slice(8, 11)).toEqual(['Impaired', 'Impaired', 'Impaired']);
    expect(a[11]).toBe('Healthy');
  });

  it('partial outage: two zones impaired make the region Impaired; the third keeps serving', () => {
    const { state, transitions } = run(
      settings,
      Array.from({ length: 4 }, () => round({ 'us-east-1a': 'down', 'us-east-1b': 'down' })),
    );
    expect(regionState(state, E1)).toBe('Impaired');
    expect(zoneState(state, 'us-east-1c')).toBe('Healthy');
    expect(regionState(state, W2)).toBe('Healthy');
    const regionT = transitions.filter((t) => t.scope === 'region');
    expect(regionT.map((t) => [t.from, t.to, t.at])).toEqual([
      ['Healthy', 'Degraded', 10_000],
      ['Degraded', 'Impaired', 20_000],
    ]);
    expect(regionT[1]!.reasons[0]).toContain('2 of 3 zones impaired: us-east-1a, us-east-1b');
  });

  it('the writer zone plus one more impairs the region even under a higher zone threshold (PB-2)', () => {
    const s = resolveHealthSettings({
      failureThreshold: 1,
      recoveryThreshold: 2,
      regionImpairedWhen: { impairedZones: 3 },
    });
    const down = { 'us-east-1a': 'down', 'us-east-1b': 'down' } as const;
    const withWriter = run(s, [round(down), round(down)]);
    expect(regionState(withWriter.state, E1)).toBe('Impaired');
    expect(withWriter.state.regions[0]!.reasons[0]).toContain('writable primary');
    const noWriter = run(s, [round(down), round(down)], createHealthState(s, { regions: topology.regions }));
    expect(regionState(noWriter.state, E1)).toBe('Degraded');
    // The writer's location can be given per round (after a promotion it moves), and it sticks.
    const told = observeRound(noWriter.state, s, round(down), 15_000, {
      writerZone: { region: E1, zone: 'us-east-1b' },
    });
    expect(regionState(told.state, E1)).toBe('Impaired');
    expect(told.state.writerZone).toEqual({ region: E1, zone: 'us-east-1b' });
    const otherTwo = run(s, [
      round({ 'us-east-1b': 'down', 'us-east-1c': 'down' }),
      round({ 'us-east-1b': 'down', 'us-east-1c': 'down' }),
    ]);
    expect(regionState(otherTwo.state, E1)).toBe('Degraded');
  });

  it('one zone slow but up: counts only when over its budget, and only with enough degraded probes', () => {
    const slowWithinBudget = [result('us-east-1a', 'ok', { detail: 'GET …: status 200 in 900ms' })];
    expect(
      run(
        settings,
        Array.from({ length: 6 }, () => slowWithinBudget),
      ).transitions,
    ).toEqual([]);

    const slowOverBudget = [
      result('us-east-1a', 'degraded', { detail: 'GET …: status 200 in 3000ms, over budget 1000ms' }),
      result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' }),
    ];
    // Default degradedProbesToFail = 1: the slow probe fails the round.
    expect(zoneState(run(settings, [slowOverBudget, slowOverBudget]).state, 'us-east-1a')).toBe('Degraded');
    // Requiring two independent degraded signals: one slow probe is not enough …
    const strict = resolveHealthSettings({ failureThreshold: 2, recoveryThreshold: 4, degradedProbesToFail: 2 });
    expect(
      run(
        strict,
        Array.from({ length: 6 }, () => slowOverBudget),
      ).transitions,
    ).toEqual([]);
    // … a slow endpoint plus a rising API error rate is.
    const twoSignals = [
      ...slowOverBudget,
      result('us-east-1a', 'degraded', { probe: 'control-plane', kind: 'aws-api' }),
    ];
    expect(zoneState(run(strict, [twoSignals, twoSignals]).state, 'us-east-1a')).toBe('Degraded');
    // … and a `down` result always counts.
    const down = [result('us-east-1a', 'down')];
    expect(zoneState(run(strict, [down, down]).state, 'us-east-1a')).toBe('Degraded');
  });

  it('probe timeouts are failures; rounds with no result (probe still in flight) are no evidence', () => {
    const timeout = [result('us-east-1a', 'down', { detail: 'timeout after 2000ms' })];
    const { states, transitions } = run(settings, [timeout, [], [], timeout, [], timeout, timeout]);
    expect(states.map((s) => zoneState(s, 'us-east-1a'))).toEqual([
      'Healthy',
      'Healthy',
      'Healthy',
      'Degraded',
      'Degraded',
      'Degraded',
      'Impaired',
    ]);
    expect(transitions[0]!.reasons.join('\n')).toContain('timeout after 2000ms');
  });

  it('EC2 reporting the zone impaired escalates at once, but only after failureThreshold failed rounds', () => {
    const ec2Impaired = [
      result('us-east-1b', 'down', {
        probe: 'ec2',
        kind: 'ec2-zone',
        detail: 'DescribeAvailabilityZones: state impaired',
      }),
    ];
    const { states, transitions } = run(settings, [ec2Impaired, ec2Impaired]);
    expect(zoneState(states[0]!, 'us-east-1b')).toBe('Healthy');
    expect(zoneState(states[1]!, 'us-east-1b')).toBe('Impaired');
    expect(transitions.find((t) => t.scope === 'zone')).toMatchObject({ from: 'Healthy', to: 'Impaired', at: 10_000 });
  });

  it('quorum: one failing vantage point degrades a zone but cannot impair it; two can', () => {
    const q = resolveHealthSettings({ failureThreshold: 2, recoveryThreshold: 4, quorum: 2 });
    const oneSource = [
      result('us-east-1a', 'down', { source: 'eu-west-1' }),
      result('us-east-1a', 'ok', { source: 'operator' }),
    ];
    const lonely = run(
      q,
      Array.from({ length: 10 }, () => oneSource),
    );
    expect(zoneState(lonely.state, 'us-east-1a')).toBe('Degraded');
    const both = [
      result('us-east-1a', 'down', { source: 'eu-west-1' }),
      result('us-east-1a', 'down', { source: 'operator' }),
    ];
    const agreed = run(
      q,
      Array.from({ length: 4 }, () => both),
    );
    expect(zoneState(agreed.state, 'us-east-1a')).toBe('Impaired');
    expect(agreed.transitions.at(-1)?.reasons.join('\n')).toContain('[from eu-west-1]');
  });

  it('region-wide results degrade the region but never impair it (PB-2 decides per zone)', () => {
    const regionWide = [
      ...round({}),
      result(undefined, 'degraded', { probe: 'control-plane', kind: 'aws-api', detail: 'ebs API: 50% failed' }),
    ];
    const { states } = run(
      settings,
      Array.from({ length: 8 }, () => regionWide),
    );
    expect(states.map((s) => regionState(s, E1))).toEqual(['Healthy', ...Array(7).fill('Degraded')]);
    expect(states[7]!.regions[0]!.reasons).toEqual([
      'region-wide: control-plane (aws-api, degraded): ebs API: 50% failed',
    ]);
    // Silence is no evidence of recovery; passing region-wide results are.
    const silent = run(
      settings,
      Array.from({ length: 6 }, () => round({})),
      states[7]!,
    );
    expect(regionState(silent.state, E1)).toBe('Degraded');
    const regionOk = [...round({}), result(undefined, 'ok', { probe: 'control-plane', kind: 'aws-api' })];
    const recovered = run(
      settings,
      Array.from({ length: 4 }, () => regionOk),
      states[7]!,
    );
    expect(recovered.states.map((s) => regionState(s, E1))).toEqual(['Degraded', 'Degraded', 'Degraded', 'Healthy']);
  });

  it('ignores results for zones and regions outside the topology', () => {
    const stray = [result('eu-west-1a', 'down', { region: 'eu-west-1' }), result('us-east-1z', 'down')];
    expect(run(settings, [stray, stray, stray]).transitions).toEqual([]);
  });

  it('judgeRound reports no verdict without results', () => {
    expect(judgeRound([], settings).verdict).toBe('none');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The April 2011 us-east-1 timeline (PLAYBOOK.md), scripted into the probe results its effects imply.
// ---------------------------------------------------------------------------------------------------------------

interface Effect {
  zone?: string;
  region?: string;
  service: string;
  api?: string | string[];
  apiErrorRate?: number;
  latencyMs?: number;
  connectivity?: string;
}
interface Scenario {
  zones: string[];
  events: { at: number; effects: Effect[] }[];
}

// The repository's copy of the playbook timeline (src/scenarios/builtin); the playbook's own as a fallback.
const scenarioPath = [
  join(import.meta.dirname, '../scenarios/builtin/us-east-1-2011.yaml'),
  '/work/shared/scenarios/us-east-1-2011.yaml',
].find((p) => existsSync(p));
if (!scenarioPath) throw new Error('us-east-1-2011.yaml not found');
const scenario = parse(readFileSync(scenarioPath, 'utf8')) as Scenario;

/**
 * What each probe would have seen at `t` (ms after the event): per zone, the service endpoint (`api`, latency
 * budget 1 s; slow EBS or degraded EC2 connectivity make it slow), the EBS API error rate of the operator's own calls
 * in that zone (`control-plane`, threshold 0.2) and EC2's zone state (AWS never marked the zones impaired in 2011:
 * always `available`); per region, the control-plane error rate of region-wide API effects.
 */
function probesAt(t: number): ProbeResult[] {
  const zoneFx = new Map<string, Effect>();
  const regionFx = new Map<string, Effect>();
  for (const ev of scenario.events) {
    if (ev.at * 60_000 > t) break;
    for (const fx of ev.effects) {
      const key = `${fx.zone ?? fx.region}|${fx.service}|${String(fx.api ?? '')}`;
      const map = fx.zone ? zoneFx : regionFx;
      map.set(key, { ...map.get(key), ...fx });
    }
  }
  const out: ProbeResult[] = [];
  for (const zone of scenario.zones) {
    const ebs = zoneFx.get(`${zone}|ebs|`);
    const ec2 = zoneFx.get(`${zone}|ec2|`);
    const slow = (ebs?.latencyMs ?? 20) > 1000 || ec2?.connectivity === 'degraded';
    out.push(
      result(zone, slow ? 'degraded' : 'ok', { at: t, detail: slow ? 'status 200, over budget 1000ms' : 'status 200' }),
    );
    const errorRate = ebs?.apiErrorRate ?? 0;
    out.push(
      result(zone, errorRate >= 0.2 ? 'degraded' : 'ok', {
        probe: 'control-plane',
        kind: 'aws-api',
        at: t,
        detail: `ebs API error rate ${errorRate}`,
      }),
    );
    out.push(result(zone, 'ok', { probe: 'ec2', kind: 'ec2-zone', at: t, detail: 'state available' }));
  }
  const regionRate = Math.max(0, ...[...regionFx.values()].map((fx) => fx.apiErrorRate ?? 0));
  out.push(
    result(undefined, regionRate >= 0.2 ? 'degraded' : 'ok', {
      probe: 'control-plane',
      kind: 'aws-api',
      at: t,
      detail: `region API error rate ${regionRate}`,
    }),
  );
  return out;
}

describe('us-east-1-2011 timeline at a 5 s interval', () => {
  const settings = resolveHealthSettings({ intervalSeconds: 5, failureThreshold: 2, recoveryThreshold: 12 });
  const interval = settings.intervalMs;
  const min = 60_000;
  const history: { t: number; state: HealthState; transitions: HealthTransition[] }[] = [];
  let state = createHealthState(settings, topology);
  for (let t = interval; t <= 1815 * min; t += interval) {
    const out = observeRound(state, settings, probesAt(t), t);
    state = out.state;
    history.push({ t, state, transitions: out.transitions });
  }
  const firstTime = (pred: (s: HealthState) => boolean, after = 0) =>
    history.find((h) => h.t >= after && pred(h.state))?.t;

  it('detects us-east-1a and us-east-1b Degraded within 2 probe intervals of at:0, long before the first update at 46', () => {
    expect(firstTime((s) => zoneState(s, 'us-east-1a') !== 'Healthy')).toBe(2 * interval);
    expect(firstTime((s) => zoneState(s, 'us-east-1b') !== 'Healthy')).toBe(2 * interval);
    expect(firstTime((s) => zoneState(s, 'us-east-1c') !== 'Healthy')).toBeUndefined();
  });

  it('declares the region Impaired (2 of 3 zones) once the failure persists', () => {
    expect(firstTime((s) => regionState(s, E1) === 'Impaired')).toBe(settings.impairedAfterRounds * interval);
    expect(regionState(history.find((h) => h.t === 46 * min)!.state, E1)).toBe('Impaired');
  });

  it('returns us-east-1b to Healthy only after its recovery window following at:194', () => {
    const healthyAt = firstTime((s) => zoneState(s, 'us-east-1b') === 'Healthy', 194 * min);
    // The first passing round is the one at 194 min itself; the 12th passing round is 11 intervals later.
    expect(healthyAt).toBe(194 * min + (settings.recoveryThreshold - 1) * interval);
    const before = history.filter((h) => h.t > 10_000 && h.t < healthyAt!);
    expect(before.every((h) => zoneState(h.state, 'us-east-1b') !== 'Healthy')).toBe(true);
    const change = history.flatMap((h) => h.transitions).find((t) => t.name === 'us-east-1b' && t.to === 'Healthy');
    expect(change?.reasons[0]).toContain('12 consecutive passing rounds');
  });

  it('keeps us-east-1a Impaired until the next day, then recovers it after its window', () => {
    const aHealthy = firstTime((s) => zoneState(s, 'us-east-1a') === 'Healthy', 30_000);
    expect(aHealthy).toBe(1800 * min + (settings.recoveryThreshold - 1) * interval);
  });

  it('each zone changes state only a handful of times over 30 hours (no flapping)', () => {
    const all = history.flatMap((h) => h.transitions).filter((t) => t.scope === 'zone');
    expect(all.filter((t) => t.name === 'us-east-1a').map((t) => t.to)).toEqual(['Degraded', 'Impaired', 'Healthy']);
    expect(all.filter((t) => t.name === 'us-east-1b').map((t) => t.to)).toEqual(['Degraded', 'Impaired', 'Healthy']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

type Step = 'ok' | 'degraded' | 'down' | 'ec2-down' | 'none';
const stepArb = fc.constantFrom<Step>('ok', 'degraded', 'down', 'ec2-down', 'none');
const settingsArb = fc
  .record({
    failureThreshold: fc.integer({ min: 1, max: 4 }),
    recoveryThreshold: fc.integer({ min: 1, max: 10 }),
    extra: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ failureThreshold, recoveryThreshold, extra }) =>
    resolveHealthSettings({ failureThreshold, recoveryThreshold, impairedAfterRounds: failureThreshold + extra }),
  );
// Biased towards runs of the same step, so thresholds are actually reached.
const stepsArb = fc
  .array(fc.tuple(stepArb, fc.integer({ min: 1, max: 14 })), { maxLength: 25 })
  .map((runs) => runs.flatMap(([s, n]) => Array<Step>(n).fill(s)));

function stepResults(step: Step): ProbeResult[] {
  switch (step) {
    case 'none':
      return [];
    case 'ec2-down':
      return [result('us-east-1a', 'down', { probe: 'ec2', kind: 'ec2-zone' })];
    default:
      return [result('us-east-1a', step)];
  }
}

/** Zone states after each step, and the zone's transitions with their step index. */
function replay(settings: HealthSettings, steps: Step[]) {
  const rounds = steps.map(stepResults);
  const { states, transitions } = run(settings, rounds);
  const zoneT = transitions
    .filter((t) => t.scope === 'zone' && t.name === 'us-east-1a')
    .map((t) => ({ ...t, i: t.at / 5000 - 1 }));
  return { states: states.map((s) => zoneState(s, 'us-east-1a')), transitions: zoneT, final: states.at(-1) };
}

/** Steps with evidence (not 'none') ending at index i, most recent first. */
function evidenceBefore(steps: Step[], i: number): Step[] {
  return steps
    .slice(0, i + 1)
    .filter((s) => s !== 'none')
    .reverse();
}

describe('health model properties', () => {
  it('never leaves Healthy without failureThreshold consecutive failed rounds', () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        for (const t of replay(settings, steps).transitions.filter((t) => t.from === 'Healthy')) {
          const recent = evidenceBefore(steps, t.i).slice(0, settings.failureThreshold);
          expect(recent).toHaveLength(settings.failureThreshold);
          expect(recent.every((s) => s !== 'ok')).toBe(true);
        }
      }),
    );
  });

  it('never returns to Healthy without recoveryThreshold consecutive passing rounds', () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        for (const t of replay(settings, steps).transitions.filter((t) => t.to === 'Healthy')) {
          const recent = evidenceBefore(steps, t.i).slice(0, settings.recoveryThreshold);
          expect(recent).toHaveLength(settings.recoveryThreshold);
          expect(recent.every((s) => s === 'ok')).toBe(true);
        }
      }),
    );
  });

  it('does not flap faster than the thresholds allow', () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        const ts = replay(settings, steps).transitions;
        for (let k = 1; k < ts.length; k++) {
          const gap = ts[k]!.i - ts[k - 1]!.i;
          if (ts[k]!.to === 'Healthy') expect(gap).toBeGreaterThanOrEqual(settings.recoveryThreshold);
          if (ts[k]!.from === 'Healthy') expect(gap).toBeGreaterThanOrEqual(settings.failureThreshold);
        }
        // And a sustained failure is always noticed: a run of failureThreshold failing steps leaves Healthy.
      }),
    );
  });

  it('a sustained failure is always detected within failureThreshold rounds', () => {
    fc.assert(
      fc.property(
        settingsArb,
        stepsArb,
        fc.constantFrom<Step>('down', 'degraded', 'ec2-down'),
        (settings, prefix, bad) => {
          const steps = [...prefix, ...Array<Step>(settings.failureThreshold).fill(bad)];
          expect(replay(settings, steps).states.at(-1)).not.toBe('Healthy');
        },
      ),
    );
  });

  it('the same inputs give the same outputs, and the input state is never mutated', () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        const first = replay(settings, steps);
        const second = replay(settings, steps);
        expect(second).toEqual(first);
        const frozen = deepFreeze(createHealthState(settings, topology));
        expect(() => observeRound(frozen, settings, stepResults(steps[0] ?? 'down'), 5000)).not.toThrow();
      }),
    );
  });

  it('a region is Impaired only when enough of its zones are (PB-2)', () => {
    const zoneSteps = fc.array(fc.tuple(stepArb, stepArb, stepArb), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(settingsArb, zoneSteps, (settings, rounds) => {
        const { states } = run(
          settings,
          rounds.map(([a, b, c]) => [
            ...stepResults(a),
            ...stepResults(b).map((r) => ({ ...r, zone: 'us-east-1b' })),
            ...stepResults(c).map((r) => ({ ...r, zone: 'us-east-1c' })),
          ]),
        );
        for (const s of states) {
          const impaired = s.zones.filter((z) => z.region === E1 && z.state === 'Impaired').length;
          expect(regionState(s, E1) === 'Impaired').toBe(impaired >= 2);
        }
      }),
    );
  });
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
