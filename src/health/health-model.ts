// The health model: probe results in, zone and region states out (PB-1, PB-2, PB-9). PURE: no I/O, no clock (time
// is the `now` argument), no mutation (the old state is never changed; a new one is returned). Same inputs, same
// outputs — the planner and the drill reports rely on it.
//
// Results are folded in AS THEY ARRIVE (observeResults, one call per batch the probe scheduler delivers), not in
// rounds cut by a timer: a timer adds up to one interval of phase between a probe seeing a fault and the model
// hearing of it, which would break PB-1's "within two probe intervals". The rules:
//
// 1. Streaks. Each target (a zone, or a region for region-wide results: no zone) keeps one streak per probe,
//    keyed by vantage point, probe and subject (`source` + `kind/probe` + the DB instance a result names, so two
//    instances never share a streak): its consecutive failures, its consecutive passes, its consecutive hard-down
//    results (rule 7), its latest real answer (rule 2) and its latest result. An arriving result advances ONLY its
//    own probe's streak: a failure adds one to its failures and zeroes its passes, a pass does the opposite. One
//    batch counts at most once per probe and target (a duplicate in the same batch replaces the earlier one).
// 2. What fails. `down` (unreachable, timed out, reported impaired) always fails. `degraded` (a leading signal:
//    slow but answering, rising AWS API error rate, PB-1) fails only if, at that moment, at least
//    `degradedProbesToFail` distinct probes of the same source on the same target have a latest result that is
//    `degraded` (this one included). So with the default of 1, one probe over its latency budget fails; set 2 to
//    require two independent slow signals. A `degraded` result below that count, and `ok`, are passes. A probe that
//    is slow but within its budget reports ok — the budget is the policy's threshold.
//    Gray timeouts: a timeout of a probe whose latest real answer (ok or degraded), within the last staleAfterMs,
//    took at least half the timeout is not "down" but the slow tail of a slow endpoint (latency around the timeout
//    edge times out every other round). It counts as `degraded`, never as down: for rule 5 and for rule 7. A
//    blackout — fast answers, then nothing — still times out as `down` from the first result, exactly as fast as
//    before; the price is that a slow endpoint which then dies is judged by its slowness until its last answer is
//    staleAfterMs old.
// 3. Silence. No result is no evidence: a streak stays as it is while its probe is quiet (in flight, skipped). A
//    probe silent for longer than one recovery window (recoveryThreshold × interval) is stale: it no longer counts
//    in rules 4–7, and its next result starts a new streak (so a probe that stopped reporting — a cleared drill, a
//    zone whose instances are gone — cannot hold a zone down forever, nor trip it on its first result back).
// 4. Healthy → Degraded when any probe's failure streak reaches `failureThreshold` (PB-9).
// 5. → Impaired when at least `quorum` distinct sources each have a probe whose failure streak reaches
//    `impairedAfterRounds` (default 2 × failureThreshold; several vantage points can be required to agree before a
//    zone is declared impaired, which is what moves traffic and databases) with its latest result `down` — slow
//    but answering (`degraded` alone) keeps a zone Degraded, never Impaired: a brownout must not promote a
//    database in another region — or when EC2 itself reports the zone
//    impaired/unavailable: an `ec2-zone` probe whose failure streak reaches failureThreshold with its latest
//    result `down`. AWS's own word needs no second opinion; Healthy can go straight to Impaired in one step so.
// 6. Degraded or Impaired → Healthy only when EVERY (non-stale) probe of the zone has at least `recoveryThreshold`
//    consecutive passes (PB-9: recovery must persist much longer than failure). Any failure restarts that probe's
//    count; there is no Impaired → Degraded step, so an impaired zone cannot bounce through Degraded back to
//    service.
// 7. Evidence for irreversible steps (RegionHealth.evidence, read by the planner before a promotion, PB-6). Only
//    hard-down results count: `down` and not a gray timeout, and for the AWS API probes (ec2, rds, aws-api) never a
//    call that failed or timed out — a control-plane error says nothing about the target. Judged afresh on every
//    batch, from the non-stale streaks of the region's zones and of the region itself:
//    - dataPlaneDownZones: zones where `quorum` sources each have an endpoint probe (http, tcp) with
//      `impairedAfterRounds` consecutive hard-down results;
//    - metadataImpairedZones: zones EC2 reports impaired (the ec2-zone condition of rule 5), informational only;
//    - downDatabases: DB instances whose connect probe (rds-connect) has `failureThreshold` consecutive hard-down
//      results, or that RDS itself reported failed / missing (rds) `failureThreshold` times in a row.
//    Zone and region states do not read it: EC2's word still impairs a zone (draining is cheap and reversible);
//    the planner decides what moves a database.
// A target's state is re-judged only when a result for it arrives; transitions carry the probes and values behind
// them, and an unhealthy zone's reasons follow what is failing now.
//
// Per region: Impaired when at least `regionImpairedZones` of its zones are Impaired (capped at its zone count),
// or when the zone hosting the writable primary is Impaired together with one more zone (PB-2). Degraded when any
// zone is not Healthy, or when the region-wide signal is degraded: region-wide results (a regional endpoint, the
// region's AWS API error rate, replica lag, RDS) follow rules 1–4, 6 and 7 with the same thresholds. Region-wide
// results alone never make a region Impaired: PB-2 decides per zone first.

