// Shared set-up for the operator's end-to-end tests (engine, controller, metrics): the operator as a real child process
// (`node src/cli/failover-operator.ts run`) against the test bed's kube-apiserver and moto behind the fault proxy,
// Route 53 hosted zones arranged directly in moto, and a loopback HTTP server whose per-zone answers the test sets.
//
// Vantage points (issue #14): an operator can run against another cluster of the bed (`cluster: 'b'`) and reach
// AWS through its own fault-proxy route (`route: 'a'`), with extra environment (FO_VANTAGE, FO_VANTAGE_REGION):
//
//   const suite = operatorProcessSuite({ clusters: ['a', 'b'] });       // CRDs applied in both
//   const ns = await createNamespace([suite.kc, suite.kcOf('b')], 'vantage');
//   const probeUrl = suite.probes.via('a', '/{zone}');                    // the probe target, through route a
//   suite.start(ns, 'op-a', { cluster: 'a', route: 'a', env: { FO_VANTAGE: 'use1', FO_VANTAGE_REGION: 'us-east-1' } });
//   suite.start(ns, 'op-b', { cluster: 'b', route: 'b', env: { FO_VANTAGE: 'usw2', FO_VANTAGE_REGION: 'us-west-2' } });
//
// A probe URL is in the policy, and the policy is per cluster: give each cluster's copy of the policy the probe URLs
// of the route its operator uses (probeUrlVia(route, url)).

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { CoordinationV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { GROUP, POLICY_PLURAL, VERSION } from '../../../src/api/index.ts';
import type { Manager } from '../../../src/runtime/index.ts';
import { createNamespace, readTestbedState, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const ZONES = ['us-east-1a', 'us-east-1b'] as const;
export const LEASE_NAME = 'failover-operator';

export interface JournalRow {
  id: string;
  action: string;
  state: string;
  rule: string;
  attempts?: number;
  finishedAt?: string;
}

export interface PolicyStatus {
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  zones?: Array<{ name: string; state: string; reasons?: string[] }>;
  weights?: Record<string, number>;
  journal?: JournalRow[];
}

/** Polls until `check` returns a value (not undefined), or fails naming what it waited for. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
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
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where an operator runs in the bed: its cluster (kubeconfig) and its fault-proxy route (AWS endpoint). */
export interface OperatorPlacement {
  /** Test-bed cluster whose kubeconfig the operator uses: 'a' (default) or 'b'. */
  cluster?: string;
  /**
   * Fault-proxy route its AWS calls take ('a', 'b', 'c'; rules with `route` select them). Default: the proxy's main
   * port (route `default`), as before routes existed.
   */
  route?: string;
}

/**
 * The operator's environment for a test: the test bed's apiserver and AWS endpoint (the fault proxy), plain-HTTP
 * metrics and health probes on free ports (the secure metrics port has its own test,
 * test/integration/metrics/metrics-auth.test.ts), and the watch and the Lease confined to one namespace so tests
 * never see each other's policies. `placement` picks another cluster's kubeconfig and a route's AWS endpoint.
 */
export function operatorEnv(ns: string, podName: string, placement: OperatorPlacement = {}): Record<string, string> {
  const tb = testbed();
  return {
    KUBECONFIG: tb.cluster(placement.cluster ?? 'a').kubeconfigPath,
    FO_AWS_ENDPOINT: placement.route === undefined ? tb.aws.endpoint : tb.route(placement.route).endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: tb.aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: tb.aws.credentials.secretAccessKey,
    FO_METRICS_PORT: '0',
    FO_METRICS_SECURE: 'false',
    FO_HEALTH_PORT: '0',
    FO_WATCH_NAMESPACE: ns,
    FO_LEADER_ELECTION_NAMESPACE: ns,
    POD_NAME: podName,
    // Namespace grants are tested on their own (test/integration/controller/tenancy.test.ts); elsewhere the
    // operator runs as the chart's tenancy.enforce=false would.
    FO_TENANCY: 'Unrestricted',
  };
}

/** Loopback probe target: GET /<prefix>/<zone> answers the status the test set for that key (default 200). */
export class ProbeTarget {
  readonly answers = new Map<string, number>();
  #server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      res.statusCode = this.answers.get((req.url ?? '').replace(/^\//, '')) ?? 200;
      res.end(res.statusCode === 200 ? 'ok' : 'failing');
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** `base + path` reached through a fault-proxy route (`via('a', '/{zone}')`), so rules on that route apply. */
  via(route: string, path = ''): string {
    return probeUrlVia(route, `${this.base}${path}`);
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

/**
 * The URL that reaches a loopback http:// target through a fault-proxy route: `probeUrlVia('a',
 * 'http://127.0.0.1:4567/{zone}')` is `http://127.0.0.1:<route a's port>/probe/127.0.0.1:4567/{zone}`.
 */
export function probeUrlVia(route: string, targetUrl: string): string {
  return testbed().route(route).probeUrl(targetUrl);
}

/** Route 53 in moto directly (not through the fault proxy), so arranging never meets an injected fault. */
export function motoRoute53(): Route53Client {
  const tb = testbed();
  return new Route53Client({ endpoint: tb.aws.motoEndpoint, region: 'us-east-1', credentials: tb.aws.credentials });
}

/** A hosted zone whose id the CRD accepts (^Z[A-Z0-9]+$), with weighted records use1-a/use1-b at weight 100. */
export async function createWeightedZone(r53: Route53Client, domain: string, recordName: string): Promise<string> {
  let zoneId: string | undefined;
  for (let attempt = 0; attempt < 500 && !/^Z[A-Z0-9]+$/.test(zoneId ?? ''); attempt++) {
    if (zoneId) await r53.send(new DeleteHostedZoneCommand({ Id: zoneId }));
    const zone = await r53.send(
      new CreateHostedZoneCommand({ Name: domain, CallerReference: `${domain}-${Date.now()}-${attempt}` }),
    );
    zoneId = (zone.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
  }
  if (!zoneId || !/^Z[A-Z0-9]+$/.test(zoneId)) throw new Error(`no hosted zone id matching ^Z[A-Z0-9]+$: ${zoneId}`);
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: ZONES.map((z, i) => ({
          Action: 'CREATE' as const,
          ResourceRecordSet: {
            Name: recordName,
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
  return zoneId;
}

export async function motoWeights(r53: Route53Client, zoneId: string): Promise<Record<string, number>> {
  const out = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  const weights: Record<string, number> = {};
  for (const r of out.ResourceRecordSets ?? []) {
    if (r.SetIdentifier !== undefined) weights[r.SetIdentifier] = r.Weight ?? -1;
  }
  return weights;
}

export function policyBody(
  ns: string,
  name: string,
  opts: { zoneId: string; recordName: string; probeUrl: string },
): object {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'FailoverPolicy',
    metadata: { name, namespace: ns },
    spec: {
      regions: [{ name: 'us-east-1', role: 'primary', zones: [...ZONES] }],
      probes: [{ name: 'web', http: { url: opts.probeUrl, timeoutSeconds: 1, expectStatus: [200] } }],
      health: { intervalSeconds: 1, failureThreshold: 1, recoveryThreshold: 300 },
      traffic: {
        route53: {
          hostedZoneId: opts.zoneId,
          recordName: opts.recordName,
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

export async function createPolicy(kc: KubeConfig, ns: string, body: object): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: POLICY_PLURAL,
    namespace: ns,
    body,
  });
}

export async function statusOf(kc: KubeConfig, ns: string, name: string): Promise<PolicyStatus> {
  const obj = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: POLICY_PLURAL,
    namespace: ns,
    name,
  })) as { status?: PolicyStatus };
  return obj.status ?? {};
}

export async function waitHealthy(kc: KubeConfig, ns: string, name: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `${name}: every zone Healthy`,
    async () => {
      const s = await statusOf(kc, ns, name);
      return s.zones?.length === ZONES.length && s.zones.every((z) => z.state === 'Healthy') ? s : undefined;
    },
    timeoutMs,
  );
}

export async function leaseHolder(kc: KubeConfig, ns: string): Promise<string | undefined> {
  const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE_NAME, namespace: ns });
  return lease.spec?.holderIdentity ?? undefined;
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface OperatorProcessOptions extends OperatorPlacement {
  /** FO_LOG_LEVEL of the child; default info. */
  logLevel?: string;
  /**
   * Extra environment, over operatorEnv's (e.g. FO_VANTAGE, FO_VANTAGE_REGION). An empty value unsets a variable,
   * as main.ts reads it.
   */
  env?: Record<string, string>;
  /**
   * Keep every parsed line in `lines` and every raw line in `raw` (default). False keeps only the last 60 raw lines
   * (for `tail`): a long run with many policies would otherwise grow the caller's memory without bound.
   */
  keepLines?: boolean;
  /** Called with each pino JSON line as it arrives. */
  onLine?: (line: LogLine) => void;
}

const TAIL_LINES = 60;

/** `NAME=value NAME2=value2` (FO_OPERATOR_ENV, benchmarks only) as environment entries. */
export function operatorEnvOverrides(text: string | undefined): Record<string, string> {
  const pairs = (text ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`FO_OPERATOR_ENV: expected NAME=value, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

/** One `failover-operator run` child process, its pino JSON lines collected as they arrive. */
export class OperatorProcess {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly #options: OperatorProcessOptions;

  constructor(ns: string, podName: string, options: OperatorProcessOptions = {}) {
    this.#options = options;
    // Benchmarks may run the built operator as the image does (FO_OPERATOR_ENTRY=dist/cli/failover-operator.js,
    // after `npm run build`): no type stripping at load, which alone holds ~25 MiB of RSS.
    const entry = process.env.FO_OPERATOR_ENTRY || 'src/cli/failover-operator.ts';
    this.child = spawn(process.execPath, [entry, 'run'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...operatorEnv(ns, podName, { cluster: options.cluster, route: options.route }),
        FO_LOG_LEVEL: options.logLevel ?? 'info',
        ...options.env,
        // Benchmarks pass V8 flags to the operator (e.g. --heapsnapshot-signal=SIGUSR2), never the tests.
        ...(process.env.FO_OPERATOR_NODE_OPTIONS ? { NODE_OPTIONS: process.env.FO_OPERATOR_NODE_OPTIONS } : {}),
        // …and may size the worker pool (bench/reconcile compares values)…
        ...(process.env.FO_MAX_CONCURRENT_RECONCILES
          ? { FO_MAX_CONCURRENT_RECONCILES: process.env.FO_MAX_CONCURRENT_RECONCILES }
          : {}),
        ...(process.env.FO_MAX_CONCURRENT_URGENT_RECONCILES
          ? { FO_MAX_CONCURRENT_URGENT_RECONCILES: process.env.FO_MAX_CONCURRENT_URGENT_RECONCILES }
          : {}),
        // …and more of its environment, e.g. the allocator's (FO_OPERATOR_ENV='MALLOC_ARENA_MAX=2 LD_PRELOAD=…').
        ...operatorEnvOverrides(process.env.FO_OPERATOR_ENV),
      },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.#take(line);
      });
    }
  }

  #take(line: string): void {
    if (line.trim() === '') return;
    const keep = this.#options.keepLines ?? true;
    this.raw.push(line);
    if (!keep && this.raw.length > TAIL_LINES) this.raw.shift();
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return; // not pino JSON (a stack trace on stderr): kept in `raw` for the failure message
    }
    if (typeof parsed.msg !== 'string') return;
    if (keep) this.lines.push(parsed);
    this.#options.onLine?.(parsed);
  }

  /** The identity the process chose (POD_NAME plus a random suffix), from its start-up line. */
  identity(): string | undefined {
    return this.lines.find((l) => l.msg === 'Starting operator')?.identity as string | undefined;
  }

  /** Action log lines of the executor: `<rule> performed|failed|skipped …`. */
  actionLines(): LogLine[] {
    return this.lines.filter((l) => /^PB-\d+ (performed|failed|skipped|would perform) /.test(l.msg));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  tail(n = 30): string {
    return this.raw.slice(-n).join('\n');
  }
}

export interface OperatorProcessSuite {
  /** Admin kubeconfig of the test bed's cluster a (set once the suite's beforeAll ran). */
  readonly kc: KubeConfig;
  /** Admin kubeconfig of one of the suite's clusters (operatorProcessSuite({ clusters })). */
  kcOf(cluster: string): KubeConfig;
  /** Route 53 client straight to moto. */
  readonly r53: Route53Client;
  /** Loopback probe target, started for the file. */
  readonly probes: ProbeTarget;
  /**
   * Starts an operator child process; it is killed after the test. `options.cluster` must be one of the suite's
   * clusters (their CRDs are applied); `options.route` a fault-proxy route.
   */
  start(ns: string, podName: string, options?: OperatorProcessOptions): OperatorProcess;
}

/**
 * The lifecycle every child-process operator test file shares, registered as vitest hooks (call it at the top of
 * the file, before its own beforeAll, which then runs after this one): CRDs applied, a moto Route 53 client, the
 * probe target started; after each test its operators killed and the proxy's faults cleared; after all, clients
 * and the probe target stopped.
 */
export function operatorProcessSuite(options: { clusters?: string[] } = {}): OperatorProcessSuite {
  const clusters = [...new Set(['a', ...(options.clusters ?? [])])]; // `kc` is always cluster a
  let kc: KubeConfig | undefined;
  const kcs = new Map<string, KubeConfig>();
  let r53: Route53Client | undefined;
  const probes = new ProbeTarget();
  const processes: OperatorProcess[] = [];
  beforeAll(async () => {
    const tb = testbed();
    // The CRDs go into every cluster the file asked for (cluster b only when asked: installing costs ~2 s there).
    await Promise.all(
      clusters.map(async (name) => {
        const one = tb.cluster(name).kubeConfig();
        kcs.set(name, one);
        await applyCrds(one);
      }),
    );
    kc = kcs.get('a');
    r53 = motoRoute53();
    await probes.start();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill()));
    await testbed().faults.clear();
  });
  afterAll(async () => {
    r53?.destroy();
    await probes.stop();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is set in the suite's beforeAll; use it from a hook or a test`);
    return value;
  };
  return {
    get kc() {
      return ready(kc, 'kc');
    },
    get r53() {
      return ready(r53, 'r53');
    },
    kcOf(cluster) {
      if (!clusters.includes(cluster)) {
        throw new Error(`cluster ${cluster} is not one of this suite's (operatorProcessSuite({ clusters: [...] }))`);
      }
      return ready(kcs.get(cluster), `kcOf('${cluster}')`);
    },
    probes,
    start(ns, podName, options) {
      const cluster = options?.cluster ?? 'a';
      if (!clusters.includes(cluster)) {
        throw new Error(
          `cluster ${cluster} is not one of this suite's; ask for it: operatorProcessSuite({ clusters: ['a', '${cluster}'] })`,
        );
      }
      const op = new OperatorProcess(ns, podName, options);
      processes.push(op);
      return op;
    },
  };
}

export interface InProcessOperatorSuite {
  readonly kc: KubeConfig;
  /** The suite's own namespace, watched by the operator. */
  readonly ns: string;
  /** Route 53 client straight to moto (set-up never meets an injected fault). */
  readonly r53: Route53Client;
  readonly probe: ProbeTarget;
  /** The running operator's manager (its /metrics port), once it is built. */
  readonly manager: Manager | undefined;
}

/**
 * The lifecycle of a test file that runs the operator in-process (`runOperator`, the real composition root),
 * registered as vitest hooks (call it at the top of the file): CRDs applied, a namespace, the probe target and a
 * moto Route 53 client; then `arrange` (the file's own set-up, before the operator starts), the proxy's faults
 * cleared, and the operator started. After all: the operator stopped (it must exit 0), clients and the probe target
 * stopped, then `cleanUp`.
 */
export function inProcessOperatorSuite(options: {
  namespace: string;
  podName: string;
  /** Overrides of operatorEnv (an empty value unsets a variable, as main.ts reads it). */
  env?: Record<string, string>;
  arrange?: (suite: InProcessOperatorSuite) => Promise<void>;
  cleanUp?: (suite: InProcessOperatorSuite) => Promise<void>;
}): InProcessOperatorSuite {
  let kc: KubeConfig | undefined;
  let ns: string | undefined;
  let r53: Route53Client | undefined;
  let manager: Manager | undefined;
  let operator: Promise<number> | undefined;
  const probe = new ProbeTarget();
  const stopOperator = new AbortController();
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is set in the suite's beforeAll; use it from a hook or a test`);
    return value;
  };
  const suite: InProcessOperatorSuite = {
    get kc() {
      return ready(kc, 'kc');
    },
    get ns() {
      return ready(ns, 'ns');
    },
    get r53() {
      return ready(r53, 'r53');
    },
    probe,
    get manager() {
      return manager;
    },
  };
  beforeAll(async () => {
    const tb = testbed();
    kc = tb.kubeConfig();
    await applyCrds(kc);
    ns = await createNamespace(kc, options.namespace);
    await probe.start();
    r53 = motoRoute53();
    await options.arrange?.(suite);
    await tb.faults.clear();
    const { runOperator } = await import('../../../src/main.ts');
    operator = runOperator(
      { ...operatorEnv(ns, options.podName), ...options.env },
      {
        signal: stopOperator.signal,
        logger: pino({ level: process.env.FO_TEST_LOG_LEVEL ?? 'silent' }),
        onManager: (m) => {
          manager = m;
        },
      },
    );
  }, 60_000);
  afterAll(async () => {
    stopOperator.abort();
    if (operator) expect(await operator).toBe(0);
    r53?.destroy();
    await probe.stop();
    await options.cleanUp?.(suite);
  }, 60_000);
  return suite;
}

/** Counts proxy-log calls for one action on one hosted zone (Route 53 paths name the zone). */
export function countCalls(
  log: Awaited<ReturnType<ReturnType<typeof testbed>['faults']['log']>>,
  action: string,
  zoneId: string,
  status?: number,
): number {
  return log.filter(
    (e) =>
      e.action === action &&
      (e as { path?: string }).path?.includes(zoneId) === true &&
      (status === undefined || e.status === status),
  ).length;
}

// ---------------------------------------------------------------------------------------------------------------
// Fault-proxy rules and log across several operator processes (the database failover tests)
// ---------------------------------------------------------------------------------------------------------------

export type ProxyLogEntry = Awaited<ReturnType<ReturnType<typeof testbed>['faults']['log']>>[number] & {
  path?: string;
  ruleIds?: string[];
};

/** Removes every fault rule but keeps the proxy's request log (`faults.clear()` empties both). */
export async function clearFaultRules(): Promise<void> {
  const res = await fetch(`${readTestbedState().proxy.control}/rules`, { method: 'DELETE' });
  if (!res.ok) throw new Error(`clearing fault rules failed: HTTP ${res.status} ${await res.text()}`);
}

/** Removes one fault rule by the id `faults.add` returned. */
export async function removeFaultRule(id: string): Promise<void> {
  const res = await fetch(`${readTestbedState().proxy.control}/rules/${encodeURIComponent(id)}`, {
    method: 'DELETE',
  });
  if (!res.ok) throw new Error(`removing fault rule ${id} failed: HTTP ${res.status} ${await res.text()}`);
}

/**
 * Keeps every proxy-log entry that `match` selects, polled while the test runs: the proxy keeps only its last 500
 * calls, and a few operators probing every second overflow that within a minute.
 */
export class ProxyCallRecorder {
  readonly calls: ProxyLogEntry[] = [];
  readonly #seen = new Set<string>();
  readonly #match: (entry: ProxyLogEntry) => boolean;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(match: (entry: ProxyLogEntry) => boolean) {
    this.#match = match;
  }

  async poll(): Promise<void> {
    for (const entry of (await testbed().faults.log()) as ProxyLogEntry[]) {
      if (!this.#match(entry)) continue;
      const key = JSON.stringify(entry);
      if (this.#seen.has(key)) continue;
      this.#seen.add(key);
      this.calls.push(entry);
    }
  }

  start(intervalMs = 250): this {
    this.#timer ??= setInterval(() => void this.poll().catch(() => {}), intervalMs);
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.poll();
  }
}

/** Counts proxy-log calls of one action (any service), optionally in one region and with one HTTP status. */
export function countActionCalls(
  log: readonly ProxyLogEntry[],
  action: string,
  opts: { region?: string; status?: number } = {},
): number {
  return log.filter(
    (e) =>
      e.action === action &&
      (opts.region === undefined || e.region === opts.region) &&
      (opts.status === undefined || e.status === opts.status),
  ).length;
}

/** `failoverctl` as a person runs it: a child process with $KUBECONFIG, stdin not a terminal. */
export function failoverctl(
  ns: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/failoverctl.ts', '-n', ns, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: testbed().kubeconfigPath },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// RDS in moto: a primary and a cross-region read replica (arranged directly, never through the fault proxy)
// ---------------------------------------------------------------------------------------------------------------

/** RDS in moto directly, for arranging and checking state. */
export function motoRds(region: string): RDSClient {
  const tb = testbed();
  return new RDSClient({ endpoint: tb.aws.motoEndpoint, region, credentials: tb.aws.credentials });
}

export interface RdsPair {
  primary: { region: string; id: string; arn: string; endpoint: string };
  replica: { region: string; id: string; arn: string; endpoint: string };
}

/** A postgres primary and its cross-region read replica (source given as the primary's ARN, as RDS requires). */
export async function createRdsPair(opts: {
  primaryRegion: string;
  primaryId: string;
  replicaRegion: string;
  replicaId: string;
}): Promise<RdsPair> {
  const east = motoRds(opts.primaryRegion);
  const west = motoRds(opts.replicaRegion);
  try {
    const p = await east.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: opts.primaryId,
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
        BackupRetentionPeriod: 1,
      }),
    );
    const arn = p.DBInstance?.DBInstanceArn ?? '';
    const r = await west.send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: opts.replicaId,
        SourceDBInstanceIdentifier: arn,
        DBInstanceClass: 'db.t3.micro',
        // moto copies the primary, zone included, unless told: a us-west-2 replica "in us-east-1a" would be
        // rejected as a standby whenever that zone is impaired.
        AvailabilityZone: `${opts.replicaRegion}a`,
      }),
    );
    const endpointOf = async (client: RDSClient, id: string) =>
      (await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]?.Endpoint
        ?.Address ?? '';
    return {
      primary: {
        region: opts.primaryRegion,
        id: opts.primaryId,
        arn,
        endpoint: await endpointOf(east, opts.primaryId),
      },
      replica: {
        region: opts.replicaRegion,
        id: opts.replicaId,
        arn: r.DBInstance?.DBInstanceArn ?? '',
        endpoint: await endpointOf(west, opts.replicaId),
      },
    };
  } finally {
    east.destroy();
    west.destroy();
  }
}

