import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { KUBE_API_TIMEOUT_MS, withRequestTimeout } from './api-timeout.ts';
import { NotFoundError, translateApiError } from './errors.ts';
import type { ResourceRef } from './informer.ts';
import type { ObjectRef } from './keys.ts';

/**
 * Adds and removes one finalizer on a custom resource with a JSON merge patch of `metadata.finalizers`, the same
 * way the status writer patches `.status` (see status-writer.ts).
 *
 * A merge patch replaces an array whole, so the patch always carries the `resourceVersion` the caller read: if any
 * other writer changed the object since (another controller adding its own finalizer, a spec edit), the API server
 * refuses with 409 → ConflictError (retryable: requeue, re-read, recompute), and no one's finalizer is ever lost.
 *
 * Both calls are idempotent against what the caller read: adding a finalizer already present, or removing one that
 * is absent, makes no call. Removing from an object that is already gone (404) counts as done.
 */
export interface FinalizerHolder {
  finalizers?: string[];
  /** Precondition for the patch; without it the list is replaced whatever is stored (last writer wins). */
  resourceVersion?: string;
}

export interface Finalizers {
  /** True when a patch was made. Throws ConflictError (409), NotFoundError (404), or the API error. */
  add(ref: ObjectRef, finalizer: string, current: FinalizerHolder): Promise<boolean>;
  /** True when a patch was made. Throws ConflictError (409) or the API error; a vanished object is not an error. */
  remove(ref: ObjectRef, finalizer: string, current: FinalizerHolder): Promise<boolean>;
}

/** The one API call the helper needs, so tests can record it. */
export type PatchObjectFn = (request: {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
  body: unknown;
}) => Promise<unknown>;

export function hasFinalizer(current: FinalizerHolder, finalizer: string): boolean {
  return (current.finalizers ?? []).includes(finalizer);
}

/** The merge patch that sets `metadata.finalizers` to `finalizers`, guarded by `resourceVersion` when given. */
export function finalizersMergePatch(finalizers: readonly string[], resourceVersion?: string): Record<string, unknown> {
  return {
    metadata: { finalizers: [...finalizers], ...(resourceVersion === undefined ? {} : { resourceVersion }) },
  };
}

export function createFinalizersWith(resource: ResourceRef, patchFn: PatchObjectFn): Finalizers {
  async function patch(ref: ObjectRef, finalizers: string[], resourceVersion: string | undefined) {
    try {
      await patchFn({ ...resource, ...ref, body: finalizersMergePatch(finalizers, resourceVersion) });
    } catch (err) {
      translateApiError(err, `finalizers of ${resource.plural}.${resource.group} ${ref.namespace}/${ref.name}`);
    }
  }
  return {
    async add(ref, finalizer, current) {
      if (hasFinalizer(current, finalizer)) return false;
      await patch(ref, [...(current.finalizers ?? []), finalizer], current.resourceVersion);
      return true;
    },
    async remove(ref, finalizer, current) {
      if (!hasFinalizer(current, finalizer)) return false;
      const rest = (current.finalizers ?? []).filter((f) => f !== finalizer);
      try {
        await patch(ref, rest, current.resourceVersion);
      } catch (err) {
        if (err instanceof NotFoundError) return false; // already deleted: nothing left to release
        throw err;
      }
      return true;
    },
  };
}

export function createFinalizers(kubeConfig: KubeConfig, resource: ResourceRef): Finalizers {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = withRequestTimeout(
    KUBE_API_TIMEOUT_MS,
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  return createFinalizersWith(
    resource,
    (request) => api.patchNamespacedCustomObject(request, mergePatch) as Promise<KubernetesObject>,
  );
}
