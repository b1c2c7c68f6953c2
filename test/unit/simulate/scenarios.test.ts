// The embedded simulation end to end: the real health model, planner and executor against the simulated cloud,
// judged by the drill report (which reads the simulated cloud's own evidence). No servers involved.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type FailoverPolicy, loadManifests } from '../../../src/api/index.ts';
import { loadScenario, parseScenario } from '../../../src/scenarios/index.ts';
import { runSimulation, SIMULATION_EPOCH_MS } from '../../../src/simulate/run-simulation.ts';

function examplePolicy(file: string): FailoverPolicy {
  const [doc] = loadManifests(readFileSync(file, 'utf8'), file);
  if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) throw new Error(`${file} is not a valid policy`);
  return doc.result.value;
}

const twoRegion = examplePolicy('examples/two-region-rds.yaml');
const singleRegion = examplePolicy('examples/single-region-web.yaml');
/** The same policy moving traffic only by record edits (dataPlane.mechanism RecordEdits). */
const twoRegionRecordEdits: FailoverPolicy = structuredClone(twoRegion);
twoRegionRecordEdits.spec.traffic!.route53.dataPlane = {
  ...twoRegionRecordEdits.spec.traffic!.route53.dataPlane,
  mechanism: 'RecordEdits',
};

describe('built-in scenarios against the two-region example policy', () => {
  it('the example drains through health checks (dataPlane HealthChecks in us-west-2)', () => {
    expect(twoRegion.spec.traffic?.route53.dataPlane).toMatchObject({
      mechanism: 'HealthChecks',
      signalRegion: 'us-west-2',
    });
  });

  it.each([
    'zone-outage',
    'region-outage',
    'flapping-zone',
    'control-plane-brownout',
    'route53-writes-failing',
    'route53-writes-failing-7h',
    'us-east-1-2011',
  ])(
    '%s with record edits only: every expectation holds and no playbook rule is broken',
    async (name) => {
      const { report } = await runSimulation({ policy: twoRegionRecordEdits, scenario: loadScenario(name) });
      expect(report.violations).toEqual([]);
      expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
      expect(report.passed).toBe(true);
    },
    120_000,
  );

  it.each([
    'zone-outage',
    'region-outage',
    'flapping-zone',
    'slow-replica',
    'control-plane-brownout',
    'ec2-metadata-only',
    'gray-latency',
    'replica-lag-negative',
    'replica-lag-stale',
    'standby-unobservable',
    'route53-writes-failing',
    'route53-writes-failing-7h',
  ])(
    '%s: every expectation holds and no playbook rule is broken',
    async (name) => {
      const { report } = await runSimulation({ policy: twoRegion, scenario: loadScenario(name) });
      expect(report.violations).toEqual([]);
      expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
      expect(report.expectations.length).toBeGreaterThan(0);
      expect(report.passed).toBe(true);
    },
    120_000,
  );

  it('zone outage: drains the dead zone only, skips in-zone recovery (PB-3) and never promotes', async () => {
    const { report } = await runSimulation({ policy: twoRegionRecordEdits, scenario: loadScenario('zone-outage') });
    expect(report.detectionSeconds).toBeLessThanOrEqual(3 * twoRegion.spec.health.intervalSeconds);
    expect(report.actions.filter((a) => a.kind === 'PromoteReplica')).toEqual([]);
    const firstDrain = report.actions.find((a) => a.kind === 'SetWeights');
    expect(firstDrain!.detail?.weights).toMatchObject({ 'use1-a': 0 });
    expect(report.skipped.some((s) => s.rule === 'PB-3' && s.zone === 'us-east-1a')).toBe(true);
    expect(report.rpoSeconds).toBe(0);
  }, 120_000);

  it('zone outage: traffic counts as shifted when the simulated Route 53 has the drain INSYNC, not when the action ends', async () => {
    const { report, sim } = await runSimulation({
      policy: twoRegionRecordEdits,
      scenario: loadScenario('zone-outage'),
    });
    const fault = Math.min(...loadScenario('zone-outage').events.map((e) => e.at * 60));
    const drain = report.actions.find((a) => a.kind === 'SetWeights')!;
    const change = sim.dns
      .changes()
      .find((c) => c.submittedAt >= SIMULATION_EPOCH_MS + fault * 1000 && c.records.some((r) => r.setIdentifier))!;
    const insyncAt = Math.round((change.insyncAt - SIMULATION_EPOCH_MS) / 1000);
    // Propagation takes 30-60 s in the simulator; the action hands back before the change is INSYNC. (The report
    // counts from the fault; insyncAt is scenario time.)
    expect(report.faultScenarioSeconds).toBe(fault);
    expect(insyncAt).toBeGreaterThan(fault + drain.at);
    expect(report.trafficShiftedSeconds).toBe(insyncAt - fault);
    expect(report.rtoSeconds).toBe(report.trafficShiftedSeconds);
  }, 120_000);

  it('zone outage through health checks: one PutMetricData drains the zone, no record edit; answers move when the check follows the alarm', async () => {
    const { report, sim, answers } = await runSimulation({ policy: twoRegion, scenario: loadScenario('zone-outage') });
    const fault = Math.min(...loadScenario('zone-outage').events.map((e) => e.at * 60));
    // The report's times count from the fault (T+0); the simulation's answers are in scenario time.
    const drain = report.actions.find((a) => a.kind === 'SetVerdicts' && a.at >= 0)!;
    expect(drain).toBeDefined();
    expect(report.actions.filter((a) => a.kind === 'SetWeights' && a.at >= 0)).toEqual([]);
    const drainedAt = fault + drain.at;
    // Writes are kept in full by the bounded call log; reads only as counters.
    const afterFault = sim.calls.writes().filter((c) => c.at >= SIMULATION_EPOCH_MS + fault * 1000);
    expect(afterFault.filter((c) => c.operation === 'ChangeResourceRecordSets')).toEqual([]);
    expect(
      afterFault.filter((c) => c.operation === 'PutMetricData' && c.region === 'us-west-2').length,
    ).toBeGreaterThan(0);
    // The answers move once the alarm (60 s period + evaluation) and the health check (30 s behind it) follow:
    // not at the publication, and from then on the dead zone's record gets no answer.
    const moved = answers.find((s) => s.at > drainedAt && (s.share['use1-a'] ?? 0) === 0)!;
    expect(moved.at).toBeGreaterThan(drainedAt + 30);
    expect(report.trafficShiftedSeconds).toBe(moved.at - fault);
    expect(
      answers.filter((s) => s.at >= moved.at && s.at < fault + 600).every((s) => (s.share['use1-a'] ?? 0) === 0),
    ).toBe(true);
  }, 120_000);

  it('Route 53 API down for 7 hours, a zone dark at hour two: drained through health checks with zero record-change attempts during the event', async () => {
    const scenario = loadScenario('route53-writes-failing-7h');
    const { report, sim, answers } = await runSimulation({ policy: twoRegion, scenario });
    const zoneFault = 120 * 60;
    const during = sim.calls
      .writes()
      .filter((c) => c.at >= SIMULATION_EPOCH_MS && c.at < SIMULATION_EPOCH_MS + 420 * 60_000);
    expect(during.filter((c) => c.operation === 'ChangeResourceRecordSets')).toEqual([]);
    const drainedAt = answers.find((s) => s.at >= zoneFault && (s.share['use1-a'] ?? 0) === 0)?.at;
    expect(drainedAt).toBeDefined();
    // detection (≤ 3 intervals) + the alarm's period and evaluation (≤ 2 periods + 10 s) + the health check (30 s)
    expect(drainedAt! - zoneFault).toBeLessThanOrEqual(3 * 5 + 2 * 60 + 10 + 30);
    expect(report.trafficShiftedSeconds).toBe(drainedAt! - zoneFault);
  }, 120_000);

  it('region outage: our own promotion never makes the standby look unhealthy; every region is Healthy after recovery', async () => {
    const { timeline, finalStatus } = await runSimulation({
      policy: twoRegion,
      scenario: loadScenario('region-outage'),
    });
    // The promotion takes orders-usw2 through modifying and rebooting; that is a planned change, not a zone failure.
    const standbyChanges = timeline.filter((e) => e.kind === 'health' && e.name?.startsWith('us-west-2'));
    expect(standbyChanges).toEqual([]);
    expect(finalStatus?.activeWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
    // Once the region answers again, no region-wide failure lingers (the EC2 calls answering clear it) and the
    // promoted writer has no replica lag to miss.
    expect(finalStatus?.regions?.map((r) => [r.name, r.state])).toEqual([
      ['us-east-1', 'Healthy'],
      ['us-west-2', 'Healthy'],
    ]);
  }, 120_000);

  it.each([
    ['replica-lag-negative', 'replicationRunning: false', 'replicationRunning: true'],
    ['replica-lag-stale', 'lagMetricStopped: true', 'lagMetricStopped: false'],
  ])(
    '%s: the lag signal alone holds the promotion — with a healthy lag metric the same outage promotes',
    async (name, fault, healthy) => {
      const file = `src/scenarios/builtin/${name}.yaml`;
      const text = readFileSync(file, 'utf8');
      expect(text).toContain(fault);
      const control = parseScenario(text.replace(fault, healthy), `${file} (control)`);
      const { report } = await runSimulation({ policy: twoRegion, scenario: control });
      expect(report.actions.filter((a) => a.kind === 'PromoteReplica')).toHaveLength(1);
      const failed = report.expectations.filter((e) => !e.passed).map((e) => e.check);
      expect(failed).toEqual(['no-promotion', 'gate', 'database-stays']);
    },
    120_000,
  );

  it('seven hours of failing Route 53 writes: attempts decay to a trickle inside the budget, detection is measured from the zone fault', async () => {
    const { report, sim } = await runSimulation({
      policy: twoRegion,
      scenario: loadScenario('route53-writes-failing-7h'),
    });
    expect(report.detectionSeconds).toBeLessThanOrEqual(15);
    const writes = sim.calls.writes().filter((c) => c.operation === 'ChangeResourceRecordSets');
    expect(sim.calls.writesDropped()).toBe(0);
    expect(writes).toHaveLength(sim.calls.count({ operation: 'ChangeResourceRecordSets' }));
    const perHour = new Map<number, number>();
    const t0 = sim.calls.firstAt() ?? 0;
    for (const c of writes)
      perHour.set(Math.floor((c.at - t0) / 3_600_000), (perHour.get(Math.floor((c.at - t0) / 3_600_000)) ?? 0) + 1);
    // Hours 3–6 of the outage: the backoff is at its cap, a handful of attempts an hour, never rising.
    const late = [3, 4, 5, 6].map((h) => perHour.get(h) ?? 0);
    for (const n of late) expect(n).toBeLessThanOrEqual(40);
    expect(writes.length).toBeLessThan(200); // 9,690 before backoff across reconciles
  }, 120_000);

  it('the 2011 replay detects before the first public update, fails over once within RPO and fails 1b back late', async () => {
    const { report, finalStatus } = await runSimulation({
      policy: twoRegion,
      scenario: loadScenario('us-east-1-2011'),
    });
    expect(report.passed).toBe(true);
    expect(report.detectionSeconds).not.toBeNull();
    expect(report.detectionSeconds!).toBeLessThan(46 * 60);
    expect(report.actions.filter((a) => a.kind === 'PromoteReplica')).toHaveLength(1);
    expect(report.rpoSeconds!).toBeLessThanOrEqual(twoRegion.spec.database!.rds.maxLagSeconds);
    expect(finalStatus?.activeWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
    const failback = report.expectations.find((e) => e.check === 'failback-traffic');
    expect(failback?.passed).toBe(true);
  }, 240_000);
});

describe('baselines in the same run: Route 53 health checks (10 s, 30 s × 3) and a k8gb-style controller', () => {
  it('zone outage: we detect before every baseline; the 10 s Route 53 check and k8gb move clients sooner than our data-plane drain', async () => {
    const { report } = await runSimulation({ policy: twoRegion, scenario: loadScenario('zone-outage') });
    const [r10, r30, k8gb] = report.baselines!;
    expect([r10?.name, r30?.name, k8gb?.name]).toEqual([
      'route53-health-check-10s',
      'route53-health-check-30s',
      'k8gb',
    ]);
    // Every baseline saw the dead zone from the same endpoint faults, within its own cadence.
    expect(r10!.detectionSeconds!).toBeGreaterThanOrEqual(20);
    expect(r10!.detectionSeconds!).toBeLessThanOrEqual(30);
    expect(r30!.detectionSeconds!).toBeGreaterThanOrEqual(60);
    expect(r30!.detectionSeconds!).toBeLessThanOrEqual(90);
    expect(k8gb!.detectionSeconds!).toBeLessThan(30);
    // Our probes (5 s × 2) see it first.
    for (const b of report.baselines!) expect(report.detectionSeconds!).toBeLessThan(b.detectionSeconds!);
    // What is true of traffic: our drain goes through CloudWatch alarms and health checks that follow them
    // (alarm periods + Route 53's lag behind the alarm), so clients leave the zone after the 10 s endpoint check's
    // clients do, and about when the 30 s check's do. No promotion: RTO is the shift for all.
    const ours = report.baselineComparison!.ours;
    expect(ours.trafficShiftedSeconds).toBe(report.trafficShiftedSeconds! + report.baselineComparison!.ttlSeconds);
    expect(ours.trafficShiftedSeconds!).toBeGreaterThan(r10!.trafficShiftedSeconds!);
    expect(ours.trafficShiftedSeconds!).toBeGreaterThan(k8gb!.trafficShiftedSeconds!);
    for (const b of report.baselines!) {
      expect(b.trafficShiftedSeconds).toBe(b.detectionSeconds! + report.baselineComparison!.ttlSeconds);
      expect(b.rtoSeconds).toBe(b.trafficShiftedSeconds);
      expect(b.ratios.detection!).toBeLessThan(1);
    }
  }, 120_000);

  it('2011 replay: baselines see the endpoint faults; none can promote the replica, so their RTO is n/a with the reason', async () => {
    const { report } = await runSimulation({ policy: twoRegion, scenario: loadScenario('us-east-1-2011') });
    expect(report.actions.some((a) => a.kind === 'PromoteReplica')).toBe(true);
    expect(report.baselines).toHaveLength(3);
    for (const b of report.baselines!) {
      expect(b.detectionSeconds).not.toBeNull();
      expect(b.rtoSeconds).toBeNull();
      expect(b.ratios.rto).toBeNull();
      expect(b.notes).toMatch(/n\/a: .*never promotes the RDS replica/);
    }
    const [r10, r30] = report.baselines!;
    expect(r10!.detectionSeconds!).toBeLessThanOrEqual(r30!.detectionSeconds!);
  }, 240_000);

  it('JSON shape: baselines[] with name, times, notes and ratios; the comparison says which way the ratio goes', async () => {
    const { report } = await runSimulation({ policy: twoRegion, scenario: loadScenario('zone-outage') });
    const json = JSON.parse(JSON.stringify(report));
    expect(json.baselineComparison).toMatchObject({ ratio: 'ours / theirs', ttlSeconds: 60 });
    for (const b of json.baselines) {
      expect(Object.keys(b).sort()).toEqual(
        ['detectionSeconds', 'label', 'name', 'notes', 'ratios', 'rtoSeconds', 'trafficShiftedSeconds'].sort(),
      );
      expect(Object.keys(b.ratios).sort()).toEqual(['detection', 'rto', 'trafficShifted']);
      expect(typeof b.notes).toBe('string');
    }
  }, 120_000);
});

describe('the drill report can fail', () => {
  it('a replica that never catches up within an over-tight RPO budget is not promoted, and the report says so', async () => {
    const tight = structuredClone(twoRegion);
    tight.spec.database!.rds.maxLagSeconds = 1; // the simulated replica lags ~2 s: never within budget
    const { report } = await runSimulation({ policy: tight, scenario: loadScenario('region-outage') });
    expect(report.actions.filter((a) => a.kind === 'PromoteReplica')).toEqual([]);
    expect(report.passed).toBe(false);
    expect(report.expectations.find((e) => e.check === 'promote')?.passed).toBe(false);
    expect(report.violations).toEqual([]); // waiting on PB-6 is correct behaviour, not a violation
  }, 120_000);

  it('the same seed gives the same report; the JSON keys scripts rely on are present', async () => {
    const scenario = loadScenario('zone-outage');
    const a = await runSimulation({ policy: twoRegion, scenario, seed: 7 });
    const b = await runSimulation({ policy: twoRegion, scenario, seed: 7 });
    expect(a.report).toEqual(b.report);
    for (const key of [
      'scenario',
      'passed',
      'detectionSeconds',
      'trafficShiftedSeconds',
      'rtoSeconds',
      'rpoSeconds',
      'actions',
      'skipped',
      'violations',
    ]) {
      expect(a.report).toHaveProperty(key);
    }
    for (const action of a.report.actions) {
      expect(Object.keys(action)).toEqual(expect.arrayContaining(['kind', 'target', 'rule', 'at']));
    }
  }, 120_000);
});

describe('built-in scenarios against the single-region example policy (no database)', () => {
  it.each(['zone-outage', 'gray-latency', 'ec2-metadata-only', 'route53-writes-failing'])(
    '%s: every expectation that applies holds and no playbook rule is broken',
    async (name) => {
      const { report } = await runSimulation({ policy: singleRegion, scenario: loadScenario(name) });
      expect(report.violations).toEqual([]);
      expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    },
    120_000,
  );
});
