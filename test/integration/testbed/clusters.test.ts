// Two "clusters" in the test bed (issue #14's vantage points): two kube-apiservers on one etcd, each under its own
// key prefix. Both serve, neither sees the other's objects, and the project's CRDs install in each the way every
// suite installs them in cluster a (applyCrds).
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, VersionApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { GROUP, POLICY_PLURAL, VERSION } from '../../../src/api/index.ts';
import { createNamespace, kubeConfigFor, readTestbedState, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';
import { policyBody } from '../support/operator-fixture.ts';

let kcA: KubeConfig;
let kcB: KubeConfig;

const status = async (p: Promise<unknown>): Promise<number | 'ok'> =>
  p.then(
    () => 'ok' as const,
    (err: { code?: number }) => err.code ?? -1,
  );

beforeAll(() => {
  const tb = testbed();
  kcA = tb.cluster('a').kubeConfig();
  kcB = tb.cluster('b').kubeConfig();
});

describe('two clusters on one etcd', () => {
  it('are two apiservers, each with its own kubeconfig; cluster a is the default one', async () => {
    const tb = testbed();
    const state = readTestbedState();
    // a, b and c by default (FO_TESTBED_CLUSTERS); b is the one this file uses.
    expect(tb.clusters).toEqual(expect.arrayContaining(['a', 'b']));
    expect(tb.cluster('a').kubeconfigPath).toBe(tb.kubeconfigPath);
    expect(tb.cluster('a').url).toBe(state.apiserver.url);
    expect(tb.cluster('b').url).not.toBe(tb.cluster('a').url);
    expect(state.clusters?.b?.etcdPrefix).toBe('/registry-b');
    expect(kcB.getCurrentCluster()?.server).toBe(tb.cluster('b').url);
    expect(kubeConfigFor('b').getCurrentCluster()?.server).toBe(tb.cluster('b').url);
    expect(() => tb.cluster('z')).toThrow(/no cluster "z"; it has a, b/);
    for (const kc of [kcA, kcB]) {
      const v = await kc.makeApiClient(VersionApi).getCode();
      expect(v.gitVersion).toBe(state.apiserver.version);
    }
  });

  it('keeps their objects apart: a namespace made in one is not in the other', async () => {
    const onlyA = await createNamespace(kcA, 'only-a');
    const onlyB = await createNamespace(kcB, 'only-b');
    const coreA = kcA.makeApiClient(CoreV1Api);
    const coreB = kcB.makeApiClient(CoreV1Api);
    expect(await status(coreA.readNamespace({ name: onlyA }))).toBe('ok');
    expect(await status(coreB.readNamespace({ name: onlyA }))).toBe(404);
    expect(await status(coreB.readNamespace({ name: onlyB }))).toBe('ok');
    expect(await status(coreA.readNamespace({ name: onlyB }))).toBe(404);

    const both = await createNamespace([kcA, kcB], 'both');
    expect(await status(coreA.readNamespace({ name: both }))).toBe('ok');
    expect(await status(coreB.readNamespace({ name: both }))).toBe('ok');
  });

  it('installs the CRDs in both; a policy made in b is served by b only', async () => {
    await Promise.all([applyCrds(kcA), applyCrds(kcB)]);
    for (const kc of [kcA, kcB]) {
      const crd = await kc
        .makeApiClient(ApiextensionsV1Api)
        .readCustomResourceDefinition({ name: `${POLICY_PLURAL}.${GROUP}` });
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    }
    const ns = await createNamespace([kcA, kcB], 'crd-both');
    const body = policyBody(ns, 'web', {
      zoneId: 'ZTESTB',
      recordName: 'api.b.test.',
      probeUrl: 'http://127.0.0.1:1/',
    });
    await kcB
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: POLICY_PLURAL, namespace: ns, body });
    const get = (kc: KubeConfig) =>
      kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: POLICY_PLURAL,
        namespace: ns,
        name: 'web',
      });
    expect(await status(get(kcB))).toBe('ok');
    expect(await status(get(kcA))).toBe(404);
  });
});
