import { describe, expect, it } from 'vitest';
import { readPolicies } from '../cli/failover-operator.ts';
import type { DrillReport } from './drill-report.ts';
import { escapeHtml, healthBands, renderHtmlReport, tickStep, weightSeries } from './report-html.ts';
import type { TimelineEntry } from './timeline.ts';

const [policy] = readPolicies(['examples/two-region-rds.yaml']);
if (!policy) throw new Error('example policy missing');

const timeline: TimelineEntry[] = [
  { at: -60, kind: 'phase', message: 'phase → Healthy' },
  { at: 0, kind: 'scenario', message: 'us-east-1a fails <badly>' },
  {
    at: 10,
    kind: 'health',
    message: 'zone us-east-1a Healthy → Degraded',
    scope: 'zone',
    name: 'us-east-1a',
    state: 'Degraded',
  },
  {
    at: 20,
    kind: 'health',
    message: 'zone us-east-1a Degraded → Impaired',
    scope: 'zone',
    name: 'us-east-1a',
    state: 'Impaired',
  },
  {
    at: 30,
    kind: 'action',
    message: 'PB-5 performed SetWeights on api: set weights',
    rule: 'PB-5',
    action: { id: 'a1', kind: 'SetWeights', target: 'api', weights: { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150 } },
  },
  {
    at: 600,
    kind: 'health',
    message: 'zone us-east-1a Impaired → Healthy',
    scope: 'zone',
    name: 'us-east-1a',
    state: 'Healthy',
  },
];

const report: DrillReport = {
  scenario: 'zone-outage',
  policy: 'default/orders',
  passed: true,
  faultAt: '2011-04-21T07:55:00Z',
  faultScenarioSeconds: 0,
  measuredFromSeconds: 0,
  detectionSeconds: 10,
  trafficShiftedSeconds: 30,
  rtoSeconds: 30,
  rpoSeconds: 0,
  actions: [
    {
      kind: 'SetWeights',
      target: 'api',
      rule: 'PB-5',
      at: 30,
      detail: { weights: { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150 } },
    },
  ],
  skipped: [
    { kind: 'RebootInstances', target: 'i-1', zone: 'us-east-1a', rule: 'PB-3', reason: 'zone impaired', at: 40 },
  ],
  violations: [],
  expectations: [{ check: 'c', text: 'drains us-east-1a', passed: true, detail: 'at 30s' }],
  durationSeconds: 1200,
};

