// Pure text rendering for failoverctl: a policy or drill at a glance. No I/O; the commands print what these return.

import type { Condition, FailoverDrill, FailoverPolicy } from '../../api/index.ts';
import type { DrillReport } from '../../simulate/drill-report.ts';
import { formatActionDetail, formatReport } from '../../simulate/format-report.ts';
import { formatFaultTime } from '../../simulate/timeline.ts';

export type { OutputFormat } from '../conventions.ts';

const DASH = '-';

/** "Ready=True, Degraded=True (ZoneDrained)"; the reason is shown only for conditions that are True. */
export function summarizeConditions(conditions: readonly Condition[] | undefined): string {
  if (!conditions || conditions.length === 0) return DASH;
  return conditions
    .map((c) => `${c.type}=${c.status}${c.status === 'True' && c.reason ? ` (${c.reason})` : ''}`)
    .join(', ');
}

/** "blue=100 green=0", sorted by record so the output is stable. */
export function formatWeights(weights: Readonly<Record<string, number>> | undefined): string {
  if (!weights || Object.keys(weights).length === 0) return DASH;
  return Object.entries(weights)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([record, weight]) => `${record}=${weight}`)
    .join(' ');
}

export function formatWriter(policy: FailoverPolicy): string {
  const w = policy.status?.activeWriter;
  return w ? `${w.dbInstanceIdentifier} (${w.region})` : DASH;
}

export function formatLastFailover(policy: FailoverPolicy): string {
  const f = policy.status?.lastFailover;
  if (!f) return DASH;
  const route = f.fromRegion || f.toRegion ? ` ${f.fromRegion ?? '?'} -> ${f.toRegion ?? '?'}` : '';
  const zones = f.zones?.length ? ` zones ${f.zones.join(',')}` : '';
  const done = f.completedAt ? `, completed ${f.completedAt}` : ', in progress';
  const rpo = f.rpoSeconds === undefined ? '' : `, RPO ${f.rpoSeconds}s`;
  return `${f.startedAt}${route}${zones}${done}${rpo}${f.reason ? ` (${f.reason})` : ''}`;
}

export function formatPendingApproval(policy: FailoverPolicy): string {
  const p = policy.status?.pendingApproval;
  if (!p) return DASH;
  const lag = p.lagSeconds === undefined ? '' : `, lag ${p.lagSeconds}s`;
  return `${p.id}: ${p.action} ${p.target} [${p.rule}] ${p.reason}${lag} (failoverctl approve ${policy.metadata.name})`;
}

/** Aligns rows into columns separated by three spaces (kubectl's look). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `wide` adds the weights, the last failover and the conditions, as `kubectl get -o wide` adds columns. */
export function formatPolicyTable(policies: readonly FailoverPolicy[], wide = false): string {
  if (policies.length === 0) return 'No FailoverPolicies found.';
  return formatTable(
    [
      'NAME',
      'PHASE',
      'ACTIVE',
      'WRITER',
      'DEGRADED',
      'PENDING APPROVAL',
      ...(wide ? ['WEIGHTS', 'LAST FAILOVER', 'CONDITIONS'] : []),
    ],
    policies.map((p) => [
      p.metadata.name ?? DASH,
      p.status?.phase ?? 'Unknown',
      p.status?.activeRegion ?? DASH,
      formatWriter(p),
      p.status?.degradedZones || DASH,
      p.status?.pendingApproval?.id ?? DASH,
      ...(wide
        ? [
            formatWeights(p.status?.weights),
            p.status?.lastFailover?.startedAt ?? DASH,
            summarizeConditions(p.status?.conditions),
          ]
        : []),
    ]),
  );
}

