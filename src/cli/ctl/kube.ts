// Kubernetes access for failoverctl: the user's kubeconfig, the FailoverPolicy/FailoverDrill calls the commands
// need, and one place that turns apiserver and network failures into a line a person can act on.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import {
  API_VERSION,
  DRILL_PLURAL,
  type FailoverDrill,
  FailoverDrillSchema,
  type FailoverPolicy,
  FailoverPolicySchema,
  GROUP,
  POLICY_PLURAL,
  VERSION,
} from '../../api/index.ts';
import { ApiTimeoutError, KUBE_API_TIMEOUT_MS, poolKubeConnections, withRequestTimeout } from '../../runtime/index.ts';
import { CtlError } from './errors.ts';
import { checkServerObject } from './server-object.ts';

export { CtlError } from './errors.ts';

export type Verb = 'get' | 'list' | 'create' | 'patch';

/** What a request was about, for the error message. */
export interface RequestContext {
  verb: Verb;
  /** Plural resource name, e.g. failoverpolicies. */
  resource: string;
  namespace: string;
  /** Set when the request addressed one object. */
  name?: string;
  /** Kind shown in "not found", e.g. FailoverPolicy. */
  kind: string;
  server: string;
}

/**
 * Maps a failed request to a CtlError. A 404 on a named object is "not found" only when the apiserver answered with
 * a Status naming the object; a 404 without one (or on a list) means the resource type itself is not served.
 */
export function toCtlError(error: unknown, ctx: RequestContext): CtlError {
  if (error instanceof CtlError) return error;
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    switch (error.code) {
      case 404:
        if (ctx.name !== undefined && status?.details?.name === ctx.name) {
          return new CtlError(`${ctx.kind} ${ctx.namespace}/${ctx.name} not found`, 1);
        }
        return new CtlError(`the ${ctx.kind} CRD is not installed: kubectl apply -f crds/`, 2);
      case 401:
        return new CtlError(`not authenticated to the Kubernetes API at ${ctx.server}; check your kubeconfig`, 2);
      case 403:
        return new CtlError(`permission denied: ${ctx.verb} ${ctx.resource} in ${ctx.namespace}`, 2);
      case 409:
        return new CtlError(`${ctx.kind} ${ctx.namespace}/${ctx.name ?? ''} already exists`, 1);
      case 422:
      case 400:
        return new CtlError(`the apiserver rejected the ${ctx.kind}: ${status?.message ?? String(error.body)}`, 1);
      default:
        return new CtlError(
          `the Kubernetes API at ${ctx.server} answered ${error.code} to ${ctx.verb} ${ctx.resource}: ${status?.message ?? 'no message'}`,
          2,
        );
    }
  }
  if (error instanceof ApiTimeoutError || (error as { cause?: unknown })?.cause instanceof ApiTimeoutError) {
    return new CtlError(
      `the Kubernetes API at ${ctx.server} did not answer ${ctx.verb} ${ctx.resource} in time; check the cluster and retry`,
      2,
    );
  }
  return new CtlError(
    `cannot reach the Kubernetes API at ${ctx.server}: ${networkReason(error)}; check your kubeconfig/context`,
    2,
  );
}

interface ApiStatus {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string };
}

function parseStatus(body: unknown): ApiStatus | undefined {
  if (body !== null && typeof body === 'object') return body as ApiStatus;
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as ApiStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** fetch() wraps the socket error in `cause` ("fetch failed" alone tells nobody anything). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof AggregateError && cause.errors.length > 0) return String(cause.errors[0]?.message ?? cause);
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export interface KubeOptions {
  /** --kubeconfig; absent: $KUBECONFIG or ~/.kube/config (loadFromDefault). */
  kubeconfig?: string;
  /** -n; absent: the context's namespace, else `default`. */
  namespace?: string;
}

export interface PolicyKube {
  readonly namespace: string;
  readonly server: string;
  /** The kubeconfig user, for spec.manual.requestedBy. */
  readonly user: string | undefined;
  getPolicy(name: string): Promise<FailoverPolicy>;
  listPolicies(): Promise<FailoverPolicy[]>;
  /** JSON merge patch on the policy's spec side (never status). */
  patchPolicy(name: string, patch: Record<string, unknown>): Promise<FailoverPolicy>;
  createDrill(drill: FailoverDrill): Promise<FailoverDrill>;
  getDrill(name: string): Promise<FailoverDrill>;
  listDrills(): Promise<FailoverDrill[]>;
  patchDrill(name: string, patch: Record<string, unknown>): Promise<FailoverDrill>;
}

