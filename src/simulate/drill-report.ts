// The drill report (PB-12): detection time, time to traffic shifted, RTO, RPO, actions, skipped actions, playbook
// violations and the scenario's expectations, judged from the timeline AND from the simulated cloud's own
// evidence (its call log and its database state) — so a report cannot pass just because the operator believes
// it behaved. Pure apart from reading the finished simulation.

import { isZoneTargetedOperation } from '../act/zone-guard.ts';
import type { FailoverPolicy, FailoverPolicyStatus } from '../api/index.ts';
import type { SimCloud } from '../cloud/sim/sim-cloud.ts';
import { rfc3339 } from '../health/health-status.ts';
import type { Effect, Expectation, Scenario } from '../scenarios/scenario-schema.ts';
import { type BaselineComparison, type BaselineResult, runBaselines } from './baselines/baselines.ts';
import { formatFaultTime, type TimelineEntry } from './timeline.ts';

/** What an action did, as data (`--output json` prints it as an object). */
export interface ReportActionDetail {
  /** SetWeights: the weight set per record (setIdentifier). */
  weights?: Record<string, number>;
}

export interface ReportAction {
  /** The vantage that did it, in a simulation with several (spec.vantagePoints). */
  vantage?: string;
  kind: string;
  target: string;
  zone?: string;
  region?: string;
  rule: string;
  /** Seconds from the first fault (T+0). */
  at: number;
  detail?: ReportActionDetail;
}

export interface ReportSkip {
  vantage?: string;
  kind: string;
  target: string;
  zone?: string;
  rule: string;
  reason: string;
  /** Seconds from the first fault (T+0). */
  at: number;
}

export interface ExpectationResult {
  check: string;
  text: string;
  passed: boolean;
  detail: string;
}

/**
 * One time frame throughout: every `at` (actions, skipped, violations) and every time in the expectations' details
 * is in seconds from the scenario's first fault, `T+0`, whose clock time is `faultAt`. The measures (detection,
 * traffic shifted, RTO) are durations from the first fault on what was detected, at `measuredFromSeconds`.
 */
export interface DrillReport {
  scenario: string;
  policy: string;
  passed: boolean;
  /** Clock time (RFC 3339) of the first fault: T+0. */
  faultAt: string;
  /** Scenario seconds of the first fault (scenario second 0 is the scenario's minute 0). */
  faultScenarioSeconds: number;
  /**
   * Seconds from T+0 of the fault the measures count from: the first fault on the zone or region that was detected
   * first (a control-plane fault at T+0 does not make a zone outage two hours later take two hours to detect).
   */
  measuredFromSeconds: number;
  /** Seconds from the fault the measures count from (`measuredFromSeconds`) to the first zone leaving Healthy. */
  detectionSeconds: number | null;
  /**
   * Seconds from the same fault to the first weight change INSYNC in the simulated Route 53, or for a drain through
   * health checks to the resolvers' answers moving (what users see), not to the end of the operator's action; null
   * when traffic had not moved by the end of the run.
   */
  trafficShiftedSeconds: number | null;
  /** Seconds from the same fault to service restored (traffic off the bad zones; writer moved if needed). */
  rtoSeconds: number | null;
  /** Replication lag at promotion: writes possibly lost. 0 when no promotion was needed. */
  rpoSeconds: number | null;
  actions: ReportAction[];
  skipped: ReportSkip[];
  /** `at`: seconds from the first fault (T+0), when the violation has a time. */
  violations: Array<{ rule: string; message: string; at?: number }>;
  expectations: ExpectationResult[];
  finalPhase?: string;
  activeWriter?: { region: string; dbInstanceIdentifier: string };
  durationSeconds: number;
  /**
   * Route 53 health-check failover (10 s and 30 s intervals) and a k8gb-style GSLB controller, replayed over the
   * same endpoint faults of the same run, measured from the same fault (src/simulate/baselines/baselines.ts). A
   * simulation always sets it; a report built from a live drill's status has none.
   */
  baselines?: BaselineResult[];
  /** Our side of the baselines' ratios (ours ÷ theirs), on their basis: times until clients moved (+ TTL). */
  baselineComparison?: BaselineComparison;
  /**
   * A simulation with several vantage points (#14): PromoteReadReplica calls that reached the simulated cloud, from
   * its own call log, across every vantage (at most one per failover).
   */
  promoteReadReplicaCalls?: number;
  /** Each vantage: where it ran, whether it died, what it did and what it reported (times from the first fault). */
  vantages?: ReportVantage[];
}

