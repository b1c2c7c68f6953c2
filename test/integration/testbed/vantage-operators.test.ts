// The operator fixture's placement (issue #14): an operator process in cluster b whose AWS calls and probe checks
// go through fault-proxy route a. It reconciles the policy of cluster b (and only b's), its calls carry route a at
// the proxy, and a probe partition on route a alone drives its health model, while the same target answers on b.
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  motoWeights,
  operatorProcessSuite,
  policyBody,
  probeUrlVia,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const RECORD = 'api.vantage.test.';
const suite = operatorProcessSuite({ clusters: ['b'] });
let kcA: KubeConfig;
let kcB: KubeConfig;
let r53: Route53Client;

beforeAll(() => {
  kcA = suite.kc;
  kcB = suite.kcOf('b');
  r53 = suite.r53;
});

describe('an operator placed in cluster b on route a', () => {
  it('reconciles cluster b through route a; a probe partition on route a drains, route b still answers', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const ns = await createNamespace([kcA, kcB], 'vantage-fixture');
    const zoneId = await createWeightedZone(r53, 'vantage.test.', RECORD);
    const probeUrl = suite.probes.via('a', '/{zone}');
    expect(probeUrl).toBe(probeUrlVia('a', `${suite.probes.base}/{zone}`));
    await createPolicy(kcB, ns, policyBody(ns, 'web', { zoneId, recordName: RECORD, probeUrl }));

    const op = suite.start(ns, 'op-b', { cluster: 'b', route: 'a', env: { POD_NAME: 'vantage-b' } });
    await eventually('the operator started', async () => op.identity());
    expect(op.identity()).toMatch(/^vantage-b/);
    await waitHealthy(kcB, ns, 'web').catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    // Cluster a has the namespace but no policy: nothing there was touched.
    await expect(statusOf(kcA, ns, 'web')).rejects.toMatchObject({ code: 404 });

    // Healthy is also the blank model's state: wait for probe rounds through the proxy before looking at the log.
    const log = await eventually('probe forwards on route a', async () => {
      const entries = await tb.faults.log();
      return entries.filter((e) => e.service === 'probe').length >= 2 ? entries : undefined;
    });
    const probes = log.filter((e) => e.service === 'probe');
    expect(new Set(probes.map((e) => e.route))).toEqual(new Set(['a']));
    expect(probes.map((e) => e.path)).toContainEqual(expect.stringMatching(/\/us-east-1a$/));
    const aws = log.filter((e) => e.service !== 'probe');
    expect(aws.length).toBeGreaterThan(0);
    expect(new Set(aws.map((e) => e.route))).toEqual(new Set(['a']));

    // Partition: route a cannot reach us-east-1b's endpoint; the same endpoint answers on route b.
    await tb.faults.add({ route: 'a', service: 'probe', path: '/us-east-1b', hang: true });
    await eventually('use1-b drained in moto', async () => {
      const w = await motoWeights(r53, zoneId);
      return w['use1-b'] === 0 ? w : undefined;
    });
    expect(suite.probes.answers.get('us-east-1b')).toBeUndefined(); // the target itself never failed
    const viaB = await fetch(suite.probes.via('b', '/us-east-1b'), { signal: AbortSignal.timeout(2_000) });
    expect(viaB.status).toBe(200);
    await eventually('us-east-1b not Healthy in cluster b', async () => {
      const zone = (await statusOf(kcB, ns, 'web')).zones?.find((z) => z.name === 'us-east-1b');
      return zone && zone.state !== 'Healthy' ? zone : undefined;
    });
    const hung = (await tb.faults.log()).filter((e) => e.route === 'a' && e.effect === 'hang');
    expect(hung.length).toBeGreaterThan(0);
    expect(hung.every((e) => e.path.endsWith('/us-east-1b'))).toBe(true);
  }, 90_000);
});