import type { RegionName, ZoneName } from '../cloud/types.ts';
import { OPERATOR_SOURCE } from './probe.ts';
import type {
  HealthTransition,
  HealthView,
  ProbeKind,
  ProbeResult,
  RegionEvidence,
  RegionHealth,
  RegionState,
  ZoneHealth,
  ZoneState,
} from './types.ts';

export interface HealthSettings {
  intervalMs: number;
  /** Consecutive failures of one probe before Degraded. */
  failureThreshold: number;
  /** Consecutive passes of every probe before Healthy again (PB-9). */
  recoveryThreshold: number;
  /** Consecutive failures of one probe (per source, `quorum` sources) before Impaired; at least failureThreshold. */
  impairedAfterRounds: number;
  /** Impaired zones that make their region Impaired (PB-2). */
  regionImpairedZones: number;
  /** Distinct sources that must each have a probe failing impairedAfterRounds times before Impaired. */
  quorum: number;
  /** Distinct probes of one source whose latest result is `degraded` needed for a `degraded` result to fail. */
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

/** One probe's streak on one target (rule 1). */
export interface ProbeStreak {
  /** `source|kind/probe`, plus `#subject` when the results name one. */
  readonly key: string;
  readonly probe: string;
  readonly kind: ProbeKind;
  readonly source: string;
  readonly subject?: string;
  /** Consecutive results that failed (rule 2). */
  readonly failures: number;
  /** Consecutive results that passed. */
  readonly successes: number;
  /** Consecutive hard-down results (rule 7). */
  readonly hardDowns: number;
  /** The latest real answer (ok, or degraded but answering): `now` when seen and its latency (rule 2). */
  readonly lastAnswer?: { readonly at: number; readonly latencyMs: number };
  /** The latest result, as judged: a gray timeout is recorded as `degraded` (rule 2). */
  readonly last: ProbeResult;
  /** `now` when the latest result was observed (rule 3). */
  readonly seenAt: number;
}

export interface ZoneTrack {
  readonly name: ZoneName;
  readonly region: RegionName;
  readonly state: ZoneState;
  readonly since: number;
  readonly reasons: readonly string[];
  readonly probes: readonly ProbeStreak[];
}

export interface RegionTrack {
  readonly name: RegionName;
  readonly zones: readonly ZoneName[];
  readonly state: RegionState;
  readonly since: number;
  readonly reasons: readonly string[];
  /** Rule 7, as of the latest batch. */
  readonly evidence: RegionEvidence;
  /** Hysteresis over region-wide results (no zone). */
  readonly signal: {
    readonly probes: readonly ProbeStreak[];
    readonly degraded: boolean;
    readonly reasons: readonly string[];
  };
}

export interface HealthState {
  readonly zones: readonly ZoneTrack[];
  readonly regions: readonly RegionTrack[];
  readonly writerZone?: ZoneRef;
}

/** Every zone and region starts Healthy at `since` (default 0): no evidence is not a failure. */
export function createHealthState(_settings: HealthSettings, topology: HealthTopology, since = 0): HealthState {
  return {
    zones: topology.regions.flatMap((r) =>
      r.zones.map((z) => ({ name: z, region: r.name, state: 'Healthy' as const, since, reasons: [], probes: [] })),
    ),
    regions: topology.regions.map((r) => ({
      name: r.name,
      zones: [...r.zones],
      state: 'Healthy' as const,
      since,
      reasons: [],
      evidence: NO_EVIDENCE,
      signal: { probes: [], degraded: false, reasons: [] },
    })),
    ...(topology.writerZone ? { writerZone: topology.writerZone } : {}),
  };
}

/** Records where the writable primary now lives (after a promotion); pure. */
export function withWriterZone(state: HealthState, writerZone: ZoneRef | undefined): HealthState {
  const { writerZone: _old, ...rest } = state;
  return writerZone ? { ...rest, writerZone } : rest;
}

/** How long a silent probe's streak still speaks for its target: one recovery window (rule 3). */
export function staleAfterMs(settings: HealthSettings): number {
  return settings.recoveryThreshold * settings.intervalMs;
}

function isFresh(p: ProbeStreak, now: number, settings: HealthSettings): boolean {
  return now - p.seenAt <= staleAfterMs(settings);
}

function isDegraded(r: ProbeResult): boolean {
  return !r.ok && r.severity === 'degraded';
}

const NO_EVIDENCE: RegionEvidence = { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] };

