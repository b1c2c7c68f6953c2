// The one helper every integration test imports: where the test bed's servers are and how to drive them.
//
//   const tb = testbed();                    // throws a clear error if test/env/up.sh has not run
//   const kc = tb.kubeConfig();              // admin (system:masters) on the real kube-apiserver
//   const ns = await createNamespace(kc, 'policy');
//   const r53 = new Route53Client({ endpoint: tb.aws.endpoint, region: 'us-east-1', credentials: tb.aws.credentials, maxAttempts: 1 });
//   await tb.faults.add({ service: 'route53', action: 'ChangeResourceRecordSets', error: { status: 400, code: 'Throttling' }, times: 1 });
//
// Several "clusters" and vantage routes (issue #14): cluster 'a' is the one above, cluster 'b' a second
// kube-apiserver on the same etcd under its own prefix; each fault-proxy route ('a', 'b', 'c') is its own port:
//
//   const kcB = tb.cluster('b').kubeConfig();
//   const ns = await createNamespace([kc, kcB], 'vantage');        // the same name in both clusters
//   const r53viaA = new Route53Client({ endpoint: tb.route('a').endpoint, ... });
//   const url = tb.route('a').probeUrl(`${probeTarget.base}/{zone}`); // the probe target, through route a
//   await tb.faults.add({ route: 'a', service: 'probe', path: 'us-east-1', hang: true }); // partition vantage a
//
// There is no controller-manager: namespaces never finish deleting and nothing is garbage-collected, so every
// test works in its own namespace (createNamespace) and never waits for a deletion to complete.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { poolKubeConnections } from '../../src/runtime/kube-connections.ts';
import { probeUrlVia } from '../fault-proxy/probe.ts';
import type { FaultRule } from '../fault-proxy/rules.ts';

export type { FaultRule } from '../fault-proxy/rules.ts';

/** One call as the fault proxy logged it (test/fault-proxy/server.ts LogEntry). */
export interface FaultLogEntry {
  at: string;
  /** Listener the call arrived on: `default` (the main port) or a route name. */
  route: string;
  /** Probe forwards: `host:port` of the target; '' for AWS calls. */
  target: string;
  /** SigV4 signing name, or `probe` for a probe forward. */
  service: string;
  region: string;
  action: string;
  status: number;
  effect: string;
  method: string;
  path: string;
  ruleIds: string[];
}

export interface FaultControl {
  /** Adds a rule to the fault proxy; returns its id. */
  add(rule: FaultRule): Promise<string>;
  /** Removes every rule and empties the request log, so a test sees only its own calls. */
  clear(): Promise<void>;
  /** Recent calls through the proxy, oldest first. */
  log(): Promise<FaultLogEntry[]>;
  /** The proxy's listeners: `default` (the main port) and every route. */
  routes(): Promise<Array<{ name: string; port: number }>>;
  /**
   * Opens one more route listener at run time (up.sh opens a, b, c); idempotent for an open route. It lives until
   * closeRoute or the proxy's restart; prefer the pre-opened ones.
   */
  openRoute(name: string): Promise<TestbedRoute>;
  closeRoute(name: string): Promise<void>;
}

/** A kube-apiserver of the bed: 'a' (the default one) or 'b'. */
export interface TestbedCluster {
  name: string;
  /** https://127.0.0.1:PORT */
  url: string;
  kubeconfigPath: string;
  kubeConfig(): KubeConfig;
}

/** A fault-proxy listener labelled with a route name; calls through it carry that name for fault rules. */
export interface TestbedRoute {
  name: string;
  port: number;
  /** http://127.0.0.1:PORT: the AWS endpoint of an operator or client on this route. */
  endpoint: string;
  /** The URL that reaches a loopback http:// target through this route (`{zone}` templates pass unencoded). */
  probeUrl(targetUrl: string): string;
}

