// Several vantage points in one simulation (#14): one engine stack per spec.vantagePoints member, each with its own
// view of the shared simulated cloud. The facts are read from the simulated cloud's own evidence (its call log, its
// CloudWatch datapoints), not from what the vantages believe they did.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type FailoverPolicy, loadManifests } from '../../../src/api/index.ts';
import { loadScenario, parseScenario, ScenarioError } from '../../../src/scenarios/index.ts';
import { formatReport } from '../../../src/simulate/format-report.ts';
import { runSimulation, SIMULATION_EPOCH_MS } from '../../../src/simulate/run-simulation.ts';

function examplePolicy(file: string): FailoverPolicy {
  const [doc] = loadManifests(readFileSync(file, 'utf8'), file);
  if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) throw new Error(`${file} is not a valid policy`);
  return doc.result.value;
}

const threeVantages = examplePolicy('examples/three-vantages.yaml');
const twoRegion = examplePolicy('examples/two-region-rds.yaml');
const FAULT_MS = SIMULATION_EPOCH_MS + 2 * 60_000;

/** Every drain the simulated cloud received after the fault: a record edit, or a data-plane verdict of 1 (drain). */
function drainWrites(sim: Awaited<ReturnType<typeof runSimulation>>['sim']) {
  const r53 = threeVantages.spec.traffic!.route53;
  const recordEdits = sim.calls
    .writes()
    .filter((c) => c.at >= FAULT_MS && c.operation === 'ChangeResourceRecordSets' && c.target === r53.hostedZoneId);
  const verdictDrains = sim.calls
    .writes()
    .filter((c) => c.at >= FAULT_MS && c.operation === 'PutMetricData' && c.target === 'FailoverOperator');
  return { recordEdits, verdictDrains };
}

function promoteCalls(sim: Awaited<ReturnType<typeof runSimulation>>['sim']) {
  return sim.calls.writes().filter((c) => c.operation === 'PromoteReadReplica');
}

describe('simulating three vantage points (examples/three-vantages.yaml)', () => {
  it('the example validates and lists three members', () => {
    expect(threeVantages.spec.vantagePoints?.members).toEqual(['use1', 'usw2', 'euw1']);
  });

  it('vantage-partition: use1 cut off from us-east-1 endpoints; no drain write, no promotion, use1 reports the disagreement', async () => {
    const { report, sim, timeline } = await runSimulation({
      policy: threeVantages,
      scenario: loadScenario('vantage-partition'),
    });
    expect(report.violations).toEqual([]);
    expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(report.passed).toBe(true);
    // The cloud's evidence: no record edit and no data-plane verdict at all after the partition, no promotion.
    const { recordEdits, verdictDrains } = drainWrites(sim);
    expect(recordEdits).toEqual([]);
    expect(verdictDrains).toEqual([]);
    expect(promoteCalls(sim)).toEqual([]);
    expect(report.promoteReadReplicaCalls).toBe(0);
    // use1 saw us-east-1 Impaired on its own; the others never left Healthy.
    const seen = (v: string) => timeline.filter((e) => e.kind === 'health' && e.vantage === v && e.at >= 120);
    expect(seen('use1').some((e) => e.scope === 'region' && e.state === 'Impaired')).toBe(true);
    expect(seen('usw2')).toEqual([]);
    expect(seen('euw1')).toEqual([]);
    const use1 = report.vantages?.find((v) => v.name === 'use1');
    expect(use1).toMatchObject({ region: 'us-east-1', actions: 0, promoteCalls: 0 });
    expect(use1!.disagreements).toBeGreaterThan(0);
    // Partitioned from us-east-1's endpoints only: use1's AWS calls (its verdicts to CloudWatch there) still arrive.
    const use1InUse1 = sim.verdicts.datapoints('us-east-1', 'FailoverOperator/Vantages', 'RegionVerdict', {
      Policy: 'orders/orders',
      Vantage: 'use1',
      Region: 'us-east-1',
    });
    expect(use1InUse1.some((d) => d.receivedAt > FAULT_MS + 60_000)).toBe(true);
  }, 120_000);

  it('vantage-region-outage: everyone sees it; drained, then exactly one PromoteReadReplica across all vantages', async () => {
    const { report, sim } = await runSimulation({
      policy: threeVantages,
      scenario: loadScenario('vantage-region-outage'),
    });
    expect(report.violations).toEqual([]);
    expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(report.passed).toBe(true);
    const calls = promoteCalls(sim);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ region: 'us-west-2', target: 'orders-usw2', ok: true });
    expect(report.promoteReadReplicaCalls).toBe(1);
    // Attributed: the vantages' own counts add up to the cloud's.
    expect(report.vantages?.reduce((n, v) => n + v.promoteCalls, 0)).toBe(1);
    // The drain came before the promotion.
    const { verdictDrains } = drainWrites(sim);
    expect(verdictDrains.length).toBeGreaterThan(0);
    expect(verdictDrains[0]!.at).toBeLessThan(calls[0]!.at);
    expect(sim.promotionLock.items().size).toBe(1);
    const text = formatReport(report);
    expect(text).toContain('PromoteReadReplica 1 call(s) reached the cloud, across 3 vantages');
    // Which vantage wins the lock is a race; exactly one of them promoted, and the report says which.
    const winners = text.match(
      /\((?:us-east-1|us-west-2|eu-west-1)\): detected T\+\d+s, \d+ action\(s\) from T\+0, 1 PromoteReadReplica/g,
    );
    expect(winners).toHaveLength(1);
  }, 120_000);

  it('vantage-in-failing-region: use1 dies with us-east-1; usw2 and euw1 still drain and promote exactly once, without use1', async () => {
    const { report, sim, timeline } = await runSimulation({
      policy: threeVantages,
      scenario: loadScenario('vantage-in-failing-region'),
    });
    expect(report.violations).toEqual([]);
    expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(report.passed).toBe(true);
    const calls = promoteCalls(sim);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.ok).toBe(true);
    const use1 = report.vantages?.find((v) => v.name === 'use1');
    expect(use1).toMatchObject({ downAt: 0, actions: 0, promoteCalls: 0 });
    // Nothing from use1 after it died: no timeline entry, and its verdicts stop at the fault.
    expect(timeline.filter((e) => e.vantage === 'use1' && e.at > 120)).toEqual([]);
    const holder = [...sim.promotionLock.items().values()][0];
    expect(['usw2', 'euw1']).toContain(holder?.vantage);
    const use1Verdict = sim.verdicts.datapoints('us-west-2', 'FailoverOperator/Vantages', 'RegionVerdict', {
      Policy: 'orders/orders',
      Vantage: 'use1',
      Region: 'us-east-1',
    });
    expect(use1Verdict.length).toBeGreaterThan(0);
    expect(Math.max(...use1Verdict.map((d) => d.receivedAt))).toBeLessThanOrEqual(FAULT_MS);
  }, 120_000);

  it('a scenario naming an unknown vantage is refused, naming the field and the members', async () => {
    const scenario = parseScenario(
      'name: t\nevents:\n  - {at: 1, partition: {vantage: apse2, regions: [us-east-1]}}\n',
      'inline.yaml',
    );
    const err = await runSimulation({ policy: threeVantages, scenario }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioError);
    const [issue] = (err as ScenarioError).issues;
    expect(issue!.path).toBe('events[0].partition.vantage');
    expect(issue!.message).toContain('use1, usw2, euw1');
  });

  it('a vantage scenario against a policy without spec.vantagePoints is not applicable: refused before it runs', async () => {
    const err = await runSimulation({ policy: twoRegion, scenario: loadScenario('vantage-partition') }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).issues).toEqual([
      expect.objectContaining({
        path: 'vantages[0].name',
        message: expect.stringContaining('has no spec.vantagePoints: not applicable'),
      }),
    ]);
  });

  it('a non-vantage scenario runs against the three-vantage policy with every vantage acting on agreement', async () => {
    const { report, sim } = await runSimulation({ policy: threeVantages, scenario: loadScenario('zone-outage') });
    expect(report.violations).toEqual([]);
    expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(promoteCalls(sim)).toEqual([]);
    expect(report.vantages?.map((v) => v.name)).toEqual(['use1', 'usw2', 'euw1']);
  }, 120_000);
});

