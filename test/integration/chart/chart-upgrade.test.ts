// The CRD upgrade path of the chart README ("Upgrading"), with the test bed's Helm against the real kube-apiserver:
// CRDs left by 0.1.0 (installed from the chart's crds/ folder, which Helm never owns) stop `helm upgrade --install`
// with `invalid ownership metadata`; after the README's hand-over the release owns them, upgrades them with every
// `helm upgrade`, and `helm uninstall` keeps them (helm.sh/resource-policy: keep).
//
// Tenancy enforcement is off for this release: its default-deny admission policy is cluster-wide, and later test
// files create policies. The CRDs stay (with the release's labels, harmless), as they would in a cluster.

import { ApiextensionsV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';
import { chartDir, helm } from './render.ts';

const CRDS = ['failoverpolicies.failover.io', 'failoverdrills.failover.io'];
const RELEASE = 'fo-upgrade';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let kc: KubeConfig;
let ns: string;
let helmPath: string;
let kubeconfig: string;
let installed = false;

const helmIn = (args: string[]) => helm(helmPath, [...args, '--kubeconfig', kubeconfig, '--namespace', ns]);
const upgradeInstall = (set: string[] = []) =>
  helmIn(['upgrade', '--install', RELEASE, chartDir, '--set', 'tenancy.enforce=false', ...set]);

async function crdMetadata(name: string) {
  const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name });
  return { labels: crd.metadata?.labels ?? {}, annotations: crd.metadata?.annotations ?? {} };
}

beforeAll(async () => {
  const bed = testbed();
  kc = bed.kubeConfig();
  helmPath = bed.helmPath;
  kubeconfig = bed.kubeconfigPath;
  ns = await createNamespace(kc, 'chart-upgrade');
  // As 0.1.0 left them: replaced from crds/, so without any Helm ownership a previous run may have added.
  await applyCrds(kc);
}, 60_000);

afterAll(async () => {
  if (installed) await helmIn(['uninstall', RELEASE]).catch(() => undefined);
});

describe('CRDs from 0.1.0 (crds/, not owned by any release)', () => {
  it('stop helm upgrade --install with invalid ownership metadata', async () => {
    await expect(upgradeInstall()).rejects.toThrow(/CustomResourceDefinition.*invalid ownership metadata/s);
  });

  it("are taken over by the release after the README's hand-over, keep annotation and labels added", async () => {
    const api = kc.makeApiClient(ApiextensionsV1Api);
    for (const name of CRDS) {
      // kubectl label … app.kubernetes.io/managed-by=Helm; kubectl annotate … meta.helm.sh/release-name=…
      await api.patchCustomResourceDefinition(
        {
          name,
          body: {
            metadata: {
              labels: { 'app.kubernetes.io/managed-by': 'Helm' },
              annotations: { 'meta.helm.sh/release-name': RELEASE, 'meta.helm.sh/release-namespace': ns },
            },
          },
        },
        mergePatch,
      );
    }
    await upgradeInstall();
    installed = true;
    for (const name of CRDS) {
      const { labels, annotations } = await crdMetadata(name);
      expect(annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep', 'meta.helm.sh/release-name': RELEASE });
      expect(labels).toMatchObject({
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/component': 'controller',
      });
    }
  }, 60_000);

  it('are upgraded by helm upgrade like any object, and kept by helm uninstall', async () => {
    await upgradeInstall(['--set', 'crds.keep=false']);
    for (const name of CRDS)
      expect((await crdMetadata(name)).annotations).not.toHaveProperty('helm.sh/resource-policy');
    await upgradeInstall(['--set', 'crds.keep=true']);
    for (const name of CRDS) {
      expect((await crdMetadata(name)).annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep' });
    }
    await helmIn(['uninstall', RELEASE]);
    installed = false;
    for (const name of CRDS) expect((await crdMetadata(name)).labels).toHaveProperty('app.kubernetes.io/instance');
    // Gone with the release: its namespaced objects.
    expect(await helmIn(['list', '--short'])).not.toContain(RELEASE);
  }, 90_000);
});
