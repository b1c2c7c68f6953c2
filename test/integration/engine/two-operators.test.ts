// Leader election end to end: two `failover-operator run` processes against one namespace and one Lease. Exactly
// one holds the Lease, and only that one acts: the drain's action lines ("PB-5 performed SetWeights …") come from
// the Lease holder's log; the follower logs no action at all, and the write reaches moto once.

import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';
import {
  countCalls,
  createPolicy,
  createWeightedZone,
  eventually,
  leaseHolder,
  motoRoute53,
  motoWeights,
  OperatorProcess,
  ProbeTarget,
  policyBody,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const RECORD = 'api.two.test.';
let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const probes = new ProbeTarget();
const processes: OperatorProcess[] = [];

beforeAll(async () => {
  kc = testbed().kubeConfig();
  await applyCrds(kc);
  ns = await createNamespace(kc, 'engine-two');
  r53 = motoRoute53();
  zoneId = await createWeightedZone(r53, 'two.test.', RECORD);
  await probes.start();
}, 60_000);

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.kill()));
  await testbed().faults.clear();
});

afterAll(async () => {
  r53?.destroy();
  await probes.stop();
});

describe('two operator processes, one Lease', () => {
  it('lets only the Lease holder act; the follower logs no action', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const a = new OperatorProcess(ns, 'op-a');
    const b = new OperatorProcess(ns, 'op-b');
    processes.push(a, b);
    await eventually('both processes started', async () => (a.identity() && b.identity() ? true : undefined));

    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'web', { zoneId, recordName: RECORD, probeUrl: `${probes.base}/{zone}` }),
    );
    await waitHealthy(kc, ns, 'web').catch((err) => {
      throw new Error(`${err}\nop-a log:\n${a.tail()}\nop-b log:\n${b.tail()}`);
    });

    const holder = await eventually('a Lease holder', () => leaseHolder(kc, ns));
    expect([a.identity(), b.identity()]).toContain(holder);
    const [leader, follower] = holder === a.identity() ? [a, b] : [b, a];

    probes.answers.set('us-east-1b', 503);
    await eventually('use1-b drained in moto', async () => {
      const w = await motoWeights(r53, zoneId);
      return w['use1-b'] === 0 ? w : undefined;
    });
    await eventually('the leader logged the drain', async () =>
      leader.actionLines().some((l) => /^PB-5 performed SetWeights/.test(l.msg)) ? true : undefined,
    );
    const status = await statusOf(kc, ns, 'web');
    expect(status.journal?.filter((e) => e.action === 'SetWeights').map((e) => e.state)).toEqual(['Done']);

    // Give the follower time to act wrongly (its probes see the same failing zone), then check nobody changed hands.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await leaseHolder(kc, ns)).toBe(holder);
    expect(leader.actionLines().filter((l) => /^PB-5 performed SetWeights/.test(l.msg))).toHaveLength(1);
    expect(follower.actionLines()).toEqual([]);
    expect(countCalls(await tb.faults.log(), 'ChangeResourceRecordSets', zoneId, 200)).toBe(1);
    // Both still running: the follower waits rather than exiting or fighting for the Lease.
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  }, 90_000);
});
