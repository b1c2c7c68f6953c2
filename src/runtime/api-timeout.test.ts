import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiTimeoutError } from './errors.ts';
import { createLeaseApi } from './leader-election.ts';
import { createStatusWriter } from './status-writer.ts';

/** An apiserver stand-in on loopback: `answer` decides per request; returning undefined leaves it hanging. */
async function apiserver(
  answer: (req: IncomingMessage, body: string) => { status: number; body: unknown } | undefined,
) {
  const seen: Array<{ method: string; url: string; contentType: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] });
      const reply = answer(req, body);
      if (!reply) return; // silent: only the client's deadline ends this call
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { kc, seen };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('Kubernetes API call timeouts', () => {
  it('fails a Lease read the apiserver never answers with ApiTimeoutError at the deadline', async () => {
    const { kc } = await apiserver(() => undefined);
    const lease = createLeaseApi(kc, { namespace: 'ns', name: 'op' }, 150);
    const startedAt = Date.now();
    const err = await lease.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiTimeoutError);
    expect((err as Error).message).toBe(
      'Kubernetes API call GET /apis/coordination.k8s.io/v1/namespaces/ns/leases/op timed out after 150 ms',
    );
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
  });

  it('keeps the merge-patch Content-Type of a status patch and times it out too', async () => {
    const { kc, seen } = await apiserver(() => undefined);
    const writer = createStatusWriter(
      kc,
      { group: 'failover.io', version: 'v1alpha1', plural: 'failoverpolicies' },
      150,
    );
    const err = await writer
      .patchStatus({ namespace: 'team', name: 'web' }, { status: { phase: 'Healthy' }, resourceVersion: '7' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiTimeoutError);
    expect(seen).toEqual([
      {
        method: 'PATCH',
        url: '/apis/failover.io/v1alpha1/namespaces/team/failoverpolicies/web/status',
        contentType: 'application/merge-patch+json',
      },
    ]);
  });

  it('leaves calls answered in time alone', async () => {
    const { kc } = await apiserver(() => ({
      status: 200,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'op', resourceVersion: '3' } },
    }));
    const lease = createLeaseApi(kc, { namespace: 'ns', name: 'op' }, 150);
    const got = await lease.get();
    expect(got?.metadata?.resourceVersion).toBe('3');
    await new Promise((r) => setTimeout(r, 200)); // past the deadline: nothing fires late
  });
});
