// The composition root of `failover-operator run`: the only place that reads configuration (from the environment)
// and builds the operator's parts, once. Everything below takes its dependencies as arguments.
//
// Environment:
//   KUBECONFIG                     kubeconfig file; unset: in-cluster config, then ~/.kube/config
//   AWS_REGION                     default region of the SDK clients (per-region clients are made as needed)
//   FO_AWS_ENDPOINT                one endpoint for every AWS service (tests: the fault proxy in front of moto)
//   AWS_ACCESS_KEY_ID/…SECRET…     static credentials; unset: the SDK's default chain (IRSA, instance profile…)
//   FO_METRICS_SECURE              /metrics over HTTPS with a bearer token checked by TokenReview and a
//                                  SubjectAccessReview for GET /metrics (default true, as kubebuilder); false: plain
//   FO_METRICS_PORT                /metrics (default 8443 when secure, else 8080; 0 picks a free port)
//   FO_METRICS_CERT_DIR            tls.crt and tls.key of the secure metrics port (re-read on change); unset: a
//                                  self-signed certificate generated at start-up
//   FO_HEALTH_PORT                 /healthz, /readyz, plain HTTP (default 8081; 0 picks a free port)
//   FO_LEADER_ELECTION_NAMESPACE   namespace of the Lease (default: the pod's namespace, else `default`)
//   FO_WATCH_NAMESPACE             watch one namespace only (default: all)
//   POD_NAME                       leader identity (a random suffix keeps restarts distinct)
//   FO_LOG_LEVEL                   pino level (default info)
//   FO_LOG_FORMAT                  json (default) or console (one human-readable line per entry)
//   FO_LEADER_ELECT                false: no leader election (one replica only; default true)
//   FO_LEADER_ELECTION_ID          name of the Lease (default failover-operator; one per release in a namespace)
//   FO_MAX_CONCURRENT_RECONCILES   FailoverPolicies reconciled at once (controller-runtime's MaxConcurrentReconciles;
//                                  default 16); one policy is never reconciled twice at once
//   FO_ROUTE53_REQUESTS_PER_SECOND this operator's share of the AWS account's Route 53 limit of 5 requests/s (default
//                                  4: the only operator in the account); with N operators in one account (vantage
//                                  points) floor(4/N) each (docs/vantage-points.md, "One AWS account")
// `failover-operator run --help` lists the flags that set these (flags win over the environment).
//   FO_DRILL_SIMULATIONS           DryRun drill simulations at once, each in a worker thread (default 1)
//   FO_DRILL_HEAP_MB               heap limit of each drill simulation's worker thread, MiB (default 192)
//   FO_TENANCY_GRANTS_FILE         namespace grants (YAML, the chart's ConfigMap): a policy may drive only the AWS
//                                  resources its namespace is granted (docs/tenancy.md); re-read when it changes
//   FO_TENANCY                     Unrestricted: no grants, every namespace may drive any resource. One of the two
//                                  must be set: the operator does not start without a decision on tenancy.
//   FO_DRILL_NAMESPACE_LIMIT       drills running at once in one namespace; more wait Pending (default 2; 0: no limit)
//   FO_PROMOTION_LOCK_TABLE        DynamoDB table of the promotion lock (#14): one promotion per failover across every
//                                  operator running the same policy; unset: no lock (a warning at start-up)
//   FO_PROMOTION_LOCK_REGIONS      comma list of the table's regions: written in the promotion's target region when
//                                  listed, else in the first (required with the table)
//   FO_VANTAGE                     this operator's vantage-point name (#14, docs/vantage-points.md): publishes its
//                                  verdicts to CloudWatch and acts on policies with spec.vantagePoints only on
//                                  agreement with the other members; unset: not a vantage point
//   FO_VANTAGE_REGION              the AWS region this operator's cluster runs in (status, docs)

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  DEFAULT_ROUTE53_REQUESTS_PER_SECOND,
  MIN_ROUTE53_FRACTIONAL_SHARE,
  ROUTE53_ACCOUNT_REQUESTS_PER_SECOND,
} from './act/rate-limit.ts';
import { DRILL_PLURAL, GROUP, POLICY_PLURAL, VERSION } from './api/index.ts';
import { systemClock } from './clock.ts';
import { createAwsCloud } from './cloud/aws/index.ts';
import { createDrillEvents } from './controller/drill-events.ts';
import { createDrillReconciler, type StoredDrill } from './controller/drill-reconciler.ts';
import { createWorkerDrillSimulator, DEFAULT_WORKER_HEAP_LIMIT_MB } from './controller/drill-simulator.ts';
import { createPolicyJournalStore, observedBy } from './controller/journal-store.ts';
import { createPolicyEvents } from './controller/policy-events.ts';
import { createPolicyReconciler, type StoredPolicy } from './controller/policy-reconciler.ts';
import { createPolicyTracker } from './controller/policy-tracker.ts';
import { createGrantsFile, type Tenancy, unrestrictedTenancy } from './controller/tenancy-grants.ts';
import { createEngineStack } from './engine/engine-stack.ts';
import { createLogger, type LogFormat } from './logging/logger.ts';
import { readBuildInfo } from './metrics/build-info.ts';
import { createOperatorMetrics } from './metrics/operator-metrics.ts';
import { createFinalizers } from './runtime/finalizers.ts';
import {
  abortOnTermination,
  createCustomResourceInformer,
  createEventSink,
  createKubeAccessReviews,
  createLeaseApi,
  createMetricsAuthorizer,
  createStatusWriter,
  EventRecorder,
  Manager,
  poolKubeConnections,
  readServingCert,
  selfSignedServingCert,
} from './runtime/index.ts';
import type { OperatorVantage } from './vantage/settings.ts';

