import { describe, expect, it } from 'vitest';
import type { DrillReport } from './drill-report.ts';
import { formatActionDetail, formatReport, formatTimeline } from './format-report.ts';
import { formatFaultTime, messageWithoutRule, type TimelineEntry } from './timeline.ts';

// Scenario seconds: the fault at the scenario's minute 2 (scenario second 120) is T+0.
const timeline: TimelineEntry[] = [
  { at: -30, kind: 'phase', message: 'phase (none) → Healthy', state: 'Healthy' },
  { at: 120, kind: 'scenario', message: 'us-east-1a loses power: us-east-1a endpoints down' },
  { at: 128, kind: 'health', message: 'zone us-east-1a Healthy → Degraded', rule: 'PB-2', scope: 'zone' },
  {
    at: 135,
    kind: 'action',
    message: 'PB-5 performed SetWeights on api.orders.example.com.: set weights use1-a=0',
    rule: 'PB-5',
  },
  {
    at: 140,
    kind: 'gate',
    message: 'PB-6 ReplicaLag: lag 40s over budget | PB-9 RecoveryWindow: held',
    rule: 'PB-6',
  },
  { at: 2400, kind: 'scenario', message: 'us-east-1a is back: us-east-1a endpoints ok' },
];

const report: DrillReport = {
  scenario: 'zone-outage',
  policy: 'default/orders',
  passed: true,
  faultAt: '2011-04-21T07:57:00Z',
  faultScenarioSeconds: 120,
  measuredFromSeconds: 0,
  detectionSeconds: 8,
  trafficShiftedSeconds: 15,
  rtoSeconds: 15,
  rpoSeconds: 0,
  actions: [{ kind: 'SetWeights', target: 'api', rule: 'PB-5', at: 15, detail: { weights: { 'use1-a': 0 } } }],
  skipped: [],
  violations: [{ rule: 'PB-3', message: 'RebootInstances reached impaired zone us-east-1a', at: 20 }],
  expectations: [{ check: 'drain', text: 'drain us-east-1a', passed: true, detail: 'us-east-1a drained at T+15s' }],
  durationSeconds: 3600,
};

describe('text drill report', () => {
  it('writes times as seconds from the first fault', () => {
    expect([formatFaultTime(0), formatFaultTime(12), formatFaultTime(-30), formatFaultTime(3290.4)]).toEqual([
      'T+0s',
      'T+12s',
      'T-30s',
      'T+3290s',
    ]);
  });

  it('timeline: T+ from the first scenario event, the rule once, scenario lines untagged', () => {
    expect(formatTimeline(timeline).split('\n')).toEqual([
      'T+0s     SCENARIO  us-east-1a loses power: us-east-1a endpoints down',
      'T+8s     SEEN      [PB-2] zone us-east-1a Healthy → Degraded',
      'T+15s    DONE      [PB-5] performed SetWeights on api.orders.example.com.: set weights use1-a=0',
      'T+20s    WAITING   [PB-6] ReplicaLag: lag 40s over budget | PB-9 RecoveryWindow: held',
      'T+2280s  SCENARIO  us-east-1a is back: us-east-1a endpoints ok',
    ]);
    expect(formatTimeline(timeline, { includeWarmUp: true }).split('\n')[0]).toBe(
      'T-150s   PHASE     phase (none) → Healthy',
    );
    expect(formatTimeline(timeline, { faultScenarioSeconds: 0 }).split('\n')[0]).toMatch(/^T\+120s /);
  });

  it('strips a leading rule only when it is the entry’s own', () => {
    expect(messageWithoutRule({ rule: 'PB-5', message: 'PB-5 performed X' })).toBe('performed X');
    expect(messageWithoutRule({ rule: 'PB-5', message: 'PB-50 performed X' })).toBe('PB-50 performed X');
    expect(messageWithoutRule({ message: 'PB-5 performed X' })).toBe('PB-5 performed X');
  });

  it('header: T+0 at its clock time once; measures as durations with the time they were reached', () => {
    const text = formatReport(report);
    const lines = text.split('\n');
    expect(lines.slice(0, 6)).toEqual([
      'Drill report: scenario zone-outage, policy default/orders: PASSED',
      '  first fault        T+0 = 2011-04-21T07:57:00Z (times below are from it)',
      '  detection          8s (T+8s)',
      '  traffic shifted    15s (T+15s)',
      '  RTO                15s (T+15s)',
      '  RPO                0s',
    ]);
    expect(text.match(/2011-04-21T07:57:00Z/g)).toHaveLength(1);
    expect(text).toContain('    ✗ PB-3: RebootInstances reached impaired zone us-east-1a at T+20s');
    expect(text).toContain('    ✓ drain us-east-1a — us-east-1a drained at T+15s');
    expect(text).not.toMatch(/[+-]\d\d:\d\d:\d\d/);
  });

  it('says where the measures count from when that is not the first fault', () => {
    const later = formatReport({ ...report, measuredFromSeconds: 7200, detectionSeconds: 8 });
    expect(later).toContain('  measured from      T+7200s, the first fault on what was detected');
    expect(later).toContain('  detection          8s (T+7208s)');
  });

  it('an action detail as text', () => {
    expect(formatActionDetail({ weights: { 'use1-a': 0, 'use1-b': 150 } })).toBe('use1-a=0 use1-b=150');
    expect(formatActionDetail(undefined)).toBe('');
  });
});

describe('baselines in the text report', () => {
  const withBaselines: DrillReport = {
    ...report,
    measuredFromSeconds: 5,
    baselineComparison: {
      ratio: 'ours / theirs',
      ttlSeconds: 60,
      ours: { detectionSeconds: 8, trafficShiftedSeconds: 75, rtoSeconds: 75 },
    },
    baselines: [
      {
        name: 'route53-health-check-30s',
        label: 'Route 53 health checks, 30s × 3',
        detectionSeconds: 80,
        trafficShiftedSeconds: 140,
        rtoSeconds: null,
        notes: 'n/a: never promotes',
        ratios: { detection: 0.1, trafficShifted: 0.54, rto: null },
      },
    ],
  };

  it('a section naming the basis and the ratio’s direction; times in the report frame; n/a for an RTO they cannot reach', () => {
    const text = formatReport(withBaselines);
    const section = text.slice(text.indexOf('  baselines'));
    expect(section.split('\n')).toEqual([
      '  baselines          same faults and seed; clients moved = answers moved + 60s TTL; ours N× = ours ÷ theirs (0.25× = a quarter of their time)',
      '    ours',
      '      detection 8s (T+13s); clients moved 75s (T+80s); RTO 75s (T+80s)',
      '    Route 53 health checks, 30s × 3',
      '      detection 80s (T+85s), ours 0.1×; clients moved 140s (T+145s), ours 0.54×; RTO n/a',
      '      n/a: never promotes',
    ]);
  });

  it('no section for a report without baselines (a live drill)', () => {
    expect(formatReport(report)).not.toContain('baselines');
  });
});