export interface ReportVantage {
  name: string;
  region?: string;
  /** Seconds from the first fault when its operator died (vantageDown). */
  downAt?: number;
  /** Actions it performed from the first fault on. */
  actions: number;
  /** PromoteReadReplica calls it sent that reached the cloud (accepted: the cloud started the promotion). */
  promoteCalls: number;
  promoteCallsAccepted: number;
  /** Its first zone or region leaving Healthy in its own view, seconds from the first fault. */
  detectedAt: number | null;
  /** VantageDisagreement Events: it saw worse than the members agreed on and did not act on it. */
  disagreements: number;
  /** ActingAlone Events: fewer than quorum members were fresh. */
  actingAlone: number;
}

/** A vantage of the simulation, as run-simulation ran it; times in scenario seconds. */
export interface VantageRunInfo {
  name: string;
  region?: string;
  downAt?: number;
  promoteCalls: Array<{ at: number; target: string; ok: boolean }>;
}

/** What resolvers answered from `at` (scenario seconds) on: each set identifier's share of answers. */
export interface AnswerSample {
  at: number;
  share: Record<string, number>;
}

export interface ReportInputs {
  scenario: Scenario;
  policy: FailoverPolicy;
  timeline: TimelineEntry[];
  sim: SimCloud;
  /** The resolvers' answers over the run, one sample per change (the simulation samples every second). */
  answers?: AnswerSample[];
  finalStatus: FailoverPolicyStatus | undefined;
  /** Clock time (epoch ms) of scenario minute 0. */
  epochMs: number;
  endsAtSeconds: number;
  /** The run's seed: the baselines draw their own dice from it. Default 1. */
  seed?: number;
  /** The vantages of a simulation with several (spec.vantagePoints); absent with one operator. */
  vantages?: VantageRunInfo[];
}

export function buildDrillReport(inp: ReportInputs): DrillReport {
  const { scenario, policy, timeline, finalStatus } = inp;
  const intervalSeconds = policy.spec.health.intervalSeconds;
  const faultAt = Math.round(Math.min(...scenario.events.map((e) => e.at * 60)));
  const actions: ReportAction[] = timeline
    .filter((e) => e.kind === 'action' && e.action)
    .map((e) => ({
      ...(e.vantage === undefined ? {} : { vantage: e.vantage }),
      kind: e.action!.kind,
      target: e.action!.target,
      ...(e.action!.zone === undefined ? {} : { zone: e.action!.zone }),
      ...(e.action!.region === undefined ? {} : { region: e.action!.region }),
      rule: e.rule ?? '',
      at: e.at,
      ...(e.action!.weights ? { detail: { weights: { ...e.action!.weights } } } : {}),
    }));
  const skipped: ReportSkip[] = timeline
    .filter((e) => e.kind === 'skip')
    .map((e) => ({
      ...(e.vantage === undefined ? {} : { vantage: e.vantage }),
      kind: e.action?.kind ?? 'unknown',
      target: e.action?.target ?? '',
      ...(e.action?.zone === undefined ? {} : { zone: e.action.zone }),
      rule: e.rule ?? '',
      reason: e.message,
      at: e.at,
    }));
  // Detection: the first zone — or, for a control-plane brownout, region — that left Healthy after the fault.
  const firstDetection = timeline.find((e) => e.kind === 'health' && e.at >= faultAt && e.state !== 'Healthy');
  // Measured from the first fault on what was detected, not from the scenario's first event: a control-plane fault
  // at minute 0 does not make a zone outage at minute 120 take two hours to detect.
  const origin =
    (firstDetection ? firstFaultOn(scenario, firstDetection, policy, firstDetection.at) : undefined) ?? faultAt;
  const firstShift = actions.find((a) => (a.kind === 'SetWeights' || a.kind === 'SetVerdicts') && a.at >= origin);
  const shiftedAt =
    firstShift === undefined
      ? undefined
      : firstShift.kind === 'SetVerdicts'
        ? answersMovedAt(inp, firstShift.at)
        : trafficShiftedAt(inp, origin, firstShift.at);
  const promotions = actions.filter((a) => a.kind === 'PromoteReplica');
  const failedOverAt = timeline.find((e) => e.kind === 'phase' && e.state === 'FailedOver' && e.at >= origin)?.at;
  const rto = promotions.length > 0 ? failedOverAt : shiftedAt;
  const lag = finalStatus?.lastFailover?.rpoSeconds;
  const rpo = promotions.length > 0 ? (lag === undefined ? null : Math.round(lag * 10) / 10) : 0;

  const t = (scenarioSeconds: number) => formatFaultTime(scenarioSeconds - faultAt);
  const ctx: CheckContext = { ...inp, actions, skipped, intervalSeconds, faultAt, t };
  const violations = findViolations(ctx);
  const expectations = (scenario.expect ?? [])
    .filter((e): e is Exclude<Expectation, string> => typeof e !== 'string')
    .map((e) => judge(e, ctx));
  const detectionSeconds = firstDetection ? firstDetection.at - origin : null;
  const trafficShiftedSeconds = shiftedAt === undefined ? null : shiftedAt - origin;
  const rtoSeconds = rto === undefined ? null : rto - origin;
  const { baselines, comparison } = runBaselines({
    zones: baselineZones(inp).map((zone) => ({ zone, history: inp.sim.endpoints.conditionHistory(zone) })),
    startMs: inp.epochMs,
    fromMs: inp.epochMs + origin * 1000,
    untilMs: inp.epochMs + inp.endsAtSeconds * 1000,
    ttlSeconds: weightedRecordTtl(inp),
    seed: inp.seed ?? 1,
    ours: { detectionSeconds, trafficShiftedSeconds, rtoSeconds },
    promoted: promotions.length > 0,
  });
  // Judged in scenario seconds (the timeline's and the scenario's frame); reported in seconds from the fault.
  const fromFault = <T extends { at: number }>(x: T): T => ({ ...x, at: x.at - faultAt });
  return {
    scenario: scenario.name,
    policy: `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name}`,
    passed: violations.length === 0 && expectations.every((e) => e.passed),
    faultAt: rfc3339(inp.epochMs + faultAt * 1000),
    faultScenarioSeconds: faultAt,
    measuredFromSeconds: origin - faultAt,
    detectionSeconds,
    trafficShiftedSeconds,
    rtoSeconds,
    rpoSeconds: rpo,
    actions: actions.map(fromFault),
    skipped: skipped.map(fromFault),
    violations: violations.map((v) => (v.at === undefined ? v : fromFault({ ...v, at: v.at }))),
    expectations,
    ...(finalStatus?.phase ? { finalPhase: finalStatus.phase } : {}),
    ...(finalStatus?.activeWriter ? { activeWriter: finalStatus.activeWriter } : {}),
    durationSeconds: inp.endsAtSeconds,
    baselines,
    baselineComparison: comparison,
    ...(inp.vantages ? vantageSummary(ctx, inp.vantages) : {}),
  };
}

