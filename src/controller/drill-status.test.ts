import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRILL_LIMITS, loadManifests } from '../api/index.ts';
import type { DrillReport } from '../simulate/drill-report.ts';
import type { TimelineEntry } from '../simulate/timeline.ts';
import { boundedTimeline, preDrillWeightsEntry, reportFromSimulation, timelineEntry } from './drill-status.ts';

describe('pre-drill weights in the timeline', () => {
  it('lists them sorted, and stays within the message bound however many records there are', () => {
    expect(preDrillWeightsEntry(0, { 'use1-b': 100, 'use1-a': 50 }).message).toBe(
      'recorded the pre-drill Route 53 weights (restored on abort): use1-a=50 use1-b=100',
    );
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`record-with-a-long-name-${i}`, 255]));
    const line = preDrillWeightsEntry(0, many).message;
    expect(line).toHaveLength(1024);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('boundedTimeline', () => {
  it('keeps the first entries and says how many were left out', () => {
    const entries = Array.from({ length: 250 }, (_, i) => timelineEntry(i * 1000, `entry ${i}`));
    const bounded = boundedTimeline(entries);
    expect(bounded).toHaveLength(DRILL_LIMITS.timeline);
    expect(bounded[0]?.message).toBe('entry 0');
    expect(bounded.at(-1)?.message).toContain('51 more timeline entries not shown');
  });
});

describe('reportFromSimulation', () => {
  it('maps the report’s times from the fault back to scenario time and wall clock', () => {
    const file = 'examples/two-region-rds.yaml';
    const [doc] = loadManifests(readFileSync(file, 'utf8'), file);
    if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) throw new Error(`${file} is not a valid policy`);
    const policy = doc.result.value;
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
      skipped: [{ kind: 'RebootInstances', target: 'i-1', rule: 'PB-3', reason: 'zone impaired', at: 20 }],
      violations: [],
      expectations: [],
      durationSeconds: 3600,
    };
    const startedAtMs = Date.parse('2026-01-01T00:00:00Z');
    const timeline: TimelineEntry[] = [
      { at: 120, kind: 'scenario', message: 'us-east-1a loses power' },
      { at: 135, kind: 'action', message: 'PB-5 performed SetWeights on api: set weights use1-a=0', rule: 'PB-5' },
    ];
    const fields = reportFromSimulation({ policy, report, timeline, startedAtMs, timeScale: 10 });
    // T+15s is scenario second 135, 13.5 wall seconds after the start at time scale 10.
    expect(fields.actions?.[0]).toMatchObject({ scenarioSeconds: 135, at: '2026-01-01T00:00:13Z' });
    expect(fields.skipped?.[0]).toMatchObject({ at: '2026-01-01T00:00:14Z' });
    // Timeline lines keep scenario time; the rule is named once, and the scenario's lines carry none.
    expect(fields.timeline).toEqual([
      { at: '2026-01-01T00:00:12Z', scenarioSeconds: 120, message: '[scenario] us-east-1a loses power' },
      {
        at: '2026-01-01T00:00:13Z',
        scenarioSeconds: 135,
        message: '[action] performed SetWeights on api: set weights use1-a=0',
        rule: 'PB-5',
      },
    ]);
  });
});