/** A fresh `AWS/RDS ReplicaLag` datapoint for a replica, in moto's CloudWatch (the RPO guard needs one, PB-6). */
export async function putReplicaLag(region: string, dbInstanceId: string, seconds: number): Promise<void> {
  const tb = testbed();
  const cw = new CloudWatchClient({ endpoint: tb.aws.motoEndpoint, region, credentials: tb.aws.credentials });
  try {
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/RDS',
        MetricData: [
          {
            MetricName: 'ReplicaLag',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: dbInstanceId }],
            Timestamp: new Date(),
            Value: seconds,
            Unit: 'Seconds',
          },
        ],
      }),
    );
  } finally {
    cw.destroy();
  }
}

/** The one value of a (non-weighted) record in moto, e.g. the writer CNAME; undefined when it does not exist. */
export async function motoRecordValue(
  r53: Route53Client,
  zoneId: string,
  name: string,
  type: RRType,
): Promise<{ value: string | undefined; ttl: number | undefined } | undefined> {
  const out = await r53.send(
    new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: name, StartRecordType: type }),
  );
  const want = name.replace(/\.$/, '').toLowerCase();
  const rec = (out.ResourceRecordSets ?? []).find(
    (r) => r.Type === type && r.Name?.replace(/\.$/, '').toLowerCase() === want,
  );
  return rec ? { value: rec.ResourceRecords?.[0]?.Value, ttl: rec.TTL } : undefined;
}