/** The vantages' part of the report: who did what, and the promotions the cloud received from all of them. */
function vantageSummary(
  ctx: CheckContext,
  vantages: VantageRunInfo[],
): Pick<DrillReport, 'vantages' | 'promoteReadReplicaCalls'> {
  const fromFault = (s: number) => s - ctx.faultAt;
  return {
    promoteReadReplicaCalls: promoteCallsOf(ctx).length,
    vantages: vantages.map((v) => {
      const own = ctx.timeline.filter((e) => e.vantage === v.name && e.at >= ctx.faultAt);
      const detected = own.find((e) => e.kind === 'health' && e.state !== 'Healthy');
      return {
        name: v.name,
        ...(v.region === undefined ? {} : { region: v.region }),
        ...(v.downAt === undefined ? {} : { downAt: fromFault(v.downAt) }),
        actions: own.filter((e) => e.kind === 'action').length,
        promoteCalls: v.promoteCalls.length,
        promoteCallsAccepted: v.promoteCalls.filter((c) => c.ok).length,
        detectedAt: detected ? fromFault(detected.at) : null,
        disagreements: own.filter((e) => e.kind === 'vantage' && e.reason === 'VantageDisagreement').length,
        actingAlone: own.filter((e) => e.kind === 'vantage' && e.reason === 'ActingAlone').length,
      };
    }),
  };
}

/** Every PromoteReadReplica that reached the simulated cloud (accepted or refused), from its call log. */
function promoteCallsOf(ctx: CheckContext) {
  return ctx.sim.calls.writes().filter((c) => c.operation === 'PromoteReadReplica');
}

/** TTL used when the policy has no weighted records to read one from (the simulated records' TTL). */
const DEFAULT_RECORD_TTL_SECONDS = 60;

/** The zones a baseline checks: those with a zone record, else every zone of the policy's regions. */
function baselineZones(inp: ReportInputs): string[] {
  const records = inp.policy.spec.traffic?.route53.records ?? [];
  const zoned = records.map((r) => r.zone).filter((z): z is string => z !== undefined);
  return zoned.length > 0 ? [...new Set(zoned)] : inp.policy.spec.regions.flatMap((r) => r.zones);
}

