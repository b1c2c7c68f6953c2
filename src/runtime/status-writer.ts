import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { KUBE_API_TIMEOUT_MS, withRequestTimeout } from './api-timeout.ts';
import { translateApiError } from './errors.ts';
import type { ResourceRef } from './informer.ts';
import type { ObjectRef } from './keys.ts';

/**
 * Writes `.status` through the status subresource with a JSON merge patch (RFC 7386): fields present in `status`
 * replace the stored ones, nested objects merge, arrays are replaced whole, and `null` deletes a field. The spec is
 * never touched (the subresource ignores it) and the object's generation does not change.
 *
 * Optimistic concurrency: pass the `resourceVersion` the reconcile read; the API server then refuses the patch with
 * 409 if the object changed since, surfaced as ConflictError (retryable: requeue, re-read, recompute). Without it,
 * the patch applies to whatever is stored (last writer wins per field).
 *
 * client-node v2 chooses a patch Content-Type itself (JSON Patch first); `setHeaderOptions` adds a middleware that
 * overrides it with `application/merge-patch+json`.
 */
export interface StatusPatch<S> {
  status: S;
  /** Precondition: fail with ConflictError unless the stored object still has this resourceVersion. */
  resourceVersion?: string;
}

export interface StatusWriter<S> {
  /** Returns the object as stored after the patch. Throws ConflictError (409), NotFoundError (404), or the API error. */
  patchStatus(ref: ObjectRef, patch: StatusPatch<S>): Promise<KubernetesObject & { status?: S }>;
}

/** The one API call the writer needs, so tests can record it. */
export type PatchStatusFn = (request: {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
  body: unknown;
}) => Promise<unknown>;

export function statusMergePatch<S>(patch: StatusPatch<S>): Record<string, unknown> {
  return patch.resourceVersion === undefined
    ? { status: patch.status }
    : { metadata: { resourceVersion: patch.resourceVersion }, status: patch.status };
}

export function createStatusWriterWith<S>(resource: ResourceRef, patchStatusFn: PatchStatusFn): StatusWriter<S> {
  return {
    async patchStatus(ref, patch) {
      try {
        const stored = await patchStatusFn({ ...resource, ...ref, body: statusMergePatch(patch) });
        return stored as KubernetesObject & { status?: S };
      } catch (err) {
        return translateApiError(err, `status of ${resource.plural}.${resource.group} ${ref.namespace}/${ref.name}`);
      }
    },
  };
}

/** `timeoutMs`: deadline of each patch (api-timeout.ts); a timed-out patch may still have been applied. */
export function createStatusWriter<S>(
  kubeConfig: KubeConfig,
  resource: ResourceRef,
  timeoutMs: number = KUBE_API_TIMEOUT_MS,
): StatusWriter<S> {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = withRequestTimeout(timeoutMs, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  return createStatusWriterWith<S>(resource, (request) => api.patchNamespacedCustomObjectStatus(request, mergePatch));
}
