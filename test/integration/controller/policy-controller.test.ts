// The operator end to end: `runOperator` (the real composition root) against the real kube-apiserver and moto
// behind the fault proxy, with HTTP probes pointed at a loopback server whose per-zone answers the test controls.
//
// Not covered here: an invalid spec. The offline validator and the apiserver enforce the same schema and CEL rules
// (src/api/testdata/invalid-cases.ts proves they agree case by case), so no spec reaches the controller that the
// offline validator rejects; the InvalidSpec path is covered by src/controller/policy-reconciler.test.ts. The
// suspended case below checks the same promise — no AWS call for a policy the operator must not act on.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, POLICY_PLURAL, VERSION } from '../../../src/api/index.ts';
import { runOperator } from '../../../src/main.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';

const ZONES = ['us-east-1a', 'us-east-1b'] as const;
const RECORD = 'api.controller.test.';

interface PolicyStatus {
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  zones?: Array<{ name: string; state: string; reasons?: string[] }>;
  weights?: Record<string, number>;
  journal?: Array<{ action: string; state: string; rule: string }>;
}

let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string | undefined;
let probeServer: Server;
let probeBase: string;
const zoneAnswers = new Map<string, number>(ZONES.map((z) => [z, 200]));
const stopOperator = new AbortController();
let operator: Promise<number>;

function policy(name: string, extra: { suspend?: boolean } = {}) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'FailoverPolicy',
    metadata: { name, namespace: ns },
    spec: {
      ...extra,
      regions: [{ name: 'us-east-1', role: 'primary', zones: [...ZONES] }],
      probes: [{ name: 'web', http: { url: `${probeBase}/{zone}`, timeoutSeconds: 1, expectStatus: [200] } }],
      health: { intervalSeconds: 1, failureThreshold: 1, recoveryThreshold: 300 },
      traffic: {
        route53: {
          hostedZoneId: zoneId,
          recordName: RECORD,
          type: 'A',
          records: [
            { setIdentifier: 'use1-a', zone: 'us-east-1a', weight: 100 },
            { setIdentifier: 'use1-b', zone: 'us-east-1b', weight: 100 },
          ],
        },
      },
    },
  };
}

const api = () => kc.makeApiClient(CustomObjectsApi);

async function createPolicy(body: object): Promise<void> {
  await api().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: POLICY_PLURAL,
    namespace: ns,
    body,
  });
}

async function statusOf(name: string): Promise<PolicyStatus> {
  const obj = (await api().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: POLICY_PLURAL,
    namespace: ns,
    name,
  })) as { status?: PolicyStatus };
  return obj.status ?? {};
}