const COMPONENT = 'failover-operator';
const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const IN_CLUSTER_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface OperatorConfig {
  kubeconfigPath: string | undefined;
  awsEndpoint: string | undefined;
  awsRegion: string | undefined;
  awsCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  metricsPort: number;
  /** /metrics over HTTPS with TokenReview + SubjectAccessReview (FO_METRICS_SECURE). */
  metricsSecure: boolean;
  /** tls.crt / tls.key of the secure metrics port; undefined: self-signed (FO_METRICS_CERT_DIR). */
  metricsCertDir: string | undefined;
  /** /healthz and /readyz (FO_HEALTH_PORT). */
  healthPort: number;
  /** Names of the self-signed metrics certificate: the pod, and loopback. */
  selfSignedHosts: string[];
  leaseNamespace: string;
  watchNamespace: string | undefined;
  identity: string;
  logLevel: string;
  logFormat: LogFormat;
  /** Elect a leader with a Lease (FO_LEADER_ELECT, default true); false only for a single replica. */
  leaderElect: boolean;
  /** Name of the Lease (FO_LEADER_ELECTION_ID). */
  leaseName: string;
  /** FailoverPolicy reconciles that may run at once (FO_MAX_CONCURRENT_RECONCILES). */
  maxConcurrentReconciles: number;
  /** Reconciles woken by a health transition that may run on top of those (FO_MAX_CONCURRENT_URGENT_RECONCILES). */
  maxConcurrentUrgentReconciles: number;
  /** This operator's share of the account's Route 53 request rate (FO_ROUTE53_REQUESTS_PER_SECOND). */
  route53RequestsPerSecond: number;
  /** DryRun drill simulations that may run at once, each in its own worker thread (FO_DRILL_SIMULATIONS). */
  drillSimulations: number;
  /** Heap limit of each drill simulation's worker thread, MiB (FO_DRILL_HEAP_MB). */
  drillHeapMb: number;
  /** Namespace grants from a file (FO_TENANCY_GRANTS_FILE), or none at all (FO_TENANCY=Unrestricted). */
  tenancy: { mode: 'Grants'; grantsFile: string } | { mode: 'Unrestricted' };
  /** Drills running at once in one namespace (FO_DRILL_NAMESPACE_LIMIT); undefined: no limit. */
  drillNamespaceLimit: number | undefined;
  /** The promotion lock's table and regions (FO_PROMOTION_LOCK_TABLE, FO_PROMOTION_LOCK_REGIONS); undefined: none. */
  promotionLock: { table: string; regions: string[] } | undefined;
  /** This operator as a vantage point (FO_VANTAGE, FO_VANTAGE_REGION); undefined: not one. */
  vantage: OperatorVantage | undefined;
}

