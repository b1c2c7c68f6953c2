// Simulated probe targets: the service's endpoint in each zone (what an http probe of
// `https://api-{zone}.example.com/healthz` reaches) and each database's connection (what a database probe reaches).
//
// A zone's endpoint health is the combination of layered conditions, each set by a different source so that one
// recovering does not hide another: a scenario's explicit `endpoints:` effect, the zone's EC2 connectivity, an EBS
// stall (in 2011 EBS-backed instances stalled, so their HTTP answers slowed and failed). Combined: down if any is
// down; error rates compound; the largest added latency wins, and so does the largest jitter.
//
// Probes cost clock time: an answer takes its latency, a dead endpoint takes the whole timeout.

import type { Clock } from '../../clock.ts';
import type { RegionName, ZoneName } from '../types.ts';
import type { RandomSource } from './sim-random.ts';

export type EndpointHealth =
  | { kind: 'ok' }
  | { kind: 'slow'; latencyMs: number }
  | { kind: 'down' }
  | { kind: 'erroring'; rate: number; latencyMs?: number };

export interface EndpointCondition {
  down?: boolean;
  /** Share of requests answered 503 (0..1). */
  errorRate?: number;
  /** Added response latency (ms). */
  latencyMs?: number;
  /** A further 0..latencyJitterMs ms per answer, uniform (seeded): latency that straddles a probe's timeout. */
  latencyJitterMs?: number;
}

export interface ProbeAnswer {
  ok: boolean;
  /** HTTP status; 0 when nothing answered within the timeout. */
  status: number;
  latencyMs: number;
  detail: string;
  /** Databases: the instance's status when it did not answer (a reboot during a promotion is a planned change). */
  instanceStatus?: string;
}

