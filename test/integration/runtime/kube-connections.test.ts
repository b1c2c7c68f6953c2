// The operator's apiserver requests share connections (src/runtime/kube-connections.ts): client-node 2.0.1 alone
// opens a TLS connection per request. Counted with undici's own diagnostics channel against the real kube-apiserver.

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { poolKubeConnections } from '../../../src/runtime/kube-connections.ts';
import { testbed } from '../../env/testbed.ts';

/** How many connections undici opened while `work` ran. */
async function connectionsOpenedBy(work: () => Promise<unknown>): Promise<number> {
  let opened = 0;
  const count = () => {
    opened++;
  };
  subscribe('undici:client:connected', count);
  try {
    await work();
  } finally {
    unsubscribe('undici:client:connected', count);
  }
  return opened;
}

describe('apiserver connections', () => {
  it('40 requests, sequential and concurrent, share one connection once pooled', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(testbed().kubeconfigPath);
    expect(poolKubeConnections(kc)).toEqual({ pooled: true });
    const api = kc.makeApiClient(CoordinationV1Api);
    const opened = await connectionsOpenedBy(async () => {
      for (let i = 0; i < 20; i++) await api.listNamespacedLease({ namespace: 'default' });
      await Promise.all(Array.from({ length: 20 }, () => api.listNamespacedLease({ namespace: 'default' })));
    });
    // HTTP/2 to the apiserver (as client-go): one connection carries them all; 2 allows for one reconnect.
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(opened).toBeLessThanOrEqual(2);
  });

  it('without it, client-node opens one per request (why the pool exists; fails once upstream pools itself)', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(testbed().kubeconfigPath);
    const api = kc.makeApiClient(CoordinationV1Api);
    const opened = await connectionsOpenedBy(async () => {
      for (let i = 0; i < 10; i++) await api.listNamespacedLease({ namespace: 'default' });
    });
    expect(opened).toBe(10);
  });
});
