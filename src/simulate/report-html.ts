// The drill report as one standalone HTML page with an SVG timeline chart: people read a picture of an outage
// faster than a log. No script, no external asset, no network: the page can be attached to a post-incident review
// or opened from a CI artifact as it is. Pure: the same report and timeline always render the same bytes.
//
// The chart, left to right in scenario time:
//   - one band per zone, then one per region, coloured by health state (Healthy / Degraded / Impaired);
//   - a step line per weighted record (its Route 53 weight, from the policy's starting weights and every weight
//     change the operator performed);
//   - markers for actions performed, actions skipped (with the rule that stopped them) and rule violations;
//   - dashed lines for the scenario's own events (faults injected, recoveries).
// Every mark has a <title>, so hovering shows what happened and why. The full timeline follows as a table.
// Times are seconds from the scenario's first fault (`T+12s`), as in the text report; the header gives T+0's clock.

import type { FailoverPolicy } from '../api/index.ts';
import type { DrillReport } from './drill-report.ts';
import { formatActionDetail } from './format-report.ts';
import { formatFaultTime, messageWithoutRule, type TimelineEntry } from './timeline.ts';

export interface HtmlReportInput {
  report: DrillReport;
  /** The simulation's timeline (scenario seconds); drawn from the first fault like the report. */
  timeline: readonly TimelineEntry[];
  policy: FailoverPolicy;
}

const STATE_COLOUR: Record<string, string> = {
  Healthy: '#3fa34d',
  Degraded: '#f0a202',
  Impaired: '#d7263d',
};
const RECORD_COLOURS = ['#1b6ca8', '#8e44ad', '#16a085', '#c0392b', '#7f8c8d', '#d35400', '#2c3e50', '#27ae60'];

const LAYOUT = {
  width: 1100,
  left: 170,
  right: 130,
  top: 30,
  band: 22,
  bandGap: 6,
  weightHeight: 120,
  sectionGap: 28,
  markerRow: 22,
  axis: 30,
} as const;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Band {
  label: string;
  segments: { from: number; to: number; state: string; why: string }[];
}

interface WeightSeries {
  record: string;
  points: { at: number; weight: number }[];
}

/** State bands of every zone and region of the policy, from the timeline's health entries. */
export function healthBands(
  policy: FailoverPolicy,
  timeline: readonly TimelineEntry[],
  start: number,
  end: number,
): Band[] {
  const subjects = [
    ...policy.spec.regions.flatMap((r) => r.zones.map((z) => ({ scope: 'zone' as const, name: z, label: z }))),
    ...policy.spec.regions.map((r) => ({ scope: 'region' as const, name: r.name, label: `${r.name} (region)` })),
  ];
  return subjects.map(({ scope, name, label }) => {
    const changes = timeline.filter((e) => e.kind === 'health' && e.scope === scope && e.name === name && e.state);
    const segments: Band['segments'] = [];
    let from = start;
    let state = 'Healthy';
    let why = 'healthy from the start';
    for (const c of changes) {
      const at = Math.max(start, Math.min(end, c.at));
      if (at > from) segments.push({ from, to: at, state, why });
      from = at;
      state = c.state ?? state;
      why = c.message;
    }
    if (end > from) segments.push({ from, to: end, state, why });
    return { label, segments };
  });
}

/** Each weighted record's weight over time: the policy's weights, then every weight change performed. */
export function weightSeries(
  policy: FailoverPolicy,
  timeline: readonly TimelineEntry[],
  start: number,
): WeightSeries[] {
  const records = policy.spec.traffic?.route53?.records ?? [];
  const series = new Map<string, WeightSeries>(
    records.map((r) => [r.setIdentifier, { record: r.setIdentifier, points: [{ at: start, weight: r.weight }] }]),
  );
  for (const e of timeline) {
    if (e.kind !== 'action' || !e.action?.weights) continue;
    for (const [record, weight] of Object.entries(e.action.weights)) {
      const s = series.get(record);
      if (s) s.points.push({ at: Math.max(start, e.at), weight });
    }
  }
  return [...series.values()];
}