/** A setting the operator cannot start with; the CLI prints its message as one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** FO_TENANCY_GRANTS_FILE or FO_TENANCY=Unrestricted, exactly one: tenancy is never off by accident. */
export function readTenancyConfig(env: NodeJS.ProcessEnv): OperatorConfig['tenancy'] {
  const file = env.FO_TENANCY_GRANTS_FILE || undefined;
  const mode = env.FO_TENANCY || undefined;
  if (mode !== undefined && mode !== 'Unrestricted') {
    throw new ConfigError(`FO_TENANCY must be Unrestricted or unset, got ${JSON.stringify(mode)}`);
  }
  if (file && mode) {
    throw new ConfigError(
      'set either FO_TENANCY_GRANTS_FILE (enforce namespace grants) or FO_TENANCY=Unrestricted, not both',
    );
  }
  if (file) return { mode: 'Grants', grantsFile: file };
  if (mode) return { mode: 'Unrestricted' };
  throw new ConfigError(
    'no tenancy decision: set FO_TENANCY_GRANTS_FILE to a grants file so each namespace drives only the AWS resources granted to it (the Helm chart does this), or FO_TENANCY=Unrestricted to let every namespace drive any resource (docs/tenancy.md)',
  );
}

/** A DynamoDB table name: 3–255 of letters, digits, `_`, `-`, `.`. */
const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** FO_PROMOTION_LOCK_TABLE with FO_PROMOTION_LOCK_REGIONS, both or neither. */
function readPromotionLock(env: NodeJS.ProcessEnv): OperatorConfig['promotionLock'] {
  const table = env.FO_PROMOTION_LOCK_TABLE?.trim() || undefined;
  const regionsText = env.FO_PROMOTION_LOCK_REGIONS?.trim() || undefined;
  if (table === undefined && regionsText === undefined) return undefined;
  if (table === undefined) {
    throw new ConfigError('FO_PROMOTION_LOCK_REGIONS is set without FO_PROMOTION_LOCK_TABLE: set the table too');
  }
  if (!DYNAMODB_TABLE_NAME.test(table)) {
    throw new ConfigError(
      `FO_PROMOTION_LOCK_TABLE must be a DynamoDB table name (3–255 of A–Z a–z 0–9 _ - .), got ${JSON.stringify(table)}`,
    );
  }
  if (regionsText === undefined) {
    throw new ConfigError(
      'FO_PROMOTION_LOCK_REGIONS is required with FO_PROMOTION_LOCK_TABLE: the comma-separated regions of the table (e.g. us-east-2,us-west-2,eu-west-1)',
    );
  }
  const regions = regionsText.split(',').map((r) => r.trim());
  const bad = regions.filter((r) => !REGION_NAME.test(r));
  if (bad.length > 0) {
    throw new ConfigError(
      `FO_PROMOTION_LOCK_REGIONS must be comma-separated AWS region names, got ${bad.map((r) => JSON.stringify(r)).join(', ')}`,
    );
  }
  return { table, regions: [...new Set(regions)] };
}

/** FO_VANTAGE (a DNS label) with an optional FO_VANTAGE_REGION. */
export function readVantage(env: NodeJS.ProcessEnv): OperatorConfig['vantage'] {
  const name = env.FO_VANTAGE?.trim() || undefined;
  const region = env.FO_VANTAGE_REGION?.trim() || undefined;
  if (name === undefined) {
    if (region !== undefined) {
      throw new ConfigError(
        'FO_VANTAGE_REGION is set without FO_VANTAGE: set the vantage name too (e.g. FO_VANTAGE=use1)',
      );
    }
    return undefined;
  }
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
    throw new ConfigError(
      `FO_VANTAGE must be a DNS label (lower-case letters, digits and '-', at most 63), got ${JSON.stringify(name)}`,
    );
  }
  if (region !== undefined && !REGION_NAME.test(region)) {
    throw new ConfigError(
      `FO_VANTAGE_REGION must be an AWS region name (e.g. us-west-2), got ${JSON.stringify(region)}`,
    );
  }
  return { name, ...(region ? { region } : {}) };
}

/**
 * Default of FO_MAX_CONCURRENT_RECONCILES. A reconcile is mostly waiting (the apiserver, a Route 53 grant), and no
 * reconcile waits for a change to propagate (perform-action.ts), so a worker is held for a few round trips at most;
 * a waiting reconcile costs a few promises, not a thread. Every policy on a hosted zone that decides to drain at
 * once should be in flight at once, so their changes share one batch (change-coalescer.ts): bench/reconcile (100
 * policies on one zone losing an AZ) saw 16 workers send 10 batches over 22 s, and 128 send one, 1.9 s after the
 * decision. 128 is not the default yet: in one of five 1,000-policy runs on an overloaded machine the operator
 * could not renew its Lease within the 10 s renew deadline during the initial sync with 128 reconciles writing to
 * the apiserver at once, and lost leadership (bench/results/reconcile.md).
 */