/** The TTL of the policy's weighted records as the simulated Route 53 serves them: how long clients keep an answer. */
function weightedRecordTtl(inp: ReportInputs): number {
  const r53 = inp.policy.spec.traffic?.route53;
  if (r53 === undefined) return DEFAULT_RECORD_TTL_SECONDS;
  try {
    return inp.sim.dns.servedRecords(r53.hostedZoneId, r53.recordName, r53.type)[0]?.ttl ?? DEFAULT_RECORD_TTL_SECONDS;
  } catch {
    return DEFAULT_RECORD_TTL_SECONDS;
  }
}

/**
 * When resolvers first answered with moved weights: the INSYNC time of the first change to the policy's weighted
 * records submitted at or after the origin, read from the simulated Route 53 itself. Undefined when that change was
 * still PENDING at the end of the run. Without such a change in the cloud's log (an action that changed nothing),
 * the action's own end stands.
 */
function trafficShiftedAt(inp: ReportInputs, origin: number, actionAt: number): number | undefined {
  const r53 = inp.policy.spec.traffic?.route53;
  if (r53 === undefined) return actionAt;
  const name = r53.recordName.toLowerCase();
  const ids = new Set(r53.records.map((r) => r.setIdentifier));
  const fromMs = inp.epochMs + origin * 1000;
  const change = inp.sim.dns
    .changes()
    .find(
      (c) =>
        c.submittedAt >= fromMs &&
        c.hostedZoneId === r53.hostedZoneId &&
        c.records.some(
          (r) => r.name.toLowerCase() === name && r.setIdentifier !== undefined && ids.has(r.setIdentifier),
        ),
    );
  if (change === undefined) return actionAt;
  const at = Math.round((change.insyncAt - inp.epochMs) / 1000);
  return at <= inp.endsAtSeconds ? at : undefined;
}

/**
 * A data-plane drain moves no record: resolvers change their answers once the health checks follow the verdict
 * alarms. The first change of the answers at or after the verdicts were published; undefined when they had not
 * changed by the end of the run.
 */
function answersMovedAt(inp: ReportInputs, publishedAt: number): number | undefined {
  const samples = inp.answers ?? [];
  const before = [...samples].reverse().find((s) => s.at <= publishedAt);
  const moved = samples.find((s) => s.at > publishedAt && JSON.stringify(s.share) !== JSON.stringify(before?.share));
  return moved?.at;
}

interface CheckContext extends ReportInputs {
  actions: ReportAction[];
  skipped: ReportSkip[];
  intervalSeconds: number;
  /** Scenario seconds of the first fault. */
  faultAt: number;
  /** A scenario second as the report writes times: `T+12s` from the first fault. */
  t: (scenarioSeconds: number) => string;
}

const seconds = (ctx: CheckContext, epochMs: number) => Math.round((epochMs - ctx.epochMs) / 1000);

/** Set identifiers of the weighted records that serve a zone. */
function recordsOfZone(policy: FailoverPolicy, zone: string): string[] {
  return (policy.spec.traffic?.route53.records ?? []).filter((r) => r.zone === zone).map((r) => r.setIdentifier);
}

/** Scenario seconds when the first effect touching the zone (or its region as a whole) happened. */
function firstEffectOn(ctx: CheckContext, zone: string): number | undefined {
  return firstFaultOn(ctx.scenario, { scope: 'zone', name: zone }, ctx.policy, Number.POSITIVE_INFINITY);
}

/** Weight of the zone's records after each SetWeights, in order. */
function weightHistory(ctx: CheckContext, zone: string): Array<{ at: number; weight: number }> {
  const ids = recordsOfZone(ctx.policy, zone);
  const edits = ctx.actions
    .filter((a) => a.kind === 'SetWeights' && a.detail?.weights)
    .map((a) => {
      const w = a.detail!.weights!;
      return { at: a.at, weight: ids.reduce((sum, id) => sum + (w[id] ?? 0), 0), touched: ids.some((id) => id in w) };
    })
    .filter((h) => h.touched)
    .map(({ at, weight }) => ({ at, weight }));
  // A data-plane drain edits no weight: from the first verdicts on, the zone's share of the resolvers' answers is
  // its history (what a person querying DNS would see).
  const firstVerdicts = ctx.actions.find((a) => a.kind === 'SetVerdicts');
  if (firstVerdicts === undefined) return edits;
  const answered = (ctx.answers ?? [])
    .filter((s) => s.at >= firstVerdicts.at)
    .map((s) => ({ at: s.at, weight: ids.reduce((sum, id) => sum + (s.share[id] ?? 0), 0) }));
  return [...edits, ...answered].sort((x, y) => x.at - y.at);
}

