// The chart's RBAC against the real kube-apiserver: apply the rendered ServiceAccount, RBAC and CRDs, mint a token
// for the ServiceAccount, and check what the operator's identity can and cannot do.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1CustomResourceDefinition,
  Watch,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKubeAccessReviews, createMetricsAuthorizer } from '../../../src/runtime/index.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { type Rendered, renderChart, repoRoot } from './render.ts';

const GROUP = 'failover.io';
const VERSION = 'v1alpha1';
const PLURAL = 'failoverpolicies';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function applyCrds(admin: KubeConfig, r: Rendered): Promise<void> {
  const api = admin.makeApiClient(ApiextensionsV1Api);
  for (const text of r.texts) {
    if (!/^kind: CustomResourceDefinition$/m.test(text)) continue;
    // loadYaml maps x-kubernetes-validations etc. to the typed model's names; a plain object would lose them.
    const body = loadYaml<V1CustomResourceDefinition>(text);
    const name = body.metadata!.name!;
    try {
      const existing = await api.readCustomResourceDefinition({ name });
      body.metadata!.resourceVersion = existing.metadata!.resourceVersion!;
      await api.replaceCustomResourceDefinition({ name, body });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await api.createCustomResourceDefinition({ body });
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const crd = await api.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Creates the rendered ServiceAccount, RBAC and admission-policy objects; returns the ServiceAccount's name. */
async function applyIdentity(admin: KubeConfig, r: Rendered): Promise<string> {
  const objects = admin.makeApiClient(KubernetesObjectApi);
  let serviceAccount: string | undefined;
  for (const text of r.texts) {
    const object = loadYaml<KubernetesObject>(text);
    if (object.kind === 'ServiceAccount') serviceAccount = object.metadata!.name!;
    if (
      object.kind === 'ServiceAccount' ||
      object.apiVersion === 'rbac.authorization.k8s.io/v1' ||
      object.apiVersion === 'admissionregistration.k8s.io/v1'
    ) {
      await objects.create(object);
    }
  }
  if (!serviceAccount) throw new Error('the chart rendered no ServiceAccount');
  return serviceAccount;
}

/** A kubeconfig for the admin's cluster that authenticates with a freshly minted ServiceAccount token. */
async function serviceAccountKubeConfig(admin: KubeConfig, namespace: string, name: string): Promise<KubeConfig> {
  const request = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 600, audiences: [] },
    },
  });
  const token = request.status?.token;
  if (!token) throw new Error('the TokenRequest returned no token');
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'operator', token }],
    contexts: [{ name: 'operator', cluster: cluster.name, user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}

async function statusCode(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code === undefined) throw error;
    return code;
  }
}

function examplePolicy(namespace: string, name: string): KubernetesObject & Record<string, unknown> {
  const policy = parse(readFileSync(path.join(repoRoot, 'examples/two-region-rds.yaml'), 'utf8')) as KubernetesObject &
    Record<string, unknown>;
  policy.metadata = { name, namespace };
  return policy;
}

/** Opens a watch on `apiPath` as `kc` and resolves with the first event's type and object name. */
/**
 * The first event of a watch, re-watching (as an informer does) when the apiserver answers with a transient ERROR
 * status; a 403 is returned at once, since that is the verdict an RBAC test is after.
 */
async function firstWatchEvent(kc: KubeConfig, apiPath: string): Promise<{ type: string; name: string }> {
  let last: { type: string; name: string; status?: { code?: number; message?: string } } | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    last = await watchOnce(kc, apiPath);
    if (last.type !== 'ERROR' || last.status?.code === 403) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (last?.type === 'ERROR') {
    return { type: 'ERROR', name: `${last.status?.code ?? '?'} ${last.status?.message ?? ''}`.trim() };
  }
  return { type: last!.type, name: last!.name };
}

