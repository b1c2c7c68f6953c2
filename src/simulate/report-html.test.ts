import { describe, expect, it } from 'vitest';
import { readPolicies } from '../cli/failover-operator.ts';
import type { DrillReport } from './drill-report.ts';
import { escapeHtml, healthBands, renderHtmlReport, tickStep, weightSeries } from './report-html.ts';
import type { TimelineEntry } from './timeline.ts';

const [policy] = readPolicies(['examples/two-region-rds.yaml']);
if (!policy) throw new Error('example policy missing');

const timeline: TimelineEntry[] = [
  { at: -60, kind: 'phase', message: 'phase → Healthy' },
  { at: 0, kind: 'scenario', message: 'us-east-1a fails <badly>', rule: 'PB-12' },
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
    message: 'set weights',
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
  detectionSeconds: 10,
  trafficShiftedSeconds: 30,
  rtoSeconds: 30,
  rpoSeconds: 0,
  actions: [{ kind: 'SetWeights', target: 'api', rule: 'PB-5', at: 30 }],
  skipped: [
    { kind: 'RebootInstances', target: 'i-1', zone: 'us-east-1a', rule: 'PB-3', reason: 'zone impaired', at: 40 },
  ],
  violations: [],
  expectations: [{ check: 'c', text: 'drains us-east-1a', passed: true, detail: 'at 30s' }],
  durationSeconds: 1200,
};

describe('HTML drill report', () => {
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
});