/** Loads the kubeconfig; a kubeconfig that cannot be read or has no cluster is a CtlError (exit 2). */
export function loadKubeConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  exists: (file: string) => boolean = existsSync,
): KubeConfig {
  const kc = new KubeConfig();
  // With nothing to load, client-node falls back to http://localhost:8080: say what is missing instead.
  const home = env.HOME || env.USERPROFILE;
  if (
    path === undefined &&
    !env.KUBECONFIG &&
    !(home && exists(join(home, '.kube', 'config'))) &&
    !(env.KUBERNETES_SERVICE_HOST && exists('/var/run/secrets/kubernetes.io/serviceaccount/token'))
  ) {
    throw new CtlError('no kubeconfig: set KUBECONFIG or pass --kubeconfig <file> (kubectl would find none either)', 2);
  }
  try {
    if (path === undefined) kc.loadFromDefault();
    else kc.loadFromFile(path);
  } catch (error) {
    throw new CtlError(`cannot load the kubeconfig ${path ?? '(default)'}: ${(error as Error).message}`, 2);
  }
  poolKubeConnections(kc); // one TLS connection for a command's requests, not one each
  if (!kc.getCurrentCluster()) {
    throw new CtlError(
      `the kubeconfig ${path ?? '(default)'} has no current cluster; check your kubeconfig/context`,
      2,
    );
  }
  return kc;
}

export function createPolicyKube(
  kc: KubeConfig,
  opts: { namespace?: string /** Deadline of each API call; default KUBE_API_TIMEOUT_MS. */; timeoutMs?: number } = {},
): PolicyKube {
  const api = kc.makeApiClient(CustomObjectsApi);
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const namespace = opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  // Every call has a deadline (client-node sets none): a silent apiserver fails the command instead of hanging it.
  const timed = withRequestTimeout(opts.timeoutMs ?? KUBE_API_TIMEOUT_MS);
  const mergePatch = withRequestTimeout(
    opts.timeoutMs ?? KUBE_API_TIMEOUT_MS,
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  const call = async <T>(ctx: Omit<RequestContext, 'server' | 'namespace'>, fn: () => Promise<unknown>) => {
    try {
      return (await fn()) as T;
    } catch (error) {
      throw toCtlError(error, { ...ctx, namespace, server });
    }
  };
  const policy = { group: GROUP, version: VERSION, namespace, plural: POLICY_PLURAL };
  const drill = { group: GROUP, version: VERSION, namespace, plural: DRILL_PLURAL };
  const P = { resource: POLICY_PLURAL, kind: 'FailoverPolicy' };
  const D = { resource: DRILL_PLURAL, kind: 'FailoverDrill' };
  // What the server returns is checked before anyone reads a field of it (server-object.ts).
  const asPolicy = (object: unknown) => checkServerObject<FailoverPolicy>(P.kind, FailoverPolicySchema, object, server);
  const asDrill = (object: unknown) => checkServerObject<FailoverDrill>(D.kind, FailoverDrillSchema, object, server);
  const itemsOf = <T>(kind: string, list: unknown, check: (object: unknown) => T): T[] => {
    const items = (list as { items?: unknown } | null)?.items;
    if (!Array.isArray(items)) {
      throw new CtlError(`the Kubernetes API at ${server} answered a list of ${kind} without an items list`, 2);
    }
    return items.map(check);
  };
  return {
    namespace,
    server,
    user: kc.getCurrentUser()?.name,
    getPolicy: async (name) =>
      asPolicy(
        await call({ ...P, verb: 'get', name }, () => api.getNamespacedCustomObject({ ...policy, name }, timed)),
      ),
    listPolicies: async () =>
      itemsOf(
        P.kind,
        await call({ ...P, verb: 'list' }, () => api.listNamespacedCustomObject(policy, timed)),
        asPolicy,
      ),
    patchPolicy: async (name, body) =>
      asPolicy(
        await call({ ...P, verb: 'patch', name }, () =>
          api.patchNamespacedCustomObject({ ...policy, name, body }, mergePatch),
        ),
      ),
    createDrill: async (body) =>
      asDrill(
        await call({ ...D, verb: 'create', name: body.metadata.name }, () =>
          api.createNamespacedCustomObject({ ...drill, body: { ...body, apiVersion: API_VERSION } }, timed),
        ),
      ),
    getDrill: async (name) =>
      asDrill(await call({ ...D, verb: 'get', name }, () => api.getNamespacedCustomObject({ ...drill, name }, timed))),
    listDrills: async () =>
      itemsOf(D.kind, await call({ ...D, verb: 'list' }, () => api.listNamespacedCustomObject(drill, timed)), asDrill),
    patchDrill: async (name, body) =>
      asDrill(
        await call({ ...D, verb: 'patch', name }, () =>
          api.patchNamespacedCustomObject({ ...drill, name, body }, mergePatch),
        ),
      ),
  };
}