function streakKey(r: ProbeResult): string {
  return `${r.source}|${r.kind}/${r.probe}${r.subject === undefined ? '' : `#${r.subject}`}`;
}

/** Probes that ask an AWS API: a call of theirs that fails or times out is a control-plane error (rule 7). */
const CONTROL_PLANE_KINDS: ReadonlySet<ProbeKind> = new Set([
  'ec2-zone',
  'ec2-instances',
  'rds',
  'replica-lag',
  'aws-api',
]);

/** A real answer from the target, slow or not (rule 2): what tells a gray timeout from a blackout. */
function isAnswer(r: ProbeResult): boolean {
  return !r.timedOut && !r.callFailed && (r.ok || r.severity === 'degraded');
}

/** Rule 2's gray timeout: the result as judged, `degraded` instead of `down`, or the result itself. */
function judged(r: ProbeResult, prev: ProbeStreak | undefined, now: number, settings: HealthSettings): ProbeResult {
  if (r.ok || !r.timedOut || r.severity !== 'down') return r;
  const answer = prev?.lastAnswer;
  const timeoutMs = r.timeoutMs ?? r.latencyMs;
  if (!answer || timeoutMs === undefined || now - answer.at > staleAfterMs(settings)) return r;
  if (answer.latencyMs < timeoutMs / 2) return r;
  return {
    ...r,
    severity: 'degraded',
    detail: `${r.detail} (gray: the last answer took ${answer.latencyMs}ms of the ${timeoutMs}ms timeout — slow, not down)`,
  };
}

/** Rule 7: down, not a gray timeout, and for AWS API probes an answer of the API rather than its failure. */
function isHardDown(r: ProbeResult): boolean {
  if (r.ok || r.severity !== 'down' || r.callFailed) return false;
  return !(r.timedOut && CONTROL_PLANE_KINDS.has(r.kind));
}

