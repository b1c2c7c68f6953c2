// Human-readable output of a simulation: the timeline (what was seen, decided, done, skipped and why) and the
// drill report. Machines use `--output json` instead (DrillReport as is).

import type { DrillReport } from './drill-report.ts';
import type { TimelineEntry } from './timeline.ts';

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
};

export function formatTimeline(timeline: readonly TimelineEntry[], opts: { includeWarmUp?: boolean } = {}): string {
  return timeline
    .filter((e) => opts.includeWarmUp || e.at >= 0)
    .map((e) => `${formatClock(e.at)}  ${LABEL[e.kind].padEnd(8)}  ${e.rule ? `[${e.rule}] ` : ''}${e.message}`)
    .join('\n');
}

const secondsOrDash = (v: number | null) => (v === null ? '—' : `${v}s`);

export function formatReport(r: DrillReport): string {
  const lines = [
    `Drill report: scenario ${r.scenario}, policy ${r.policy}: ${r.passed ? 'PASSED' : 'FAILED'}`,
    `  detection          ${secondsOrDash(r.detectionSeconds)}`,
    `  traffic shifted    ${secondsOrDash(r.trafficShiftedSeconds)}`,
    `  RTO                ${secondsOrDash(r.rtoSeconds)}`,
    `  RPO                ${secondsOrDash(r.rpoSeconds)}`,
    `  final phase        ${r.finalPhase ?? '—'}${r.activeWriter ? `, writer ${r.activeWriter.dbInstanceIdentifier} in ${r.activeWriter.region}` : ''}`,
    `  actions            ${r.actions.length} (${summarise(r.actions.map((a) => a.kind))})`,
    `  skipped            ${r.skipped.length}${r.skipped.length ? ` (${summarise(r.skipped.map((s) => `${s.rule} ${s.kind}`))})` : ''}`,
    `  violations         ${r.violations.length === 0 ? 'none' : ''}`,
    ...r.violations.map((v) => `    ✗ ${v.rule}: ${v.message}${v.at === undefined ? '' : ` at ${formatClock(v.at)}`}`),
    '  expectations',
    ...r.expectations.map((e) => `    ${e.passed ? '✓' : '✗'} ${e.text} — ${e.detail}`),
  ];
  return lines.join('\n');
}

function summarise(items: string[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i, (counts.get(i) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}
