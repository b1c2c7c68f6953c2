// The health model: probe results in, zone and region states out (PB-2, PB-9). PURE: no I/O, no clock (time is
// the `now` argument), no mutation (the old state is never changed; a new one is returned). Same inputs, same
// outputs — the planner and the drill reports rely on it.
//
// A round is one call to observeRound with the results gathered since the previous call (normally one probe
// interval). The rules, per zone:
//
// 1. Judging a round. The zone's results are grouped by vantage point (`source`). A source FAILS the round when it
//    reports any `down` result, or when at least `degradedProbesToFail` distinct probes report `degraded` (a
//    leading signal: slow but answering, rising AWS API error rate, PB-1). So with the default of 1, one probe
//    over its latency budget fails the round; set 2 to require two independent slow signals. A probe that is
//    slow but within its budget reports ok and never counts — the budget is the policy's threshold. A round with
//    no result for the zone (all its probes still in flight) is no evidence: the counters stay as they are.
// 2. Healthy → Degraded after `failureThreshold` consecutive failed rounds.
// 3. → Impaired after `impairedAfterRounds` (default 2 × failureThreshold) consecutive rounds in which at least
//    `quorum` sources failed (default 1; several vantage points can be required to agree before a zone is declared
//    impaired, which is what moves traffic and databases), or — once failureThreshold is met — at once when EC2
//    itself reports the zone `impaired`/`unavailable` (an `ec2-zone` result with severity `down`): AWS's own word
//    needs no second opinion. Healthy can go straight to Impaired in one transition that way.
// 4. Degraded or Impaired → Healthy only after `recoveryThreshold` consecutive passing rounds (PB-9: recovery
//    must persist much longer than failure). A failed round resets the recovery count; there is no
//    Impaired → Degraded step, so an impaired zone cannot bounce through Degraded back to service.
//
// Per region: Impaired when at least `regionImpairedZones` of its zones are Impaired (capped at its zone count),
// or when the zone hosting the writable primary is Impaired together with one more zone (PB-2). Degraded when any
// zone is not Healthy, or when region-wide results (probes with no zone: a regional endpoint, the region's AWS API
// error rate, replica lag) have failed failureThreshold rounds in a row — with the same recovery hysteresis.
// Region-wide results alone never make a region Impaired: PB-2 decides per zone first.

import type { RegionName, ZoneName } from '../cloud/types.ts';
import type {
  HealthTransition,
  HealthView,
  ProbeResult,
  RegionHealth,
  RegionState,
  ZoneHealth,
  ZoneState,
} from './types.ts';

export interface HealthSettings {
  intervalMs: number;
  /** Consecutive failed rounds before Degraded. */
  failureThreshold: number;
  /** Consecutive passing rounds before Healthy again (PB-9). */
  recoveryThreshold: number;
  /** Consecutive quorum-failed rounds before Impaired; at least failureThreshold. */
  impairedAfterRounds: number;
  /** Impaired zones that make their region Impaired (PB-2). */
  regionImpairedZones: number;
  /** Distinct sources that must fail a round for it to count towards Impaired. */
  quorum: number;
  /** Distinct probes of one source reporting `degraded` needed for that source to fail the round. */
  degradedProbesToFail: number;
}

/** The policy's `spec.health` fields (DESIGN.md), plus the model's own knobs, all optional. */
export interface HealthSettingsInput {
  intervalSeconds?: number;
  failureThreshold?: number;
  recoveryThreshold?: number;
  impairedAfterRounds?: number;
  regionImpairedWhen?: { impairedZones?: number };
  quorum?: number;
  degradedProbesToFail?: number;
}

export const HEALTH_DEFAULTS = {
  intervalSeconds: 5,
  failureThreshold: 2,
  recoveryThreshold: 12,
  regionImpairedZones: 2,
  quorum: 1,
  degradedProbesToFail: 1,
} as const;

function positiveInt(value: number | undefined, fallback: number, field: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`health.${field} must be a positive integer, got ${v}`);
  return v;
}

