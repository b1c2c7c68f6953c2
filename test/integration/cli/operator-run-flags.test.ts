// `failover-operator run` flags against the real apiserver: the Lease it elects on is --leader-election-id's, the
// namespace is --leader-election-namespace's, and its log lines are JSON with string levels, ISO times and the
// start-up line naming the Lease; --log-format console prints readable lines instead.

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';
import { eventually, operatorEnv } from '../support/operator-fixture.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
let kc: KubeConfig;
let ns: string;
const children: ChildProcess[] = [];

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['bin/failover-operator.mjs', 'run', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
  });
  children.push(child);
  const out = { text: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out.text += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out.text += d;
  });
  return out;
}

beforeAll(async () => {
  kc = testbed().kubeConfig();
  await applyCrds(kc);
  ns = await createNamespace(kc, 'run-flags');
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  }
});

describe('failover-operator run flags', () => {
  it('elects on the Lease --leader-election-id names, in --leader-election-namespace, flags over the environment', async () => {
    const env = { ...operatorEnv(ns, 'flags-pod'), FO_LEADER_ELECTION_NAMESPACE: 'default', FO_LOG_LEVEL: 'warn' };
    const out = run(
      [
        '--leader-election-id',
        'orders-failover',
        '--leader-election-namespace',
        ns,
        '--metrics-bind-address',
        ':0',
        '--log-level',
        'info',
      ],
      env,
    );
    const lease = await eventually(
      'the Lease orders-failover held',
      async () => {
        try {
          const l = await kc
            .makeApiClient(CoordinationV1Api)
            .readNamespacedLease({ name: 'orders-failover', namespace: ns });
          return l.spec?.holderIdentity ? l : undefined;
        } catch {
          return undefined;
        }
      },
      30_000,
    );
    expect(lease.spec?.holderIdentity).toMatch(/^flags-pod-/);
    const lines = out.text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const starting = lines.find((l) => l.msg === 'Starting operator');
    expect(starting).toMatchObject({ level: 'info', lease: 'orders-failover', leaseNamespace: ns, watchNamespace: ns });
    expect(starting?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }, 60_000);

  it('--log-format console prints one readable line per entry', async () => {
    const out = run(['--log-format', 'console', '--metrics-bind-address', ':0', '--leader-elect', 'false'], {
      ...operatorEnv(ns, 'console-pod'),
    });
    await eventually('the start-up line', async () => (out.text.includes('Starting operator') ? true : undefined));
    const line = out.text.split('\n').find((l) => l.includes('Starting operator')) ?? '';
    expect(line).toMatch(/^\S+Z INFO {2}Starting operator .*lease="\(no leader election\)"/);
  }, 60_000);
});
