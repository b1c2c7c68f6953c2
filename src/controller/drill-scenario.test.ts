import { describe, expect, it } from 'vitest';
import { applyDrillDefaults, applyPolicyDefaults, type FailoverDrill, type FailoverPolicy } from '../api/index.ts';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import { runSimulation } from '../simulate/run-simulation.ts';
import { DrillSpecError, drilledRecords, drilledZones, drillScenario, simulatedPolicy } from './drill-scenario.ts';

const orders = (): FailoverPolicy => applyPolicyDefaults(loadExample('two-region-rds'));
const web = (): FailoverPolicy => applyPolicyDefaults(loadExample('single-region-web'));

function drill(scenario: Record<string, unknown>, extra: Record<string, unknown> = {}): FailoverDrill {
  return applyDrillDefaults({
    apiVersion: 'failover.io/v1alpha1',
    kind: 'FailoverDrill',
    metadata: { name: 'd1', namespace: 'team' },
    spec: { policyRef: { name: 'orders' }, scenario, ...extra },
  });
}

describe('drilledZones / drilledRecords', () => {
  it('fails every zone of the region for a region outage, and names its weighted records', () => {
    const policy = orders();
    const target = drilledZones(drill({ type: 'region-outage', region: 'us-east-1' }), policy);
    expect(target).toEqual({ region: 'us-east-1', zones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] });
    const records = drilledRecords(policy, target.region, target.zones);
    const expected = policy.spec.traffic?.route53?.records
      .filter((r) => r.zone?.startsWith('us-east-1') || r.region === 'us-east-1')
      .map((r) => r.setIdentifier);
    expect(records).toEqual(expected);
    expect(records.length).toBeGreaterThan(0);
  });

  it('names the field and the policy zones when the zone is not the policy', () => {
    expect(() => drilledZones(drill({ type: 'zone-outage', zone: 'eu-west-1a' }), orders())).toThrow(DrillSpecError);
    expect(() => drilledZones(drill({ type: 'zone-outage', zone: 'eu-west-1a' }), orders())).toThrow(
      /^spec\.scenario\.zone: zone eu-west-1a is not one of policy orders's zones \(us-east-1a, /,
    );
  });
});

describe('drillScenario', () => {
  it('turns a zone outage into a fault at minute 1 and a recovery after durationSeconds', () => {
    const s = drillScenario(drill({ type: 'zone-outage', zone: 'us-east-1b', durationSeconds: 300 }), orders());
    expect(s.events.map((e) => e.at)).toEqual([1, 6]);
    expect(s.events[0]?.effects).toContainEqual({ zone: 'us-east-1b', endpoints: 'down' });
    expect(s.expect?.map((e) => (typeof e === 'string' ? e : e.check))).toEqual(
      expect.arrayContaining(['detect', 'no-zone-targeted-writes', 'no-promotion']),
    );
    expect(s.durationMinutes).toBeGreaterThan(6);
  });

  it('expects a promotion in a region outage of the primary region with one standby replica', () => {
    const s = drillScenario(drill({ type: 'region-outage', region: 'us-east-1' }), orders());
    expect(s.expect).toContainEqual(expect.objectContaining({ check: 'promote', region: 'us-west-2' }));
    expect(s.expect).toContainEqual(expect.objectContaining({ check: 'region-impaired', region: 'us-east-1' }));
  });

  it('runs a region-outage drill of the two-region example to a passing report with a promotion', async () => {
    const d = drill({ type: 'region-outage', region: 'us-east-1', durationSeconds: 600 });
    const { report } = await runSimulation({
      policy: simulatedPolicy(d, orders()),
      scenario: drillScenario(d, orders()),
    });
    expect(report.violations).toEqual([]);
    expect(report.expectations.filter((e) => !e.passed)).toEqual([]);
    expect(report.actions.filter((a) => a.kind === 'PromoteReplica').map((a) => a.region)).toEqual(['us-west-2']);
  });

  it('loads a built-in timeline for a replay and names the field for an unknown one', () => {
    expect(drillScenario(drill({ type: 'replay', timeline: 'us-east-1-2011' }), orders()).name).toBe('us-east-1-2011');
    expect(() => drillScenario(drill({ type: 'replay', timeline: 'nope' }), orders())).toThrow(
      /^spec\.scenario\.timeline: cannot load timeline nope/,
    );
  });
});

describe('simulatedPolicy', () => {
  it('moves a path-only {zone} placeholder into the host, where the simulated endpoints route', () => {
    const policy = web();
    const http = policy.spec.probes.find((p) => p.http)?.http;
    if (!http) throw new Error('example has an http probe');
    http.url = 'http://127.0.0.1:8080/health/{zone}';
    const sim = simulatedPolicy(drill({ type: 'zone-outage', zone: 'us-east-1a' }), policy);
    expect(sim.spec.probes.find((p) => p.http)?.http?.url).toBe('http://{zone}.drill.simulated/healthz');
    expect(http.url).toBe('http://127.0.0.1:8080/health/{zone}'); // the real policy is not changed
  });

  it('keeps URLs whose host already names the zone, and turns manual-failover into the manual request', () => {
    const policy = orders();
    const before = policy.spec.probes.map((p) => p.http?.url);
    const sim = simulatedPolicy(drill({ type: 'manual-failover', region: 'us-west-2' }), policy);
    expect(sim.spec.probes.map((p) => p.http?.url)).toEqual(before);
    expect(sim.spec.manual).toMatchObject({ action: 'Failover', targetRegion: 'us-west-2' });
  });
});