/** The part of fetch the http probe uses (src/health/probe-http.ts FetchLike). */
export type SimFetch = (
  url: string,
  init: { method: string; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface SimEndpoints {
  addZone(region: RegionName, zone: ZoneName): void;
  /** Sets (or clears, with undefined) one source's condition on a zone's endpoint. */
  setCondition(zone: ZoneName, source: string, condition: EndpointCondition | undefined): void;
  /** Shorthand for the `manual` source: force a health state. */
  setHealth(zone: ZoneName, health: EndpointHealth): void;
  /** The combined health of a zone's endpoint now. */
  health(zone: ZoneName): EndpointHealth;
  /**
   * The zone's combined condition from each change on (clock ms), oldest first; empty while it was never changed
   * (healthy). One entry per change that made a difference, so a week of scenario events stays a few entries: the
   * drill report's baselines (src/simulate/baselines.ts) replay their own checks over it.
   */
  conditionHistory(zone: ZoneName): readonly ConditionChange[];
  /** One simulated HTTP GET of the zone's endpoint, honouring `timeoutMs` on the clock. */
  probeEndpoint(zone: ZoneName, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ProbeAnswer>;
  /**
   * fetch() over the simulated endpoints: a URL naming a zone (`api-us-east-1a.example.com`) reaches that zone;
   * one naming only a region reaches a healthy zone of it, as a regional load balancer would. A dead endpoint
   * never answers: it ends when the signal aborts (use a clock-driven signal, see clockTimeout in src/clock.ts).
   */
  fetch: SimFetch;
}

/** From `at` (clock ms) on, a zone's endpoint had this combined condition. */
export interface ConditionChange {
  at: number;
  condition: Required<EndpointCondition>;
}

/** A request to a dead endpoint with no signal gives up after this long (a TCP connect timeout). */
const CONNECT_TIMEOUT_MS = 30_000;
/** Every answer takes this long, plus 0..LATENCY_SPREAD_MS-1 ms of seeded spread, plus the conditions' latency. */
export const BASE_LATENCY_MS = 20;
export const LATENCY_SPREAD_MS = 10;

export function combine(conditions: Iterable<EndpointCondition>): Required<EndpointCondition> {
  let down = false;
  let pass = 1;
  let latencyMs = 0;
  let latencyJitterMs = 0;
  for (const c of conditions) {
    down ||= c.down === true;
    pass *= 1 - Math.min(1, Math.max(0, c.errorRate ?? 0));
    latencyMs = Math.max(latencyMs, c.latencyMs ?? 0);
    latencyJitterMs = Math.max(latencyJitterMs, c.latencyJitterMs ?? 0);
  }
  return { down, errorRate: 1 - pass, latencyMs, latencyJitterMs };
}

function toHealth(c: Required<EndpointCondition>): EndpointHealth {
  if (c.down || c.errorRate >= 1) return { kind: 'down' };
  if (c.errorRate > 0)
    return { kind: 'erroring', rate: c.errorRate, ...(c.latencyMs > 0 ? { latencyMs: c.latencyMs } : {}) };
  if (c.latencyMs > 0) return { kind: 'slow', latencyMs: c.latencyMs };
  return { kind: 'ok' };
}

function fromHealth(h: EndpointHealth): EndpointCondition {
  switch (h.kind) {
    case 'ok':
      return {};
    case 'slow':
      return { latencyMs: h.latencyMs };
    case 'down':
      return { down: true };
    case 'erroring':
      return { errorRate: h.rate, latencyMs: h.latencyMs ?? 0 };
  }
}

const abortReason = (signal: AbortSignal) =>
  signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

export function createSimEndpoints(clock: Clock, random: RandomSource): SimEndpoints {
  const zones = new Map<
    ZoneName,
    { region: RegionName; conditions: Map<string, EndpointCondition>; history: ConditionChange[] }
  >();

  function zoneEntry(zone: ZoneName) {
    const entry = zones.get(zone);
    if (!entry) throw new Error(`simulated endpoints: unknown zone ${zone}`);
    return entry;
  }

  const effective = (zone: ZoneName) => combine(zoneEntry(zone).conditions.values());

  /** Latency and status of one request to a live endpoint (dice from the zone's own stream). */
  function answer(zone: ZoneName): { latencyMs: number; status: number } {
    const c = effective(zone);
    const jitter = Math.floor(random.next(`endpoint-latency:${zone}`) * LATENCY_SPREAD_MS);
    // Its own stream, drawn only when asked: scenarios without jitter see the same dice as before.
    const extra =
      c.latencyJitterMs > 0 ? Math.floor(random.next(`endpoint-jitter:${zone}`) * (c.latencyJitterMs + 1)) : 0;
    const failed = c.errorRate > 0 && random.next(`endpoint-error:${zone}`) < c.errorRate;
    return { latencyMs: BASE_LATENCY_MS + jitter + c.latencyMs + extra, status: failed ? 503 : 200 };
  }

  function zoneForUrl(url: string): ZoneName | undefined {
    const host = (() => {
      try {
        return new URL(url).hostname;
      } catch {
        return url;
      }
    })();
    const named = [...zones.keys()].filter((z) => host.includes(z)).sort((a, b) => b.length - a.length)[0];
    if (named) return named;
    const regions = [...new Set([...zones.values()].map((z) => z.region))].filter((r) => host.includes(r));
    const region = regions.sort((a, b) => b.length - a.length)[0];
    if (!region) return undefined;
    const inRegion = [...zones].filter(([, z]) => z.region === region).map(([name]) => name);
    const alive = inRegion.filter((z) => !effective(z).down);
    const pool = alive.length > 0 ? alive : inRegion;
    return pool[Math.floor(random.next(`endpoint-lb:${region}`) * pool.length)];
  }

  const endpoints: SimEndpoints = {
    addZone(region, zone) {
      zones.set(zone, { region, conditions: new Map(), history: [] });
    },
    setCondition(zone, source, condition) {
      const { conditions, history } = zoneEntry(zone);
      if (condition) conditions.set(source, { ...condition });
      else conditions.delete(source);
      const now = combine(conditions.values());
      const last = history.at(-1)?.condition ?? combine([]);
      if (JSON.stringify(now) !== JSON.stringify(last)) history.push({ at: clock.now(), condition: now });
    },
    conditionHistory: (zone) => zoneEntry(zone).history,
    setHealth(zone, health) {
      endpoints.setCondition(zone, 'manual', fromHealth(health));
    },
    health: (zone) => toHealth(effective(zone)),

    async probeEndpoint(zone, opts) {
      const { timeoutMs, signal } = opts;
      const timedOut = async (): Promise<ProbeAnswer> => {
        await clock.sleep(timeoutMs, signal);
        return { ok: false, status: 0, latencyMs: timeoutMs, detail: `no answer from ${zone} within ${timeoutMs}ms` };
      };
      if (effective(zone).down) return timedOut();
      const { latencyMs, status } = answer(zone);
      if (latencyMs >= timeoutMs) return timedOut();
      await clock.sleep(latencyMs, signal);
      return {
        ok: status === 200,
        status,
        latencyMs,
        detail: `GET ${zone}: HTTP ${status} in ${latencyMs}ms`,
      };
    },

    async fetch(url, init) {
      const signal = init.signal;
      if (signal?.aborted) throw abortReason(signal);
      const zone = zoneForUrl(url);
      if (!zone) throw new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${url}`);
      if (effective(zone).down) {
        await clock.sleep(CONNECT_TIMEOUT_MS, signal);
        throw new Error(`connect ETIMEDOUT ${url}`);
      }
      const { latencyMs, status } = answer(zone);
      await clock.sleep(latencyMs, signal);
      return { status, text: async () => (status === 200 ? 'ok' : 'service unavailable') };
    },
  };
  return endpoints;
}
