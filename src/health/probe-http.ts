// HTTP(S) endpoint probe (PB-1: probe every zone and region on a short interval). Verdicts:
//   ok        status in expectStatus, body matches (when asked), latency within the budget
//   degraded  the right answer, but slower than latencyBudgetMs (a leading signal, not a dead endpoint)
//   down      wrong status, body mismatch, connection error, or no answer within timeoutMs
// The fetch function is injected so the simulation can substitute simulated endpoints; the default is Node's
// guarded node:http client (probe-http-client.ts), cancelled with AbortSignal.timeout so a hanging endpoint costs
// at most timeoutMs. Redirects are not followed. A target that is (or resolves to) a link-local or instance-metadata
// address is refused unless the probe opts in (probe-target-guard.ts); the refusal is `degraded` with `callFailed`
// — the probe never asked the target, so it keeps the zone from counting as Healthy but is never evidence of an
// outage that impairs it (no promotion on a misconfigured probe) — and its detail names the opt-in field.

import type { RegionName, ZoneName } from '../cloud/types.ts';
import {
  errorMessage,
  expandTemplate,
  OPERATOR_SOURCE,
  type Probe,
  type ProbeObservation,
  stableKey,
} from './probe.ts';
import { createGuardedFetch } from './probe-http-client.ts';
import { createProbeTargetGuard, type ProbeTargetRefusedError, type Resolver } from './probe-target-guard.ts';

/** The part of fetch the probe uses; `globalThis.fetch` fits, and so does a simulated endpoint. */
export type FetchLike = (
  url: string,
  init: { method: string; signal: AbortSignal; redirect: 'manual'; headers?: Record<string, string> },
) => Promise<{ status: number; text(): Promise<string>; body?: ReadableStream<Uint8Array> | null }>;

/**
 * At most this much of a probe's response body is read (and matched by bodyMatch): a health endpoint that streams
 * megabytes, by accident or on purpose, costs the operator 64 KiB per probe, not the whole stream.
 */
export const MAX_PROBE_BODY_BYTES = 64 * 1024;