/** Adds the standby region's weighted record (`usw2`, weight 0) and the writer CNAME to a createWeightedZone zone. */
export async function createStandbyAndWriterRecords(
  r53: Route53Client,
  opts: { zoneId: string; recordName: string; writerName: string; writerValue: string; writerTtl: number },
): Promise<void> {
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: opts.zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: opts.recordName,
              Type: 'A',
              TTL: 60,
              SetIdentifier: 'usw2',
              Weight: 0,
              ResourceRecords: [{ Value: '10.1.0.1' }],
            },
          },
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: opts.writerName,
              Type: 'CNAME',
              TTL: opts.writerTtl,
              ResourceRecords: [{ Value: opts.writerValue }],
            },
          },
        ],
      },
    }),
  );
}

/**
 * A two-region policy with a database: us-east-1 (zones a, b; records use1-a, use1-b) primary, us-west-2 (record
 * usw2) standby, an HTTP probe per zone against the probe target, the writer CNAME, the RDS pair. One ReplicaLag
 * datapoint put at the start serves a whole test (maxLagAgeSeconds 3600: moto has no RDS publishing one a minute).
 */
export function databasePolicyBody(opts: {
  ns: string;
  name: string;
  zoneId: string;
  recordName: string;
  writerName: string;
  writerTtl: number;
  probeBase: string;
  db: RdsPair;
  promotion: 'Automatic' | 'Manual';
  extraProbes?: object[];
}): object {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'FailoverPolicy',
    metadata: { name: opts.name, namespace: opts.ns },
    spec: {
      regions: [
        { name: 'us-east-1', role: 'primary', zones: ['us-east-1a', 'us-east-1b'] },
        { name: 'us-west-2', role: 'standby', zones: ['us-west-2a', 'us-west-2b'] },
      ],
      probes: [
        { name: 'web', http: { url: `${opts.probeBase}/{zone}`, timeoutSeconds: 1, expectStatus: [200] } },
        ...(opts.extraProbes ?? []),
      ],
      health: { intervalSeconds: 1, failureThreshold: 1, recoveryThreshold: 300 },
      traffic: {
        route53: {
          hostedZoneId: opts.zoneId,
          recordName: opts.recordName,
          type: 'A',
          records: [
            { setIdentifier: 'use1-a', zone: 'us-east-1a', weight: 100 },
            { setIdentifier: 'use1-b', zone: 'us-east-1b', weight: 100 },
            { setIdentifier: 'usw2', region: 'us-west-2', weight: 0 },
          ],
          writerRecord: { recordName: opts.writerName, type: 'CNAME', ttl: opts.writerTtl },
        },
      },
      database: {
        rds: {
          primary: { region: opts.db.primary.region, dbInstanceIdentifier: opts.db.primary.id },
          replicas: [{ region: opts.db.replica.region, dbInstanceIdentifier: opts.db.replica.id }],
          maxLagSeconds: 30,
          maxLagAgeSeconds: 3600,
          promotion: opts.promotion,
        },
      },
    },
  };
}

/**
 * Fault-proxy rewrite of DescribeDBInstances: real RDS's view of a promoted replica (no replication source).
 * moto 5.2.5 keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica (test/env/README.md).
 */
export const PROMOTED_VIEW = {
  find: '<ReadReplicaSourceDBInstanceIdentifier>[^<]*</ReadReplicaSourceDBInstanceIdentifier>',
  replace: '',
} as const;
