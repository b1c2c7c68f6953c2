// The one helper every integration test imports: where the test bed's servers are and how to drive them.
//
//   const tb = testbed();                    // throws a clear error if test/env/up.sh has not run
//   const kc = tb.kubeConfig();              // admin (system:masters) on the real kube-apiserver
//   const ns = await createNamespace(kc, 'policy');
//   const r53 = new Route53Client({ endpoint: tb.aws.endpoint, region: 'us-east-1', credentials: tb.aws.credentials, maxAttempts: 1 });
//   await tb.faults.add({ service: 'route53', action: 'ChangeResourceRecordSets', error: { status: 400, code: 'Throttling' }, times: 1 });
//
// There is no controller-manager: namespaces never finish deleting and nothing is garbage-collected, so every
// test works in its own namespace (createNamespace) and never waits for a deletion to complete.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { FaultRule } from '../fault-proxy/rules.ts';

export type { FaultRule } from '../fault-proxy/rules.ts';

export interface FaultControl {
  /** Adds a rule to the fault proxy; returns its id. */
  add(rule: FaultRule): Promise<string>;
  /** Removes every rule and empties the request log, so a test sees only its own calls. */
  clear(): Promise<void>;
  /** Recent calls through the proxy, oldest first. */
  log(): Promise<
    Array<{ at: string; service: string; region: string; action: string; status: number; effect: string }>
  >;
}

export interface Testbed {
  kubeconfigPath: string;
  kubeConfig(): KubeConfig;
  aws: {
    /** The fault proxy: point SDK clients here. */
    endpoint: string;
    /** moto itself, bypassing faults (for setup and for moto's /moto-api). */
    motoEndpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  helmPath: string;
  /** Forgets every AWS resource in every region (moto's POST /moto-api/reset). */
  resetMoto(): Promise<void>;
  faults: FaultControl;
}

/** The shape of .testbed/state.json as written by test/env/up.sh. */
export interface TestbedState {
  version: number;
  dir: string;
  kubeconfig: string;
  helm: string;
  etcd: { pid: number; port: number; url: string; log: string };
  apiserver: { pid: number; port: number; url: string; version: string; log: string };
  moto: { pid: number; port: number; url: string; version: string; log: string };
  proxy: { pid: number; port: number; url: string; control: string; log: string };
  aws: {
    endpoint: string;
    motoEndpoint: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    accountId: string;
  };
  pki: Record<string, string>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const howToStart = "start it with 'bash test/env/up.sh' (or run through 'vitest --project integration')";

/** Where state.json is: FO_TESTBED_STATE (set by global-setup), else FO_TESTBED_DIR, else <repo>/.testbed. */
export function testbedStatePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FO_TESTBED_STATE) return env.FO_TESTBED_STATE;
  return path.join(env.FO_TESTBED_DIR ?? path.join(repoRoot, '.testbed'), 'state.json');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive but not ours to signal; still running.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readTestbedState(statePath = testbedStatePath()): TestbedState {
  let text: string;
  try {
    text = readFileSync(statePath, 'utf8');
  } catch {
    throw new Error(`The test bed is not up: ${statePath} does not exist; ${howToStart}.`);
  }
  const state = JSON.parse(text) as TestbedState;
  for (const name of ['etcd', 'apiserver', 'moto', 'proxy'] as const) {
    const { pid, log } = state[name];
    if (!isRunning(pid)) {
      throw new Error(`The test bed is down: ${name} (pid ${pid}) is not running (log ${log}); ${howToStart}.`);
    }
  }
  return state;
}

async function expectOk(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what} failed: HTTP ${res.status} ${await res.text()}`);
}

function faultControl(controlUrl: string): FaultControl {
  return {
    async add(rule) {
      const res = await fetch(`${controlUrl}/rules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(rule),
      });
      await expectOk(res, `adding fault rule ${JSON.stringify(rule)}`);
      return ((await res.json()) as { id: string }).id;
    },
    async clear() {
      await expectOk(await fetch(`${controlUrl}/rules`, { method: 'DELETE' }), 'clearing fault rules');
      await expectOk(await fetch(`${controlUrl}/log`, { method: 'DELETE' }), 'clearing the fault proxy log');
    },
    async log() {
      const res = await fetch(`${controlUrl}/log`);
      await expectOk(res, 'reading the fault proxy log');
      return (await res.json()) as Awaited<ReturnType<FaultControl['log']>>;
    },
  };
}

export function testbed(): Testbed {
  const state = readTestbedState();
  return {
    kubeconfigPath: state.kubeconfig,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromFile(state.kubeconfig);
      return kc;
    },
    aws: {
      endpoint: state.aws.endpoint,
      motoEndpoint: state.aws.motoEndpoint,
      region: state.aws.region,
      credentials: { accessKeyId: state.aws.accessKeyId, secretAccessKey: state.aws.secretAccessKey },
    },
    helmPath: state.helm,
    async resetMoto() {
      await expectOk(await fetch(`${state.aws.motoEndpoint}/moto-api/reset`, { method: 'POST' }), 'resetting moto');
    },
    faults: faultControl(state.proxy.control),
  };
}

/**
 * Creates a namespace with a unique name (`<prefix>-<random>`, a valid DNS label) and returns the name.
 * Namespaces are never cleaned up: without a controller-manager their deletion would never finish anyway, and
 * etcd starts empty with every fresh test bed.
 */
export async function createNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const stem = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 50)
    .replace(/^-+|-+$/g, '');
  const name = `${stem || 'test'}-${randomBytes(4).toString('hex')}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({
    body: { metadata: { name, labels: { 'testbed.failover.io/prefix': stem || 'test' } } },
  });
  return name;
}