export const DEFAULT_MAX_CONCURRENT_RECONCILES = 16;
/** Upper bound of FO_MAX_CONCURRENT_RECONCILES: past it only memory grows (Route 53 and the apiserver set the pace). */
export const MAX_CONCURRENT_RECONCILES_LIMIT = 1_000;

/**
 * Default of FO_MAX_CONCURRENT_URGENT_RECONCILES: the urgent lane (work-queue.ts). A reconcile woken by a health
 * transition (or a peer vantage's changed verdict) goes ahead of every resync and, when the ordinary workers are all
 * busy, runs on one of these. So every policy a zone decision affects is in flight at once and their drains share
 * one Route 53 change batch per hosted zone, while the initial sync and the resyncs keep to the ordinary workers and
 * cannot flood the apiserver (what cost a 128-worker run its Lease).
 */
export const DEFAULT_MAX_CONCURRENT_URGENT_RECONCILES = 128;

/**
 * FO_ROUTE53_REQUESTS_PER_SECOND: this operator's share of its AWS account's Route 53 limit (5 requests a second for
 * every Route 53 call of the account together). Route 53 counts requests per second, so a share above one is a whole
 * number (1.5 would still send 2 in some seconds); more than four operators in one account take a fraction from 0.5
 * to 1 each, one request every 1/share seconds. The default, 4, is right for the only operator in its account.
 */
export function readRoute53RequestsPerSecond(env: NodeJS.ProcessEnv): number {
  const text = env.FO_ROUTE53_REQUESTS_PER_SECOND?.trim();
  if (!text) return DEFAULT_ROUTE53_REQUESTS_PER_SECOND;
  const rate = Number(text);
  const fraction = rate >= MIN_ROUTE53_FRACTIONAL_SHARE && rate <= 1;
  const whole = Number.isInteger(rate) && rate >= 1 && rate <= ROUTE53_ACCOUNT_REQUESTS_PER_SECOND;
  if (fraction || whole) return rate;
  const max = ROUTE53_ACCOUNT_REQUESTS_PER_SECOND;
  const fix =
    rate > max
      ? `Route 53 throttles an account above ${max} requests a second, whoever sends them; give at most ${max} (the default ${DEFAULT_ROUTE53_REQUESTS_PER_SECOND} leaves one for other tools)`
      : rate > 1 && rate < max
        ? `Route 53 counts requests per second, so ${rate} would still send ${Math.ceil(rate)} in some seconds; give ${Math.floor(rate)} or ${Math.ceil(rate)}`
        : `it is this operator's share of the account's ${max} Route 53 requests a second; with N operators in one account give each floor(${DEFAULT_ROUTE53_REQUESTS_PER_SECOND}/N), ${MIN_ROUTE53_FRACTIONAL_SHARE} with more than ${DEFAULT_ROUTE53_REQUESTS_PER_SECOND} (docs/vantage-points.md)`;
  throw new ConfigError(
    `FO_ROUTE53_REQUESTS_PER_SECOND (--route53-requests-per-second) must be a whole number from 1 to ${max}, or from ${MIN_ROUTE53_FRACTIONAL_SHARE} to 1, got ${JSON.stringify(env.FO_ROUTE53_REQUESTS_PER_SECOND)}: ${fix}`,
  );
}

/** Default of FO_DRILL_NAMESPACE_LIMIT: two drills per namespace (say a DryRun and a Live one) at once. */
export const DEFAULT_DRILL_NAMESPACE_LIMIT = 2;