/** Tick step (seconds) giving about `target` ticks over `span` seconds, on human boundaries. */
export function tickStep(span: number, target = 8): number {
  const steps = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return steps.find((s) => span / s <= target) ?? 86400 * Math.ceil(span / 86400 / target);
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const { report, policy } = input;
  // One frame with the report: T+0 is the first fault; the chart starts at the scenario's minute 0.
  const faultAt = report.faultScenarioSeconds;
  const timeline = input.timeline.map((e) => ({ ...e, at: e.at - faultAt }));
  const start = Math.min(-faultAt, ...timeline.filter((e) => e.kind === 'scenario').map((e) => e.at));
  const end = Math.max(report.durationSeconds - faultAt, start + 60);
  const T = formatFaultTime;
  const L = LAYOUT;
  const plotWidth = L.width - L.left - L.right;
  const x = (t: number) => L.left + ((t - start) / (end - start)) * plotWidth;
  const svg: string[] = [];
  let y = L.top;

  // Health bands.
  const bands = healthBands(policy, timeline, start, end);
  svg.push(sectionTitle('Health', y - 10));
  for (const band of bands) {
    svg.push(
      `<text class="label" x="${L.left - 8}" y="${y + L.band / 2 + 4}" text-anchor="end">${esc(band.label)}</text>`,
    );
    for (const s of band.segments) {
      svg.push(
        `<rect x="${fmt(x(s.from))}" y="${y}" width="${fmt(Math.max(0.5, x(s.to) - x(s.from)))}" height="${L.band}" fill="${STATE_COLOUR[s.state] ?? '#999'}"><title>${esc(`${band.label}: ${s.state} ${T(s.from)} → ${T(s.to)}\n${s.why}`)}</title></rect>`,
      );
    }
    y += L.band + L.bandGap;
  }

  // Weights.
  const series = weightSeries(policy, timeline, start);
  if (series.length > 0) {
    y += L.sectionGap;
    svg.push(sectionTitle('Route 53 weights', y - 10));
    const maxWeight = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.weight)));
    const wy = (w: number) => y + L.weightHeight - (w / maxWeight) * L.weightHeight;
    svg.push(
      `<line class="grid" x1="${L.left}" x2="${L.left + plotWidth}" y1="${fmt(wy(0))}" y2="${fmt(wy(0))}"/>`,
      `<text class="label" x="${L.left - 8}" y="${fmt(wy(maxWeight) + 4)}" text-anchor="end">${maxWeight}</text>`,
      `<text class="label" x="${L.left - 8}" y="${fmt(wy(0) + 4)}" text-anchor="end">0</text>`,
    );
    series.forEach((s, i) => {
      const colour = recordColour(i);
      // Records often share a weight (two drained to 0, two at 150): nudge each line by 2 px so none hides another.
      const nudge = (w: number) => wy(w) - i * 2;
      const path = s.points.map((p, j) =>
        j === 0 ? `M${fmt(x(p.at))} ${fmt(nudge(p.weight))}` : `H${fmt(x(p.at))} V${fmt(nudge(p.weight))}`,
      );
      path.push(`H${fmt(x(end))}`);
      const last = s.points.at(-1)?.weight ?? 0;
      svg.push(
        `<path class="weight" data-record="${esc(s.record)}" d="${path.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"><title>${esc(`${s.record}: ${s.points.map((p) => `${T(p.at)} ${p.weight}`).join(', ')}`)}</title></path>`,
        legendEntry(s.record, colour, x(end) + 4, wy(last) + 4 + i * 13),
      );
    });
    y += L.weightHeight;
  }

  // Markers: actions, skips, violations.
  y += L.sectionGap;
  svg.push(sectionTitle('Actions', y - 10));
  const rows: { label: string; marks: { at: number; title: string; shape: 'dot' | 'cross' | 'bang' }[] }[] = [
    {
      label: `performed (${report.actions.length})`,
      marks: report.actions.map((a) => ({
        at: a.at,
        shape: 'dot',
        title: `${T(a.at)} ${a.kind} ${a.target}${a.zone ? ` (${a.zone})` : ''} [${a.rule}]${a.detail ? `\n${formatActionDetail(a.detail)}` : ''}`,
      })),
    },
    {
      label: `skipped (${report.skipped.length})`,
      marks: report.skipped.map((s) => ({
        at: s.at,
        shape: 'cross',
        title: `${T(s.at)} skipped ${s.kind} ${s.target}${s.zone ? ` (${s.zone})` : ''} [${s.rule}]\n${s.reason}`,
      })),
    },
    {
      label: `violations (${report.violations.length})`,
      marks: report.violations.map((v) => ({
        at: v.at ?? end,
        shape: 'bang',
        title: `${v.at === undefined ? '' : `${T(v.at)} `}${v.rule}: ${v.message}`,
      })),
    },
  ];
  for (const row of rows) {
    const cy = y + L.markerRow / 2;
    svg.push(
      `<text class="label" x="${L.left - 8}" y="${cy + 4}" text-anchor="end">${esc(row.label)}</text>`,
      `<line class="grid" x1="${L.left}" x2="${L.left + plotWidth}" y1="${cy}" y2="${cy}"/>`,
    );
    for (const m of row.marks) svg.push(marker(m.shape, x(Math.max(start, Math.min(end, m.at))), cy, m.title));
    y += L.markerRow;
  }

  // Scenario events and the time axis.
  const plotBottom = y + 4;
  for (const e of timeline.filter((t) => t.kind === 'scenario')) {
    const ex = fmt(x(e.at));
    svg.push(
      `<line class="event" x1="${ex}" x2="${ex}" y1="${L.top - 4}" y2="${plotBottom}"><title>${esc(`${T(e.at)} ${e.message}`)}</title></line>`,
    );
  }
  const step = tickStep(end - start);
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    svg.push(
      `<line class="tick" x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${plotBottom}" y2="${plotBottom + 5}"/>`,
      `<text class="label" x="${fmt(x(t))}" y="${plotBottom + 18}" text-anchor="middle">${esc(T(t))}</text>`,
    );
  }
  const height = plotBottom + L.axis;

  // A measure is a duration from the fault it counts from; the time it was reached is shown in the page's frame.
  const metric = (label: string, v: number | null) =>
    `<div class="metric"><span>${esc(label)}</span><b>${v === null ? '—' : `${v} s`}</b>${v === null ? '' : `<small>${esc(T(report.measuredFromSeconds + v))}</small>`}</div>`;
  const rpo = `<div class="metric"><span>RPO</span><b>${report.rpoSeconds === null ? '—' : `${report.rpoSeconds} s`}</b></div>`;
  const title = `Drill report: ${report.scenario} on ${report.policy}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.passed{background:#3fa34d}.failed{background:#d7263d}
.metrics{display:flex;gap:16px;margin:16px 0;flex-wrap:wrap}
.metric{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}
.metric span{display:block;color:#666;font-size:12px}.metric b{font-size:20px}.metric small{margin-left:6px;color:#666}
svg text{font-size:12px;fill:#333}svg .section{font-weight:600;font-size:13px}
svg .grid{stroke:#ddd}svg .tick{stroke:#999}svg .event{stroke:#555;stroke-dasharray:4 3;stroke-width:1}
table{border-collapse:collapse;margin-top:16px;width:100%}
td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top;font-size:13px}
td.t{font-family:ui-monospace,monospace;white-space:nowrap}
.legend-keys span{display:inline-block;margin-right:14px}
.legend-keys i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="fault">Times are from the first fault: T+0 = ${esc(report.faultAt)}${report.measuredFromSeconds === 0 ? '' : `; detection, traffic shifted and RTO count from the first fault on what was detected, ${esc(T(report.measuredFromSeconds))}`}.</p>
<span class="verdict ${report.passed ? 'passed' : 'failed'}">${report.passed ? 'PASSED' : 'FAILED'}</span>
<div class="metrics">
${metric('detection', report.detectionSeconds)}
${metric('traffic shifted', report.trafficShiftedSeconds)}
${metric('RTO', report.rtoSeconds)}
${rpo}
<div class="metric"><span>actions / skipped / violations</span><b>${report.actions.length} / ${report.skipped.length} / ${report.violations.length}</b></div>
</div>
<div class="legend-keys">${Object.entries(STATE_COLOUR)
    .map(([s, c]) => `<span><i style="background:${c}"></i>${s}</span>`)
    .join('')}<span>● performed</span><span>✕ skipped</span><span>! violation</span><span>┆ scenario event</span></div>
<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${fmt(height)}" viewBox="0 0 ${L.width} ${fmt(height)}" role="img" aria-label="${esc(title)}">
${svg.join('\n')}
</svg>
${baselinesTable(report, T)}<h2>Expectations</h2>
<table>
${report.expectations.map((e) => `<tr><td>${e.passed ? '✓' : '✗'}</td><td>${esc(e.text)}</td><td>${esc(e.detail)}</td></tr>`).join('\n')}
</table>
<h2>Timeline</h2>
<table>
<tr><th>time</th><th>what</th><th>rule</th><th>message</th></tr>
${timeline
  .filter((e) => e.at >= start)
  .map(
    (e) =>
      `<tr><td class="t">${esc(T(e.at))}</td><td>${esc(e.kind)}</td><td>${esc(e.rule ?? '')}</td><td>${esc(messageWithoutRule(e))}</td></tr>`,
  )
  .join('\n')}
</table>
</body>
</html>
`;
}

