// Human-readable output of a simulation: the timeline (what was seen, decided, done, skipped and why) and the
// drill report. Machines use `--output json` instead (DrillReport as is).

import type { DrillReport, ReportActionDetail } from './drill-report.ts';
import { firstFaultSeconds, formatFaultTime, messageWithoutRule, type TimelineEntry } from './timeline.ts';

/** `+HH:MM:SS` from scenario second 0; the reports themselves write times from the first fault (formatFaultTime). */
export function formatClock(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${sign}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

const LABEL: Record<TimelineEntry['kind'], string> = {
  scenario: 'SCENARIO',
  health: 'SEEN',
  phase: 'PHASE',
  gate: 'WAITING',
  action: 'DONE',
  settling: 'SETTLING',
  skip: 'SKIPPED',
  failure: 'FAILED',
  'dry-run': 'WOULD DO',
  vantage: 'VANTAGE',
};

/**
 * The timeline, one line per entry, times from the first fault (`T+12s`): the scenario's lines untagged, the
 * operator's with the playbook rule they follow, named once.
 */
export function formatTimeline(
  timeline: readonly TimelineEntry[],
  opts: { includeWarmUp?: boolean; faultScenarioSeconds?: number } = {},
): string {
  const faultAt = opts.faultScenarioSeconds ?? firstFaultSeconds(timeline);
  const entries = timeline.filter((e) => opts.includeWarmUp || e.at >= 0);
  const width = Math.max(0, ...entries.map((e) => formatFaultTime(e.at - faultAt).length));
  return entries
    .map(
      (e) =>
        `${formatFaultTime(e.at - faultAt).padEnd(width)}  ${LABEL[e.kind].padEnd(8)}  ${e.vantage ? `(${e.vantage}) ` : ''}${e.rule ? `[${e.rule}] ` : ''}${messageWithoutRule(e)}`,
    )
    .join('\n');
}

/** An action's detail as text: `use1-a=0 use1-b=150` for weights. */
export function formatActionDetail(detail: ReportActionDetail | undefined): string {
  if (detail?.weights === undefined) return '';
  return Object.entries(detail.weights)
    .map(([record, weight]) => `${record}=${weight}`)
    .join(' ');
}

/** A measure (a duration from the fault it counts from) and the time it was reached. */
function measure(r: DrillReport, seconds: number | null): string {
  return seconds === null ? '—' : `${seconds}s (${formatFaultTime(r.measuredFromSeconds + seconds)})`;
}

export function formatReport(r: DrillReport): string {
  const lines = [
    `Drill report: scenario ${r.scenario}, policy ${r.policy}: ${r.passed ? 'PASSED' : 'FAILED'}`,
    `  first fault        T+0 = ${r.faultAt} (times below are from it)`,
    ...(r.measuredFromSeconds === 0
      ? []
      : [`  measured from      ${formatFaultTime(r.measuredFromSeconds)}, the first fault on what was detected`]),
    `  detection          ${measure(r, r.detectionSeconds)}`,
    `  traffic shifted    ${measure(r, r.trafficShiftedSeconds)}`,
    `  RTO                ${measure(r, r.rtoSeconds)}`,
    `  RPO                ${r.rpoSeconds === null ? '—' : `${r.rpoSeconds}s`}`,
    `  final phase        ${r.finalPhase ?? '—'}${r.activeWriter ? `, writer ${r.activeWriter.dbInstanceIdentifier} in ${r.activeWriter.region}` : ''}`,
    `  actions            ${r.actions.length} (${summarise(r.actions.map((a) => a.kind))})`,
    `  skipped            ${r.skipped.length}${r.skipped.length ? ` (${summarise(r.skipped.map((s) => `${s.rule} ${s.kind}`))})` : ''}`,
    `  violations         ${r.violations.length === 0 ? 'none' : ''}`,
    ...r.violations.map(
      (v) => `    ✗ ${v.rule}: ${v.message}${v.at === undefined ? '' : ` at ${formatFaultTime(v.at)}`}`,
    ),
    ...formatVantages(r),
    '  expectations',
    ...r.expectations.map((e) => `    ${e.passed ? '✓' : '✗'} ${e.text} — ${e.detail}`),
    ...formatBaselines(r),
  ];
  return lines.join('\n');
}

/**
 * The baselines beside our measures: each time with the moment it was reached and our time as a share of theirs
 * (ours ÷ theirs: 0.25× = we took a quarter of their time). Traffic shifted and RTO here are until clients moved
 * (answers moved + the records' TTL), for us as for them; the headline above counts to the answers moving.
 */
export function formatBaselines(r: DrillReport): string[] {
  const c = r.baselineComparison;
  if (!r.baselines?.length || c === undefined) return [];
  const cell = (seconds: number | null, ratio?: number | null) =>
    `${measure(r, seconds)}${ratio === undefined ? '' : ratio === null ? '' : `, ours ${ratio}×`}`;
  const row = (label: string, d: string, s: string, rto: string) => [
    `    ${label}`,
    `      detection ${d}; clients moved ${s}; RTO ${rto}`,
  ];
  return [
    `  baselines          same faults and seed; clients moved = answers moved + ${c.ttlSeconds}s TTL; ours N× = ours ÷ theirs (0.25× = a quarter of their time)`,
    ...row('ours', cell(c.ours.detectionSeconds), cell(c.ours.trafficShiftedSeconds), cell(c.ours.rtoSeconds)),
    ...r.baselines.flatMap((b) => [
      ...row(
        b.label,
        cell(b.detectionSeconds, b.ratios.detection),
        cell(b.trafficShiftedSeconds, b.ratios.trafficShifted),
        b.rtoSeconds === null && r.rtoSeconds !== null ? 'n/a' : cell(b.rtoSeconds, b.ratios.rto),
      ),
      `      ${b.notes}`,
    ]),
  ];
}

/** A run with several vantages: who ran where, did what, and the promotions the cloud received from all of them. */
function formatVantages(r: DrillReport): string[] {
  if (!r.vantages) return [];
  return [
    `  PromoteReadReplica ${r.promoteReadReplicaCalls ?? 0} call(s) reached the cloud, across ${r.vantages.length} vantages`,
    ...r.vantages.map(
      (v) =>
        `    ${v.name}${v.region ? ` (${v.region})` : ''}: ${v.downAt === undefined ? '' : `down at ${formatFaultTime(v.downAt)}; `}detected ${v.detectedAt === null ? '—' : formatFaultTime(v.detectedAt)}, ${v.actions} action(s) from T+0, ${v.promoteCalls} PromoteReadReplica, ${v.disagreements} disagreement(s)${v.actingAlone ? `, alone ${v.actingAlone}×` : ''}`,
    ),
  ];
}

function summarise(items: string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}