/** Intervals (scenario seconds) when the operator held the zone Impaired. */
function impairedWindows(ctx: CheckContext, zone: string): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  let from: number | undefined;
  for (const e of ctx.timeline) {
    if (e.kind !== 'health' || e.scope !== 'zone' || e.name !== zone) continue;
    if (e.state === 'Impaired' && from === undefined) from = e.at;
    if (e.state !== 'Impaired' && from !== undefined) {
      windows.push([from, e.at]);
      from = undefined;
    }
  }
  if (from !== undefined) windows.push([from, Number.POSITIVE_INFINITY]);
  return windows;
}

/** From the first scenario effect on the zone until the operator held it Healthy again (or the end). */
function unhealthyWindows(ctx: CheckContext, zone: string): Array<[number, number]> {
  const from = firstEffectOn(ctx, zone);
  if (from === undefined) return [];
  const healthyAgain = ctx.timeline.find(
    (e) => e.kind === 'health' && e.scope === 'zone' && e.name === zone && e.state === 'Healthy' && e.at > from,
  );
  return [[from, healthyAgain?.at ?? Number.POSITIVE_INFINITY]];
}

/** The DB instance the writer record's served value (what resolvers answer) points at. */
function servedWriter(ctx: CheckContext): { id: string; region: string } | undefined {
  const route53 = ctx.policy.spec.traffic?.route53;
  const w = route53?.writerRecord;
  if (!route53 || !w) return undefined;
  const value = ctx.sim.dns.servedRecords(w.hostedZoneId ?? route53.hostedZoneId, w.recordName, w.type)[0]?.values[0];
  const db = ctx.sim.databases.instances().find((d) => d.endpoint !== undefined && d.endpoint === value);
  return db ? { id: db.id, region: db.region } : undefined;
}

function findViolations(ctx: CheckContext): DrillReport['violations'] {
  const out: DrillReport['violations'] = [];
  // PB-3: no zone-targeted write reached the simulated cloud in a zone while it was Impaired.
  // Zone-targeted operations are writes, which the call log keeps in full.
  for (const call of ctx.sim.calls.writes()) {
    if (!call.zone || !isZoneTargetedOperation(call.operation)) continue;
    const at = seconds(ctx, call.at);
    if (impairedWindows(ctx, call.zone).some(([a, b]) => at >= a && at < b)) {
      out.push({ rule: 'PB-3', message: `${call.operation} reached impaired zone ${call.zone}`, at });
    }
  }
  // PB-5: never all weights zero (Route 53 would then spread traffic over every record, dead ones included).
  for (const a of ctx.actions) {
    if (a.kind !== 'SetWeights' || !a.detail?.weights) continue;
    const w = Object.values(a.detail.weights);
    if (w.length > 0 && w.every((x) => x === 0)) out.push({ rule: 'PB-5', message: 'set every weight to 0', at: a.at });
  }
  // PB-7: a promotion is issued once per instance; never two writable primaries at the end.
  const promoted = new Map<string, number>();
  for (const a of ctx.actions.filter((x) => x.kind === 'PromoteReplica')) {
    promoted.set(a.target, (promoted.get(a.target) ?? 0) + 1);
  }
  for (const [target, n] of promoted) {
    if (n > 1) out.push({ rule: 'PB-7', message: `PromoteReadReplica issued ${n} times for ${target}` });
  }
  const promoteCalls = ctx.sim.calls.writes().filter((c) => c.operation === 'PromoteReadReplica' && c.ok);
  const perInstance = new Map<string, number>();
  for (const c of promoteCalls) perInstance.set(c.target ?? c.region, (perInstance.get(c.target ?? c.region) ?? 0) + 1);
  for (const [target, n] of perInstance) {
    if (n > 1) out.push({ rule: 'PB-7', message: `the cloud received PromoteReadReplica ${n} times for ${target}` });
  }
  if (ctx.vantages) {
    // Several vantages: the promotion lock lets one of them through per failover; a second attempt that reaches the
    // cloud, even one it refuses, is a race the lock should have stopped.
    const attempts = new Map<string, number>();
    for (const c of promoteCallsOf(ctx))
      attempts.set(c.target ?? c.region, (attempts.get(c.target ?? c.region) ?? 0) + 1);
    for (const [target, n] of attempts) {
      if (n > 1 && (perInstance.get(target) ?? 0) <= 1) {
        const who = ctx.vantages.map((v) => `${v.name} ${v.promoteCalls.length}`).join(', ');
        out.push({ rule: 'PB-7', message: `PromoteReadReplica reached the cloud ${n} times for ${target} (${who})` });
      }
    }
  }
  // PB-6: the promoted replica's lag was within the RPO budget.
  const maxLag = ctx.policy.spec.database?.rds.maxLagSeconds;
  const rpo = ctx.finalStatus?.lastFailover?.rpoSeconds;
  if (promoted.size > 0 && maxLag !== undefined && rpo !== undefined && rpo > maxLag) {
    out.push({ rule: 'PB-6', message: `promoted with ${rpo}s of replica lag, over the ${maxLag}s budget` });
  }
  // PB-8: no snapshots or backups "just in case" during an incident.
  for (const c of ctx.sim.calls.writes()) {
    if (c.operation === 'CreateDBSnapshot' || c.operation === 'CreateSnapshot') {
      out.push({ rule: 'PB-8', message: `${c.operation} called during the incident`, at: seconds(ctx, c.at) });
    }
  }
  return out;
}