/**
 * The baselines beside our measures, in the page's time frame, each with ours ÷ theirs (0.25× = a quarter of their
 * time). Clients moved = resolvers' answers moved + the records' TTL, for us as for them.
 */
function baselinesTable(report: DrillReport, T: (seconds: number) => string): string {
  const c = report.baselineComparison;
  if (!report.baselines?.length || c === undefined) return '';
  const cell = (v: number | null, ratio?: number | null, na?: boolean) =>
    `<td>${na ? 'n/a' : v === null ? '—' : `${v} s <small>${esc(T(report.measuredFromSeconds + v))}</small>${ratio == null ? '' : ` <b>${ratio}×</b>`}`}</td>`;
  return `<h2>Baselines</h2>
<p>The same faults and seed, replayed through what teams otherwise deploy. Clients moved = resolvers' answers moved + the records' ${c.ttlSeconds} s TTL, for us as for them. <b>N×</b> is ours ÷ theirs: 0.25× means we took a quarter of their time.</p>
<table class="baselines">
<tr><th>strategy</th><th>detection</th><th>clients moved</th><th>RTO</th><th>notes</th></tr>
<tr><td>ours</td>${cell(c.ours.detectionSeconds)}${cell(c.ours.trafficShiftedSeconds)}${cell(c.ours.rtoSeconds)}<td></td></tr>
${report.baselines
  .map(
    (b) =>
      `<tr><td>${esc(b.label)}</td>${cell(b.detectionSeconds, b.ratios.detection)}${cell(b.trafficShiftedSeconds, b.ratios.trafficShifted)}${cell(b.rtoSeconds, b.ratios.rto, b.rtoSeconds === null && report.rtoSeconds !== null)}<td>${esc(b.notes)}</td></tr>`,
  )
  .join('\n')}
</table>
`;
}