/** Advances the result's own probe streak (rules 1–3); the other probes of the target are left as they are. */
function advance(
  probes: readonly ProbeStreak[],
  arrived: ProbeResult,
  now: number,
  settings: HealthSettings,
): ProbeStreak[] {
  const key = streakKey(arrived);
  const i = probes.findIndex((p) => p.key === key);
  const existing = probes[i];
  const prev = existing && isFresh(existing, now, settings) ? existing : undefined;
  const r = judged(arrived, prev, now, settings);
  let failed: boolean;
  if (r.ok) failed = false;
  else if (!isDegraded(r)) failed = true;
  else {
    const othersDegraded = probes.filter(
      (p) => p.key !== key && p.source === r.source && isFresh(p, now, settings) && isDegraded(p.last),
    ).length;
    failed = 1 + othersDegraded >= settings.degradedProbesToFail;
  }
  const lastAnswer = isAnswer(r) ? { at: now, latencyMs: r.latencyMs ?? 0 } : prev?.lastAnswer;
  const next: ProbeStreak = {
    key,
    probe: r.probe,
    kind: r.kind,
    source: r.source,
    ...(r.subject === undefined ? {} : { subject: r.subject }),
    failures: failed ? (prev?.failures ?? 0) + 1 : 0,
    successes: failed ? 0 : (prev?.successes ?? 0) + 1,
    hardDowns: isHardDown(r) ? (prev?.hardDowns ?? 0) + 1 : 0,
    ...(lastAnswer ? { lastAnswer } : {}),
    last: r,
    seenAt: now,
  };
  if (i < 0) return [...probes, next];
  const out = [...probes];
  out[i] = next;
  return out;
}

function label(p: ProbeStreak): string {
  return `${p.probe} (${p.kind})${p.source === OPERATOR_SOURCE ? '' : ` [from ${p.source}]`}`;
}

function describeResult(r: ProbeResult): string {
  const from = r.source === OPERATOR_SOURCE ? '' : ` [from ${r.source}]`;
  return `${r.probe} (${r.kind}, ${r.severity ?? 'down'}): ${r.detail}${from}`;
}

/** The failing probes' latest results, as `probe (kind, severity): detail` lines, sorted. */
function evidenceOf(fresh: readonly ProbeStreak[]): string[] {
  return [...new Set(fresh.filter((p) => p.failures > 0).map((p) => describeResult(p.last)))].sort();
}

function failuresWhy(probes: readonly ProbeStreak[]): string {
  return probes.map((p) => `${p.failures} consecutive failures of ${label(p)}`).join(', ');
}

function recoveredWhy(fresh: readonly ProbeStreak[], settings: HealthSettings): string {
  const passes = fresh.map((p) => `${p.successes} of ${label(p)}`).join(', ');
  return `every probe passed at least ${settings.recoveryThreshold} times in a row: ${passes} (recoveryThreshold ${settings.recoveryThreshold}, PB-9)`;
}

/** Rule 5's AWS word: an ec2-zone probe failing failureThreshold times, its latest result `down`. */
function ec2ReportsImpaired(p: ProbeStreak, settings: HealthSettings): boolean {
  return p.kind === 'ec2-zone' && p.failures >= settings.failureThreshold && !p.last.ok && !isDegraded(p.last);
}

/** Rule 7 for one region, from the non-stale streaks of its zones and of the region itself. */
function regionEvidence(
  zones: readonly ZoneTrack[],
  signal: RegionTrack['signal'],
  now: number,
  settings: HealthSettings,
): RegionEvidence {
  const dataPlaneDownZones: ZoneName[] = [];
  const metadataImpairedZones: ZoneName[] = [];
  const downDatabases = new Set<string>();
  const noteDatabases = (fresh: readonly ProbeStreak[]) => {
    for (const p of fresh) {
      if (p.subject === undefined || (p.kind !== 'rds' && p.kind !== 'rds-connect')) continue;
      if (p.hardDowns >= settings.failureThreshold) downDatabases.add(p.subject);
    }
  };
  for (const z of zones) {
    const fresh = z.probes.filter((p) => isFresh(p, now, settings));
    const sources = new Set(
      fresh
        .filter((p) => (p.kind === 'http' || p.kind === 'tcp') && p.hardDowns >= settings.impairedAfterRounds)
        .map((p) => p.source),
    );
    if (sources.size > 0 && sources.size >= settings.quorum) dataPlaneDownZones.push(z.name);
    if (fresh.some((p) => ec2ReportsImpaired(p, settings))) metadataImpairedZones.push(z.name);
    noteDatabases(fresh);
  }
  noteDatabases(signal.probes.filter((p) => isFresh(p, now, settings)));
  return {
    dataPlaneDownZones: dataPlaneDownZones.sort(),
    metadataImpairedZones: metadataImpairedZones.sort(),
    downDatabases: [...downDatabases].sort(),
  };
}

