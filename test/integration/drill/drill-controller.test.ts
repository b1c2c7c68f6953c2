// FailoverDrills end to end (PB-12): `runOperator` (the real composition root) against the real kube-apiserver and
// moto behind the fault proxy, HTTP probes pointed at a loopback server whose per-zone answers the test controls.
// Each test has its own policy and its own hosted zone, so their weights never mix.

import type { Route53Client } from '@aws-sdk/client-route-53';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { DRILL_PLURAL, type FailoverDrillStatus, GROUP, VERSION } from '../../../src/api/index.ts';
import { testbed } from '../../env/testbed.ts';
import {
  countCalls,
  createPolicy,
  createWeightedZone,
  eventually,
  inProcessOperatorSuite,
  motoWeights,
  policyBody,
  sleep,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
const suite = inProcessOperatorSuite({
  namespace: 'drill',
  podName: 'drill-test',
  arrange: async (arranged) => {
    ({ kc, ns, r53 } = arranged);
  },
});
const { probe } = suite;

const api = () => kc.makeApiClient(CustomObjectsApi);

/** A policy with its own hosted zone and probe path; fast health settings so a drill takes seconds. */
async function arrangePolicy(name: string): Promise<string> {
  const recordName = `api.${name}.drill.test.`;
  const zoneId = await createWeightedZone(r53, `${name}.drill.test.`, recordName);
  const body = policyBody(ns, name, { zoneId, recordName, probeUrl: `${probe.base}/${name}/{zone}` }) as {
    spec: Record<string, unknown>;
  };
  body.spec.health = { intervalSeconds: 1, failureThreshold: 1, recoveryThreshold: 2 };
  body.spec.guardrails = { cooldownSeconds: 1 };
  await createPolicy(kc, ns, body);
  return zoneId;
}

async function createDrill(name: string, spec: Record<string, unknown>): Promise<void> {
  await api().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: DRILL_PLURAL,
    namespace: ns,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'FailoverDrill', metadata: { name, namespace: ns }, spec },
  });
}

async function drillStatus(name: string): Promise<Partial<FailoverDrillStatus>> {
  const obj = (await api().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: DRILL_PLURAL,
    namespace: ns,
    name,
  })) as { status?: Partial<FailoverDrillStatus> };
  return obj.status ?? {};
}

const drillPhase = (name: string, phases: string[], timeoutMs = 30_000) =>
  eventually(
    `drill ${name} in phase ${phases.join('|')}`,
    async () => {
      const s = await drillStatus(name);
      return phases.includes(s.phase ?? '') ? s : undefined;
    },
    timeoutMs,
  );

async function drillEvents(name: string): Promise<string[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  return list.items
    .filter((e) => e.involvedObject.kind === 'FailoverDrill' && e.involvedObject.name === name)
    .map((e) => e.reason ?? '');
}

