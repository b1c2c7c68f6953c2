// RDS data-plane probe (`probes[].rds.connect`): can a client reach the database at all? The instance-status probe
// (probe-rds.ts) asks the RDS control plane, which can be impaired while the database serves, or answer while it is
// unreachable; promotion needs data-plane evidence (DESIGN "Evidence before irreversible steps"), so this probe
// opens a connection to the instance's endpoint, region-wide, one result per instance (`subject`):
//   ok        the endpoint accepted a connection (the simulation: answered a query) within the timeout
//   degraded  it answered with an error (a live server that refuses work), or its address is not known yet —
//             unknown is not down
//   down      refused or reset (nothing listening), or no answer within the timeout (`timedOut`)
// The connection is made by an injected DatabaseConnector. The real one (createTcpDatabaseConnector) learns the
// endpoint from DescribeDBInstances and keeps the last one it saw: the run itself never waits on the control plane
// (a describe that hangs must not look like a database that does not answer), a refresh runs in the background at
// most once a minute, and a describe failure keeps the cached endpoint.

import type { Databases, RegionName } from '../cloud/types.ts';
import { errorMessage, OPERATOR_SOURCE, type Probe, type ProbeObservation, stableKey } from './probe.ts';
import { isChangingStatus, type RdsInstanceRef } from './probe-rds.ts';
import { createProbeTargetGuard, type Resolver } from './probe-target-guard.ts';
import { connectOnce } from './probe-tcp.ts';

/** What one connection attempt to a database found. */
export type DatabaseConnectOutcome =
  /** Connected (and, where the connector runs one, the query answered). */
  | 'answered'
  /** Connected, but the server answered with an error. */
  | 'answered-with-error'
  /** Refused, reset or unroutable: nothing is serving at the endpoint. */
  | 'refused'
  /** Nothing answered within the timeout. */
  | 'no-answer'
  /** The endpoint's address is not known (never described yet): no evidence either way. */
  | 'unknown';

export interface DatabaseConnectAnswer {
  outcome: DatabaseConnectOutcome;
  latencyMs: number;
  detail: string;
  /** The instance's status as last described, when known: a failed connect during a planned change is not a failure. */
  instanceStatus?: string;
}

/** After a failed connect the endpoint and status are described again, at most this often (a reboot shows at once). */
export const FAILED_CONNECT_REFRESH_MS = 5_000;

/** Opens one connection to a DB instance, honouring `signal` (aborted at `timeoutMs` by the scheduler). */
export type DatabaseConnector = (
  region: RegionName,
  dbInstanceIdentifier: string,
  opts: { timeoutMs: number; signal: AbortSignal },
) => Promise<DatabaseConnectAnswer>;

/** How often the real connector re-reads an instance's endpoint (it changes only on replacement or rename). */
export const ENDPOINT_REFRESH_MS = 60_000;

/**
 * The real connector: DescribeDBInstances for Endpoint.Address / Endpoint.Port (cached, refreshed in the
 * background), then a TCP connect (probe-tcp.ts). An instance whose port the adapter does not report is `unknown`:
 * guessing a default port would turn a wrong guess into "database down".
 */