function sameEvidence(a: RegionEvidence, b: RegionEvidence): boolean {
  return (
    sameList(a.dataPlaneDownZones, b.dataPlaneDownZones) &&
    sameList(a.metadataImpairedZones, b.metadataImpairedZones) &&
    sameList(a.downDatabases, b.downDatabases)
  );
}

/** Rules 4–6 for one zone, from its non-stale probe streaks. */
function nextZoneState(
  current: ZoneState,
  fresh: readonly ProbeStreak[],
  settings: HealthSettings,
): { state: ZoneState; why: string } {
  const failing = fresh.filter((p) => p.failures >= settings.failureThreshold);
  const ec2Down = fresh.filter((p) => ec2ReportsImpaired(p, settings));
  // Only hard failures impair: a zone that is slow but answering (degraded results alone) stays Degraded, which
  // already drains it, but never counts towards a region being Impaired — that would promote a database (PB-2).
  const longFailing = fresh.filter(
    (p) => p.failures >= settings.impairedAfterRounds && !p.last.ok && !isDegraded(p.last),
  );
  const sources = new Set(longFailing.map((p) => p.source));
  const recovered = fresh.length > 0 && fresh.every((p) => p.successes >= settings.recoveryThreshold);

  const impaired = (): { state: ZoneState; why: string } | undefined => {
    if (ec2Down.length > 0) {
      return { state: 'Impaired', why: `EC2 reports the zone impaired: ${failuresWhy(ec2Down)} (PB-2)` };
    }
    if (sources.size >= settings.quorum) {
      const from = sources.size > 1 ? ` from ${sources.size} sources` : '';
      const quorum = settings.quorum > 1 ? `, quorum ${settings.quorum}` : '';
      return {
        state: 'Impaired',
        why: `${failuresWhy(longFailing)}${from} (impairedAfterRounds ${settings.impairedAfterRounds}${quorum}, PB-2)`,
      };
    }
    return undefined;
  };
  switch (current) {
    case 'Healthy': {
      const worse = failing.length > 0 ? impaired() : undefined;
      if (worse) return worse;
      if (failing.length > 0) {
        return {
          state: 'Degraded',
          why: `${failuresWhy(failing)} (failureThreshold ${settings.failureThreshold}, PB-9)`,
        };
      }
      return { state: 'Healthy', why: '' };
    }
    case 'Degraded': {
      const worse = impaired();
      if (worse) return worse;
      if (recovered) return { state: 'Healthy', why: recoveredWhy(fresh, settings) };
      return { state: 'Degraded', why: '' };
    }
    case 'Impaired':
      if (recovered) return { state: 'Healthy', why: recoveredWhy(fresh, settings) };
      return { state: 'Impaired', why: '' };
  }
}

export interface ObserveOutcome {
  state: HealthState;
  view: HealthView;
  transitions: HealthTransition[];
}

export interface ObserveOptions {
  /** Overrides the state's writer zone for this and later observations (e.g. after a promotion). */
  writerZone?: ZoneRef;
}

/**
 * Folds one batch of probe results — normally what one probe run delivered, as it arrives — into the state, and
 * re-judges the targets they concern. Results for zones or regions outside the topology are ignored. Transitions
 * are ordered: zones (topology order), then regions.
 */
