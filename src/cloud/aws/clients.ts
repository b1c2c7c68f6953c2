// The SDK v3 clients the adapters use: one per service and region, created on first use and cached.
//
// - SDK retries are OFF (maxAttempts 1): the executor owns retry, backoff with full jitter, rate limits and the
//   circuit breaker (PB-8). Two retry layers multiply and hide how hard we are hitting a struggling control plane.
// - Every call has a connection and a request timeout (NodeHttpHandler), because in 2011 calls hung rather than
//   failed; the executor's AbortSignal is the outer deadline.
// - The endpoint is configurable so tests point every client at moto (through the fault proxy).
// - Each client carries one named middleware, `failoverCallRecorder`, that reports every call's outcome and
//   latency through `onCall`: the control-plane error-rate signal (PB-1) and the AWS call metrics come from there,
//   not from code sprinkled through the adapters.
// - Only Route 53's SDK is loaded here (every policy uses it). A regional client's class comes from the adapter that
//   needs it (`regional('ec2', region, EC2Client)`), and the adapters of EC2, RDS, CloudWatch and DynamoDB are
//   loaded on first use (index.ts): their SDK packages cost 30–90 MiB of RSS each on import, and a run whose
//   policies never probe EC2 or fail a database over never pays for them.

import { Route53Client } from '@aws-sdk/client-route-53';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  MiddlewareStack,
  Pluggable,
} from '@smithy/types';
import type { CloudErrorKind } from '../errors.ts';
import type { AwsService, RegionName } from '../types.ts';
/** Route 53's control plane lives in us-east-1; its client is global. */
import { ROUTE53_CONTROL_PLANE_REGION } from '../types.ts';
import { awsErrorCode, classifyAwsError } from './errors.ts';

export const ROUTE53_REGION = ROUTE53_CONTROL_PLANE_REGION;

/** The name under which the call recorder sits in every client's middleware stack. */
export const CALL_RECORDER_MIDDLEWARE = 'failoverCallRecorder';

/** One AWS API call as seen from our side, success or failure. */
export interface AwsCallRecord {
  service: AwsService;
  /** API operation name, e.g. ChangeResourceRecordSets. */
  operation: string;
  region: RegionName;
  ok: boolean;
  latencyMs: number;
  /** The service's error code (Throttling, ECONNRESET, TimeoutError, …) when the call failed. */
  errorCode?: string;
  /** What the failure means to the executor (see errors.ts). */
  errorKind?: CloudErrorKind;
  /** Epoch milliseconds at which the call finished. */
  at: number;
}

export interface AwsClientsConfig {
  /** Override for every service (moto / the fault proxy in tests). Unset: the real regional AWS endpoints. */
  endpoint?: string;
  /** Unset: the SDK's default provider chain (env, IRSA web identity, instance profile, …). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Upper bound for one HTTP request, response included. */
  requestTimeoutMs: number;
  /** Upper bound for establishing the TCP/TLS connection. */
  connectionTimeoutMs: number;
  /** Called once per API call when it finishes. Must not throw (it is guarded anyway). */
  onCall?: (call: AwsCallRecord) => void;
  /** Clock for latency and `at` (epoch ms). Defaults to Date.now; inject for tests. */
  now?: () => number;
}