/** Fills defaults and checks ranges. Maps `spec.health` of a FailoverPolicy directly. */
export function resolveHealthSettings(input: HealthSettingsInput = {}): HealthSettings {
  const intervalSeconds = input.intervalSeconds ?? HEALTH_DEFAULTS.intervalSeconds;
  if (!(intervalSeconds > 0)) throw new RangeError(`health.intervalSeconds must be > 0, got ${intervalSeconds}`);
  const failureThreshold = positiveInt(input.failureThreshold, HEALTH_DEFAULTS.failureThreshold, 'failureThreshold');
  const impairedAfterRounds = Math.max(
    failureThreshold,
    positiveInt(input.impairedAfterRounds, 2 * failureThreshold, 'impairedAfterRounds'),
  );
  return {
    intervalMs: intervalSeconds * 1000,
    failureThreshold,
    recoveryThreshold: positiveInt(input.recoveryThreshold, HEALTH_DEFAULTS.recoveryThreshold, 'recoveryThreshold'),
    impairedAfterRounds,
    regionImpairedZones: positiveInt(
      input.regionImpairedWhen?.impairedZones,
      HEALTH_DEFAULTS.regionImpairedZones,
      'regionImpairedWhen.impairedZones',
    ),
    quorum: positiveInt(input.quorum, HEALTH_DEFAULTS.quorum, 'quorum'),
    degradedProbesToFail: positiveInt(
      input.degradedProbesToFail,
      HEALTH_DEFAULTS.degradedProbesToFail,
      'degradedProbesToFail',
    ),
  };
}

export interface ZoneRef {
  region: RegionName;
  zone: ZoneName;
}

export interface HealthTopology {
  regions: { name: RegionName; zones: ZoneName[] }[];
  /** The zone hosting the writable primary, if known (PB-2's "writer zone plus one more"). */
  writerZone?: ZoneRef;
}

interface Streak {
  /** Consecutive rounds with at least one failing source. */
  readonly failures: number;
  /** Consecutive rounds with at least `quorum` failing sources. */
  readonly quorumFailures: number;
  /** Consecutive passing rounds. */
  readonly successes: number;
}

export interface ZoneTrack extends Streak {
  readonly name: ZoneName;
  readonly region: RegionName;
  readonly state: ZoneState;
  readonly since: number;
  readonly reasons: readonly string[];
}

export interface RegionTrack {
  readonly name: RegionName;
  readonly zones: readonly ZoneName[];
  readonly state: RegionState;
  readonly since: number;
  readonly reasons: readonly string[];
  /** Hysteresis over region-wide results (no zone). */
  readonly signal: Streak & { readonly degraded: boolean; readonly reasons: readonly string[] };
}

export interface HealthState {
  readonly zones: readonly ZoneTrack[];
  readonly regions: readonly RegionTrack[];
  readonly writerZone?: ZoneRef;
  readonly rounds: number;
}

const EMPTY_STREAK: Streak = { failures: 0, quorumFailures: 0, successes: 0 };

/** Every zone and region starts Healthy at `since` (default 0): no evidence is not a failure. */
export function createHealthState(_settings: HealthSettings, topology: HealthTopology, since = 0): HealthState {
  return {
    zones: topology.regions.flatMap((r) =>
      r.zones.map((z) => ({ name: z, region: r.name, state: 'Healthy' as const, since, reasons: [], ...EMPTY_STREAK })),
    ),
    regions: topology.regions.map((r) => ({
      name: r.name,
      zones: [...r.zones],
      state: 'Healthy' as const,
      since,
      reasons: [],
      signal: { ...EMPTY_STREAK, degraded: false, reasons: [] },
    })),
    ...(topology.writerZone ? { writerZone: topology.writerZone } : {}),
    rounds: 0,
  };
}

/** Records where the writable primary now lives (after a promotion); pure. */
export function withWriterZone(state: HealthState, writerZone: ZoneRef | undefined): HealthState {
  const { writerZone: _old, ...rest } = state;
  return writerZone ? { ...rest, writerZone } : rest;
}

export interface RoundVerdict {
  /** 'none': no results for the target this round. */
  verdict: 'pass' | 'fail' | 'none';
  failingSources: number;
  /** EC2 reported the zone impaired/unavailable this round. */
  authoritativeDown: boolean;
  /** The counted failing results, as `probe: detail` lines, sorted. */
  evidence: string[];
}