async function watchOnce(
  kc: KubeConfig,
  apiPath: string,
): Promise<{ type: string; name: string; status?: { code?: number; message?: string } }> {
  let controller: AbortController | undefined;
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no watch event on ${apiPath} within 10 s`)), 10_000);
      new Watch(kc)
        .watch(
          apiPath,
          {},
          (type, object: KubernetesObject & { code?: number; message?: string }) => {
            clearTimeout(timer);
            resolve(
              type === 'ERROR'
                ? { type, name: '', status: { code: object.code, message: object.message } }
                : { type, name: object.metadata?.name ?? '' },
            );
          },
          (err) => {
            clearTimeout(timer);
            reject(err ?? new Error(`watch on ${apiPath} ended without an event`));
          },
        )
        .then((c) => {
          controller = c;
        }, reject);
    });
  } finally {
    controller?.abort();
  }
}

async function eventVerbsAllowed(kc: KubeConfig, namespace: string): Promise<boolean[]> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const results: boolean[] = [];
  for (const verb of ['create', 'patch']) {
    const review = await api.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { group: 'events.k8s.io', resource: 'events', verb, namespace } } },
    });
    results.push(review.status?.allowed === true);
  }
  return results;
}

describe('chart RBAC, cluster-wide (default values)', () => {
  let admin: KubeConfig;
  let operator: KubeConfig;
  let releaseNs: string;
  let policyNs: string;
  let rendered: Rendered;

  beforeAll(async () => {
    admin = testbed().kubeConfig();
    releaseNs = await createNamespace(admin, 'chart-rbac');
    policyNs = await createNamespace(admin, 'chart-rbac-team');
    const release = `fo-${releaseNs.split('-').at(-1)}`;
    // Tenancy off: its admission policy is cluster-wide and default-deny, and would refuse the example policy here
    // and in every later test file (test/integration/chart/chart-tenancy.test.ts tests it, and removes it after).
    rendered = await renderChart(testbed().helmPath, {
      release,
      namespace: releaseNs,
      set: { 'tenancy.enforce': 'false' },
    });
    await applyCrds(admin, rendered);
    const serviceAccount = await applyIdentity(admin, rendered);
    await admin.makeApiClient(KubernetesObjectApi).create(examplePolicy(policyNs, 'orders'));
    operator = await serviceAccountKubeConfig(admin, releaseNs, serviceAccount);
  });

  it('lists and watches FailoverPolicies in every namespace', async () => {
    const api = operator.makeApiClient(CustomObjectsApi);
    const list = (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as {
      items: KubernetesObject[];
    };
    expect(list.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toContain(`${policyNs}/orders`);
    const event = await firstWatchEvent(operator, `/apis/${GROUP}/${VERSION}/namespaces/${policyNs}/${PLURAL}`);
    expect(event).toEqual({ type: 'ADDED', name: 'orders' });
  });

  it('merge-patches FailoverPolicy status, as the status writer does', async () => {
    const api = operator.makeApiClient(CustomObjectsApi);
    const patched = (await api.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: policyNs,
        name: 'orders',
        body: { status: { observedGeneration: 1 } },
      },
      mergePatch,
    )) as { status?: { observedGeneration?: number } };
    expect(patched.status?.observedGeneration).toBe(1);
  });

  it('creates and patches Events in the policy namespace, core and events.k8s.io', async () => {
    const core = operator.makeApiClient(CoreV1Api);
    const name = `orders.${Date.now().toString(16)}`;
    await core.createNamespacedEvent({
      namespace: policyNs,
      body: {
        metadata: { name, namespace: policyNs },
        involvedObject: {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'FailoverPolicy',
          namespace: policyNs,
          name: 'orders',
        },
        reason: 'ChartRbacTest',
        message: 'created by the chart RBAC test',
        type: 'Normal',
        count: 1,
      },
    });
    const patched = await core.patchNamespacedEvent({ namespace: policyNs, name, body: { count: 2 } }, mergePatch);
    expect(patched.count).toBe(2);
    expect(await eventVerbsAllowed(operator, policyNs)).toEqual([true, true]);
  });

  it('gets, creates and updates its Lease in the release namespace only', async () => {
    const api = operator.makeApiClient(CoordinationV1Api);
    expect(await statusCode(() => api.readNamespacedLease({ namespace: releaseNs, name: 'failover-operator' }))).toBe(
      404,
    );
    const created = await api.createNamespacedLease({
      namespace: releaseNs,
      body: { metadata: { name: 'failover-operator' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    created.spec!.holderIdentity = 'b';
    const replaced = await api.replaceNamespacedLease({
      namespace: releaseNs,
      name: 'failover-operator',
      body: created,
    });
    expect(replaced.spec?.holderIdentity).toBe('b');
    expect(
      await statusCode(() =>
        api.createNamespacedLease({ namespace: policyNs, body: { metadata: { name: 'failover-operator' }, spec: {} } }),
      ),
    ).toBe(403);
    expect(await statusCode(() => api.deleteNamespacedLease({ namespace: releaseNs, name: 'failover-operator' }))).toBe(
      403,
    );
  });

  it('merge-patches FailoverPolicy finalizers, guarded by resourceVersion, as the reconciler does', async () => {
    const api = operator.makeApiClient(CustomObjectsApi);
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: policyNs, name: 'orders' };
    const read = (await api.getNamespacedCustomObject(ref)) as KubernetesObject;
    const finalizer = 'failover.io/leave-aws-state';
    const added = (await api.patchNamespacedCustomObject(
      {
        ...ref,
        body: { metadata: { finalizers: [finalizer], resourceVersion: read.metadata!.resourceVersion } },
      },
      mergePatch,
    )) as KubernetesObject;
    expect(added.metadata?.finalizers).toEqual([finalizer]);
    // A stale resourceVersion is refused (409), so no other writer's finalizer can be lost.
    expect(
      await statusCode(() =>
        api.patchNamespacedCustomObject(
          { ...ref, body: { metadata: { finalizers: [], resourceVersion: read.metadata!.resourceVersion } } },
          mergePatch,
        ),
      ),
    ).toBe(409);
    const released = (await api.patchNamespacedCustomObject(
      { ...ref, body: { metadata: { finalizers: [], resourceVersion: added.metadata!.resourceVersion } } },
      mergePatch,
    )) as KubernetesObject;
    expect(released.metadata?.finalizers ?? []).toEqual([]);
  });

  it('reviews scrapers of the secure metrics port: a ServiceAccount bound to metrics-reader may GET /metrics, another may not', async () => {
    const reader = rendered.manifests.find(
      (m) => m.kind === 'ClusterRole' && m.metadata.name.endsWith('-metrics-reader'),
    );
    expect(reader).toBeDefined();
    const core = admin.makeApiClient(CoreV1Api);
    for (const name of ['prometheus', 'stranger']) {
      await core.createNamespacedServiceAccount({ namespace: releaseNs, body: { metadata: { name } } });
    }
    await admin.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({
      body: {
        metadata: { name: `${releaseNs}-prometheus-metrics` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: reader!.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: releaseNs }],
      },
    });
    const tokenOf = async (name: string) =>
      (await serviceAccountKubeConfig(admin, releaseNs, name)).getCurrentUser()?.token ?? '';
    // The operator's own identity makes the TokenReview and the SubjectAccessReview (the metrics-auth ClusterRole).
    const authorize = createMetricsAuthorizer({ reviews: createKubeAccessReviews(operator), now: () => 0 });
    expect(await authorize(`Bearer ${await tokenOf('prometheus')}`, '/metrics')).toMatchObject({ status: 200 });
    expect(await authorize(`Bearer ${await tokenOf('stranger')}`, '/metrics')).toMatchObject({ status: 403 });
    expect(await authorize('Bearer not-a-token', '/metrics')).toMatchObject({ status: 401 });
  });

  it('is forbidden to read Secrets, delete or create FailoverPolicies, or write their spec', async () => {
    const core = operator.makeApiClient(CoreV1Api);
    const custom = operator.makeApiClient(CustomObjectsApi);
    const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: policyNs };
    expect(await statusCode(() => core.listSecretForAllNamespaces())).toBe(403);
    expect(await statusCode(() => core.listNamespacedSecret({ namespace: releaseNs }))).toBe(403);
    expect(await statusCode(() => custom.deleteNamespacedCustomObject({ ...ref, name: 'orders' }))).toBe(403);
    expect(
      await statusCode(() => custom.createNamespacedCustomObject({ ...ref, body: examplePolicy(policyNs, 'x') })),
    ).toBe(403);
    // RBAC allows `patch` (for metadata.finalizers); the chart's ValidatingAdmissionPolicy refuses any spec change.
    // The apiserver loads a new admission policy asynchronously, so ask (in dry run) until it answers.
    const specPatch = () =>
      custom.patchNamespacedCustomObject(
        { ...ref, name: 'orders', dryRun: 'All', body: { spec: { dryRun: true } } },
        mergePatch,
      );
    const deadline = Date.now() + 20_000;
    let refusal: { code?: number; body?: unknown } | undefined;
    while (!refusal && Date.now() < deadline) {
      try {
        await specPatch();
        await new Promise((r) => setTimeout(r, 250));
      } catch (error) {
        refusal = error as { code?: number; body?: unknown };
      }
    }
    expect(refusal?.code).toBe(403);
    expect(String(refusal?.body)).toContain('never its spec');
    // The policy is still there and unchanged: the forbidden delete and spec writes did nothing.
    const stored = (await admin
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ ...ref, name: 'orders' })) as {
      spec: { dryRun?: boolean };
    };
    expect(stored.spec.dryRun ?? false).toBe(false);
  });
});

describe('chart RBAC with watchNamespace set', () => {
  let operator: KubeConfig;
  let releaseNs: string;
  let watchedNs: string;
  let otherNs: string;

  beforeAll(async () => {
    const admin = testbed().kubeConfig();
    releaseNs = await createNamespace(admin, 'chart-rbac-ns');
    watchedNs = await createNamespace(admin, 'chart-rbac-watched');
    otherNs = await createNamespace(admin, 'chart-rbac-other');
    const release = `fo-${releaseNs.split('-').at(-1)}`;
    const rendered = await renderChart(testbed().helmPath, {
      release,
      namespace: releaseNs,
      set: { watchNamespace: watchedNs, 'tenancy.enforce': 'false' },
    });
    await applyCrds(admin, rendered);
    const serviceAccount = await applyIdentity(admin, rendered);
    operator = await serviceAccountKubeConfig(admin, releaseNs, serviceAccount);
  });

  it('reaches FailoverPolicies and Events in the watched namespace only', async () => {
    const api = operator.makeApiClient(CustomObjectsApi);
    const ref = { group: GROUP, version: VERSION, plural: PLURAL };
    expect(await statusCode(() => api.listNamespacedCustomObject({ ...ref, namespace: watchedNs }))).toBe(200);
    expect(await statusCode(() => api.listNamespacedCustomObject({ ...ref, namespace: otherNs }))).toBe(403);
    expect(await statusCode(() => api.listClusterCustomObject(ref))).toBe(403);
    expect(await eventVerbsAllowed(operator, watchedNs)).toEqual([true, true]);
    expect(await eventVerbsAllowed(operator, otherNs)).toEqual([false, false]);
  });

  it('still holds its Lease in the release namespace', async () => {
    const api = operator.makeApiClient(CoordinationV1Api);
    await api.createNamespacedLease({
      namespace: releaseNs,
      body: { metadata: { name: 'failover-operator' }, spec: { holderIdentity: 'a' } },
    });
    expect(
      (await api.readNamespacedLease({ namespace: releaseNs, name: 'failover-operator' })).spec?.holderIdentity,
    ).toBe('a');
  });
});
