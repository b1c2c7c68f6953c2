// The operator end to end: `runOperator` (the real composition root) against the real kube-apiserver and moto
// behind the fault proxy, with HTTP probes pointed at a loopback server whose per-zone answers the test controls.
//
// Not covered here: an invalid spec. The offline validator and the apiserver enforce the same schema and CEL rules
// (src/api/testdata/invalid-cases.ts proves they agree case by case), so with the current CRD no spec reaches the
// controller that the offline validator rejects; invalid-spec-skew.test.ts installs a lenient (older) CRD to get
// one there. The suspended case below checks the same promise — no AWS call for a policy the operator must not act on.
//
// Deletion: every valid policy carries the failover.io/leave-aws-state finalizer; deleting one completes once the
// operator has recorded (Event, log) that Route 53 was left exactly as it was — checked in moto and the proxy log.

import type { Route53Client } from '@aws-sdk/client-route-53';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GROUP, POLICY_PLURAL, VERSION } from '../../../src/api/index.ts';
import { POLICY_FINALIZER } from '../../../src/controller/policy-reconciler.ts';
import { testbed } from '../../env/testbed.ts';
import {
  createWeightedZone,
  eventually as eventuallyWithin,
  inProcessOperatorSuite,
  statusOf as policyStatusOf,
  motoWeights as readMotoWeights,
} from '../support/operator-fixture.ts';

const ZONES = ['us-east-1a', 'us-east-1b'] as const; // the zones createWeightedZone makes records for
const RECORD = 'api.controller.test.';

let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const suite = inProcessOperatorSuite({
  namespace: 'controller',
  podName: 'controller-test',
  arrange: async (arranged) => {
    ({ kc, ns, r53 } = arranged);
    // Arranged in moto directly (not through the fault proxy), so set-up never meets an injected fault.
    zoneId = await createWeightedZone(r53, 'controller.test.', RECORD);
  },
});
const { probe } = suite;

function policy(name: string, extra: { suspend?: boolean } = {}) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'FailoverPolicy',
    metadata: { name, namespace: ns },
    spec: {
      ...extra,
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

const api = () => kc.makeApiClient(CustomObjectsApi);

async function createPolicy(body: object): Promise<void> {
  await api().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: POLICY_PLURAL,
    namespace: ns,
    body,
  });
}

const policyRef = (name: string) => ({ group: GROUP, version: VERSION, plural: POLICY_PLURAL, namespace: ns, name });

async function finalizersOf(name: string): Promise<string[] | undefined> {
  try {
    const obj = (await api().getNamespacedCustomObject(policyRef(name))) as { metadata?: { finalizers?: string[] } };
    return obj.metadata?.finalizers ?? [];
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Deletes a policy and waits until the apiserver no longer has it (our finalizer released). */
async function deleteAndWaitGone(name: string): Promise<void> {
  await api().deleteNamespacedCustomObject(policyRef(name));
  await eventually(`${name} deleted`, async () => ((await finalizersOf(name)) === undefined ? true : undefined));
}

async function eventsOf(name: string) {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace: ns,
    fieldSelector: `involvedObject.name=${name}`,
  });
  return list.items;
}

const statusOf = (name: string) => policyStatusOf(kc, ns, name);

/** Polls until `check` returns a value (not undefined), within 20 s. */
const eventually = <T>(what: string, check: () => Promise<T | undefined>) => eventuallyWithin(what, check, 20_000);
const motoWeights = () => readMotoWeights(r53, zoneId);