export function formatPolicyDetail(policy: FailoverPolicy): string {
  const s = policy.status;
  const manual = s?.manual
    ? `${s.manual.action} ${s.manual.id}: ${s.manual.state}${s.manual.message ? ` (${s.manual.message})` : ''}`
    : DASH;
  const rows: Array<[string, string]> = [
    ['Name', `${policy.metadata.namespace ?? 'default'}/${policy.metadata.name ?? ''}`],
    ['Phase', s?.phase ?? 'Unknown (no status yet: is the operator running?)'],
    ['Active region', s?.activeRegion ?? DASH],
    ['Writer', formatWriter(policy)],
    ['Degraded zones', s?.degradedZones || DASH],
    ['Weights', formatWeights(s?.weights)],
    ['Last failover', formatLastFailover(policy)],
    ['Pending approval', formatPendingApproval(policy)],
    ['Manual request', manual],
    ['Conditions', summarizeConditions(s?.conditions)],
  ];
  if (s?.vantages) rows.push(['Vantages', formatVantages(s.vantages)]);
  if (policy.spec.suspend) rows.push(['Suspended', 'yes (spec.suspend): observing only']);
  if (policy.spec.dryRun) rows.push(['Dry run', 'yes (spec.dryRun): planning only']);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n');
}

/** The JSON shape of `status --output json`: stable keys, the raw status fields under them. */
export function policySummary(policy: FailoverPolicy) {
  const s = policy.status;
  return {
    name: policy.metadata.name,
    namespace: policy.metadata.namespace,
    phase: s?.phase ?? null,
    activeRegion: s?.activeRegion ?? null,
    activeWriter: s?.activeWriter ?? null,
    degradedZones: s?.degradedZones ? s.degradedZones.split(',').map((z) => z.trim()) : [],
    weights: s?.weights ?? {},
    lastFailover: s?.lastFailover ?? null,
    pendingApproval: s?.pendingApproval ?? null,
    manual: s?.manual ?? null,
    conditions: s?.conditions ?? [],
    vantages: s?.vantages ?? null,
  };
}

/**
 * One line of status.vantages (#14): who writes it, agreement, and each member's verdict age and what it reports;
 * then one line per disagreement (this vantage sees worse than the members agree on).
 */
export function formatVantages(v: NonNullable<NonNullable<FailoverPolicy['status']>['vantages']>): string {
  const members = v.members
    .map((m) => {
      const age = m.ageSeconds === undefined ? 'never heard' : `${m.ageSeconds}s ago${m.fresh ? '' : ', stale'}`;
      const says = [
        ...(m.impaired?.length ? [`Impaired ${m.impaired.join(',')}`] : []),
        ...(m.degraded?.length ? [`Degraded ${m.degraded.join(',')}`] : []),
      ];
      return `${m.name}${m.self ? ' (self)' : ''}: ${age}${says.length ? `, ${says.join('; ')}` : ''}`;
    })
    .join(' | ');
  const head = `${v.agreement} (quorum ${v.quorum}, ${v.fresh} of ${v.members.length} fresh) — ${members}`;
  const lines = (v.disagreements ?? []).map(
    (d) =>
      `  disagrees on ${d.scope} ${d.name}: sees ${d.local}, agreed ${d.agreed} (as bad: ${d.reporting.join(', ')})`,
  );
  return [head, ...(v.readError ? [`  last read failed: ${v.readError}`] : []), ...lines].join('\n');
}

export function formatDrillTable(drills: readonly FailoverDrill[]): string {
  if (drills.length === 0) return 'No FailoverDrills found.';
  return formatTable(
    ['NAME', 'POLICY', 'SCENARIO', 'MODE', 'PHASE', 'RESULT', 'SUMMARY'],
    drills.map((d) => [
      d.metadata.name ?? DASH,
      d.spec.policyRef.name,
      d.spec.scenario.type,
      d.spec.mode,
      d.status?.phase ?? (d.spec.abort ? 'Aborting' : 'Pending'),
      d.status?.result ?? DASH,
      d.status?.summary ?? DASH,
    ]),
  );
}

/**
 * The report of a finished drill (`drill report -o json|yaml`): the drill's identity and its status measures, or
 * undefined while it has not finished (no result yet).
 */