/** Reads the configuration from the environment; throws a clear message for a malformed value. */
export function readConfig(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = readNamespaceFile,
): OperatorConfig {
  const secureText = (env.FO_METRICS_SECURE ?? 'true').toLowerCase();
  if (secureText !== 'true' && secureText !== 'false') {
    throw new ConfigError(`FO_METRICS_SECURE must be true or false, got ${JSON.stringify(env.FO_METRICS_SECURE)}`);
  }
  const metricsSecure = secureText === 'true';
  const port = readPort('FO_METRICS_PORT', env.FO_METRICS_PORT, metricsSecure ? 8443 : 8080);
  const healthPort = readPort('FO_HEALTH_PORT', env.FO_HEALTH_PORT, 8081);
  const drillSimulations = Number(env.FO_DRILL_SIMULATIONS ?? 1);
  if (!Number.isInteger(drillSimulations) || drillSimulations < 1) {
    throw new ConfigError(
      `FO_DRILL_SIMULATIONS must be a whole number of simulations (1 or more), got ${JSON.stringify(env.FO_DRILL_SIMULATIONS)}`,
    );
  }
  const drillHeapMb = Number(env.FO_DRILL_HEAP_MB ?? DEFAULT_WORKER_HEAP_LIMIT_MB);
  if (!Number.isInteger(drillHeapMb) || drillHeapMb < 32) {
    throw new ConfigError(
      `FO_DRILL_HEAP_MB must be a whole number of MiB (32 or more), got ${JSON.stringify(env.FO_DRILL_HEAP_MB)}`,
    );
  }
  const tenancy = readTenancyConfig(env);
  const drillNamespaceLimit = Number(env.FO_DRILL_NAMESPACE_LIMIT ?? DEFAULT_DRILL_NAMESPACE_LIMIT);
  if (!Number.isInteger(drillNamespaceLimit) || drillNamespaceLimit < 0) {
    throw new ConfigError(
      `FO_DRILL_NAMESPACE_LIMIT must be a whole number of drills (0 for no limit), got ${JSON.stringify(env.FO_DRILL_NAMESPACE_LIMIT)}`,
    );
  }
  const logFormat = env.FO_LOG_FORMAT || 'json';
  if (logFormat !== 'json' && logFormat !== 'console') {
    throw new ConfigError(`FO_LOG_FORMAT must be json or console, got ${JSON.stringify(env.FO_LOG_FORMAT)}`);
  }
  const leaderElect = (env.FO_LEADER_ELECT || 'true').toLowerCase();
  if (leaderElect !== 'true' && leaderElect !== 'false') {
    throw new ConfigError(`FO_LEADER_ELECT must be true or false, got ${JSON.stringify(env.FO_LEADER_ELECT)}`);
  }
  const leaseName = env.FO_LEADER_ELECTION_ID || COMPONENT;
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(leaseName)) {
    throw new ConfigError(
      `FO_LEADER_ELECTION_ID must be a Lease name (DNS subdomain), got ${JSON.stringify(leaseName)}`,
    );
  }
  const maxConcurrentReconciles = Number(env.FO_MAX_CONCURRENT_RECONCILES || DEFAULT_MAX_CONCURRENT_RECONCILES);
  if (
    !Number.isInteger(maxConcurrentReconciles) ||
    maxConcurrentReconciles < 1 ||
    maxConcurrentReconciles > MAX_CONCURRENT_RECONCILES_LIMIT
  ) {
    throw new ConfigError(
      `FO_MAX_CONCURRENT_RECONCILES must be a whole number from 1 to ${MAX_CONCURRENT_RECONCILES_LIMIT}, got ${JSON.stringify(env.FO_MAX_CONCURRENT_RECONCILES)}`,
    );
  }
  const maxConcurrentUrgentReconciles = Number(
    env.FO_MAX_CONCURRENT_URGENT_RECONCILES || DEFAULT_MAX_CONCURRENT_URGENT_RECONCILES,
  );
  if (
    !Number.isInteger(maxConcurrentUrgentReconciles) ||
    maxConcurrentUrgentReconciles < 0 ||
    maxConcurrentUrgentReconciles > MAX_CONCURRENT_RECONCILES_LIMIT
  ) {
    throw new ConfigError(
      `FO_MAX_CONCURRENT_URGENT_RECONCILES must be a whole number from 0 (no urgent lane) to ${MAX_CONCURRENT_RECONCILES_LIMIT}, got ${JSON.stringify(env.FO_MAX_CONCURRENT_URGENT_RECONCILES)}`,
    );
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    kubeconfigPath: env.KUBECONFIG?.split(':').find((p) => p.length > 0),
    awsEndpoint: env.FO_AWS_ENDPOINT || undefined,
    awsRegion: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    awsCredentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
        : undefined,
    metricsPort: port,
    metricsSecure,
    metricsCertDir: env.FO_METRICS_CERT_DIR || undefined,
    healthPort,
    selfSignedHosts: [env.POD_NAME || COMPONENT, 'localhost', '127.0.0.1'],
    leaseNamespace: env.FO_LEADER_ELECTION_NAMESPACE || readFile(IN_CLUSTER_NAMESPACE_FILE) || 'default',
    watchNamespace: env.FO_WATCH_NAMESPACE || undefined,
    identity: `${env.POD_NAME || COMPONENT}-${randomBytes(4).toString('hex')}`,
    logLevel: env.FO_LOG_LEVEL || 'info',
    logFormat,
    leaderElect: leaderElect === 'true',
    leaseName,
    maxConcurrentReconciles,
    maxConcurrentUrgentReconciles,
    route53RequestsPerSecond: readRoute53RequestsPerSecond(env),
    drillSimulations,
    drillHeapMb,
    tenancy,
    drillNamespaceLimit: drillNamespaceLimit === 0 ? undefined : drillNamespaceLimit,
    promotionLock: readPromotionLock(env),
    vantage: readVantage(env),
  };
}

