// The secure metrics port against the real kube-apiserver, as kubebuilder's authenticated metrics work: HTTPS with a
// self-signed certificate, each scrape's bearer token reviewed by the apiserver (TokenReview), its user authorized
// for GET /metrics (SubjectAccessReview). The test bed has no controller-manager, but its apiserver signs
// service-account tokens (--service-account-signing-key-file, test/env/up.sh) and serves the TokenRequest API, so the
// tokens are real ServiceAccount tokens: one bound to a metrics-reader ClusterRole like the chart's, one without.
import { request } from 'node:https';
import { CoreV1Api, type KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import {
  createKubeAccessReviews,
  createMetricsAuthorizer,
  Manager,
  selfSignedServingCert,
} from '../../../src/runtime/index.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';

const logger = pino({ level: 'silent' });
let kc: KubeConfig;
let ns: string;
let manager: Manager;
const stop = new AbortController();
let running: Promise<unknown>;
const tokens: Record<'reader' | 'stranger', string> = { reader: '', stranger: '' };

async function serviceAccountToken(core: CoreV1Api, name: string): Promise<string> {
  await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
  const minted = await core.createNamespacedServiceAccountToken({
    name,
    namespace: ns,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const token = minted.status?.token;
  if (!token) throw new Error(`no token minted for ${name}`);
  return token;
}

function scrape(port: number, token?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/metrics',
        rejectUnauthorized: false,
        agent: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  kc = testbed().kubeConfig();
  ns = await createNamespace(kc, 'metrics-auth');
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  tokens.reader = await serviceAccountToken(core, 'prometheus');
  tokens.stranger = await serviceAccountToken(core, 'stranger');
  // The chart's metrics-reader ClusterRole, bound to the scraper's ServiceAccount only.
  await rbac.createClusterRole({
    body: {
      metadata: { name: `${ns}-metrics-reader` },
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: `${ns}-metrics-reader` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-metrics-reader` },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: ns }],
    },
  });
  const clock = systemClock();
  manager = new Manager({
    clock,
    logger,
    registry: new Registry(),
    health: { port: 0, host: '127.0.0.1' },
    metrics: {
      port: 0,
      host: '127.0.0.1',
      secure: {
        cert: await selfSignedServingCert(['localhost', '127.0.0.1']),
        // The test bed's kubeconfig is the admin (system:masters): it may create both reviews, as the chart's
        // ClusterRole lets the operator's ServiceAccount.
        authorize: createMetricsAuthorizer({ reviews: createKubeAccessReviews(kc), now: () => clock.now() }),
      },
    },
  });
  running = manager.start(stop.signal);
  for (let i = 0; i < 400 && manager.metricsPort() === undefined; i++) await new Promise((r) => setTimeout(r, 5));
}, 60_000);

afterAll(async () => {
  stop.abort();
  await running;
});

describe('secure /metrics against the real apiserver', () => {
  it('200 for a ServiceAccount bound to metrics-reader, 403 for one that is not, 401 without or with a bad token', async () => {
    const port = manager.metricsPort()!;
    const allowed = await scrape(port, tokens.reader);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('leader_election_master_status');

    const forbidden = await scrape(port, tokens.stranger);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain(`user system:serviceaccount:${ns}:stranger may not get /metrics`);

    expect((await scrape(port)).status).toBe(401);
    const forged = await scrape(port, `${tokens.reader.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
  });

  it('health probes stay plain HTTP on their own port, without a token', async () => {
    const health = `http://127.0.0.1:${manager.healthPort()}`;
    expect((await fetch(`${health}/healthz`)).status).toBe(200);
    expect((await fetch(`${health}/metrics`)).status).toBe(404);
  });
});
