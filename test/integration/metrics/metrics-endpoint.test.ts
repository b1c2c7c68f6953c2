// /metrics end to end: `runOperator` (the real composition root) against the real kube-apiserver and moto behind the
// fault proxy, with HTTP probes pointed at a loopback server whose per-zone answers the test controls. A zone fails,
// the operator drains it in Route 53, and the manager's /metrics must show it: probe failures, the zone's state,
// the action, the Route 53 call and the reconciles — the operator's own trail (PB-11), read as Prometheus would.

import { readFileSync } from 'node:fs';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GROUP, POLICY_PLURAL, VERSION } from '../../../src/api/index.ts';
import { findSamples, parseExposition, type Sample, sampleValue } from '../../../src/metrics/parse-exposition.ts';
import {
  createWeightedZone,
  eventually as eventuallyWithin,
  inProcessOperatorSuite,
  motoWeights as readMotoWeights,
} from '../support/operator-fixture.ts';

const packageVersion = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const ZONES = ['us-east-1a', 'us-east-1b'] as const; // the zones createWeightedZone makes records for
const RECORD = 'api.metrics.test.';

let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const suite = inProcessOperatorSuite({
  namespace: 'metrics',
  podName: 'metrics-test',
  arrange: async (arranged) => {
    ({ kc, ns, r53 } = arranged);
    // Arranged in moto directly (not through the fault proxy), so set-up never meets an injected fault.
    zoneId = await createWeightedZone(r53, 'metrics.test.', RECORD);
  },
});
const { probe } = suite;

function policy(name: string) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'FailoverPolicy',
    metadata: { name, namespace: ns },
    spec: {
      regions: [{ name: 'us-east-1', role: 'primary', zones: [...ZONES] }],
      probes: [{ name: 'web', http: { url: `${probe.base}/{zone}`, timeoutSeconds: 1, expectStatus: [200] } }],
      health: { intervalSeconds: 1, failureThreshold: 1, recoveryThreshold: 300 },
      traffic: {
        route53: {
          hostedZoneId: zoneId,
          recordName: RECORD,
          type: 'A',
          records: [
            { setIdentifier: 'use1-a', zone: 'us-east-1a', weight: 100 },
            { setIdentifier: 'use1-b', zone: 'us-east-1b', weight: 100 },
          ],
        },
      },
    },
  };
}

async function scrape(): Promise<Sample[]> {
  const port = suite.manager?.metricsPort();
  if (port === undefined) throw new Error('the manager serves no /metrics yet');
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(await res.text());
}

/** Polls until `check` returns a value (not undefined), within 30 s. */
const eventually = <T>(what: string, check: () => Promise<T | undefined>) => eventuallyWithin(what, check, 30_000);
const motoWeights = () => readMotoWeights(r53, zoneId);

