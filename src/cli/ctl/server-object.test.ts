import { createServer, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExample } from '../../api/testdata/invalid-cases.ts';
import { parseRequestTimeout, runFailoverctl } from '../failoverctl.ts';
import type { CtlDeps } from './context.ts';
import { CtlError, createPolicyKube } from './kube.ts';

// An apiserver that answers, but with objects that are not the shape this failoverctl expects.
let server: Server;
let url = '';
let answer: unknown;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

function cluster(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'odd', server: url, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 'odd', user: 'u', namespace: 'shop' }],
    currentContext: 'c',
  });
  return kc;
}

function policy(mutate: (p: ReturnType<typeof loadExample>) => void) {
  const p = loadExample('two-region-rds');
  p.metadata.namespace = 'shop';
  mutate(p);
  return p;
}

async function failure(run: Promise<unknown>): Promise<CtlError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CtlError);
  return err as CtlError;
}

describe('failoverctl reading malformed objects from the apiserver', () => {
  it.each([
    [
      'status.weights is a string',
      (p: ReturnType<typeof loadExample>) => (p.status = { weights: 'oops' }),
      'status.weights that is string "oops", expected a mapping',
    ],
    [
      'status.lastFailover.zones is a number',
      (p: ReturnType<typeof loadExample>) =>
        (p.status = { lastFailover: { startedAt: '2026-01-01T00:00:00Z', zones: 3 } }),
      'status.lastFailover.zones that is number 3, expected a list',
    ],
    [
      'status.degradedZones is a list',
      (p: ReturnType<typeof loadExample>) => (p.status = { degradedZones: ['a'] }),
      'status.degradedZones that is a list, expected a string',
    ],
    [
      'spec.regions is missing',
      (p: ReturnType<typeof loadExample>) => delete p.spec.regions,
      'spec.regions that is missing',
    ],
    ['spec is null', (p: ReturnType<typeof loadExample>) => (p.spec = null), 'spec that is null, expected a mapping'],
  ])('%s: one line naming namespace/name and the field, exit code 2', async (_name, mutate, expected) => {
    answer = policy(mutate);
    const err = await failure(createPolicyKube(cluster()).getPolicy('orders'));
    expect(err.message).toContain(`returned FailoverPolicy shop/orders with ${expected}`);
    expect(err.exitCode).toBe(2);
  });

  it('checks every item of a list, and a list without items', async () => {
    answer = {
      items: [
        policy(() => {}),
        policy((p) => {
          p.metadata.name = 'web';
          p.status = { conditions: 'x' };
        }),
      ],
    };
    expect((await failure(createPolicyKube(cluster()).listPolicies())).message).toContain(
      'shop/web with status.conditions',
    );
    answer = { kind: 'Status' };
    expect((await failure(createPolicyKube(cluster()).listDrills())).message).toContain('without an items list');
  });

  it('prints `failoverctl status` as one error line, not a TypeError', async () => {
    answer = policy((p) => (p.status = { lastFailover: { startedAt: 'x', zones: 'us-east-1a' } }));
    const err: string[] = [];
    const deps: CtlDeps = {
      io: { out: () => {}, err: (s) => err.push(s), isTTY: false, confirm: async () => false },
      kube: () => createPolicyKube(cluster()),
      now: () => 0,
      randomSuffix: () => 'abc',
    };
    const code = await runFailoverctl(['node', 'failoverctl', 'status', 'orders'], deps);
    expect(code).toBe(2);
    expect(err.join('')).toMatch(
      /^error: the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ returned FailoverPolicy shop\/orders with status\.lastFailover\.zones that is string "us-east-1a", expected a list; .*\n$/,
    );
  });
});

describe('--request-timeout', () => {
  it('reads durations as kubectl writes them', () => {
    expect([
      parseRequestTimeout('30s'),
      parseRequestTimeout('2m'),
      parseRequestTimeout('500ms'),
      parseRequestTimeout('5'),
    ]).toEqual([30_000, 120_000, 500, 5_000]);
    for (const bad of ['0', '-1s', 'soon', '2h']) expect(() => parseRequestTimeout(bad)).toThrow(/expected a duration/);
  });
});
