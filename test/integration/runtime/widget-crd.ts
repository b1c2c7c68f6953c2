// A small CRD of our own, in a group nobody else uses, for exercising the runtime against the real API server.
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

export const widgets = { group: 'runtimetest.failover.io', version: 'v1', plural: 'widgets' } as const;

export interface Widget extends KubernetesObject {
  spec?: { size?: number };
  status?: Record<string, unknown>;
}

/** Creates the Widget CRD (once per test bed) and waits until it is Established and served. */
export async function ensureWidgetCrd(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const name = `${widgets.plural}.${widgets.group}`;
  const desired: V1CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: widgets.group,
      scope: 'Namespaced',
      names: { plural: widgets.plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: widgets.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer' } } },
                status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
              },
            },
          },
        },
      ],
    },
  };
  try {
    await api.createCustomResourceDefinition({ body: desired });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    // Left by an earlier run on a shared test bed: converge it to the schema this file declares.
    const existing = await api.readCustomResourceDefinition({ name });
    await api.replaceCustomResourceDefinition({
      name,
      body: { ...desired, metadata: { name, resourceVersion: existing.metadata?.resourceVersion } },
    });
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    if (established) {
      try {
        await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ ...widgets, limit: 1 });
        return;
      } catch {
        // served shortly after Established
      }
    }
    if (Date.now() > deadline) throw new Error(`CRD ${name} not established within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function widget(namespace: string, name: string, size: number): Widget {
  return {
    apiVersion: `${widgets.group}/${widgets.version}`,
    kind: 'Widget',
    metadata: { namespace, name },
    spec: { size },
  };
}