export function createTcpDatabaseConnector(deps: {
  databases: Pick<Databases, 'describeInstance'>;
  now: () => number;
  /**
   * Default: a TCP connect, refusing link-local and instance-metadata addresses like every probe (there is no opt-in:
   * an endpoint RDS reports never is one, so one that resolves there is a rebinding or a poisoned resolver).
   */
  connect?: (
    host: string,
    port: number,
    signal: AbortSignal,
  ) => Promise<'connected' | 'aborted' | { refused: string } | string>;
  /** How the default connect resolves the endpoint; default getaddrinfo. */
  resolver?: Resolver;
}): DatabaseConnector {
  const guard = createProbeTargetGuard({
    allowLinkLocal: false,
    ...(deps.resolver ? { resolver: deps.resolver } : {}),
  });
  const connect =
    deps.connect ?? ((host: string, port: number, signal: AbortSignal) => connectOnce(host, port, signal, guard));
  const cache = new Map<string, { host: string; port: number; status?: string }>();
  const refreshing = new Map<string, Promise<void>>();
  const refreshedAt = new Map<string, number>();
  const lastError = new Map<string, string>();

  function refresh(region: RegionName, id: string): Promise<void> {
    const key = `${region}/${id}`;
    const inFlight = refreshing.get(key);
    if (inFlight) return inFlight;
    refreshedAt.set(key, deps.now());
    const done = deps.databases
      .describeInstance(region, id)
      .then((instance) => {
        const port = instance?.port;
        if (instance?.endpoint !== undefined && port !== undefined) {
          cache.set(key, { host: instance.endpoint, port, status: instance.status });
          lastError.delete(key);
        } else if (!cache.has(key)) {
          lastError.set(key, instance ? 'DescribeDBInstances reports no endpoint address and port' : 'not found');
        }
      })
      .catch((err: unknown) => {
        lastError.set(key, `DescribeDBInstances failed: ${errorMessage(err)}`);
      })
      .finally(() => refreshing.delete(key));
    refreshing.set(key, done);
    return done;
  }

  return async (region, id, opts) => {
    const key = `${region}/${id}`;
    if (
      !refreshing.has(key) &&
      deps.now() - (refreshedAt.get(key) ?? Number.NEGATIVE_INFINITY) >= ENDPOINT_REFRESH_MS
    ) {
      void refresh(region, id);
    }
    const endpoint = cache.get(key);
    if (!endpoint) {
      const why = lastError.get(key) ?? 'DescribeDBInstances has not answered yet';
      return { outcome: 'unknown', latencyMs: 0, detail: `${id} (${region}): endpoint unknown (${why})` };
    }
    const started = deps.now();
    const outcome = await connect(endpoint.host, endpoint.port, opts.signal);
    const latencyMs = Math.round(deps.now() - started);
    const address = `${endpoint.host}:${endpoint.port}`;
    // Refused by the guard: the database was never asked, so this is no evidence about it either way.
    if (typeof outcome === 'object')
      return { outcome: 'unknown', latencyMs, detail: `connect ${address}: ${outcome.refused}` };
    if (outcome === 'connected')
      return { outcome: 'answered', latencyMs, detail: `connect ${address}: ${latencyMs}ms` };
    // Not answering: is it rebooting for a change (our own promotion)? Look again soon, so the next round knows.
    if (!refreshing.has(key) && deps.now() - (refreshedAt.get(key) ?? 0) >= FAILED_CONNECT_REFRESH_MS) {
      void refresh(region, id);
    }
    const status = endpoint.status === undefined ? {} : { instanceStatus: endpoint.status };
    if (outcome === 'aborted') {
      return {
        outcome: 'no-answer',
        latencyMs,
        detail: `connect ${address}: timeout after ${opts.timeoutMs}ms`,
        ...status,
      };
    }
    return { outcome: 'refused', latencyMs, detail: `connect ${address}: ${outcome}`, ...status };
  };
}

export function createRdsConnectProbe(
  spec: { instance: RdsInstanceRef; timeoutMs: number },
  deps: { connect: DatabaseConnector; now: () => number; source?: string },
): Probe {
  const { region, dbInstanceIdentifier: id } = spec.instance;
  const source = deps.source ?? OPERATOR_SOURCE;
  return {
    key: `rds-connect:${stableKey({ region, id, timeoutMs: spec.timeoutMs })}`,
    kind: 'rds-connect',
    region,
    subject: id,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const answer = await deps.connect(region, id, { timeoutMs: spec.timeoutMs, signal: ctx.signal });
      const base = {
        kind: 'rds-connect' as const,
        region,
        subject: id,
        at: deps.now(),
        latencyMs: answer.latencyMs,
        source,
        detail: answer.detail,
      };
      const planned =
        answer.outcome !== 'answered' && answer.instanceStatus !== undefined && isChangingStatus(answer.instanceStatus);
      const observation: ProbeObservation =
        answer.outcome === 'answered'
          ? { ...base, ok: true }
          : planned
            ? {
                ...base,
                ok: true,
                detail: `${answer.detail} (instance ${answer.instanceStatus}: a planned change, not a failure)`,
              }
            : answer.outcome === 'answered-with-error' || answer.outcome === 'unknown'
              ? { ...base, ok: false, severity: 'degraded' }
              : answer.outcome === 'no-answer'
                ? { ...base, ok: false, severity: 'down', timedOut: true, timeoutMs: spec.timeoutMs }
                : { ...base, ok: false, severity: 'down' };
      return [observation];
    },
  };
}
