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
  observeResults,
  resolveHealthSettings,
  staleAfterMs,
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

/** Folds batches 5 s apart (one per probe interval); returns the state history (after each) and all transitions. */
function run(
  settings: HealthSettings,
  rounds: ProbeResult[][],
  start: HealthState = createHealthState(settings, topology),
) {
  let state = start;
  const states: HealthState[] = [];
  const transitions: HealthTransition[] = [];
  rounds.forEach((results, i) => {
    const out = observeResults(state, settings, results, (i + 1) * 5000);
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

describe('observeResults: scripted sequences', () => {
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
    expect(zoneT[0]!.reasons[0]).toBe('2 consecutive failures of api (http) (failureThreshold 2, PB-9)');
    expect(zoneT[1]!.reasons[0]).toBe('4 consecutive failures of api (http) (impairedAfterRounds 4, PB-2)');
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
    const told = observeResults(noWriter.state, s, round(down), 15_000, {
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

  it('slow but answering keeps zones Degraded however long it lasts: never Impaired, so never a region failover', () => {
    const slow = round({ 'us-east-1a': 'degraded', 'us-east-1b': 'degraded', 'us-east-1c': 'degraded' });
    const { state, transitions } = run(
      settings,
      Array.from({ length: 40 }, () => slow),
    );
    expect(['us-east-1a', 'us-east-1b', 'us-east-1c'].map((z) => zoneState(state, z))).toEqual([
      'Degraded',
      'Degraded',
      'Degraded',
    ]);
    expect(regionState(state, E1)).toBe('Degraded');
    expect(transitions.some((t) => t.to === 'Impaired')).toBe(false);
    // The same zones timing out instead are Impaired after impairedAfterRounds, and so is the region.
    const down = round({ 'us-east-1a': 'down', 'us-east-1b': 'down' });
    const hard = run(settings, [...Array.from({ length: 3 }, () => slow), ...Array.from({ length: 4 }, () => down)]);
    expect(zoneState(hard.state, 'us-east-1a')).toBe('Impaired');
    expect(regionState(hard.state, E1)).toBe('Impaired');
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

  it('streaks are per probe: failures of different probes taking turns never add up', () => {
    // Old round semantics would call every round failed; no single probe ever fails twice in a row here.
    const turns = Array.from({ length: 12 }, (_, i) => [
      result('us-east-1a', i % 2 === 0 ? 'down' : 'ok'),
      result('us-east-1a', i % 2 === 0 ? 'ok' : 'degraded', { probe: 'control-plane', kind: 'aws-api' }),
    ]);
    expect(run(settings, turns).transitions).toEqual([]);
    // Each result advances only its own streak: a passing probe does not reset another probe's failures.
    const { state } = run(settings, [
      [result('us-east-1a', 'down'), result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' })],
      [result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' })],
      [result('us-east-1a', 'down'), result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' })],
    ]);
    expect(zoneState(state, 'us-east-1a')).toBe('Degraded');
    expect(state.zones[0]!.probes.map((p) => [p.key, p.failures, p.successes])).toEqual([
      ['operator|http/api', 2, 0],
      ['operator|ec2-zone/ec2', 0, 3],
    ]);
  });

  it('judges each result as it arrives, whatever the phase between probes', () => {
    // Two probes of one zone, 2.1 s apart; the zone is Degraded at the arrival of api's second failure.
    const s = resolveHealthSettings({ failureThreshold: 2, recoveryThreshold: 4 });
    let state = createHealthState(s, topology);
    const seen: [number, ZoneState][] = [];
    const arrivals: [number, ProbeResult][] = [
      [5000, result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' })],
      [7100, result('us-east-1a', 'down')],
      [10_000, result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' })],
      [12_100, result('us-east-1a', 'down')],
    ];
    for (const [at, r] of arrivals) {
      state = observeResults(state, s, [r], at).state;
      seen.push([at, zoneState(state, 'us-east-1a')]);
    }
    expect(seen).toEqual([
      [5000, 'Healthy'],
      [7100, 'Healthy'],
      [10_000, 'Healthy'],
      [12_100, 'Degraded'],
    ]);
    expect(state.zones[0]!.since).toBe(12_100);
  });

  it('one batch counts once per probe: a duplicate replaces the earlier result', () => {
    const twice = [result('us-east-1a', 'down', { detail: 'first' }), result('us-east-1a', 'down', { detail: 'last' })];
    const { state, transitions } = run(settings, [twice]);
    expect(transitions).toEqual([]);
    expect(state.zones[0]!.probes[0]).toMatchObject({ failures: 1, last: { detail: 'last' } });
  });

  it('a degraded result counts only with degradedProbesToFail degraded probes of its source at that moment', () => {
    const strict = resolveHealthSettings({ failureThreshold: 1, recoveryThreshold: 4, degradedProbesToFail: 2 });
    const slow = (probe: string, source = 'operator') =>
      result('us-east-1a', 'degraded', { probe, kind: 'aws-api', source, detail: `${probe} slow` });
    // Another source's degraded probe does not make two.
    expect(run(strict, [[slow('a')], [slow('b', 'eu-west-1')], [slow('a')]]).transitions).toEqual([]);
    // Same source: b's result finds a's latest result degraded, so b fails (and a, on its next result, too).
    const both = run(strict, [[slow('a')], [slow('b')]]);
    expect(zoneState(both.state, 'us-east-1a')).toBe('Degraded');
    expect(both.state.zones[0]!.probes.map((p) => [p.probe, p.failures])).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(both.transitions[0]!.reasons).toEqual([
      '1 consecutive failures of b (aws-api) (failureThreshold 1, PB-9)',
      'b (aws-api, degraded): b slow',
    ]);
  });

  it('a probe silent for a recovery window stops counting and starts a new streak when it returns (rule 3)', () => {
    const s = resolveHealthSettings({ failureThreshold: 2, recoveryThreshold: 3 });
    expect(staleAfterMs(s)).toBe(15_000);
    const drill = result('us-east-1a', 'down', { probe: 'drill', detail: 'drill: zone treated as failed' });
    const api = result('us-east-1a', 'ok', { probe: 'api' });
    // A drill fails the zone alongside a passing api probe, then stops (cleared): the zone recovers only once
    // the drill's last result is older than the recovery window — never on api's passes alone before that.
    const rounds = [...Array.from({ length: 4 }, () => [drill, api]), ...Array.from({ length: 6 }, () => [api])];
    const { states, transitions } = run(s, rounds);
    expect(states.map((x) => zoneState(x, 'us-east-1a'))).toEqual([
      'Healthy',
      'Degraded',
      'Degraded',
      'Impaired',
      'Impaired',
      'Impaired',
      'Impaired',
      'Healthy', // 40 s: the drill's last result (20 s) is past the 15 s window; api has passed 8 times
      'Healthy',
      'Healthy',
    ]);
    const back = transitions.find((t) => t.to === 'Healthy' && t.scope === 'zone');
    expect(back?.reasons).toEqual([
      'every probe passed at least 3 times in a row: 8 of api (http) (recoveryThreshold 3, PB-9)',
    ]);
    // Its next result starts a new streak: one failure after the silence is not two.
    const again = observeResults(states.at(-1)!, s, [drill], 55_000);
    expect(zoneState(again.state, 'us-east-1a')).toBe('Healthy');
    expect(again.state.zones[0]!.probes.find((p) => p.probe === 'drill')).toMatchObject({ failures: 1 });
  });

  it("keeps an unhealthy zone's reasons on what is failing now, under its transition line", () => {
    const s = resolveHealthSettings({ failureThreshold: 1, recoveryThreshold: 4, impairedAfterRounds: 10 });
    const { state } = run(s, [
      [result('us-east-1a', 'down', { detail: 'status 503' })],
      [result('us-east-1a', 'down', { detail: 'timeout after 2000ms' })],
    ]);
    expect(state.zones[0]!.reasons).toEqual([
      '1 consecutive failures of api (http) (failureThreshold 1, PB-9)',
      'api (http, down): timeout after 2000ms',
    ]);
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
 * budget 1 s, timeout 2 s; EBS I/O past the timeout makes it down, slow EBS or degraded EC2 connectivity slow), the EBS API error rate of the operator's own calls
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
    // Requests wait on the instance's EBS I/O: past the probe's 2 s timeout they are down, past the 1 s budget slow.
    const latencyMs = ebs?.latencyMs ?? 20;
    const endpoint: Verdict =
      latencyMs >= 2000 ? 'down' : latencyMs > 1000 || ec2?.connectivity === 'degraded' ? 'degraded' : 'ok';
    const detail = { ok: 'status 200', degraded: 'status 200, over budget 1000ms', down: 'timeout after 2000ms' };
    out.push(result(zone, endpoint, { at: t, detail: detail[endpoint] }));
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

describe('us-east-1-2011 timeline at a 5 s interval, results folded as they arrive', () => {
  const settings = resolveHealthSettings({ intervalSeconds: 5, failureThreshold: 2, recoveryThreshold: 12 });
  const interval = settings.intervalMs;
  const min = 60_000;
  // Every probe runs once per interval at its own phase (the scheduler's jittered start); each result is its own
  // batch, observed the moment it arrives.
  const probeCount = probesAt(0).length;
  const phase = (i: number) => ((i * 1237) % interval) + 1;
  const history: { t: number; state: HealthState; transitions: HealthTransition[] }[] = [];
  let state = createHealthState(settings, topology);
  for (let tick = 0; tick <= 1815 * min; tick += interval) {
    const arrivals = Array.from({ length: probeCount }, (_, i) => ({ i, t: tick + phase(i) })).sort(
      (x, y) => x.t - y.t,
    );
    for (const { i, t } of arrivals) {
      const out = observeResults(state, settings, [probesAt(t)[i]!], t);
      state = out.state;
      history.push({ t, state, transitions: out.transitions });
    }
  }
  const firstTime = (pred: (s: HealthState) => boolean, after = 0) =>
    history.find((h) => h.t >= after && pred(h.state))?.t;

  it('detects us-east-1a and us-east-1b Degraded within 2 probe intervals of at:0, long before the first update at 46', () => {
    for (const zone of ['us-east-1a', 'us-east-1b']) {
      const at = firstTime((s) => zoneState(s, zone) !== 'Healthy');
      expect(at).toBeGreaterThan(interval);
      expect(at).toBeLessThanOrEqual(2 * interval);
    }
    expect(firstTime((s) => zoneState(s, 'us-east-1c') !== 'Healthy')).toBeUndefined();
  });

  it('declares the region Impaired (2 of 3 zones) once the failure persists', () => {
    const at = firstTime((s) => regionState(s, E1) === 'Impaired');
    expect(at).toBeGreaterThan((settings.impairedAfterRounds - 1) * interval);
    expect(at).toBeLessThanOrEqual(settings.impairedAfterRounds * interval);
    expect(regionState(history.findLast((h) => h.t <= 46 * min)!.state, E1)).toBe('Impaired');
  });

  it('returns us-east-1b to Healthy only after its recovery window following at:194', () => {
    const healthyAt = firstTime((s) => zoneState(s, 'us-east-1b') === 'Healthy', 194 * min);
    // Each of the zone's probes first passes within an interval of 194 min; the last of them needs 11 more.
    expect(healthyAt).toBeGreaterThan(194 * min + (settings.recoveryThreshold - 1) * interval);
    expect(healthyAt).toBeLessThanOrEqual(194 * min + settings.recoveryThreshold * interval);
    const before = history.filter((h) => h.t > 2 * interval && h.t < healthyAt!);
    expect(before.every((h) => zoneState(h.state, 'us-east-1b') !== 'Healthy')).toBe(true);
    const change = history.flatMap((h) => h.transitions).find((t) => t.name === 'us-east-1b' && t.to === 'Healthy');
    expect(change?.reasons[0]).toMatch(/^every probe passed at least 12 times in a row: .*12 of /);
  });

  it('keeps us-east-1a Impaired until the next day, then recovers it after its window', () => {
    const aHealthy = firstTime((s) => zoneState(s, 'us-east-1a') === 'Healthy', 30_000);
    expect(aHealthy).toBeGreaterThan(1800 * min + (settings.recoveryThreshold - 1) * interval);
    expect(aHealthy).toBeLessThanOrEqual(1800 * min + settings.recoveryThreshold * interval);
  });

  it('each zone changes state only a handful of times over 30 hours (no flapping)', () => {
    const all = history.flatMap((h) => h.transitions).filter((t) => t.scope === 'zone');
    expect(all.filter((t) => t.name === 'us-east-1a').map((t) => t.to)).toEqual(['Degraded', 'Impaired', 'Healthy']);
    expect(all.filter((t) => t.name === 'us-east-1b').map((t) => t.to)).toEqual(['Degraded', 'Impaired', 'Healthy']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties. Steps are 5 s apart; each step delivers (at most) one result for us-east-1a, from one of two probes:
// the endpoint `api` (ok / degraded / down) and EC2's zone state (ec2-ok / ec2-down).
// ---------------------------------------------------------------------------------------------------------------

type Step = 'ok' | 'degraded' | 'down' | 'ec2-ok' | 'ec2-down' | 'none';
const stepArb = fc.constantFrom<Step>('ok', 'degraded', 'down', 'ec2-ok', 'ec2-down', 'none');
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
    case 'ec2-ok':
      return [result('us-east-1a', 'ok', { probe: 'ec2', kind: 'ec2-zone' })];
    case 'ec2-down':
      return [result('us-east-1a', 'down', { probe: 'ec2', kind: 'ec2-zone' })];
    default:
      return [result('us-east-1a', step)];
  }
}

const probeOf = (s: Step): 'api' | 'ec2' | undefined =>
  s === 'none' ? undefined : s.startsWith('ec2') ? 'ec2' : 'api';
const fails = (s: Step) => s === 'down' || s === 'degraded' || s === 'ec2-down';

/** Zone states after each step, and the zone's transitions with their step index. */
function replay(settings: HealthSettings, steps: Step[]) {
  const rounds = steps.map(stepResults);
  const { states, transitions } = run(settings, rounds);
  const zoneT = transitions
    .filter((t) => t.scope === 'zone' && t.name === 'us-east-1a')
    .map((t) => ({ ...t, i: t.at / 5000 - 1 }));
  return { states: states.map((s) => zoneState(s, 'us-east-1a')), transitions: zoneT, final: states.at(-1) };
}

/**
 * One probe's results up to step i, most recent first, cut where it was silent for longer than the recovery
 * window (rule 3: a stale probe starts a new streak), as [step index, step].
 */
function streakOf(steps: Step[], i: number, probe: 'api' | 'ec2', settings: HealthSettings): [number, Step][] {
  const window = staleAfterMs(settings) / 5000;
  const out: [number, Step][] = [];
  for (let j = i; j >= 0; j--) {
    const s = steps[j]!;
    if (probeOf(s) !== probe) continue;
    if (out.length > 0 && out.at(-1)![0] - j > window) break;
    if (out.length === 0 && i - j > window) break;
    out.push([j, s]);
  }
  return out;
}

describe('health model properties', () => {
  it('never leaves Healthy without failureThreshold consecutive failures of one probe', () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        for (const t of replay(settings, steps).transitions.filter((t) => t.from === 'Healthy')) {
          const probe = probeOf(steps[t.i]!);
          expect(probe).toBeDefined();
          const recent = streakOf(steps, t.i, probe!, settings).slice(0, settings.failureThreshold);
          expect(recent).toHaveLength(settings.failureThreshold);
          expect(recent.every(([, s]) => fails(s))).toBe(true);
        }
      }),
    );
  });

  it('never returns to Healthy without recoveryThreshold consecutive passes of every live probe', () => {
    fc.assert(
      fc.property(settingsArb, stepsArb, (settings, steps) => {
        for (const t of replay(settings, steps).transitions.filter((t) => t.to === 'Healthy')) {
          const live = (['api', 'ec2'] as const).map((p) => streakOf(steps, t.i, p, settings)).filter((s) => s.length);
          expect(live.length).toBeGreaterThan(0);
          for (const streak of live) {
            const recent = streak.slice(0, settings.recoveryThreshold);
            expect(recent).toHaveLength(settings.recoveryThreshold);
            expect(recent.every(([, s]) => !fails(s))).toBe(true);
          }
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
          // No Impaired → Degraded bounce.
          expect(ts[k]!.from === 'Impaired' && ts[k]!.to === 'Degraded').toBe(false);
        }
      }),
    );
  });

  it('a sustained failure is always detected within failureThreshold results of the failing probe', () => {
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
        const frozen = deepFreeze(run(settings, steps.map(stepResults)).state);
        expect(() => observeResults(frozen, settings, stepResults('down'), 1e9)).not.toThrow();
        expect(() => observeResults(frozen, settings, stepResults('ec2-ok'), 1e9)).not.toThrow();
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