/**
 * The URL as it may appear in status, Events and logs: scheme, host and path only. Query strings carry tokens more
 * often than anyone intends, and user-info is refused by the schema but never printed either.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return url.replace(/[?#].*$/, '?…');
  }
}

/** Reads at most `limit` bytes of the body (then cancels the rest); falls back to text() without a stream. */
async function readBodyPrefix(
  res: { text(): Promise<string>; body?: ReadableStream<Uint8Array> | null },
  limit: number,
): Promise<string> {
  if (!res.body) return (await res.text()).slice(0, limit);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    if (size >= limit) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

export interface HttpProbeSpec {
  /** `http://` or `https://` URL; `{zone}` and `{region}` are expanded for the target. */
  url: string;
  region: RegionName;
  zone?: ZoneName;
  timeoutMs: number;
  /** Status codes that count as healthy. Absent: any 2xx (the policy schema's default). */
  expectStatus?: number[];
  /** Slower answers are `degraded`; absent means no latency budget. */
  latencyBudgetMs?: number;
  /** A regular expression (source text) the body must match. */
  bodyMatch?: string;
  headers?: Record<string, string>;
  /** Probe link-local and instance-metadata addresses too (`probes[].http.allowLinkLocal`). Default false. */
  allowLinkLocal?: boolean;
  /** The policy field that opts in, as refusals name it. Default `probes[].http.allowLinkLocal`. */
  optInField?: string;
}

export interface HttpProbeDeps {
  /**
   * Default: the guarded node:http client. A substitute (the simulation's endpoints) does its own connecting, so
   * only literal addresses in the URL are checked before it is called.
   */
  fetch?: FetchLike;
  /** How the default client resolves names (checked before connecting); default getaddrinfo. */
  resolver?: Resolver;
  /** Monotonic-enough clock for latency; injected so tests and simulation control it. */
  now: () => number;
  source?: string;
}

export function createHttpProbe(spec: HttpProbeSpec, deps: HttpProbeDeps): Probe {
  const url = expandTemplate(spec.url, spec);
  const shown = redactUrl(url);
  const expectStatus = spec.expectStatus;
  const statusOk = (status: number): boolean =>
    expectStatus ? expectStatus.includes(status) : status >= 200 && status <= 299;
  const expected = expectStatus ? expectStatus.join('|') : '2xx';
  const bodyPattern = spec.bodyMatch === undefined ? undefined : new RegExp(spec.bodyMatch);
  const guard = createProbeTargetGuard({
    allowLinkLocal: spec.allowLinkLocal ?? false,
    optInField: spec.optInField ?? 'probes[].http.allowLinkLocal',
    ...(deps.resolver ? { resolver: deps.resolver } : {}),
  });
  const doFetch: FetchLike = deps.fetch ?? createGuardedFetch(guard);
  const source = deps.source ?? OPERATOR_SOURCE;
  const kind = 'http' as const;
  const key = `http:${stableKey({
    url,
    region: spec.region,
    zone: spec.zone ?? null,
    expectStatus: expectStatus ?? '2xx',
    timeoutMs: spec.timeoutMs,
    latencyBudgetMs: spec.latencyBudgetMs ?? null,
    bodyMatch: spec.bodyMatch ?? null,
    headers: spec.headers ?? null,
    allowLinkLocal: spec.allowLinkLocal ?? false,
  })}`;

  return {
    key,
    kind,
    region: spec.region,
    ...(spec.zone === undefined ? {} : { zone: spec.zone }),
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const base = {
        kind,
        region: spec.region,
        ...(spec.zone === undefined ? {} : { zone: spec.zone }),
        source,
      };
      const signal = ctx.timeoutEnforcedByCaller
        ? ctx.signal
        : AbortSignal.any([ctx.signal, AbortSignal.timeout(spec.timeoutMs)]);
      const observe = (
        ok: boolean,
        detail: string,
        severity?: 'degraded' | 'down',
        timedOut = false,
        callFailed = false,
      ): ProbeObservation[] => {
        const at = deps.now();
        return [
          {
            ...base,
            ok,
            ...(severity ? { severity } : {}),
            at,
            latencyMs: Math.round(at - started),
            detail,
            ...(timedOut ? { timedOut: true, timeoutMs: spec.timeoutMs } : {}),
            ...(callFailed ? { callFailed: true } : {}),
          },
        ];
      };
      try {
        guard.checkLiteral(new URL(url).hostname);
        const res = await doFetch(url, {
          method: 'GET',
          signal,
          redirect: 'manual',
          ...(spec.headers ? { headers: spec.headers } : {}),
        });
        // Read the body under the same signal: a server that sends headers and then stalls is still hanging. Only a
        // prefix: the probe needs a status and a match, not the whole stream.
        const body = await readBodyPrefix(res, MAX_PROBE_BODY_BYTES);
        const latencyMs = Math.round(deps.now() - started);
        if (!statusOk(res.status)) {
          return observe(false, `GET ${shown}: status ${res.status}, expected ${expected}`, 'down');
        }
        if (bodyPattern && !bodyPattern.test(body)) {
          return observe(false, `GET ${shown}: body did not match /${bodyPattern.source}/`, 'down');
        }
        if (spec.latencyBudgetMs !== undefined && latencyMs > spec.latencyBudgetMs) {
          return observe(
            false,
            `GET ${shown}: status ${res.status} in ${latencyMs}ms, over budget ${spec.latencyBudgetMs}ms`,
            'degraded',
          );
        }
        return observe(true, `GET ${shown}: status ${res.status} in ${latencyMs}ms`);
      } catch (err) {
        const refused = asTargetRefused(err);
        if (refused) return observe(false, `GET ${shown}: ${refused.message}`, 'degraded', false, true);
        if (signal.aborted && !ctx.signal.aborted) {
          return observe(false, `GET ${shown}: timeout after ${spec.timeoutMs}ms`, 'down', true);
        }
        if (ctx.signal.aborted) return observe(false, `GET ${shown}: aborted`, 'down');
        return observe(false, `GET ${shown}: ${errorMessage(err)}`, 'down');
      }
    },
  };
}

/** The guard's refusal, however the client wrapped it (node:http passes the lookup's error on as it is). */
export function asTargetRefused(err: unknown): ProbeTargetRefusedError | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === 'EPROBETARGETREFUSED') return e as ProbeTargetRefusedError;
  }
  return undefined;
}