describe('HTML drill report', () => {
  it('a Baselines table: ours first, each strategy with times in the page frame, ours ÷ theirs, n/a where it cannot', () => {
    const html = renderHtmlReport({
      report: {
        ...report,
        baselineComparison: {
          ratio: 'ours / theirs',
          ttlSeconds: 60,
          ours: { detectionSeconds: 10, trafficShiftedSeconds: 90, rtoSeconds: 90 },
        },
        baselines: [
          {
            name: 'k8gb',
            label: 'k8gb-style GSLB, 30s requeue',
            detectionSeconds: 20,
            trafficShiftedSeconds: 80,
            rtoSeconds: null,
            notes: 'n/a: <never> promotes',
            ratios: { detection: 0.5, trafficShifted: 1.13, rto: null },
          },
        ],
      },
      timeline,
      policy,
    });
    const table = html.slice(html.indexOf('<h2>Baselines</h2>'), html.indexOf('<h2>Expectations</h2>'));
    expect(table).toContain('ours ÷ theirs');
    expect(table).toContain('<tr><td>ours</td><td>10 s <small>T+10s</small></td>');
    expect(table).toContain(
      '<td>20 s <small>T+20s</small> <b>0.5×</b></td><td>80 s <small>T+80s</small> <b>1.13×</b></td><td>n/a</td>',
    );
    expect(table).toContain('n/a: &#60;never&#62; promotes');
    expect(renderHtmlReport({ report, timeline, policy })).not.toContain('<h2>Baselines</h2>');
  });

  it('draws state bands per zone and region from the health transitions', () => {
    const bands = healthBands(policy, timeline, -60, 1200);
    expect(bands.map((b) => b.label)).toEqual([
      'us-east-1a',
      'us-east-1b',
      'us-east-1c',
      'us-west-2a',
      'us-west-2b',
      'us-east-1 (region)',
      'us-west-2 (region)',
    ]);
    expect(bands[0]!.segments.map((s) => [s.from, s.to, s.state])).toEqual([
      [-60, 10, 'Healthy'],
      [10, 20, 'Degraded'],
      [20, 600, 'Impaired'],
      [600, 1200, 'Healthy'],
    ]);
    expect(bands[1]!.segments).toEqual([{ from: -60, to: 1200, state: 'Healthy', why: 'healthy from the start' }]);
  });

  it('follows each record weight from the policy through every performed change', () => {
    const series = weightSeries(policy, timeline, -60);
    expect(series.find((s) => s.record === 'use1-a')!.points).toEqual([
      { at: -60, weight: 100 },
      { at: 30, weight: 0 },
    ]);
    expect(series.find((s) => s.record === 'usw2')!.points).toEqual([{ at: -60, weight: 0 }]);
  });

  it('renders one standalone page: verdict, figures, escaped text, marks with titles, no script or external asset', () => {
    const html = renderHtmlReport({ report, timeline, policy });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<span class="verdict passed">PASSED</span>');
    expect(html).toContain('<span>detection</span><b>10 s</b>');
    expect(html).toContain('us-east-1a fails &#60;badly&#62;');
    expect(html).not.toContain('<badly>');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // one fill per band segment: 4 for us-east-1a, 1 for every other zone and region
    expect(html.match(/<rect /g)).toHaveLength(4 + 6);
    expect(html).toContain('skipped RebootInstances i-1 (us-east-1a) [PB-3]');
    const failed = renderHtmlReport({ report: { ...report, passed: false }, timeline, policy });
    expect(failed).toContain('<span class="verdict failed">FAILED</span>');
  });

  it('is deterministic and escapes every HTML metacharacter', () => {
    expect(renderHtmlReport({ report, timeline, policy })).toBe(renderHtmlReport({ report, timeline, policy }));
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });

  it('picks about eight ticks on human boundaries', () => {
    expect(tickStep(120 * 60)).toBe(900);
    expect(tickStep(1830 * 60)).toBe(21600);
    expect(tickStep(60)).toBe(10);
  });

  it('colours each weight line and its legend entry alike, distinct per record, past the stylesheet', () => {
    const html = renderHtmlReport({ report, timeline, policy });
    const lines = elements(html, 'path').filter((e) => e.attrs.class === 'weight');
    const legends = elements(html, 'g').filter((e) => e.attrs.class === 'legend-entry');
    const records = (policy.spec.traffic?.route53.records ?? []).map((r) => r.setIdentifier);
    expect(lines.map((l) => l.attrs['data-record'])).toEqual(records);
    expect(legends.map((l) => l.attrs['data-record'])).toEqual(records);
    const css = stylesheet(html);
    const strokes = lines.map((l) => effective(css, l, 'stroke'));
    expect(new Set(strokes).size).toBe(records.length);
    for (const [i, record] of records.entries()) {
      const entry = html.slice(html.indexOf(`<g class="legend-entry" data-record="${record}"`));
      const body = entry.slice(0, entry.indexOf('</g>'));
      const [swatch] = elements(body, 'line');
      const [label] = elements(body, 'text');
      expect(effective(css, swatch!, 'stroke'), `${record} swatch`).toBe(strokes[i]);
      expect(effective(css, label!, 'fill'), `${record} label`).toBe(strokes[i]);
    }
  });

  it('writes every time from the first fault, T+0 at its clock time once in the header', () => {
    // The scenario's first fault at its minute 2: scenario second 130 is T+10s.
    const shifted = timeline.map((e) => ({ ...e, at: e.at + 120 }));
    const html = renderHtmlReport({
      report: { ...report, faultAt: '2011-04-21T07:57:00Z', faultScenarioSeconds: 120 },
      timeline: shifted,
      policy,
    });
    expect(html.match(/2011-04-21T07:57:00Z/g)).toHaveLength(1);
    expect(html).toContain('T+0 = 2011-04-21T07:57:00Z');
    expect(html).toContain('<span>detection</span><b>10 s</b><small>T+10s</small>');
    expect(html).toContain('<span>RPO</span><b>0 s</b></div>');
    const times = [...html.matchAll(/<td class="t">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(times).toEqual(['T-60s', 'T+0s', 'T+10s', 'T+20s', 'T+30s', 'T+600s']);
    expect(html).toContain('T+30s SetWeights api [PB-5]\nuse1-a=0 use1-b=150 use1-c=150');
    expect(html).not.toMatch(/[+-]\d\d:\d\d:\d\d/);
  });

  it('names a rule once in the timeline table and tags no scenario line with one', () => {
    const html = renderHtmlReport({ report, timeline, policy });
    const rows = [
      ...html.matchAll(/<tr><td class="t">[^<]*<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g),
    ];
    const action = rows.find((r) => r[1] === 'action')!;
    expect(action.slice(2)).toEqual(['PB-5', 'performed SetWeights on api: set weights']);
    expect(rows.filter((r) => r[1] === 'scenario').map((r) => r[2])).toEqual(['']);
  });
});

interface Element {
  tag: string;
  attrs: Record<string, string>;
}

/** The start tags of one element name, with their attributes (enough of an HTML parser for our own output). */
function elements(html: string, tag: string): Element[] {
  return [...html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))].map((m) => ({
    tag,
    attrs: Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
  }));
}

/** The page's stylesheet rules: selector → declarations. */
function stylesheet(html: string): Array<{ selector: string; decls: Record<string, string> }> {
  const css = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
  return [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)].flatMap((m) =>
    m[1]!.split(',').map((selector) => ({ selector: selector.trim(), decls: declarations(m[2]!) })),
  );
}

function declarations(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(';')
      .map((d) => d.split(':').map((x) => x.trim()))
      .filter((d) => d.length === 2 && d[0])
      .map(([k, v]) => [k!, v!]),
  );
}

/**
 * The value a property takes on an SVG element inside the page's <svg>: inline style, else the last matching
 * stylesheet rule (selectors `[svg ]tag`, `[svg ].class`, `[svg ]tag.class`), else the presentation attribute —
 * CSS's order, which is why a `fill` attribute loses to `svg text{fill:…}`.
 */
function effective(css: ReturnType<typeof stylesheet>, el: Element, property: string): string | undefined {
  const inline = declarations(el.attrs.style ?? '')[property];
  if (inline !== undefined) return inline;
  const classes = (el.attrs.class ?? '').split(/\s+/).filter(Boolean);
  const matches = (selector: string) => {
    const m = /^(?:svg\s+)?([a-z]+)?(?:\.([\w-]+))?$/.exec(selector);
    if (!m || (!m[1] && !m[2])) return false;
    return (!m[1] || m[1] === el.tag) && (!m[2] || classes.includes(m[2]));
  };
  const fromCss = css.filter((r) => matches(r.selector) && r.decls[property] !== undefined).at(-1);
  return fromCss?.decls[property] ?? el.attrs[property];
}