describe('FailoverPolicy controller (in-process operator, real apiserver, moto)', () => {
  it('reports a suspended policy as Suspended and makes no AWS call for it', async () => {
    await createPolicy(policy('suspended', { suspend: true }));
    const suspended = await eventually('Suspended=True', async () => {
      const status = await statusOf('suspended');
      return status.conditions?.find((c) => c.type === 'Suspended' && c.status === 'True');
    });
    expect(suspended.reason).toBe('SuspendedBySpec');
    // Give a wrongly-acting operator time to call out, then check the proxy saw nothing at all.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await testbed().faults.log()).toEqual([]);
  }, 30_000);

  it('reports healthy zones, then drains a failing zone in Route 53 with Events', async () => {
    await createPolicy(policy('web'));
    await eventually('every zone Healthy', async () => {
      const status = await statusOf('web');
      return status.zones?.length === 2 && status.zones.every((z) => z.state === 'Healthy') ? status : undefined;
    });
    expect(await motoWeights()).toEqual({ 'use1-a': 100, 'use1-b': 100 });

    probe.answers.set('us-east-1b', 500);

    const failing = await eventually('us-east-1b unhealthy in status', async () => {
      const status = await statusOf('web');
      const zone = status.zones?.find((z) => z.name === 'us-east-1b');
      return zone && zone.state !== 'Healthy' ? zone : undefined;
    });
    expect(['Degraded', 'Impaired']).toContain(failing.state);
    expect((failing.reasons ?? []).join(' ')).toMatch(/500/);

    const weights = await eventually('use1-b drained in moto', async () => {
      const w = await motoWeights();
      return w['use1-b'] === 0 ? w : undefined;
    });
    expect(weights['use1-a']).toBeGreaterThan(0);

    const status = await eventually('status reporting the drain', async () => {
      const s = await statusOf('web');
      return s.weights?.['use1-b'] === 0 && s.journal?.some((e) => e.state === 'Done') ? s : undefined;
    });
    expect(status.zones?.find((z) => z.name === 'us-east-1a')?.state).toBe('Healthy');
    expect(status.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('True');
    expect(status.journal?.find((e) => e.state === 'Done')?.action).toBe('SetWeights');

    const events = await eventually('a health Event and an action Event', async () => {
      const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=web',
      });
      const reasons = list.items.map((e) => e.reason);
      const health = reasons.some((r) => r === 'ZoneDegraded' || r === 'ZoneImpaired');
      return health && reasons.includes('ActionPerformed') ? list.items : undefined;
    });
    const healthEvent = events.find((e) => e.reason === 'ZoneDegraded' || e.reason === 'ZoneImpaired');
    expect(healthEvent?.type).toBe('Warning');
    expect(healthEvent?.message).toContain('us-east-1b');
    expect(healthEvent?.involvedObject.kind).toBe('FailoverPolicy');
  }, 60_000);

  it('holds a finalizer on a valid policy; deleting it leaves Route 53 as it is, says so, and completes', async () => {
    expect(await finalizersOf('web')).toEqual([POLICY_FINALIZER]);
    const before = await motoWeights();
    expect(before['use1-b']).toBe(0); // drained by the previous test
    await testbed().faults.clear();

    await deleteAndWaitGone('web');

    const leftAsIs = await eventually('the AwsStateLeftAsIs Event', async () =>
      (await eventsOf('web')).find((e) => e.reason === 'AwsStateLeftAsIs'),
    );
    expect(leftAsIs.type).toBe('Normal');
    expect(leftAsIs.message).toContain('AWS records and databases were left as they are');
    expect(leftAsIs.message).toMatch(/weights use1-a=\d+, use1-b=0/);
    // Give a wrongly-acting operator time to "clean up", then check Route 53 kept every record and weight.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await motoWeights()).toEqual(before);
    const writes = (await testbed().faults.log()).filter((e) => e.action === 'ChangeResourceRecordSets');
    expect(writes).toEqual([]);
  }, 30_000);

  it('releases a suspended policy on deletion too, still without any AWS call', async () => {
    await eventually('the finalizer on the suspended policy', async () =>
      (await finalizersOf('suspended'))?.includes(POLICY_FINALIZER) ? true : undefined,
    );
    await testbed().faults.clear();
    await deleteAndWaitGone('suspended');
    expect((await eventsOf('suspended')).some((e) => e.reason === 'AwsStateLeftAsIs')).toBe(true);
    expect(await testbed().faults.log()).toEqual([]);
  }, 30_000);
});