describe('FailoverDrill controller (in-process operator, real apiserver, moto)', () => {
  it('a DryRun drill gets a Succeeded report with actions and makes no AWS write', async () => {
    const zoneId = await arrangePolicy('dry');
    await waitHealthy(kc, ns, 'dry');
    const started = Date.now();
    await createDrill('dry-zone', {
      policyRef: { name: 'dry' },
      scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 300 },
      mode: 'DryRun',
    });
    const report = await drillPhase('dry-zone', ['Succeeded', 'Failed']);
    const tookMs = Date.now() - started;
    expect(report.summary).toMatch(/^passed/);
    expect(report).toMatchObject({ phase: 'Succeeded', result: 'Passed', passed: true, violations: [] });
    expect(report.detectionSeconds).toBeGreaterThanOrEqual(0);
    expect(report.trafficShiftedSeconds).toBeGreaterThanOrEqual(0);
    expect(report.actions?.filter((a) => a.kind === 'SetWeights').map((a) => a.rule)).toEqual(['PB-5', 'PB-10']);
    expect(report.timeline?.length).toBeGreaterThan(0);
    expect(tookMs).toBeLessThan(15_000);
    // Nothing was written to Route 53 for this policy, and moto still has the weights the test arranged.
    expect(countCalls(await testbed().faults.log(), 'ChangeResourceRecordSets', zoneId)).toBe(0);
    expect(await motoWeights(r53, zoneId)).toEqual({ 'use1-a': 100, 'use1-b': 100 });
    expect(await drillEvents('dry-zone')).toEqual(expect.arrayContaining(['DrillStarted', 'DrillPassed']));
  }, 60_000);

  it('a Live zone-outage drill drains the zone in moto, reports detection and shift, and fails back', async () => {
    const zoneId = await arrangePolicy('live');
    await waitHealthy(kc, ns, 'live');
    await createDrill('live-zone', {
      policyRef: { name: 'live' },
      scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 6 },
      mode: 'Live',
      autoFailback: true,
    });
    const drained = await eventually('use1-a drained in moto', async () => {
      const w = await motoWeights(r53, zoneId);
      return w['use1-a'] === 0 ? w : undefined;
    });
    expect(drained['use1-b']).toBeGreaterThan(0);
    const running = await drillStatus('live-zone');
    expect(running.phase).toBe('Running');

    const report = await drillPhase('live-zone', ['Succeeded', 'Failed', 'Aborted'], 60_000);
    expect(report.summary).toMatch(/^passed/);
    expect(report).toMatchObject({ phase: 'Succeeded', result: 'Passed', passed: true, violations: [] });
    expect(report.detectionSeconds).toBeGreaterThanOrEqual(0);
    expect(report.detectionSeconds).toBeLessThan(5);
    expect(report.trafficShiftedSeconds).toBeGreaterThanOrEqual(report.detectionSeconds ?? 0);
    expect(report.trafficShiftedSeconds).toBeLessThan(10);
    const rules = report.actions?.filter((a) => a.kind === 'SetWeights').map((a) => a.rule);
    expect(rules?.[0]).toBe('PB-5');
    expect(rules?.at(-1)).toBe('PB-10');
    expect(await motoWeights(r53, zoneId)).toEqual({ 'use1-a': 100, 'use1-b': 100 });
    expect(await drillEvents('live-zone')).toEqual(
      expect.arrayContaining(['DrillStarted', 'DrillOutageDetected', 'DrillTrafficShifted', 'DrillOutageEnded']),
    );
    console.info(
      `live drill: detection ${report.detectionSeconds}s, traffic shifted ${report.trafficShiftedSeconds}s, ` +
        `completed ${(Date.parse(report.completedAt ?? '') - Date.parse(report.startedAt ?? '')) / 1000}s after start`,
    );
  }, 90_000);

  it('abort mid-drill restores the pre-drill weights in moto at once, and they stay', async () => {
    const zoneId = await arrangePolicy('abort');
    await waitHealthy(kc, ns, 'abort');
    await createDrill('abort-zone', {
      policyRef: { name: 'abort' },
      scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 600 },
      mode: 'Live',
    });
    await eventually('use1-a drained in moto', async () => {
      const w = await motoWeights(r53, zoneId);
      return w['use1-a'] === 0 ? w : undefined;
    });
    await testbed().faults.clear(); // from here on the proxy log holds only what the abort caused
    const abortAt = Date.now();
    await api().patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: DRILL_PLURAL,
        namespace: ns,
        name: 'abort-zone',
        body: { spec: { abort: true } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const report = await drillPhase('abort-zone', ['Aborted', 'Failed', 'Succeeded']);
    expect(report).toMatchObject({ phase: 'Aborted', result: 'Aborted' });
    expect(report.summary).toContain('restored the pre-drill weights use1-a=100, use1-b=100');
    expect(await motoWeights(r53, zoneId)).toEqual({ 'use1-a': 100, 'use1-b': 100 });
    console.info(`abort: weights restored and drill Aborted ${Date.now() - abortAt}ms after spec.abort`);
    // The zone never really failed: the engine must not drain it again once the injection is gone (no recovery
    // window to sit out). Watch moto for a while: use1-a keeps its weight, and the restore was the only write.
    for (let i = 0; i < 15; i++) {
      await sleep(200);
      expect(await motoWeights(r53, zoneId)).toEqual({ 'use1-a': 100, 'use1-b': 100 });
    }
    expect(countCalls(await testbed().faults.log(), 'ChangeResourceRecordSets', zoneId)).toBe(1);
    const policy = await statusOf(kc, ns, 'abort');
    expect(policy.zones?.every((z) => z.state === 'Healthy')).toBe(true);
    expect(policy.journal?.some((j) => j.rule === 'PB-12' && j.action === 'SetWeights' && j.state === 'Done')).toBe(
      true,
    );
    expect(await drillEvents('abort-zone')).toEqual(expect.arrayContaining(['DrillWeightsRestored', 'DrillAborted']));
  }, 60_000);

  it('refuses to start while a real incident is in progress, naming it, and injects nothing', async () => {
    const zoneId = await arrangePolicy('incident');
    await waitHealthy(kc, ns, 'incident');
    probe.answers.set('incident/us-east-1b', 500);
    await eventually('us-east-1b unhealthy in the policy status', async () => {
      const s = await statusOf(kc, ns, 'incident');
      return s.zones?.find((z) => z.name === 'us-east-1b' && z.state !== 'Healthy');
    });
    await createDrill('incident-zone', {
      policyRef: { name: 'incident' },
      scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 60 },
      mode: 'Live',
    });
    const report = await drillPhase('incident-zone', ['Failed', 'Running', 'Succeeded', 'Aborted']);
    expect(report.phase).toBe('Failed');
    expect(report.summary).toContain('refused to start: a real incident is in progress');
    expect(report.summary).toContain('zone us-east-1b is');
    // us-east-1a was never drained: the drill injected nothing (the engine drained the really failing b only).
    await sleep(2_000);
    const weights = await motoWeights(r53, zoneId);
    expect(weights['use1-a']).toBeGreaterThan(0);
    expect(await drillEvents('incident-zone')).toContain('DrillRefused');
    probe.answers.delete('incident/us-east-1b');
  }, 60_000);
});
