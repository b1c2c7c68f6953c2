// The drill report as it goes into FailoverDrill status (PB-12): a simulation's report mapped onto the schema, the
// report of a Live drill built from what the reconciler measured, the policy's objectives checked against both,
// every list bounded by DRILL_LIMITS, and the pre-drill weights kept in the timeline so that a restarted operator
// can still restore them on abort. Pure: times come in as arguments.

import {
  DRILL_LIMITS,
  type DrillAction,
  type DrillSkipped,
  type DrillTimelineEntry,
  type DrillViolation,
  type FailoverDrillStatus,
  type FailoverPolicy,
  RULE_IDS,
  type RuleId,
} from '../api/index.ts';
import { rfc3339 } from '../health/health-status.ts';
import type { DrillReport } from '../simulate/drill-report.ts';
import { messageWithoutRule, type TimelineEntry } from '../simulate/timeline.ts';

export type DrillReportFields = Pick<
  FailoverDrillStatus,
  | 'detectionSeconds'
  | 'trafficShiftedSeconds'
  | 'rtoSeconds'
  | 'rpoSeconds'
  | 'actions'
  | 'skipped'
  | 'violations'
  | 'timeline'
  | 'passed'
  | 'result'
  | 'summary'
>;

const isRule = (rule: string | undefined): rule is RuleId => RULE_IDS.includes(rule as RuleId);
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A timeline line; `rule` only when it is a playbook rule id. */
export function timelineEntry(
  atMs: number,
  message: string,
  rule?: string,
  scenarioSeconds?: number,
): DrillTimelineEntry {
  return {
    at: rfc3339(atMs),
    ...(scenarioSeconds === undefined || scenarioSeconds < 0 ? {} : { scenarioSeconds }),
    message: clip(message, 1024),
    ...(isRule(rule) ? { rule } : {}),
  };
}

/** Keeps the first entries within `limit`, the last slot saying how many were left out. */
export function bounded<T>(items: readonly T[], limit: number, more: (left: number) => T): T[] {
  if (items.length <= limit) return [...items];
  return [...items.slice(0, limit - 1), more(items.length - (limit - 1))];
}

