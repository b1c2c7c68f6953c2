// Leader election end to end: two `failover-operator run` processes against one namespace and one Lease. Exactly
// one holds the Lease, and only that one acts: the drain's action lines ("PB-5 performed SetWeights …") come from
// the Lease holder's log; the follower logs no action at all, and the write reaches moto once.
//
// Followers keep probes warm (DESIGN.md): the follower's own /metrics shows probe rounds and the failing zone's
// state before it leads, and after the leader is SIGKILLed the new leader acts on that history. The assertion that
// tells warm from cold: the zone has recovered at its endpoint but not for recoveryThreshold rounds, and the policy
// has a 1 s cooldown, long over by takeover. A warm successor still holds the zone Degraded/Impaired and keeps it
// drained; a cold one would start from a blank model (every zone Healthy) and fail traffic straight back into it.

import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { policyLabels } from '../../../src/metrics/operator-metrics.ts';
import { findSamples, parseExposition, type Sample } from '../../../src/metrics/parse-exposition.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  countCalls,
  createPolicy,
  createWeightedZone,
  eventually,
  leaseHolder,
  motoWeights,
  type OperatorProcess,
  operatorProcessSuite,
  policyBody,
  sleep,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const RECORD = 'api.two.test.';
let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const suite = operatorProcessSuite();
const { probes } = suite;

beforeAll(async () => {
  ({ kc, r53 } = suite);
  ns = await createNamespace(kc, 'engine-two');
  zoneId = await createWeightedZone(r53, 'two.test.', RECORD);
}, 60_000);

describe('two operator processes, one Lease', () => {
  it('lets only the Lease holder act; the follower logs no action', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const a = suite.start(ns, 'op-a');
    const b = suite.start(ns, 'op-b');
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

/** The process's own /metrics, on the port its start-up log line names. */
async function metricsOf(p: OperatorProcess): Promise<Sample[]> {
  const port = p.lines.find((l) => l.msg === 'Started metrics server (plain HTTP)')?.port;
  if (typeof port !== 'number') throw new Error(`no metrics port logged yet:\n${p.tail()}`);
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return parseExposition(await res.text());
}

const total = (samples: Sample[]) => samples.reduce((sum, s) => sum + s.value, 0);

/** Health transitions the engine logged for a policy's zone ("zone us-east-1b changed from Healthy to Impaired"). */
const zoneTransitions = (p: OperatorProcess, policy: string, zone: string) =>
  p.lines.filter((l) => l.policy === policy && l.scope === 'zone' && l.name === zone && typeof l.to === 'string');

describe('followers keep probes warm', () => {
  it('probes on the follower before it leads; after a SIGKILL the new leader acts on that history', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const warmNs = await createNamespace(kc, 'engine-warm');
    const record = 'api.warm.test.';
    const warmZoneId = await createWeightedZone(r53, 'warm.test.', record);
    const key = `${warmNs}/warm`;

    // Roles fixed up front: A leads, B follows.
    const a = suite.start(warmNs, 'op-a');
    await eventually('op-a holds the Lease', async () => {
      const holder = await leaseHolder(kc, warmNs).catch(() => undefined);
      return holder !== undefined && holder === a.identity() ? holder : undefined;
    });
    const b = suite.start(warmNs, 'op-b');
    await eventually('op-b started', async () => b.identity());

    const body = policyBody(warmNs, 'warm', {
      zoneId: warmZoneId,
      recordName: record,
      probeUrl: `${probes.base}/warm/{zone}`,
    }) as { spec: Record<string, unknown> };
    // A 1 s cooldown (the minimum) and automatic traffic failback: by takeover only the health model's recovery
    // window (300 rounds) holds a recovered zone drained, so a successor without history would return traffic at once.
    body.spec.guardrails = { cooldownSeconds: 1, failback: { traffic: 'Automatic' } };
    await createPolicy(kc, warmNs, body);
    await waitHealthy(kc, warmNs, 'warm');

    // 1. The follower probes: its own /metrics counts probe results for the policy while it does not lead.
    const probedByFollower = await eventually('probe rounds on the follower', async () => {
      const n = total(findSamples(await metricsOf(b), 'failover_operator_probe_results_total', policyLabels(key)));
      return n >= 4 ? n : undefined;
    });
    expect(probedByFollower).toBeGreaterThanOrEqual(4);
    expect(await leaseHolder(kc, warmNs)).toBe(a.identity());

    // 2. The zone fails: A drains it; B, still following, sees the same failure in its own health model.
    probes.answers.set('warm/us-east-1b', 503);
    await eventually('use1-b drained in moto', async () => {
      const w = await motoWeights(r53, warmZoneId);
      return w['use1-b'] === 0 ? w : undefined;
    });
    const followerSaw = await eventually('the follower saw us-east-1b fail', async () => {
      const states = findSamples(await metricsOf(b), 'failover_operator_zone_state', {
        ...policyLabels(key),
        zone: 'us-east-1b',
      });
      return states.find((s) => s.value === 1 && s.labels.state !== 'Healthy')?.labels.state;
    });
    expect(['Degraded', 'Impaired']).toContain(followerSaw);
    expect(b.actionLines()).toEqual([]);
    const transitionsBeforeTakeover = zoneTransitions(b, key, 'us-east-1b').length;
    expect(transitionsBeforeTakeover).toBeGreaterThan(0);

    // 3. The endpoint recovers, but far from recoveryThreshold (300 rounds). Then the leader dies without a word.
    probes.answers.delete('warm/us-east-1b');
    await sleep(2_000);
    await a.kill('SIGKILL');

    await eventually(
      'op-b holds the Lease',
      async () => {
        const holder = await leaseHolder(kc, warmNs);
        return holder === b.identity() ? holder : undefined;
      },
      40_000,
    );
    await eventually('op-b reconciled as leader', async () => {
      const reconciles = findSamples(await metricsOf(b), 'controller_runtime_reconcile_total', {
        controller: 'failoverpolicy',
      });
      return total(reconciles) >= 2 ? true : undefined;
    });
    await sleep(3_000); // room for a wrong failback to reach moto

    // 4. Warm: the zone is still recovering in B's model, so its traffic stays drained and nothing was re-decided.
    expect((await motoWeights(r53, warmZoneId))['use1-b']).toBe(0);
    const zone = (await statusOf(kc, warmNs, 'warm')).zones?.find((z) => z.name === 'us-east-1b');
    expect(zone?.state).not.toBe('Healthy');
    expect(b.actionLines().filter((l) => /SetWeights/.test(l.msg))).toEqual([]);
    // No fresh Healthy → failing run after takeover: B had already made that transition while following.
    expect(zoneTransitions(b, key, 'us-east-1b')).toHaveLength(transitionsBeforeTakeover);
  }, 120_000);
});