export function drillReport(drill: FailoverDrill) {
  const s = drill.status;
  if (s?.result === undefined || s.phase === 'Pending' || s.phase === 'Running') return undefined;
  return {
    name: drill.metadata.name,
    namespace: drill.metadata.namespace,
    policy: drill.spec.policyRef.name,
    scenario: drill.spec.scenario,
    mode: drill.spec.mode,
    phase: s.phase ?? null,
    result: s.result,
    passed: s.result === 'Passed',
    startedAt: s.startedAt ?? null,
    completedAt: s.completedAt ?? null,
    detectionSeconds: s.detectionSeconds ?? null,
    trafficShiftedSeconds: s.trafficShiftedSeconds ?? null,
    rtoSeconds: s.rtoSeconds ?? null,
    rpoSeconds: s.rpoSeconds ?? null,
    actions: s.actions ?? [],
    skipped: s.skipped ?? [],
    violations: s.violations ?? [],
    timeline: s.timeline ?? [],
    summary: s.summary ?? null,
  };
}

const secondsOrDash = (s: number | undefined) => (s === undefined ? DASH : `${s}s`);

/** The drill report from a FailoverDrill's status. */
export function formatDrillDetail(drill: FailoverDrill): string {
  const s = drill.status;
  const sc = drill.spec.scenario;
  const target = sc.zone ?? sc.region ?? sc.timeline;
  const lines = [
    `Drill ${drill.metadata.namespace ?? 'default'}/${drill.metadata.name ?? ''} of policy ${drill.spec.policyRef.name}`,
    `  scenario           ${sc.type}${target ? ` ${target}` : ''}, ${drill.spec.mode}, time scale ${drill.spec.timeScale}${drill.spec.abort ? ', abort requested' : ''}`,
    `  phase              ${s?.phase ?? 'Pending'}${s?.result ? `, result ${s.result}` : ''}`,
    `  started            ${s?.startedAt ?? DASH}${s?.completedAt ? `, completed ${s.completedAt}` : ''}`,
    `  detection          ${secondsOrDash(s?.detectionSeconds)}`,
    `  traffic shifted    ${secondsOrDash(s?.trafficShiftedSeconds)}`,
    `  RTO                ${secondsOrDash(s?.rtoSeconds)}`,
    `  RPO                ${secondsOrDash(s?.rpoSeconds)}`,
    `  actions            ${s?.actions?.length ?? 0}`,
    ...(s?.actions ?? []).map((a) => `    ${a.at} ${a.kind} ${a.target} [${a.rule}]`),
    `  skipped            ${s?.skipped?.length ?? 0}`,
    ...(s?.skipped ?? []).map((k) => `    ${k.kind} ${k.target} [${k.rule}] ${k.reason}`),
    `  violations         ${s?.violations?.length ? s.violations.length : 'none'}`,
    ...(s?.violations ?? []).map((v) => `    x ${v.objective}: ${v.message}`),
  ];
  if (s?.summary) lines.push(`  summary            ${s.summary}`);
  if (s?.conditions?.length) lines.push(`  conditions         ${summarizeConditions(s.conditions)}`);
  return lines.join('\n');
}

/** What `plan` prints: the planned actions in order, the held-back ones, then the usual drill report. */
export function formatPlan(report: DrillReport): string {
  const lines = [
    `Plan for policy ${report.policy} under scenario ${report.scenario} (simulated cloud, nothing was changed):`,
    '',
    report.actions.length === 0 ? 'No actions would be taken.' : 'Actions the operator would take:',
    ...report.actions.map(
      (a, i) =>
        `  ${String(i + 1).padStart(2)}. ${formatFaultTime(a.at)} ${a.kind} ${a.target}${a.zone ? ` zone ${a.zone}` : ''}${a.region ? ` region ${a.region}` : ''} [${a.rule}]${a.detail ? ` ${formatActionDetail(a.detail)}` : ''}`,
    ),
  ];
  if (report.skipped.length > 0) {
    lines.push('', 'Held back by a rule:');
    for (const k of report.skipped)
      lines.push(`  - ${formatFaultTime(k.at)} ${k.kind} ${k.target} [${k.rule}] ${k.reason}`);
  }
  lines.push('', formatReport(report));
  return lines.join('\n');
}