/**
 * The colour of the i-th weighted record: distinct for the first RECORD_COLOURS.length records (a policy has at
 * most a handful), then repeating.
 */
export function recordColour(i: number): string {
  return RECORD_COLOURS[i % RECORD_COLOURS.length]!;
}

/**
 * A weight line's legend entry: a swatch of the line and its record's name, both coloured through `style` — the
 * page's `svg text{fill}` rule would override a `fill` attribute (CSS beats presentation attributes) and paint every
 * name the same grey.
 */
function legendEntry(record: string, colour: string, x: number, y: number): string {
  return (
    `<g class="legend-entry" data-record="${esc(record)}">` +
    `<line class="swatch" x1="${fmt(x)}" x2="${fmt(x + 12)}" y1="${fmt(y - 4)}" y2="${fmt(y - 4)}" style="stroke:${colour};stroke-width:3"/>` +
    `<text class="legend" x="${fmt(x + 16)}" y="${fmt(y)}" style="fill:${colour}">${esc(record)}</text></g>`
  );
}

function sectionTitle(text: string, y: number): string {
  return `<text class="section" x="8" y="${fmt(y)}">${esc(text)}</text>`;
}

function marker(shape: 'dot' | 'cross' | 'bang', cx: number, cy: number, title: string): string {
  const t = `<title>${esc(title)}</title>`;
  const X = fmt(cx);
  switch (shape) {
    case 'dot':
      return `<circle cx="${X}" cy="${cy}" r="5" fill="#1b6ca8">${t}</circle>`;
    case 'cross':
      return `<path d="M${fmt(cx - 4)} ${cy - 4} L${fmt(cx + 4)} ${cy + 4} M${fmt(cx - 4)} ${cy + 4} L${fmt(cx + 4)} ${cy - 4}" stroke="#f0a202" stroke-width="2">${t}</path>`;
    case 'bang':
      return `<path d="M${X} ${cy - 7} L${fmt(cx + 6)} ${cy + 6} L${fmt(cx - 6)} ${cy + 6} Z" fill="#d7263d">${t}</path>`;
  }
}

const esc = escapeHtml;

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