/** The configuration every client is made with (region, no SDK retries, the shared handler, endpoint). */
export interface RegionalClientConfig {
  region: RegionName;
  maxAttempts: number;
  requestHandler: NodeHttpHandler;
  endpoint?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/** An SDK v3 client class (EC2Client, RDSClient, CloudWatchClient, DynamoDBClient…). */
export type RegionalClientClass<C> = new (config: RegionalClientConfig) => C;

/** What the cache needs of a client: closing it, and its middleware stack for the call recorder. */
export interface SdkClient {
  destroy(): void;
  // biome-ignore lint/suspicious/noExplicitAny: every SDK client's stack has its own input and output unions
  middlewareStack: MiddlewareStack<any, any>;
}

export interface AwsClients {
  route53(): Route53Client;
  /**
   * The client of `service` in `region`, made from `Client` on first use and cached (the adapter passes its SDK's
   * class, so this module loads no SDK but Route 53's).
   */
  regional<C extends SdkClient>(service: AwsService, region: RegionName, Client: RegionalClientClass<C>): C;
  /** Closes every cached client's sockets. */
  destroy(): void;
}

function operationOf(context: HandlerExecutionContext): string {
  const fromSmithy = context.__smithy_context?.operation;
  if (typeof fromSmithy === 'string' && fromSmithy.length > 0) return fromSmithy;
  return (context.commandName ?? 'Unknown').replace(/Command$/, '');
}

/**
 * Smithy middleware (initialize step, high priority: outermost, so it sees serialization and network failures
 * as well as service errors) that reports each call through `onCall`. It never changes the call's outcome.
 */
export function callRecorderPlugin<Input extends object, Output extends object>(args: {
  service: AwsService;
  region: RegionName;
  onCall: (call: AwsCallRecord) => void;
  now: () => number;
}): Pluggable<Input, Output> {
  const { service, region, onCall, now } = args;
  const report = (record: AwsCallRecord) => {
    try {
      onCall(record);
    } catch {
      // A failing metrics sink must not turn a successful AWS call into a failure.
    }
  };
  return {
    applyToStack(stack) {
      stack.add(
        (next: InitializeHandler<Input, Output>, context: HandlerExecutionContext) =>
          async (input: InitializeHandlerArguments<Input>): Promise<InitializeHandlerOutput<Output>> => {
            const operation = operationOf(context);
            const started = now();
            try {
              const result = await next(input);
              const at = now();
              report({ service, operation, region, ok: true, latencyMs: at - started, at });
              return result;
            } catch (err) {
              const at = now();
              report({
                service,
                operation,
                region,
                ok: false,
                latencyMs: at - started,
                errorCode: awsErrorCode(err),
                errorKind: classifyAwsError(err),
                at,
              });
              throw err;
            }
          },
        { step: 'initialize', priority: 'high', name: CALL_RECORDER_MIDDLEWARE, override: true },
      );
    },
  };
}

/** Creates the per-region client cache. Nothing connects until the first call. */
export function createAwsClients(config: AwsClientsConfig): AwsClients {
  const now = config.now ?? Date.now;
  const onCall = config.onCall;

  // One handler (and so one keep-alive agent pool) shared by all clients.
  const requestHandler = new NodeHttpHandler({
    requestTimeout: config.requestTimeoutMs,
    // Without this the handler only logs a warning when requestTimeout passes and keeps waiting.
    throwOnRequestTimeout: true,
    connectionTimeout: config.connectionTimeoutMs,
  });

  const common = (region: RegionName): RegionalClientConfig => ({
    region,
    maxAttempts: 1,
    requestHandler,
    ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
    ...(config.credentials !== undefined ? { credentials: config.credentials } : {}),
  });

  const cache = new Map<string, { destroy(): void }>();

  function instrument<Input extends object, Output extends object>(
    stack: MiddlewareStack<Input, Output>,
    service: AwsService,
    region: RegionName,
  ): void {
    if (onCall) stack.use(callRecorderPlugin<Input, Output>({ service, region, onCall, now }));
  }

  function cached<C extends { destroy(): void }>(service: AwsService, region: RegionName, make: () => C): C {
    const key = `${service}/${region}`;
    const existing = cache.get(key);
    if (existing) return existing as C;
    const client = make();
    cache.set(key, client);
    return client;
  }

  return {
    route53: () =>
      cached('route53', ROUTE53_REGION, () => {
        const client = new Route53Client(common(ROUTE53_REGION));
        instrument(client.middlewareStack, 'route53', ROUTE53_REGION);
        return client;
      }),
    regional: (service, region, Client) =>
      cached(service, region, () => {
        const client = new Client(common(region));
        instrument(client.middlewareStack, service, region);
        return client;
      }),
    destroy() {
      for (const client of cache.values()) client.destroy();
      cache.clear();
      requestHandler.destroy();
    },
  };
}
