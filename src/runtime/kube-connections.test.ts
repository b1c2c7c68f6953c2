import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { poolKubeConnections } from './kube-connections.ts';

function config(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('ca-1').toString('base64') }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
    currentContext: 'ctx',
  });
  return kc;
}

type Dispatch = (cluster: unknown, options: object) => { close(): Promise<void> };

describe('poolKubeConnections', () => {
  it('hands out one dispatcher per cluster, user and TLS material, and closes the one rotated out', async () => {
    const kc = config();
    const closed: number[] = [];
    let built = 0;
    // Stands in for client-node's builder, so the test sees what the pool asks of it.
    (kc as unknown as { createDispatcher: Dispatch }).createDispatcher = () => {
      const id = ++built;
      return {
        close: async () => {
          closed.push(id);
        },
      };
    };
    expect(poolKubeConnections(kc)).toEqual({ pooled: true });
    const create = (kc as unknown as { createDispatcher: Dispatch }).createDispatcher.bind(kc);
    const cluster = kc.getCurrentCluster();
    const first = create(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1') });
    expect(create(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1') })).toBe(first);
    expect(built).toBe(1);
    // A rotated client certificate: a new pool, the old one closed once.
    const second = create(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-2') });
    expect(second).not.toBe(first);
    await Promise.resolve();
    expect(closed).toEqual([1]);
    expect(create(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-2') })).toBe(second);
    // Another cluster keeps its own.
    const other = create(
      { name: 'other', server: 'https://10.0.0.1', skipTLSVerify: false },
      { ca: Buffer.from('ca-1') },
    );
    expect(other).not.toBe(second);
    expect(built).toBe(3);
    expect(closed).toEqual([1]);
  });

  it('says so when client-node has no dispatcher builder to wrap', () => {
    const kc = config();
    (kc as unknown as { createDispatcher: undefined }).createDispatcher = undefined;
    expect(poolKubeConnections(kc)).toEqual({ pooled: false });
  });
});