function judge(e: Exclude<Expectation, string>, ctx: CheckContext): ExpectationResult {
  const text = e.text ?? e.check;
  const result = (passed: boolean, detail: string): ExpectationResult => ({ check: e.check, text, passed, detail });
  const zones = e.zones ?? (e.zone ? [e.zone] : []);
  switch (e.check) {
    case 'detect': {
      const within = e.withinSeconds ?? (e.withinIntervals ?? 2) * ctx.intervalSeconds;
      const parts = zones.map((z) => {
        const from = firstEffectOn(ctx, z) ?? ctx.faultAt;
        const seen = ctx.timeline.find(
          (t) => t.kind === 'health' && t.scope === 'zone' && t.name === z && t.state !== 'Healthy' && t.at >= from,
        );
        return { z, took: seen ? seen.at - from : undefined, at: seen?.at };
      });
      const ok = parts.every((p) => p.took !== undefined && p.took <= within);
      const seen = parts.map(
        (p) =>
          `${p.z} ${p.took === undefined || p.at === undefined ? 'never detected' : `after ${p.took}s (${ctx.t(p.at)})`}`,
      );
      return result(ok, `${seen.join(', ')} (budget ${within}s)`);
    }
    case 'drain': {
      const parts = zones.map((z) => ({
        z,
        at: weightHistory(ctx, z).find((h) => h.weight === 0 && h.at >= ctx.faultAt)?.at,
      }));
      return result(
        parts.every((p) => p.at !== undefined),
        parts.map((p) => `${p.z} ${p.at === undefined ? 'never drained' : `drained at ${ctx.t(p.at)}`}`).join(', '),
      );
    }
    case 'keep-serving': {
      const parts = zones.map((z) => ({ z, zeroAt: weightHistory(ctx, z).find((h) => h.weight === 0)?.at }));
      return result(
        parts.every((p) => p.zeroAt === undefined),
        parts
          .map((p) => `${p.z} ${p.zeroAt === undefined ? 'kept serving' : `drained at ${ctx.t(p.zeroAt)}`}`)
          .join(', '),
      );
    }
    case 'region-impaired': {
      const seen = ctx.timeline.find(
        (t) => t.kind === 'health' && t.scope === 'region' && t.name === e.region && t.state === 'Impaired',
      );
      return result(
        seen !== undefined,
        seen ? `${e.region} Impaired at ${ctx.t(seen.at)}` : `${e.region} never declared Impaired`,
      );
    }
    case 'promote': {
      const p = ctx.actions.filter((a) => a.kind === 'PromoteReplica' && a.region === e.region);
      return result(
        p.length === 1,
        p.length === 0
          ? `no promotion in ${e.region}`
          : `${p.length} promotion(s) in ${e.region}, first at ${ctx.t(p[0]!.at)}`,
      );
    }
    case 'no-promotion': {
      const p = ctx.actions.filter((a) => a.kind === 'PromoteReplica');
      return result(p.length === 0, p.length === 0 ? 'no promotion' : `${p.length} promotion(s)`);
    }
    case 'promotion-waits-for-lag': {
      const gate = ctx.timeline.find((t) => t.kind === 'gate' && t.rule === 'PB-6');
      const promo = ctx.actions.find((a) => a.kind === 'PromoteReplica' && a.region === e.region);
      const ok = gate !== undefined && (promo === undefined || promo.at >= gate.at);
      return result(
        ok,
        gate
          ? `waited on lag from ${ctx.t(gate.at)}${promo ? `, promoted at ${ctx.t(promo.at)}` : ', not promoted'}`
          : 'no PB-6 lag wait reported',
      );
    }
    case 'no-zone-targeted-writes': {
      // While impaired: from the first effect on the zone until the operator saw it Healthy again.
      const calls = ctx.sim.calls.writes().filter((c) => {
        if (c.zone === undefined || !zones.includes(c.zone) || !isZoneTargetedOperation(c.operation)) return false;
        const at = seconds(ctx, c.at);
        return unhealthyWindows(ctx, c.zone).some(([a, b]) => at >= a && at < b);
      });
      return result(
        calls.length === 0,
        calls.length === 0
          ? 'none'
          : calls.map((c) => `${c.operation} in ${c.zone} at ${ctx.t(seconds(ctx, c.at))}`).join(', '),
      );
    }
    case 'failback-traffic': {
      const z = e.zone ?? zones[0] ?? '';
      const history = weightHistory(ctx, z);
      const drained = history.find((h) => h.weight === 0);
      const back = drained ? history.find((h) => h.at > drained.at && h.weight > 0) : undefined;
      const notBefore = (e.notBeforeMinutes ?? 0) * 60;
      const ok = back !== undefined && back.at >= notBefore;
      return result(
        ok,
        back
          ? `traffic back to ${z} at ${ctx.t(back.at)} (not before ${ctx.t(notBefore)})`
          : `traffic never returned to ${z}`,
      );
    }
    case 'database-stays': {
      if (!ctx.policy.spec.database?.rds) return result(true, 'not applicable: the policy has no database');
      // The old primary may come back writable when its region recovers (RDS cannot make it read-only); what
      // matters is where the writer record sends writes (PB-7 fence), and that this is the instance in `region`.
      const writer = servedWriter(ctx);
      const ok = writer !== undefined && writer.region === e.region;
      return result(
        ok,
        writer
          ? `writer record points at ${writer.id} (${writer.region})`
          : 'writer record points at no known instance',
      );
    }
    case 'max-weight-changes': {
      const z = e.zone ?? zones[0] ?? '';
      const changes = weightHistory(ctx, z).filter((h, i, all) => i === 0 || h.weight !== all[i - 1]!.weight).length;
      return result(changes <= (e.count ?? 0), `${changes} weight change(s) for ${z} (at most ${e.count ?? 0})`);
    }
    case 'calls-bounded': {
      const maxMs = (e.maxSeconds ?? 60) * 1000;
      const long = ctx.sim.calls.countLongerThan(maxMs);
      return result(
        long === 0,
        long === 0 ? `every call ended within ${e.maxSeconds}s` : `${long} call(s) ran longer or never ended`,
      );
    }
    case 'max-call-rate': {
      const api = e.api ?? 'ChangeResourceRecordSets';
      // Clock minutes: the simulation epoch is on a minute boundary, so these are also minutes of the scenario.
      const { total, worst, worstMinuteAt = ctx.epochMs } = ctx.sim.calls.perMinute(api);
      const worstMinute = Math.floor((worstMinuteAt - ctx.epochMs) / 60_000);
      const limit = e.perMinute ?? 0;
      return result(
        worst <= limit,
        `${total} ${api} attempt(s); at most ${worst} in one minute${worst > 0 ? ` (the minute from ${ctx.t(worstMinute * 60)})` : ''}, limit ${limit}`,
      );
    }
    case 'no-throttling': {
      const throttled = ctx.sim.calls.counters().filter((c) => c.kind === 'throttled' || /Throttl/i.test(c.code ?? ''));
      const count = throttled.reduce((n, c) => n + c.count, 0);
      const first = throttled.map((c) => c.first).sort((a, b) => a.at - b.at)[0];
      return result(
        count === 0,
        count === 0 || !first
          ? 'no call was throttled'
          : `${count} call(s) throttled, first ${first.operation} at ${ctx.t(seconds(ctx, first.at))}`,
      );
    }
    case 'gate':
    case 'no-gate': {
      const seen = gatesOfKind(ctx, e.gate ?? '').filter(
        (g) => e.contains === undefined || g.message.includes(e.contains),
      );
      const first = seen[0];
      const what = `${e.gate}${e.contains === undefined ? '' : ` gate containing "${e.contains}"`}`;
      if (e.check === 'gate') {
        return result(
          first !== undefined,
          first ? `${e.gate} at ${ctx.t(first.at)}: ${first.message}` : `no ${what} reported`,
        );
      }
      return result(
        first === undefined,
        first ? `${e.gate} at ${ctx.t(first.at)}: ${first.message}` : `no ${what} reported`,
      );
    }
    case 'promote-calls': {
      const calls = promoteCallsOf(ctx);
      const who = (ctx.vantages ?? [])
        .filter((v) => v.promoteCalls.length > 0)
        .map((v) => `${v.name} ${v.promoteCalls.length}`)
        .join(', ');
      return result(
        calls.length === (e.count ?? 0),
        `${calls.length} PromoteReadReplica call(s) reached the cloud${who ? ` (${who})` : ''}${calls[0] ? `, first at ${ctx.t(seconds(ctx, calls[0].at))}` : ''} (expected ${e.count ?? 0})`,
      );
    }
    case 'vantage-disagreement': {
      const seen = ctx.timeline.find(
        (t) => t.kind === 'vantage' && t.reason === 'VantageDisagreement' && t.vantage === e.vantage,
      );
      return result(
        seen !== undefined,
        seen ? `${e.vantage} at ${ctx.t(seen.at)}: ${seen.message}` : `${e.vantage} reported no disagreement`,
      );
    }
    case 'no-actions-from': {
      const own = ctx.actions.filter((a) => a.vantage === e.vantage && a.at >= ctx.faultAt);
      const others = ctx.actions.filter((a) => a.vantage !== e.vantage && a.at >= ctx.faultAt);
      return result(
        own.length === 0,
        own.length === 0
          ? `${e.vantage} performed nothing; ${others.length} action(s) by ${[...new Set(others.map((a) => a.vantage ?? '?'))].join(', ') || 'nobody'}`
          : `${e.vantage} performed ${own.map((a) => `${a.kind} at ${ctx.t(a.at)}`).join(', ')}`,
      );
    }
    default:
      return result(false, `unknown check ${String(e.check)}`);
  }
}

