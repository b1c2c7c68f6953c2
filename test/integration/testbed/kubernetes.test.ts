// The real kube-apiserver does what the operator relies on: CRDs with a status subresource, custom resources
// through CustomObjectsApi, watches through a client-node informer, coordination Leases, service-account
// tokens and RBAC.
import {
  type ApiException,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
  V1MicroTime,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';

const group = 'testbed.failover.io';
const version = 'v1';
const plural = 'widgets';

interface Widget extends KubernetesObject {
  spec: { size: number };
  status?: { phase?: string };
}

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: { size: { type: 'integer', minimum: 1 } },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last error: ${String(last)}`);
}

function isConflict(err: unknown): boolean {
  return (err as ApiException<unknown>).code === 409;
}

describe('kube-apiserver test bed', () => {
  let kc: KubeConfig;
  let ns: string;
  let custom: CustomObjectsApi;

  beforeAll(async () => {
    kc = testbed().kubeConfig();
    ns = await createNamespace(kc, 'testbed-k8s');
    custom = kc.makeApiClient(CustomObjectsApi);
    // The CRD outlives a test file (etcd lives as long as the test bed), so "already exists" is fine.
    await kc
      .makeApiClient(ApiextensionsV1Api)
      .createCustomResourceDefinition({ body: widgetCrd })
      .catch((err: unknown) => {
        if (!isConflict(err)) throw err;
      });
  });

  it('establishes a CRD and serves its custom resources, status subresource included', async () => {
    const crd = await eventually('the Widget CRD to be Established', async () => {
      const read = await kc
        .makeApiClient(ApiextensionsV1Api)
        .readCustomResourceDefinition({ name: `${plural}.${group}` });
      const established = read.status?.conditions?.find((c) => c.type === 'Established');
      return established?.status === 'True' ? read : undefined;
    });
    expect(crd.spec.names.kind).toBe('Widget');

    // A freshly established CRD can answer 404 for a moment while its REST handler is installed.
    const created = await eventually(
      'the first Widget to be created',
      () =>
        custom.createNamespacedCustomObject({
          group,
          version,
          namespace: ns,
          plural,
          body: { apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name: 'first' }, spec: { size: 3 } },
        }) as Promise<Widget>,
    );
    expect(created.metadata?.uid).toMatch(/[0-9a-f-]{36}/);

    const read = (await custom.getNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      name: 'first',
    })) as Widget;
    expect(read.spec.size).toBe(3);

    // Schema validation is real: the apiserver refuses a size below the minimum.
    await expect(
      custom.createNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural,
        body: { apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name: 'bad' }, spec: { size: 0 } },
      }),
    ).rejects.toMatchObject({ code: 422 });

    // Status is a subresource: a write there changes status and leaves spec (and generation) alone.
    const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
      group,
      version,
      namespace: ns,
      plural,
      name: 'first',
      body: { ...read, spec: { size: 99 }, status: { phase: 'Ready' } },
    })) as Widget;
    expect(withStatus.status?.phase).toBe('Ready');
    expect(withStatus.spec.size).toBe(3);
    expect(withStatus.metadata?.generation).toBe(read.metadata?.generation);
  });

  it('delivers custom resources to a client-node informer: the initial list, then watch events', async () => {
    const listFn = () =>
      custom.listNamespacedCustomObject({ group, version, namespace: ns, plural }) as Promise<
        KubernetesListObject<Widget>
      >;
    await eventually('the Widget list to be served', listFn);
    const informer = makeInformer<Widget>(kc, `/apis/${group}/${version}/namespaces/${ns}/${plural}`, listFn);
    const added: string[] = [];
    const updated: Array<{ name: string; size: number }> = [];
    informer.on('add', (w) => added.push(w.metadata?.name ?? ''));
    informer.on('update', (w) => updated.push({ name: w.metadata?.name ?? '', size: w.spec.size }));
    await informer.start();
    try {
      await custom.createNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural,
        body: { apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name: 'watched' }, spec: { size: 1 } },
      });
      await eventually('the informer to see "watched" added', async () =>
        added.includes('watched') ? true : undefined,
      );
      await custom.patchNamespacedCustomObject({
        group,
        version,
        namespace: ns,
        plural,
        name: 'watched',
        body: [{ op: 'replace', path: '/spec/size', value: 7 }],
      });
      await eventually('the informer to see the update', async () =>
        updated.some((u) => u.name === 'watched' && u.size === 7) ? true : undefined,
      );
      expect(informer.get('watched', ns)?.spec.size).toBe(7);
    } finally {
      await informer.stop();
    }
  });

  it('stores coordination.k8s.io/v1 Leases (leader election)', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    // Lease times are MicroTime (6 fractional digits); a plain Date serializes with 3 and the apiserver answers
    // 400. client-node's V1MicroTime serializes correctly.
    const acquireTime = new V1MicroTime();
    await leases.createNamespacedLease({
      namespace: ns,
      body: {
        metadata: { name: 'failover-operator-leader' },
        spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime, renewTime: acquireTime },
      },
    });
    const lease = await leases.readNamespacedLease({ name: 'failover-operator-leader', namespace: ns });
    expect(lease.spec?.holderIdentity).toBe('pod-a');
    expect(lease.spec?.leaseDurationSeconds).toBe(15);
    // Optimistic concurrency is what makes leader election safe: a stale resourceVersion must lose.
    const stale = { ...lease, metadata: { ...lease.metadata, resourceVersion: '1' } };
    await expect(
      leases.replaceNamespacedLease({ name: 'failover-operator-leader', namespace: ns, body: stale }),
    ).rejects.toMatchObject({ code: 409 });
  });

  it('issues service-account tokens and enforces RBAC on them', async () => {
    const ns = await createNamespace(kc, 'testbed-rbac'); // its own: the lease test leaves a Lease behind
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'operator' } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'operator',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token;
    expect(token).toBeTruthy();

    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('admin kubeconfig has no current cluster');
    const asOperator = new KubeConfig();
    asOperator.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'operator', token }],
      contexts: [{ name: 'operator', cluster: cluster.name, user: 'operator' }],
      currentContext: 'operator',
    });
    const operatorLeases = asOperator.makeApiClient(CoordinationV1Api);
    await expect(operatorLeases.listNamespacedLease({ namespace: ns })).rejects.toMatchObject({ code: 403 });

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'leases' },
        rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'operator-leases' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' },
        subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace: ns }],
      },
    });
    // The authorizer learns about new bindings through its own informer: allow it a moment.
    const list = await eventually('RBAC to allow the operator to list leases', () =>
      operatorLeases.listNamespacedLease({ namespace: ns }),
    );
    expect(list.items).toEqual([]);
  });
});
