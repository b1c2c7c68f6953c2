// InvalidSpec end to end, through version skew: the cluster runs an older, lenient FailoverPolicy CRD (spec is
// `x-kubernetes-preserve-unknown-fields`, no schema, no CEL), so the apiserver stores specs the operator's own
// validator rejects. The operator must report InvalidSpec (condition + Warning Event), make no AWS call for it, pick
// the policy up once the spec is fixed, and still release its finalizer when an invalid policy is deleted.
//
// CRDs are cluster-scoped, so this file replaces the real CRD for its duration and restores it in afterAll. That is
// safe because integration files run one at a time (vitest.config.ts: fileParallelism false) and every file that
// needs the CRD re-applies the real one in its own beforeAll (applyCrds replaces whatever is installed).

import type { Route53Client } from '@aws-sdk/client-route-53';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GROUP, POLICY_PLURAL, VERSION } from '../../../src/api/index.ts';
import { POLICY_FINALIZER } from '../../../src/controller/policy-reconciler.ts';
import { testbed } from '../../env/testbed.ts';
import { applyCrds, CRD_FILES, readCrd } from '../api/crds.ts';
import {
  createWeightedZone,
  eventually,
  inProcessOperatorSuite,
  policyBody,
  sleep,
} from '../support/operator-fixture.ts';

interface StoredPolicy {
  metadata?: { finalizers?: string[] };
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const suite = inProcessOperatorSuite({
  namespace: 'skew',
  podName: 'skew-test',
  arrange: async (arranged) => {
    ({ kc, ns, r53 } = arranged);
    await installLenientCrd();
    zoneId = await createWeightedZone(r53, 'skew.test.', 'api.skew.test.');
  },
  cleanUp: async () => {
    await applyCrds(kc); // the real CRD again, for whatever runs next
  },
});
const { probe } = suite;

/** The policy CRD as an older release might have shipped it: any spec is stored as is. */
async function installLenientCrd(): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const body = readCrd(CRD_FILES[0]!);
  const name = body.metadata!.name!;
  for (const version of body.spec.versions) {
    const schema = version.schema!.openAPIV3Schema!;
    schema.properties!.spec = { type: 'object', x_kubernetes_preserve_unknown_fields: true };
    delete schema.x_kubernetes_validations;
  }
  body.metadata!.resourceVersion = (await api.readCustomResourceDefinition({ name })).metadata!.resourceVersion!;
  await api.replaceCustomResourceDefinition({ name, body });
}

const ref = (name: string) => ({ group: GROUP, version: VERSION, plural: POLICY_PLURAL, namespace: ns, name });
const api = () => kc.makeApiClient(CustomObjectsApi);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function read(name: string): Promise<StoredPolicy | undefined> {
  try {
    return (await api().getNamespacedCustomObject(ref(name))) as StoredPolicy;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

const condition = async (name: string, type: string) =>
  (await read(name))?.status?.conditions?.find((c) => c.type === type);

async function patchSpec(name: string, spec: object): Promise<void> {
  await api().patchNamespacedCustomObject({ ...ref(name), body: { spec } }, mergePatch);
}

describe('InvalidSpec through CRD version skew (lenient CRD, real apiserver)', () => {
  it('reports an invalid stored spec, acts on it once fixed, and releases it on deletion even while invalid', async () => {
    const valid = policyBody(ns, 'skewed', {
      zoneId,
      recordName: 'api.skew.test.',
      probeUrl: `${probe.base}/skew/{zone}`,
    }) as { spec: Record<string, unknown> };
    const invalid = { ...valid, spec: { ...valid.spec, regions: [] } };

    // The lenient CRD may take a moment to replace the strict schema in the apiserver's handler.
    await eventually('the apiserver storing an invalid spec', async () => {
      await api().createNamespacedCustomObject({ ...ref('skewed'), body: invalid });
      return true;
    });

    // 1. Invalid: InvalidSpec=True naming the field, Ready=False, a Warning Event, no finalizer, no AWS call.
    const invalidSpec = await eventually('InvalidSpec=True', async () => {
      const c = await condition('skewed', 'InvalidSpec');
      return c?.status === 'True' ? c : undefined;
    });
    expect(invalidSpec.reason).toBe('SpecInvalid');
    expect(invalidSpec.message).toContain('spec.regions');
    expect((await condition('skewed', 'Ready'))?.status).toBe('False');
    const warning = await eventually('the SpecInvalid Warning Event', async () => {
      const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=skewed',
      });
      return events.items.find((e) => e.reason === 'SpecInvalid');
    });
    expect(warning.type).toBe('Warning');
    await sleep(2_000); // room for a wrong probe or AWS call
    expect((await read('skewed'))?.metadata?.finalizers ?? []).toEqual([]);
    expect(await testbed().faults.log()).toEqual([]);

    // 2. Fixed: validation passes, the finalizer is added.
    await patchSpec('skewed', { regions: valid.spec.regions });
    await eventually('InvalidSpec=False and the finalizer', async () => {
      const p = await read('skewed');
      const c = p?.status?.conditions?.find((x) => x.type === 'InvalidSpec');
      return c?.status === 'False' && p?.metadata?.finalizers?.includes(POLICY_FINALIZER) ? true : undefined;
    });

    // 3. Broken again, then deleted: the finalizer is released without the spec ever validating again.
    await patchSpec('skewed', { regions: [] });
    await eventually('InvalidSpec=True again', async () =>
      (await condition('skewed', 'InvalidSpec'))?.status === 'True' ? true : undefined,
    );
    await api().deleteNamespacedCustomObject(ref('skewed'));
    await eventually('the invalid policy deleted', async () =>
      (await read('skewed')) === undefined ? true : undefined,
    );
  }, 60_000);
});
