import { createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtlError, createPolicyKube } from './kube.ts';

// An apiserver that accepts the connection and then never answers: the shape of a partition or a paused node.
let server: Server;
const sockets: Socket[] = [];
let port = 0;

beforeAll(async () => {
  server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

function silentCluster(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 'silent', user: 'u', namespace: 'team-a' }],
    currentContext: 'c',
  });
  return kc;
}

describe('failoverctl against an apiserver that never answers', () => {
  it.each([
    ['get', (k: ReturnType<typeof createPolicyKube>) => k.getPolicy('orders')],
    ['list', (k: ReturnType<typeof createPolicyKube>) => k.listDrills()],
    ['patch', (k: ReturnType<typeof createPolicyKube>) => k.patchPolicy('orders', { spec: { paused: true } })],
  ])('%s fails within its deadline with one line naming the server, exit code 2', async (_verb, run) => {
    const kube = createPolicyKube(silentCluster(), { timeoutMs: 300 });
    const err = await run(kube).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CtlError);
    expect((err as CtlError).message).toContain(`http://127.0.0.1:${port} did not answer`);
    expect((err as CtlError).exitCode).toBe(2);
  });
});
