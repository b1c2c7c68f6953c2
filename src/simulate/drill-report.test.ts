// The drill report of a real simulation, as `--output json` prints it: parsed back from JSON, so what is checked is
// what a machine reading the report gets.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type FailoverPolicy, loadManifests } from '../api/index.ts';
import { loadScenario } from '../scenarios/index.ts';
import type { DrillReport } from './drill-report.ts';
import { formatTimeline } from './format-report.ts';
import { runSimulation } from './run-simulation.ts';

function examplePolicy(file: string): FailoverPolicy {
  const [doc] = loadManifests(readFileSync(file, 'utf8'), file);
  if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) throw new Error(`${file} is not a valid policy`);
  return doc.result.value;
}

describe('drill report of the zone-outage scenario (first fault at its minute 2)', async () => {
  const policy = structuredClone(examplePolicy('examples/two-region-rds.yaml'));
  // Record edits, so the drain is a SetWeights with weights to show.
  policy.spec.traffic!.route53.dataPlane = { ...policy.spec.traffic!.route53.dataPlane, mechanism: 'RecordEdits' };
  const result = await runSimulation({ policy, scenario: loadScenario('zone-outage') });
  const json = JSON.parse(JSON.stringify(result.report)) as DrillReport;

  it('gives T+0 as a clock time and the scenario second it is', () => {
    expect(json.faultScenarioSeconds).toBe(120);
    expect(json.faultAt).toBe('2011-04-21T07:57:00Z');
    expect(json.measuredFromSeconds).toBe(0);
  });

  it('actions[].detail is an object (weights per record), not a JSON string', () => {
    const drain = json.actions.find((a) => a.kind === 'SetWeights');
    expect(typeof drain?.detail).toBe('object');
    expect(drain?.detail?.weights).toMatchObject({ 'use1-a': 0 });
    for (const a of json.actions) if (a.detail !== undefined) expect(typeof a.detail).toBe('object');
  });

  it('counts every time from the fault: actions, expectations and timeline agree', () => {
    const drain = json.actions.find((a) => a.kind === 'SetWeights')!;
    // The drain happens seconds after the fault, not 120 s + seconds (scenario time).
    expect(drain.at).toBeGreaterThan(0);
    expect(drain.at).toBeLessThan(60);
    const drained = json.expectations.find((e) => e.check === 'drain')!;
    expect(drained.detail).toMatch(/^us-east-1a drained at T\+\d+s$/);
    const timeline = formatTimeline(result.timeline);
    expect(timeline).toContain(`T+${drain.at}s`);
    expect(timeline.split('\n')[0]).toMatch(/^T\+0s +SCENARIO {2}us-east-1a loses power/);
    // A point in time is always T+…; bare seconds are durations ("after 6s", "budget 15s").
    for (const e of json.expectations) expect(e.detail).not.toMatch(/\b(at|from|before) \d+s/);
    expect(json.detectionSeconds).not.toBeNull();
  });

  it('tags no scenario line with a rule and names each rule once per line', () => {
    expect(result.timeline.filter((e) => e.kind === 'scenario').every((e) => e.rule === undefined)).toBe(true);
    const lines = formatTimeline(result.timeline).split('\n');
    for (const line of lines) expect(line).not.toMatch(/\[(PB-\d+)\] \1 /);
    expect(lines.filter((l) => l.includes('SCENARIO')).every((l) => !/\[PB-\d+\]/.test(l))).toBe(true);
    expect(lines.some((l) => /\[PB-5\] performed SetWeights/.test(l))).toBe(true);
  });
});