describe('three vantages in one AWS account share its Route 53 limit', () => {
  it('route53-writes-failing: each runs at its share (1 a second), none is throttled; the drain lands within budget', async () => {
    const { report, sim } = await runSimulation({
      policy: threeVantages,
      scenario: loadScenario('route53-writes-failing'),
      callLog: { recentCapacity: 100_000 }, // every call, to find the busiest second
    });
    expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(sim.calls.count({ service: 'route53', code: 'Throttling' })).toBe(0);
    // What the account saw: at most 3 Route 53 requests in any second — one per vantage — of the 5 it allows.
    expect(sim.calls.recent()).toHaveLength(sim.calls.total()); // the ring kept every call
    const times = sim.calls
      .recent()
      .filter((c) => c.service === 'route53')
      .map((c) => c.at)
      .sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1_000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(3);
  }, 120_000);
});

describe('single-vantage runs are unchanged', () => {
  it('no vantage fields in the timeline or the report', async () => {
    const { report, timeline } = await runSimulation({ policy: twoRegion, scenario: loadScenario('zone-outage') });
    expect(timeline.some((e) => e.vantage !== undefined || e.kind === 'vantage')).toBe(false);
    expect(report.vantages).toBeUndefined();
    expect(report.promoteReadReplicaCalls).toBeUndefined();
    expect(report.actions.some((a) => a.vantage !== undefined)).toBe(false);
  }, 120_000);
});

describe('partitions of AWS calls', () => {
  it('a vantage cut off from us-east-1 (scope aws) publishes its verdicts only in us-west-2 while cut off', async () => {
    const scenario = parseScenario(
      [
        'name: t',
        'durationMinutes: 6',
        'events:',
        '  - {at: 2, partition: {vantage: euw1, regions: [us-east-1], scope: aws, forMinutes: 2}}',
      ].join('\n'),
      'inline.yaml',
    );
    const { sim, timeline } = await runSimulation({ policy: threeVantages, scenario });
    const points = (region: string) =>
      sim.verdicts.datapoints(region, 'FailoverOperator/Vantages', 'RegionVerdict', {
        Policy: 'orders/orders',
        Vantage: 'euw1',
        Region: 'us-east-1',
      });
    const cutFrom = FAULT_MS;
    const cutUntil = FAULT_MS + 2 * 60_000;
    const during = (p: { receivedAt: number }) => p.receivedAt > cutFrom && p.receivedAt < cutUntil;
    expect(points('us-east-1').filter(during)).toEqual([]);
    expect(points('us-west-2').filter(during).length).toBeGreaterThan(0);
    expect(points('us-east-1').some((p) => p.receivedAt > cutUntil)).toBe(true);
    expect(timeline.filter((e) => e.kind === 'scenario').map((e) => e.message)).toEqual([
      expect.stringContaining('vantage euw1 partitioned: its AWS API calls in us-east-1 get no answer'),
      expect.stringContaining('vantage euw1 reaches us-east-1 again'),
    ]);
  }, 120_000);
});