export interface Testbed {
  /** Cluster a's kubeconfig (as cluster('a').kubeconfigPath). */
  kubeconfigPath: string;
  /** Cluster a (as cluster('a').kubeConfig()). */
  kubeConfig(): KubeConfig;
  /** Names of the clusters up.sh started: ['a', 'b', 'c'] by default (FO_TESTBED_CLUSTERS). */
  clusters: string[];
  /** One cluster by name; throws naming the ones there are. */
  cluster(name: string): TestbedCluster;
  /** Names of the fault-proxy routes up.sh opened: ['a', 'b', 'c']. */
  routes: string[];
  /** One route by name (pre-opened by up.sh or opened with faults.openRoute); throws if unknown. */
  route(name: string): TestbedRoute;
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
  /** Every cluster, 'a' being `apiserver` above. Absent in a state file from before clusters. */
  clusters?: Record<
    string,
    { pid: number; port: number; url: string; etcdPrefix: string; kubeconfig: string; log: string }
  >;
  moto: { pid: number; port: number; url: string; version: string; log: string };
  proxy: {
    pid: number;
    port: number;
    url: string;
    control: string;
    log: string;
    /** Route listeners opened at start. */
    routes?: Record<string, { port: number; url: string }>;
  };
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
  const servers: Array<[string, { pid: number; log: string }]> = [
    ...(['etcd', 'apiserver', 'moto', 'proxy'] as const).map(
      (name) => [name, state[name]] as [string, typeof state.etcd],
    ),
    ...Object.entries(state.clusters ?? {})
      .filter(([name]) => name !== 'a')
      .map(([name, c]) => [`apiserver of cluster ${name}`, c] as [string, typeof c]),
  ];
  for (const [name, { pid, log }] of servers) {
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
      return (await res.json()) as FaultLogEntry[];
    },
    async routes() {
      const res = await fetch(`${controlUrl}/routes`);
      await expectOk(res, 'listing the fault proxy routes');
      return (await res.json()) as Array<{ name: string; port: number }>;
    },
    async openRoute(name) {
      const res = await fetch(`${controlUrl}/routes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      await expectOk(res, `opening fault proxy route ${name}`);
      const { port } = (await res.json()) as { port: number };
      return routeAt(name, port);
    },
    async closeRoute(name) {
      const res = await fetch(`${controlUrl}/routes/${encodeURIComponent(name)}`, { method: 'DELETE' });
      if (res.status !== 404) await expectOk(res, `closing fault proxy route ${name}`);
    },
  };
}

function routeAt(name: string, port: number): TestbedRoute {
  const endpoint = `http://127.0.0.1:${port}`;
  return { name, port, endpoint, probeUrl: (targetUrl) => probeUrlVia(endpoint, targetUrl) };
}

function loadKubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  poolKubeConnections(kc); // the tests' own requests share connections, as the operator's do
  return kc;
}

/** The state's clusters; a state file from before clusters has only 'a'. */
function clustersOf(state: TestbedState): NonNullable<TestbedState['clusters']> {
  return (
    state.clusters ?? {
      a: { ...state.apiserver, etcdPrefix: '/registry', kubeconfig: state.kubeconfig },
    }
  );
}

/** A KubeConfig for one cluster of the running bed ('a' or 'b'); shorthand for testbed().cluster(name).kubeConfig(). */
export function kubeConfigFor(name: string): KubeConfig {
  return testbed().cluster(name).kubeConfig();
}

export function testbed(): Testbed {
  const state = readTestbedState();
  const clusters = clustersOf(state);
  const routes = state.proxy.routes ?? {};
  return {
    kubeconfigPath: state.kubeconfig,
    kubeConfig: () => loadKubeConfig(state.kubeconfig),
    clusters: Object.keys(clusters),
    cluster(name) {
      const c = clusters[name];
      if (!c) throw new Error(`the test bed has no cluster "${name}"; it has ${Object.keys(clusters).join(', ')}`);
      return { name, url: c.url, kubeconfigPath: c.kubeconfig, kubeConfig: () => loadKubeConfig(c.kubeconfig) };
    },
    routes: Object.keys(routes),
    route(name) {
      const r = routes[name];
      if (!r) {
        throw new Error(
          `the fault proxy has no route "${name}" from up.sh (it has ${Object.keys(routes).join(', ') || 'none'}); ` +
            'open one with faults.openRoute(name) and use what it returns',
        );
      }
      return routeAt(name, r.port);
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
 * Given several KubeConfigs (clusters), creates the same name in each: vantage points key a policy by
 * `<namespace>/<name>`, so the copies of one policy in several clusters must live in equally named namespaces.
 */
export async function createNamespace(kc: KubeConfig | KubeConfig[], prefix: string): Promise<string> {
  const stem = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 50)
    .replace(/^-+|-+$/g, '');
  const name = `${stem || 'test'}-${randomBytes(4).toString('hex')}`;
  for (const one of Array.isArray(kc) ? kc : [kc]) {
    await one.makeApiClient(CoreV1Api).createNamespace({
      body: { metadata: { name, labels: { 'testbed.failover.io/prefix': stem || 'test' } } },
    });
  }
  return name;
}