/** Judges one target's results for one round (rule 1 above). Exported for tests and drill reports. */
export function judgeRound(results: readonly ProbeResult[], settings: HealthSettings): RoundVerdict {
  if (results.length === 0) return { verdict: 'none', failingSources: 0, authoritativeDown: false, evidence: [] };
  const bySource = new Map<string, ProbeResult[]>();
  for (const r of results) {
    const list = bySource.get(r.source) ?? [];
    list.push(r);
    bySource.set(r.source, list);
  }
  let failingSources = 0;
  let authoritativeDown = false;
  const evidence = new Set<string>();
  for (const [source, list] of bySource) {
    const down = list.filter((r) => !r.ok && r.severity !== 'degraded');
    const degraded = list.filter((r) => !r.ok && r.severity === 'degraded');
    const degradedProbes = new Set(degraded.map((r) => `${r.kind}/${r.probe}`));
    const counted = [...down, ...(degradedProbes.size >= settings.degradedProbesToFail ? degraded : [])];
    if (counted.length === 0) continue;
    failingSources++;
    if (down.some((r) => r.kind === 'ec2-zone')) authoritativeDown = true;
    for (const r of counted) evidence.add(describeResult(r, source));
  }
  return {
    verdict: failingSources > 0 ? 'fail' : 'pass',
    failingSources,
    authoritativeDown,
    evidence: [...evidence].sort(),
  };
}

function describeResult(r: ProbeResult, source: string): string {
  const from = source === 'operator' ? '' : ` [from ${source}]`;
  return `${r.probe} (${r.kind}, ${r.severity ?? 'down'}): ${r.detail}${from}`;
}

function nextStreak(s: Streak, v: RoundVerdict, settings: HealthSettings): Streak {
  if (v.verdict === 'none') return s;
  if (v.verdict === 'pass') return { failures: 0, quorumFailures: 0, successes: s.successes + 1 };
  const quorumMet = v.failingSources >= settings.quorum || v.authoritativeDown;
  return { failures: s.failures + 1, quorumFailures: quorumMet ? s.quorumFailures + 1 : 0, successes: 0 };
}

function nextZoneState(
  current: ZoneState,
  s: Streak,
  v: RoundVerdict,
  settings: HealthSettings,
): { state: ZoneState; why: string } {
  const recovered = s.successes >= settings.recoveryThreshold;
  const failedEnough = s.failures >= settings.failureThreshold;
  const impaired =
    v.verdict === 'fail' && failedEnough && (s.quorumFailures >= settings.impairedAfterRounds || v.authoritativeDown);
  const impairedWhy = v.authoritativeDown
    ? `EC2 reports the zone impaired after ${s.failures} consecutive failed rounds (PB-2)`
    : `${s.quorumFailures} consecutive failed rounds (impairedAfterRounds ${settings.impairedAfterRounds}${settings.quorum > 1 ? `, quorum ${settings.quorum}` : ''}, PB-2)`;
  switch (current) {
    case 'Healthy':
      if (impaired) return { state: 'Impaired', why: impairedWhy };
      if (failedEnough) {
        return {
          state: 'Degraded',
          why: `${s.failures} consecutive failed rounds (failureThreshold ${settings.failureThreshold}, PB-9)`,
        };
      }
      return { state: 'Healthy', why: '' };
    case 'Degraded':
      if (impaired) return { state: 'Impaired', why: impairedWhy };
      if (recovered) return { state: 'Healthy', why: recoveredWhy(s, settings) };
      return { state: 'Degraded', why: '' };
    case 'Impaired':
      if (recovered) return { state: 'Healthy', why: recoveredWhy(s, settings) };
      return { state: 'Impaired', why: '' };
  }
}

function recoveredWhy(s: Streak, settings: HealthSettings): string {
  return `${s.successes} consecutive passing rounds (recoveryThreshold ${settings.recoveryThreshold}, PB-9)`;
}

export interface RoundOutcome {
  state: HealthState;
  view: HealthView;
  transitions: HealthTransition[];
}

export interface ObserveOptions {
  /** Overrides the state's writer zone for this and later rounds (e.g. after a promotion). */
  writerZone?: ZoneRef;
}

/**
 * Folds one round of probe results into the state. Results for zones or regions outside the topology are ignored.
 * Transitions are ordered: zones (topology order), then regions.
 */