/** Polls until `check` returns a value (not undefined), or fails with the last status seen. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function motoWeights(): Promise<Record<string, number>> {
  const out = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const weights: Record<string, number> = {};
  for (const r of out.ResourceRecordSets ?? []) {
    if (r.SetIdentifier !== undefined) weights[r.SetIdentifier] = r.Weight ?? -1;
  }
  return weights;
}

beforeAll(async () => {
  const tb = testbed();
  kc = tb.kubeConfig();
  await applyCrds(kc);
  ns = await createNamespace(kc, 'controller');

  probeServer = createServer((req, res) => {
    const zone = (req.url ?? '').replace(/^\//, '');
    res.statusCode = zoneAnswers.get(zone) ?? 404;
    res.end(res.statusCode === 200 ? 'ok' : 'failing');
  });
  await new Promise<void>((resolve) => probeServer.listen(0, '127.0.0.1', resolve));
  probeBase = `http://127.0.0.1:${(probeServer.address() as AddressInfo).port}`;

  // Arrange Route 53 in moto directly (not through the fault proxy), so set-up never meets an injected fault.
  r53 = new Route53Client({ endpoint: tb.aws.motoEndpoint, region: 'us-east-1', credentials: tb.aws.credentials });
  // Route 53 ids start with Z (the CRD enforces ^Z[A-Z0-9]+$); moto's are random, so draw until one does.
  for (let attempt = 0; attempt < 500 && !/^Z[A-Z0-9]+$/.test(zoneId ?? ''); attempt++) {
    if (zoneId) await r53.send(new DeleteHostedZoneCommand({ Id: zoneId }));
    const zone = await r53.send(
      new CreateHostedZoneCommand({ Name: 'controller.test.', CallerReference: `controller-${ns}-${attempt}` }),
    );
    zoneId = (zone.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
  }
  expect(zoneId).toMatch(/^Z[A-Z0-9]+$/);
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: ZONES.map((z, i) => ({
          Action: 'CREATE' as const,
          ResourceRecordSet: {
            Name: RECORD,
            Type: 'A' as const,
            TTL: 60,
            SetIdentifier: `use1-${z.at(-1)}`,
            Weight: 100,
            ResourceRecords: [{ Value: `10.0.${i + 1}.1` }],
          },
        })),
      },
    }),
  );
  await tb.faults.clear();

  operator = runOperator(
    {
      KUBECONFIG: tb.kubeconfigPath,
      FO_AWS_ENDPOINT: tb.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: tb.aws.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: tb.aws.credentials.secretAccessKey,
      FO_METRICS_PORT: '0',
      FO_LEADER_ELECTION_NAMESPACE: ns,
      FO_WATCH_NAMESPACE: ns,
      POD_NAME: 'controller-test',
    },
    { signal: stopOperator.signal, logger: pino({ level: process.env.FO_TEST_LOG_LEVEL ?? 'silent' }) },
  );
}, 60_000);

afterAll(async () => {
  stopOperator.abort();
  if (operator) expect(await operator).toBe(0);
  r53?.destroy();
  await new Promise((resolve) => probeServer?.close(resolve));
}, 40_000);

describe('FailoverPolicy controller (in-process operator, real apiserver, moto)', () => {
  it('reports a suspended policy as Suspended and makes no AWS call for it', async () => {
    await createPolicy(policy('suspended', { suspend: true }));
    const suspended = await eventually('Suspended=True', async () => {
      const status = await statusOf('suspended');
      return status.conditions?.find((c) => c.type === 'Suspended' && c.status === 'True');
    });
    expect(suspended.reason).toBe('SuspendedBySpec');
    // Give a wrongly-acting operator time to call out, then check the proxy saw nothing at all.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await testbed().faults.log()).toEqual([]);
  }, 30_000);

  it('reports healthy zones, then drains a failing zone in Route 53 with Events', async () => {
    await createPolicy(policy('web'));
    await eventually('every zone Healthy', async () => {
      const status = await statusOf('web');
      return status.zones?.length === 2 && status.zones.every((z) => z.state === 'Healthy') ? status : undefined;
    });
    expect(await motoWeights()).toEqual({ 'use1-a': 100, 'use1-b': 100 });

    zoneAnswers.set('us-east-1b', 500);

    const failing = await eventually('us-east-1b unhealthy in status', async () => {
      const status = await statusOf('web');
      const zone = status.zones?.find((z) => z.name === 'us-east-1b');
      return zone && zone.state !== 'Healthy' ? zone : undefined;
    });
    expect(['Degraded', 'Impaired']).toContain(failing.state);
    expect((failing.reasons ?? []).join(' ')).toMatch(/500/);

    const weights = await eventually('use1-b drained in moto', async () => {
      const w = await motoWeights();
      return w['use1-b'] === 0 ? w : undefined;
    });
    expect(weights['use1-a']).toBeGreaterThan(0);

    const status = await eventually('status reporting the drain', async () => {
      const s = await statusOf('web');
      return s.weights?.['use1-b'] === 0 && s.journal?.some((e) => e.state === 'Done') ? s : undefined;
    });
    expect(status.zones?.find((z) => z.name === 'us-east-1a')?.state).toBe('Healthy');
    expect(status.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('True');
    expect(status.journal?.find((e) => e.state === 'Done')?.action).toBe('SetWeights');

    const events = await eventually('a health Event and an action Event', async () => {
      const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=web',
      });
      const reasons = list.items.map((e) => e.reason);
      const health = reasons.some((r) => r === 'ZoneDegraded' || r === 'ZoneImpaired');
      return health && reasons.includes('ActionPerformed') ? list.items : undefined;
    });
    const healthEvent = events.find((e) => e.reason === 'ZoneDegraded' || e.reason === 'ZoneImpaired');
    expect(healthEvent?.type).toBe('Warning');
    expect(healthEvent?.message).toContain('us-east-1b');
    expect(healthEvent?.involvedObject.kind).toBe('FailoverPolicy');
  }, 60_000);
});