describe('/metrics of the in-process operator (real apiserver, moto)', () => {
  it('shows probe failures, the failed zone, the drain and its Route 53 call after a zone fails', async () => {
    const p = { namespace: ns, name: 'web' };
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: POLICY_PLURAL,
      namespace: ns,
      body: policy('web'),
    });
    const zoneState = (s: Sample[], zone: string, state: string) =>
      sampleValue(s, 'failover_operator_zone_state', { ...p, region: 'us-east-1', zone, state });

    // Before the fault: both zones Healthy, and nothing has failed or been done.
    const before = await eventually('both zones Healthy in /metrics', async () => {
      const s = await scrape();
      return ZONES.every((z) => zoneState(s, z, 'Healthy') === 1) ? s : undefined;
    });
    expect(findSamples(before, 'failover_operator_probe_results_total', { ...p, outcome: 'error' })).toEqual([]);
    expect(findSamples(before, 'failover_operator_actions_total', p)).toEqual([]);

    probe.answers.set('us-east-1b', 500);
    await eventually('use1-b drained in moto', async () => ((await motoWeights())['use1-b'] === 0 ? true : undefined));

    const s = await eventually('the drain in /metrics', async () => {
      const samples = await scrape();
      const done = sampleValue(samples, 'failover_operator_actions_total', {
        ...p,
        action: 'SetWeights',
        rule: 'PB-5',
        outcome: 'done',
      });
      return (done ?? 0) >= 1 ? samples : undefined;
    });

    const failedState = ['Degraded', 'Impaired'].filter((state) => zoneState(s, 'us-east-1b', state) === 1);
    expect(failedState).toHaveLength(1);
    expect(zoneState(s, 'us-east-1b', 'Healthy')).toBe(0);
    expect(zoneState(s, 'us-east-1a', 'Healthy')).toBe(1);

    const failedProbes = sampleValue(s, 'failover_operator_probe_results_total', {
      ...p,
      probe: 'web',
      probe_kind: 'http',
      region: 'us-east-1',
      zone: 'us-east-1b',
      outcome: 'error',
    });
    expect(failedProbes).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(s, 'failover_operator_probe_results_total', { ...p, zone: 'us-east-1a', outcome: 'error' }),
    ).toBeUndefined();
    expect(
      sampleValue(s, 'failover_operator_probe_duration_seconds_count', { probe_kind: 'http', zone: 'us-east-1b' }),
    ).toBeGreaterThan(0);

    const r53Writes = sampleValue(s, 'failover_operator_aws_calls_total', {
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      outcome: 'ok',
    });
    expect(r53Writes).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(s, 'failover_operator_aws_call_duration_seconds_count', {
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sampleValue(s, 'failover_operator_action_duration_seconds_count', { action: 'SetWeights' }),
    ).toBeGreaterThanOrEqual(1);

    const reconciles = findSamples(s, 'controller_runtime_reconcile_total', { controller: 'failoverpolicy' });
    expect(reconciles.reduce((sum, x) => sum + x.value, 0)).toBeGreaterThanOrEqual(1);

    // The journal gauge catches up at the next reconcile after the drain.
    const journal = await eventually('the Done entry in the journal gauge', async () => {
      const samples = await scrape();
      const done = sampleValue(samples, 'failover_operator_journal_entries', { ...p, journal_state: 'Done' });
      return (done ?? 0) >= 1 ? samples : undefined;
    });
    expect(sampleValue(journal, 'failover_operator_journal_entries', { ...p, journal_state: 'Failed' })).toBe(0);

    // A deleted policy's series go with it (bounded cardinality); the process-wide AWS and reconcile series stay.
    await kc.makeApiClient(CustomObjectsApi).deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: POLICY_PLURAL,
      namespace: ns,
      name: 'web',
    });
    const afterDelete = await eventually('no series of the deleted policy', async () => {
      const samples = await scrape();
      return samples.some((x) => x.labels.namespace === ns && x.labels.name === 'web') ? undefined : samples;
    });
    expect(
      findSamples(afterDelete, 'failover_operator_aws_calls_total', { service: 'route53' }).length,
    ).toBeGreaterThan(0);
  }, 90_000);

  it("serves controller-runtime's families with its label sets, build_info, and no `policy` label anywhere", async () => {
    // A reconcile has run by now (the test above), so every family has samples.
    const s = await scrape();
    const labelSets = new Map<string, Set<string>>();
    for (const x of s) {
      const family = x.name.replace(/_(bucket|sum|count)$/, '');
      const keys = Object.keys(x.labels)
        .filter((k) => k !== 'le')
        .sort()
        .join(',');
      labelSets.set(family, new Set([...(labelSets.get(family) ?? []), keys]));
    }
    const expected: Record<string, string> = {
      controller_runtime_reconcile_total: 'controller,result',
      controller_runtime_reconcile_errors_total: 'controller',
      controller_runtime_reconcile_time_seconds: 'controller',
      controller_runtime_max_concurrent_reconciles: 'controller',
      controller_runtime_active_workers: 'controller',
      workqueue_depth: 'controller,name,priority',
      workqueue_adds_total: 'controller,name',
      workqueue_queue_duration_seconds: 'controller,name',
      workqueue_work_duration_seconds: 'controller,name',
      workqueue_unfinished_work_seconds: 'controller,name',
      workqueue_longest_running_processor_seconds: 'controller,name',
      leader_election_master_status: 'name',
      failover_operator_build_info: 'node_version,revision,version',
    };
    for (const [family, labels] of Object.entries(expected)) {
      expect([family, [...(labelSets.get(family) ?? [])]]).toEqual([family, [labels]]);
    }
    // workqueue_retries_total appears with the first retry; its label set is the other queue families'.
    for (const family of labelSets.keys()) expect(family).not.toMatch(/^failover_operator_(reconcile|workqueue)/);
    expect(s.filter((x) => 'policy' in x.labels)).toEqual([]);
    expect(sampleValue(s, 'controller_runtime_max_concurrent_reconciles', { controller: 'failoverpolicy' })).toBe(16);
    expect(
      findSamples(s, 'workqueue_adds_total', { name: 'failoverpolicy', controller: 'failoverpolicy' }),
    ).not.toEqual([]);
    const build = findSamples(s, 'failover_operator_build_info', {});
    expect(build.map((x) => [x.labels.version, x.labels.node_version, x.value])).toEqual([
      [packageVersion, process.version, 1],
    ]);
  }, 30_000);
});