export function observeRound(
  state: HealthState,
  settings: HealthSettings,
  results: readonly ProbeResult[],
  now: number,
  options: ObserveOptions = {},
): RoundOutcome {
  const base = options.writerZone ? withWriterZone(state, options.writerZone) : state;
  const zoneResults = new Map<string, ProbeResult[]>();
  const regionResults = new Map<RegionName, ProbeResult[]>();
  for (const r of results) {
    if (r.zone === undefined) {
      const list = regionResults.get(r.region) ?? [];
      list.push(r);
      regionResults.set(r.region, list);
    } else {
      const k = zoneKey(r.region, r.zone);
      const list = zoneResults.get(k) ?? [];
      list.push(r);
      zoneResults.set(k, list);
    }
  }

  const transitions: HealthTransition[] = [];
  const zones = base.zones.map((z): ZoneTrack => {
    const v = judgeRound(zoneResults.get(zoneKey(z.region, z.name)) ?? [], settings);
    const streak = nextStreak(z, v, settings);
    const next = nextZoneState(z.state, streak, v, settings);
    if (next.state !== z.state) {
      const reasons = next.state === 'Healthy' ? [next.why] : [next.why, ...v.evidence];
      transitions.push({
        scope: 'zone',
        name: z.name,
        region: z.region,
        from: z.state,
        to: next.state,
        at: now,
        reasons,
      });
      return { ...z, ...streak, state: next.state, since: now, reasons };
    }
    // While unhealthy and still failing, keep the reasons current (what is failing now), without the counters,
    // so the status does not churn every round.
    const reasons = next.state !== 'Healthy' && v.verdict === 'fail' ? [z.reasons[0] ?? '', ...v.evidence] : z.reasons;
    return { ...z, ...streak, reasons: sameList(reasons, z.reasons) ? z.reasons : reasons };
  });

  const regions = base.regions.map((r): RegionTrack => {
    const v = judgeRound(regionResults.get(r.name) ?? [], settings);
    const streak = nextStreak(r.signal, v, settings);
    let degraded = r.signal.degraded;
    if (!degraded && streak.failures >= settings.failureThreshold) degraded = true;
    else if (degraded && streak.successes >= settings.recoveryThreshold) degraded = false;
    const signalReasons = degraded ? (v.verdict === 'fail' ? v.evidence : r.signal.reasons) : [];
    const signal = { ...streak, degraded, reasons: signalReasons };

    const mine = zones.filter((z) => z.region === r.name);
    const derived = regionStateFrom(mine, signal, base.writerZone, settings);
    if (derived.state !== r.state) {
      transitions.push({
        scope: 'region',
        name: r.name,
        region: r.name,
        from: r.state,
        to: derived.state,
        at: now,
        reasons: derived.reasons,
      });
      return { ...r, signal, state: derived.state, since: now, reasons: derived.reasons };
    }
    return { ...r, signal, reasons: sameList(derived.reasons, r.reasons) ? r.reasons : derived.reasons };
  });

  const next: HealthState = { ...base, zones, regions, rounds: base.rounds + 1 };
  return { state: next, view: healthView(next, now), transitions };
}

function regionStateFrom(
  zones: readonly ZoneTrack[],
  signal: RegionTrack['signal'],
  writerZone: ZoneRef | undefined,
  settings: HealthSettings,
): { state: RegionState; reasons: string[] } {
  const impaired = zones.filter((z) => z.state === 'Impaired').map((z) => z.name);
  const threshold = Math.min(settings.regionImpairedZones, zones.length);
  const writerImpaired =
    writerZone !== undefined &&
    zones.some((z) => z.region === writerZone.region && z.name === writerZone.zone && z.state === 'Impaired');
  if (impaired.length > 0 && impaired.length >= threshold) {
    return {
      state: 'Impaired',
      reasons: [
        `${impaired.length} of ${zones.length} zones impaired: ${impaired.join(', ')} (threshold ${threshold}, PB-2)`,
      ],
    };
  }
  if (writerImpaired && impaired.length >= 2) {
    return {
      state: 'Impaired',
      reasons: [
        `zone ${writerZone.zone} hosting the writable primary and ${impaired.length - 1} more impaired: ${impaired.join(', ')} (PB-2)`,
      ],
    };
  }
  const unhealthy = zones.filter((z) => z.state !== 'Healthy');
  if (unhealthy.length > 0 || signal.degraded) {
    return {
      state: 'Degraded',
      reasons: [
        ...unhealthy.map((z) => `zone ${z.name} ${z.state}`),
        ...(signal.degraded ? signal.reasons.map((s) => `region-wide: ${s}`) : []),
      ],
    };
  }
  return { state: 'Healthy', reasons: [] };
}

/** The planner's view of a state, as of `at`. */
export function healthView(state: HealthState, at: number): HealthView {
  return {
    at,
    zones: state.zones.map(
      (z): ZoneHealth => ({ name: z.name, region: z.region, state: z.state, since: z.since, reasons: [...z.reasons] }),
    ),
    regions: state.regions.map(
      (r): RegionHealth => ({ name: r.name, state: r.state, since: r.since, reasons: [...r.reasons] }),
    ),
  };
}

function zoneKey(region: RegionName, zone: ZoneName): string {
  return `${region}/${zone}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