function readPort(name: string, value: string | undefined, fallback: number): number {
  const port = Number(value ?? fallback);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`${name} must be a port number (0–65535), got ${JSON.stringify(value)}`);
  }
  return port;
}

/**
 * The cluster to talk to: the kubeconfig file (--kubeconfig, else the first of $KUBECONFIG), else the in-cluster
 * service account, else ~/.kube/config. With none of them, a ConfigError rather than client-node's fallback to
 * http://localhost:8080, which would retry a connection refused with a stack trace forever.
 */
export function loadKubeConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv,
  exists: (file: string) => boolean = existsSync,
): KubeConfig {
  const kc = new KubeConfig();
  const fromFile = (file: string, source: string) => {
    if (!exists(file)) throw new ConfigError(`kubeconfig ${file} (${source}) does not exist`);
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new ConfigError(`kubeconfig ${file} (${source}) cannot be read: ${(err as Error).message.split('\n')[0]}`);
    }
    return kc;
  };
  if (path) return fromFile(path, '--kubeconfig or KUBECONFIG');
  if (env.KUBERNETES_SERVICE_HOST && exists(IN_CLUSTER_TOKEN_FILE)) {
    kc.loadFromCluster();
    return kc;
  }
  const home = env.HOME || env.USERPROFILE;
  const defaultFile = home ? join(home, '.kube', 'config') : undefined;
  if (defaultFile && exists(defaultFile)) return fromFile(defaultFile, '~/.kube/config');
  throw new ConfigError(
    'no cluster to connect to: set KUBECONFIG or pass --kubeconfig <file> (outside a cluster), or run in a pod with a service account',
  );
}

function readNamespaceFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

export interface RunOptions {
  /** Stop signal; default: SIGTERM/SIGINT. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Called once the manager is built (tests read the metrics port from it). */
  onManager?: (manager: Manager) => void;
}