export function boundedTimeline(entries: readonly DrillTimelineEntry[]): DrillTimelineEntry[] {
  const last = entries.at(-1);
  return bounded(entries, DRILL_LIMITS.timeline, (left) => ({
    at: last?.at ?? rfc3339(0),
    message: `… ${left} more timeline entries not shown (the report keeps the first ${DRILL_LIMITS.timeline - 1})`,
    rule: 'PB-12',
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Pre-drill weights: kept in status.preDrillWeights (what abort restores); the timeline gets a readable line.

/** The timeline line saying which weights were recorded; cut to the timeline's message bound. */
export function preDrillWeightsEntry(atMs: number, weights: Readonly<Record<string, number>>): DrillTimelineEntry {
  const listed = Object.keys(weights)
    .sort()
    .map((id) => `${id}=${weights[id]}`)
    .join(' ');
  const message = `recorded the pre-drill Route 53 weights (restored on abort): ${listed}`;
  return timelineEntry(atMs, message.length > 1024 ? `${message.slice(0, 1023)}…` : message, 'PB-12');
}

// ---------------------------------------------------------------------------------------------------------------
// Objectives

export interface Measured {
  detectionSeconds?: number | null | undefined;
  rtoSeconds?: number | null | undefined;
  rpoSeconds?: number | null | undefined;
}

/** Each of the policy's objectives the measurements broke (a measure that was never reached is not judged here). */
export function objectiveViolations(policy: FailoverPolicy, measured: Measured): DrillViolation[] {
  const objectives = policy.spec.objectives ?? {};
  const rpoObjective = objectives.rpoSeconds ?? policy.spec.database?.rds?.maxLagSeconds;
  const checks: Array<[keyof Measured, number | undefined]> = [
    ['detectionSeconds', objectives.detectionSeconds],
    ['rtoSeconds', objectives.rtoSeconds],
    ['rpoSeconds', rpoObjective],
  ];
  const out: DrillViolation[] = [];
  for (const [name, objective] of checks) {
    const actual = measured[name];
    if (objective === undefined || actual === undefined || actual === null || actual <= objective) continue;
    out.push({
      objective: name,
      expected: `<= ${objective}s`,
      actual: `${actual}s`,
      message: `${name} ${actual}s is over the policy objective of ${objective}s (spec.objectives)`,
    });
  }
  return out;
}

export function summaryOf(r: {
  passed: boolean;
  detectionSeconds?: number | null | undefined;
  trafficShiftedSeconds?: number | null | undefined;
  rtoSeconds?: number | null | undefined;
  rpoSeconds?: number | null | undefined;
  actions: number;
  violations: number;
}): string {
  const s = (v: number | null | undefined) => (v === undefined || v === null ? 'n/a' : `${Math.round(v * 10) / 10}s`);
  return clip(
    `${r.passed ? 'passed' : 'failed'}: detection ${s(r.detectionSeconds)}, traffic shifted ${s(r.trafficShiftedSeconds)}, RTO ${s(r.rtoSeconds)}, RPO ${s(r.rpoSeconds)}; ${r.actions} action(s), ${r.violations} violation(s)`,
    1024,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// DryRun: the simulation's report

export interface SimulationMapping {
  policy: FailoverPolicy;
  report: DrillReport;
  timeline: readonly TimelineEntry[];
  /** Wall time the drill started: scenario second 0 maps here. */
  startedAtMs: number;
  /** Scenario seconds per real second: scenario second s maps to startedAt + s / timeScale. */
  timeScale: number;
}

/** The report fields of a DryRun drill, from the simulation (times in scenario seconds, as the simulation gives). */
export function reportFromSimulation(m: SimulationMapping): DrillReportFields {
  const { report } = m;
  const wall = (scenarioSeconds: number) => m.startedAtMs + (Math.max(0, scenarioSeconds) * 1000) / m.timeScale;
  // The report counts from the first fault; the drill's status keeps scenario time (its timeline's frame).
  const scenario = (secondsFromFault: number) => secondsFromFault + report.faultScenarioSeconds;
  const actions: DrillAction[] = report.actions
    .filter((a) => isRule(a.rule))
    .map((a) => ({
      kind: clip(a.kind, 64),
      target: clip(a.target, 512),
      ...(a.zone === undefined ? {} : { zone: a.zone }),
      ...(a.region === undefined ? {} : { region: a.region }),
      rule: a.rule as RuleId,
      at: rfc3339(wall(scenario(a.at))),
      ...(scenario(a.at) < 0 ? {} : { scenarioSeconds: scenario(a.at) }),
    }));
  const skipped: DrillSkipped[] = report.skipped
    .filter((s) => isRule(s.rule))
    .map((s) => ({
      kind: clip(s.kind, 64),
      target: clip(s.target, 512),
      ...(s.zone === undefined ? {} : { zone: s.zone }),
      rule: s.rule as RuleId,
      reason: clip(s.reason, 1024),
      at: rfc3339(wall(scenario(s.at))),
    }));
  const violations: DrillViolation[] = [
    ...report.violations.map((v) => ({ objective: clip(v.rule, 64), message: clip(v.message, 1024) })),
    ...report.expectations
      .filter((e) => !e.passed)
      .map((e) => ({
        objective: clip(e.check, 64),
        expected: clip(e.text, 256),
        actual: clip(e.detail, 256),
        message: clip(`expectation not met: ${e.text} (${e.detail})`, 1024),
      })),
    ...objectiveViolations(m.policy, report),
  ];
  const passed = report.passed && violations.length === 0;
  // The rule has its own field: the message does not repeat it (`[action] performed …`, not `[action] PB-5 performed …`).
  const timeline = m.timeline.map((e) =>
    timelineEntry(wall(e.at), `[${e.kind}] ${messageWithoutRule(e)}`, e.rule, e.at),
  );
  return {
    ...measure('detectionSeconds', report.detectionSeconds),
    ...measure('trafficShiftedSeconds', report.trafficShiftedSeconds),
    ...measure('rtoSeconds', report.rtoSeconds),
    ...measure('rpoSeconds', report.rpoSeconds),
    actions: bounded(actions, DRILL_LIMITS.actions, (left) => ({
      kind: 'Truncated',
      target: `${left} more actions not shown`,
      rule: 'PB-12',
      at: actions.at(-1)?.at ?? rfc3339(m.startedAtMs),
    })),
    skipped: bounded(skipped, DRILL_LIMITS.skipped, (left) => ({
      kind: 'Truncated',
      target: `${left} more skipped actions not shown`,
      rule: 'PB-12',
      reason: 'the report keeps the first entries',
    })),
    violations: bounded(violations, DRILL_LIMITS.violations, (left) => ({
      objective: 'Truncated',
      message: `${left} more violations not shown`,
    })),
    timeline: boundedTimeline(timeline),
    passed,
    result: passed ? 'Passed' : 'Failed',
    summary: summaryOf({ ...report, passed, actions: actions.length, violations: violations.length }),
  };
}

function measure<K extends string>(key: K, value: number | null): Partial<Record<K, number>> {
  return value === null ? {} : ({ [key]: Math.max(0, value) } as Record<K, number>);
}