/** The plan gates of one kind the timeline recorded ("PB-6 ReplicaLag: …", several joined by " | "). */
function gatesOfKind(ctx: CheckContext, kind: string): Array<{ at: number; message: string }> {
  return ctx.timeline
    .filter((t) => t.kind === 'gate')
    .flatMap((t) =>
      t.message
        .split(' | ')
        .filter((part) => part.split(' ', 2)[1] === `${kind}:`)
        .map((message) => ({ at: t.at, message })),
    );
}

/** True when the effect makes something worse (not a recovery to ok / available / 0). */
function isFault(e: Effect): boolean {
  return (
    (e.endpoints !== undefined && e.endpoints !== 'ok') ||
    (e.zoneState !== undefined && e.zoneState !== 'available') ||
    (e.apiErrorRate ?? 0) > 0 ||
    (e.latencyMs ?? 0) > 0 ||
    e.hangs === true ||
    (e.connectivity !== undefined && e.connectivity !== 'ok') ||
    (e.errorRate ?? 0) > 0 ||
    (e.ioLatencyMs ?? 0) > 0 ||
    (e.ebsBacked !== undefined && e.ebsBacked !== 'ok') ||
    e.multiAzFailover === 'slow'
  );
}

/**
 * Scenario seconds of the first fault on the zone or region a health transition names, at or before `until`: for a
 * zone, effects on that zone (a region effect counts unless it spares the zone; an API fault of a whole region's
 * service does not — that is the control plane, not the zone); for a region, any fault in it.
 */
function firstFaultOn(
  scenario: Scenario,
  detected: Pick<TimelineEntry, 'scope' | 'name'>,
  policy: FailoverPolicy,
  until: number,
): number | undefined {
  const zone = detected.scope === 'zone' ? detected.name : undefined;
  const region =
    detected.scope === 'region' ? detected.name : policy.spec.regions.find((r) => r.zones.includes(zone ?? ''))?.name;
  const hits = (e: Effect): boolean => {
    if (!isFault(e)) return false;
    if (zone === undefined)
      return e.region === region || (e.zone !== undefined && regionOfZone(policy, e.zone) === region);
    if (e.zone !== undefined) return e.zone === zone;
    if (e.service !== undefined) return false;
    return e.region === region && e.exceptZone !== zone;
  };
  const first = scenario.events.find((ev) => ev.at * 60 <= until && (ev.effects ?? []).some(hits));
  return first === undefined ? undefined : Math.round(first.at * 60);
}

function regionOfZone(policy: FailoverPolicy, zone: string): string | undefined {
  return policy.spec.regions.find((r) => r.zones.includes(zone))?.name;
}