/** Runs the operator until stopped; resolves with the process exit code (1 when leadership was lost). */
export async function runOperator(env: NodeJS.ProcessEnv, options: RunOptions = {}): Promise<number> {
  const config = readConfig(env);
  const kc = loadKubeConfig(config.kubeconfigPath, env);
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: COMPONENT, format: config.logFormat });
  // client-node would open a TLS connection per request (kube-connections.ts).
  if (!poolKubeConnections(kc).pooled) {
    logger.warn(
      'this @kubernetes/client-node has no KubeConfig.createDispatcher to wrap: every apiserver request opens its own TLS connection (src/runtime/kube-connections.ts)',
    );
  }
  const termination = options.signal ? undefined : abortOnTermination();
  const signal = options.signal ?? termination!.signal;
  const clock = systemClock();

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // The secure metrics port (kubebuilder's default): a mounted certificate or a self-signed one, and every scrape's
  // bearer token reviewed by the apiserver (TokenReview, then SubjectAccessReview for GET /metrics).
  const secureMetrics = config.metricsSecure
    ? {
        cert: config.metricsCertDir
          ? await readServingCert(config.metricsCertDir)
          : await selfSignedServingCert(config.selfSignedHosts),
        ...(config.metricsCertDir ? { certDir: config.metricsCertDir } : {}),
        authorize: createMetricsAuthorizer({ reviews: createKubeAccessReviews(kc), now: () => clock.now() }),
      }
    : undefined;
  const manager = new Manager({
    clock,
    logger,
    registry,
    health: { port: config.healthPort },
    metrics: { port: config.metricsPort, ...(secureMetrics ? { secure: secureMetrics } : {}) },
    ...(config.leaderElect
      ? {
          leaderElection: {
            lease: createLeaseApi(kc, { namespace: config.leaseNamespace, name: config.leaseName }),
            leaseRef: { namespace: config.leaseNamespace, name: config.leaseName },
            identity: config.identity,
          },
        }
      : {}),
  });

  const resource = { group: GROUP, version: VERSION, plural: POLICY_PLURAL };
  const informer = createCustomResourceInformer<StoredPolicy & { metadata: object }>(kc, {
    resource,
    clock,
    logger,
    metrics: manager.metrics.informer,
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
  });
  const getPolicy = (key: string) => informer.get(key);
  const statusWriter = createStatusWriter<StoredPolicy['status'] & object>(kc, resource);
  const recorder = new EventRecorder({
    sink: createEventSink(kc),
    component: COMPONENT,
    instance: config.identity,
    clock,
    logger,
  });
  const events = createPolicyEvents({
    recorder,
    getPolicy,
    ...(config.vantage ? { vantage: config.vantage.name } : {}),
  });

  const cloud = createAwsCloud({
    ...(config.awsEndpoint ? { endpoint: config.awsEndpoint } : {}),
    ...(config.awsCredentials ? { credentials: config.awsCredentials } : {}),
    requestTimeoutMs: 10_000,
    connectionTimeoutMs: 3_000,
    ...(config.promotionLock ? { promotionLock: config.promotionLock } : {}),
  });
  if (config.promotionLock) {
    logger.info(
      { table: config.promotionLock.table, regions: config.promotionLock.regions, vantage: config.identity },
      'promotion lock configured: every promotion takes it first (#14)',
    );
  } else {
    logger.warn(
      { rule: 'PB-6' },
      'no promotion lock (FO_PROMOTION_LOCK_TABLE unset): nothing stops another operator running the same policy from promoting a different replica; set FO_PROMOTION_LOCK_TABLE and FO_PROMOTION_LOCK_REGIONS (docs/failover.md, "Promotion lock")',
    );
  }
  const journalStore = createPolicyJournalStore({ getPolicy, statusWriter });
  let enqueue: (key: string) => void = () => {};
  let enqueueUrgent: (key: string) => void = () => {};
  let tenancyChanged: () => void = () => {};
  // Read before anything reconciles: the first reconcile of every policy already sees the grants.
  const grantsFile =
    config.tenancy.mode === 'Grants'
      ? createGrantsFile({ path: config.tenancy.grantsFile, logger, onChange: () => tenancyChanged() })
      : undefined;
  const tenancy: Tenancy = grantsFile ?? unrestrictedTenancy;
  const operatorMetrics = createOperatorMetrics(registry, { build: readBuildInfo(env) });
  // The engine (probe scheduler, health loops, change coalescer) stops with the manager, whatever ended it: a
  // process that lost leadership stops probing and retrying and exits, and the pod restarts as a follower.
  const engineStop = new AbortController();
  const engineSignal = AbortSignal.any([signal, engineStop.signal]);
  const { engine } = createEngineStack({
    cloud,
    clock,
    logger,
    journalStore,
    failoverStore: journalStore,
    route53RequestsPerSecond: config.route53RequestsPerSecond,
    ...(cloud.promotionLock
      ? {
          promotionLock: cloud.promotionLock,
          // The lock names who promoted: the vantage point and the replica.
          vantage: config.vantage ? `${config.vantage.name}/${config.identity}` : config.identity,
          // Stable across restarts and leader changes: a new leader may retake its own claim.
          lockHolder: config.vantage?.name ?? `${config.leaseNamespace}/${config.leaseName}`,
        }
      : {}),
    events: events.actions,
    metrics: operatorMetrics,
    isLeader: () => manager.isLeader(),
    leadershipValidUntil: () => manager.leadershipValidUntil(),
    leadershipSignal: () => manager.leadershipSignal(),
    signal: engineSignal,
    onHealthChange: (key, transitions, view) => {
      if (manager.isLeader()) void events.healthTransitions(key, transitions, view);
      enqueueUrgent(key); // detection → action now: ahead of every resync, not at the next one
    },
    ...(config.vantage
      ? {
          vantagePoint: config.vantage,
          // A peer's verdict changed: the agreement may have moved, act on it now.
          onPeersChanged: (key: string) => enqueueUrgent(key),
          onAgreement: (key, agreement, previous, settings) => {
            if (manager.isLeader()) void events.agreement(key, agreement, previous, settings);
          },
        }
      : {}),
  });
  if (config.vantage) {
    logger.info(
      { vantage: config.vantage.name, region: config.vantage.region },
      'running as a vantage point: verdicts go to CloudWatch in each policy region; policies with spec.vantagePoints act on agreement (#14)',
    );
  }

  const controller = manager.addController({
    name: 'failoverpolicy',
    informer,
    // Reconciles mostly wait (the apiserver, a Route 53 grant behind PB-8's rate limits; never a change settling:
    // that is handed back), so several run at once and one slow policy does not hold up the queue of a thousand;
    // per-key serialisation still holds (FO_MAX_CONCURRENT_RECONCILES, controller-runtime's MaxConcurrentReconciles).
    workers: config.maxConcurrentReconciles,
    // Health transitions go ahead of resyncs, on workers of their own when those are busy (the urgent lane).
    urgentWorkers: config.maxConcurrentUrgentReconciles,
    reconcile: createPolicyReconciler({
      getPolicy,
      engine,
      // The journal store saves status.journal with a resourceVersion precondition; our own condition writes move
      // its base forward when they leave the journal as it was, so they cause no 409 of our own.
      statusWriter: observedBy(statusWriter, journalStore),
      events,
      finalizers: createFinalizers(kc, resource),
      journal: journalStore,
      onPolicyGone: (key) => journalStore.forget(key),
      tenancy,
      isLeader: () => manager.isLeader(),
      identity: config.identity,
      ...(config.vantage ? { vantage: config.vantage } : {}),
      clock,
      logger,
    }),
  });
  enqueue = (key) => controller.queue.add(key);
  enqueueUrgent = (key) => controller.queue.addUrgent(key);

  // FailoverDrills (PB-12): DryRun drills run the embedded simulation against the real policy; Live drills inject a
  // zone failure into the engine above and measure what it does on AWS. Leader only, like every reconcile.
  const drillResource = { group: GROUP, version: VERSION, plural: DRILL_PLURAL };
  const drillInformer = createCustomResourceInformer<StoredDrill & { metadata: object }>(kc, {
    resource: drillResource,
    clock,
    logger,
    metrics: manager.metrics.informer,
    ...(config.watchNamespace ? { namespace: config.watchNamespace } : {}),
  });
  const getDrill = (key: string) => drillInformer.get(key);
  manager.addController({
    name: 'failoverdrill',
    informer: drillInformer,
    workers: 2,
    reconcile: createDrillReconciler({
      getDrill,
      listDrills: () => drillInformer.list(),
      getPolicy,
      engine,
      simulate: createWorkerDrillSimulator({
        maxConcurrent: config.drillSimulations,
        heapLimitMb: config.drillHeapMb,
        logger,
      }),
      statusWriter: createStatusWriter<StoredDrill['status'] & object>(kc, drillResource),
      events: createDrillEvents({ recorder, getDrill }),
      metrics: operatorMetrics,
      reconcilePolicy: (key) => enqueue(key),
      isLeader: () => manager.isLeader(),
      finalizers: createFinalizers(kc, drillResource),
      tenancy,
      ...(config.drillNamespaceLimit === undefined ? {} : { namespaceDrillLimit: config.drillNamespaceLimit }),
      clock,
      logger,
    }),
  });
  // Every replica probes every policy it could be asked to act on, so a new leader acts on history (DESIGN.md).
  const tracker = createPolicyTracker({ informer, engine, tenancy, logger });
  manager.addRunnable(tracker);
  if (grantsFile) {
    // New grants: stop probing what is no longer permitted, and reconcile every policy (status, and acting on what
    // became permitted) now rather than at its next resync.
    tenancyChanged = () => {
      tracker.syncAll();
      for (const key of informer.keys()) enqueue(key);
    };
    manager.addRunnable(grantsFile);
  }
  options.onManager?.(manager);

  logger.info(
    {
      identity: config.identity,
      leaseNamespace: config.leaseNamespace,
      lease: config.leaderElect ? config.leaseName : '(no leader election)',
      watchNamespace: config.watchNamespace ?? '(all)',
      awsEndpoint: config.awsEndpoint ?? '(AWS)',
      awsRegion: config.awsRegion ?? '(SDK default)',
      metricsPort: config.metricsPort,
      tenancy: config.tenancy.mode === 'Grants' ? config.tenancy.grantsFile : 'Unrestricted',
      metricsSecure: config.metricsSecure,
      healthPort: config.healthPort,
      maxConcurrentReconciles: config.maxConcurrentReconciles,
      maxConcurrentUrgentReconciles: config.maxConcurrentUrgentReconciles,
      route53RequestsPerSecond: config.route53RequestsPerSecond,
    },
    'Starting operator',
  );
  try {
    const exit = await manager.start(signal);
    logger.info({ exit }, 'Operator stopped');
    return exit === 'leadership-lost' ? 1 : 0;
  } finally {
    engineStop.abort(new Error('operator stopped'));
    cloud.destroy();
    termination?.dispose();
  }
}
