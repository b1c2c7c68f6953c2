import { createHash } from 'node:crypto';
import type { AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

/**
 * One connection pool per cluster and credentials for the generated API clients.
 *
 * client-node 2.0.1 builds a new undici Agent for every API request: `KubeConfig.applySecurityAuthentication` calls
 * its private `createDispatcher` each time (only the Watch and WebSocket path caches its https.Agent). So every
 * request opened its own TCP and TLS connection, and parsed the CA and client certificate into a new secure
 * context: measured against the test bed's kube-apiserver, 100 reads opened 100 TLS connections. At 1,000 policies
 * that is a TLS handshake per status write, on both the operator's and the apiserver's CPU, and the reason a busy
 * operator could not renew its Lease in time (bench/results/reconcile.md).
 *
 * This keeps the dispatcher client-node builds for a cluster, user and TLS material, and hands it out again, so
 * requests share undici's keep-alive pool. TLS material that changes (a rotated client certificate from an exec
 * plugin, say) gets a new dispatcher, and the old one is closed once its requests are done.
 *
 * It wraps a private method, so a client-node upgrade may move it: then nothing is pooled and `pooled` says so
 * (the operator logs it at start-up; test/integration/runtime/kube-connections.test.ts counts the connections).
 */

interface Dispatcher {
  close(): Promise<void>;
}

type CreateDispatcher = (cluster: Cluster | null, agentOptions: AgentOptions) => Dispatcher | undefined;

/** Whose connections these are: the cluster and the user. */
function ownerKey(cluster: Cluster | null, kc: KubeConfig): string {
  return JSON.stringify([cluster?.name ?? '', cluster?.server ?? '', kc.getCurrentUser()?.name ?? '']);
}

/** What a dispatcher is built from (the proxy and the TLS material): for one owner, another value needs another. */
function materialKey(proxyUrl: string | undefined, options: AgentOptions): string {
  const hash = createHash('sha256');
  for (const part of [options.ca, options.cert, options.key, options.pfx]) {
    const items = Array.isArray(part) ? part : [part];
    for (const item of items) {
      if (item === undefined || item === null) hash.update('-');
      else if (typeof item === 'string' || Buffer.isBuffer(item)) hash.update(item);
      else hash.update(JSON.stringify(item));
      hash.update('|');
    }
  }
  return JSON.stringify([
    proxyUrl ?? '',
    options.passphrase ?? '',
    options.rejectUnauthorized ?? null,
    options.servername ?? '',
    hash.digest('hex'),
  ]);
}

/** Makes `kc`'s API clients share one connection pool per cluster and credentials; returns whether it could. */
export function poolKubeConnections(kc: KubeConfig): { pooled: boolean } {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher };
  const original = target.createDispatcher;
  if (typeof original !== 'function') return { pooled: false };
  // Per cluster and user: the dispatcher of the TLS material in use now.
  const current = new Map<string, { material: string; dispatcher: Dispatcher | undefined }>();
  target.createDispatcher = function pooledDispatcher(cluster, agentOptions) {
    const owner = ownerKey(cluster, kc);
    const material = materialKey(cluster?.proxyUrl, agentOptions);
    const held = current.get(owner);
    if (held?.material === material) return held.dispatcher;
    const dispatcher = original.call(kc, cluster, agentOptions);
    current.set(owner, { material, dispatcher });
    // Rotated credentials: the old pool finishes what it carries, then closes.
    if (held?.dispatcher) void held.dispatcher.close().catch(() => {});
    return dispatcher;
  };
  return { pooled: true };
}