export function observeResults(
  state: HealthState,
  settings: HealthSettings,
  results: readonly ProbeResult[],
  now: number,
  options: ObserveOptions = {},
): ObserveOutcome {
  const base = options.writerZone ? withWriterZone(state, options.writerZone) : state;
  // Per target, the batch's latest result per probe (rule 1), in arrival order.
  const byTarget = new Map<string, Map<string, ProbeResult>>();
  for (const r of results) {
    const target = r.zone === undefined ? r.region : zoneKey(r.region, r.zone);
    const perProbe = byTarget.get(target) ?? new Map<string, ProbeResult>();
    perProbe.set(streakKey(r), r);
    byTarget.set(target, perProbe);
  }
  const fold = (probes: readonly ProbeStreak[], batch: Map<string, ProbeResult>): readonly ProbeStreak[] => {
    let out = probes;
    for (const r of batch.values()) out = advance(out, r, now, settings);
    return out;
  };

  const transitions: HealthTransition[] = [];
  const zones = base.zones.map((z): ZoneTrack => {
    const batch = byTarget.get(zoneKey(z.region, z.name));
    if (!batch) return z;
    const probes = fold(z.probes, batch);
    const fresh = probes.filter((p) => isFresh(p, now, settings));
    const next = nextZoneState(z.state, fresh, settings);
    const evidence = evidenceOf(fresh);
    if (next.state !== z.state) {
      const reasons = next.state === 'Healthy' ? [next.why] : [next.why, ...evidence];
      transitions.push({
        scope: 'zone',
        name: z.name,
        region: z.region,
        from: z.state,
        to: next.state,
        at: now,
        reasons,
      });
      return { ...z, probes, state: next.state, since: now, reasons };
    }
    // While unhealthy and still failing, keep the reasons current (what is failing now) under the transition's
    // own first line, so the status says what is wrong without churning on every result.
    const reasons = next.state !== 'Healthy' && evidence.length > 0 ? [z.reasons[0] ?? '', ...evidence] : z.reasons;
    return { ...z, probes, reasons: sameList(reasons, z.reasons) ? z.reasons : reasons };
  });

  const regions = base.regions.map((r): RegionTrack => {
    const batch = byTarget.get(r.name);
    let signal = r.signal;
    if (batch) {
      const probes = fold(r.signal.probes, batch);
      const fresh = probes.filter((p) => isFresh(p, now, settings));
      let degraded = r.signal.degraded;
      if (!degraded && fresh.some((p) => p.failures >= settings.failureThreshold)) degraded = true;
      else if (degraded && fresh.length > 0 && fresh.every((p) => p.successes >= settings.recoveryThreshold)) {
        degraded = false;
      }
      const evidence = evidenceOf(fresh);
      const reasons = degraded ? (evidence.length > 0 ? evidence : r.signal.reasons) : [];
      signal = { probes, degraded, reasons: sameList(reasons, r.signal.reasons) ? r.signal.reasons : reasons };
    }
    const mine = zones.filter((z) => z.region === r.name);
    const derived = regionStateFrom(mine, signal, base.writerZone, settings);
    const judgedEvidence = regionEvidence(mine, signal, now, settings);
    const evidence = sameEvidence(judgedEvidence, r.evidence) ? r.evidence : judgedEvidence;
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
      return { ...r, signal, evidence, state: derived.state, since: now, reasons: derived.reasons };
    }
    if (signal === r.signal && evidence === r.evidence && sameList(derived.reasons, r.reasons)) return r;
    return { ...r, signal, evidence, reasons: sameList(derived.reasons, r.reasons) ? r.reasons : derived.reasons };
  });

  const next: HealthState = { ...base, zones, regions };
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
      (r): RegionHealth => ({
        name: r.name,
        state: r.state,
        since: r.since,
        reasons: [...r.reasons],
        evidence: {
          dataPlaneDownZones: [...r.evidence.dataPlaneDownZones],
          metadataImpairedZones: [...r.evidence.metadataImpairedZones],
          downDatabases: [...r.evidence.downDatabases],
        },
      }),
    ),
  };
}

function zoneKey(region: RegionName, zone: ZoneName): string {
  return `${region}/${zone}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
