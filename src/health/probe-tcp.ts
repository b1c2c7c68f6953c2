// TCP connect probe: the target accepts a connection within timeoutMs (ok), or it does not (down). Slower than
// latencyBudgetMs is `degraded`. Host templates expand `{zone}` / `{region}` like HTTP URLs. A host that is (or
// resolves to) a link-local or instance-metadata address is refused unless the probe sets `allowLinkLocal`
// (probe-target-guard.ts): `degraded` with `callFailed` (never evidence that impairs a zone), the detail naming the
// opt-in field.

import { Socket } from 'node:net';
import type { RegionName, ZoneName } from '../cloud/types.ts';
import { errorMessage, expandTemplate, OPERATOR_SOURCE, type Probe, stableKey } from './probe.ts';
import { createProbeTargetGuard, type ProbeTargetGuard, type Resolver } from './probe-target-guard.ts';

export interface TcpProbeSpec {
  host: string;
  port: number;
  region: RegionName;
  zone?: ZoneName;
  timeoutMs: number;
  latencyBudgetMs?: number;
  /** Connect to link-local and instance-metadata addresses too (`probes[].tcp.allowLinkLocal`). Default false. */
  allowLinkLocal?: boolean;
  /** The policy field that opts in, as refusals name it. Default `probes[].tcp.allowLinkLocal`. */
  optInField?: string;
}

export function createTcpProbe(
  spec: TcpProbeSpec,
  deps: { now: () => number; source?: string; resolver?: Resolver },
): Probe {
  const host = expandTemplate(spec.host, spec);
  const guard = createProbeTargetGuard({
    allowLinkLocal: spec.allowLinkLocal ?? false,
    optInField: spec.optInField ?? 'probes[].tcp.allowLinkLocal',
    ...(deps.resolver ? { resolver: deps.resolver } : {}),
  });
  const address = `${host}:${spec.port}`;
  const source = deps.source ?? OPERATOR_SOURCE;
  const zonePart = spec.zone === undefined ? {} : { zone: spec.zone };
  return {
    key: `tcp:${stableKey({ address, region: spec.region, zone: spec.zone ?? null, timeoutMs: spec.timeoutMs, latencyBudgetMs: spec.latencyBudgetMs ?? null, allowLinkLocal: spec.allowLinkLocal ?? false })}`,
    kind: 'tcp',
    region: spec.region,
    ...zonePart,
    timeoutMs: spec.timeoutMs,
    async run(ctx) {
      const started = deps.now();
      const signal = ctx.timeoutEnforcedByCaller
        ? ctx.signal
        : AbortSignal.any([ctx.signal, AbortSignal.timeout(spec.timeoutMs)]);
      const outcome = await connectOnce(host, spec.port, signal, guard);
      const at = deps.now();
      const latencyMs = Math.round(at - started);
      const base = { kind: 'tcp' as const, region: spec.region, ...zonePart, source, at, latencyMs };
      if (typeof outcome === 'object') {
        return [
          {
            ...base,
            ok: false,
            severity: 'degraded',
            detail: `connect ${address}: ${outcome.refused}`,
            callFailed: true,
          },
        ];
      }
      if (outcome !== 'connected') {
        const timedOut = outcome === 'aborted' ? { timedOut: true, timeoutMs: spec.timeoutMs } : {};
        const detail = outcome === 'aborted' ? `timeout after ${spec.timeoutMs}ms` : outcome;
        return [{ ...base, ok: false, severity: 'down', detail: `connect ${address}: ${detail}`, ...timedOut }];
      }
      if (spec.latencyBudgetMs !== undefined && latencyMs > spec.latencyBudgetMs) {
        return [
          {
            ...base,
            ok: false,
            severity: 'degraded',
            detail: `connect ${address}: ${latencyMs}ms, over budget ${spec.latencyBudgetMs}ms`,
          },
        ];
      }
      return [{ ...base, ok: true, detail: `connect ${address}: ${latencyMs}ms` }];
    },
  };
}

/**
 * One TCP connection attempt: `connected`, `aborted` (the signal fired first), `{ refused }` (the guard refused the
 * address, with why) or the connection error.
 */
export function connectOnce(
  host: string,
  port: number,
  signal: AbortSignal,
  guard: ProbeTargetGuard,
): Promise<'connected' | 'aborted' | { refused: string } | string> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve('aborted');
      return;
    }
    try {
      guard.checkLiteral(host);
    } catch (err) {
      resolve({ refused: errorMessage(err) });
      return;
    }
    const socket = new Socket();
    const finish = (outcome: string | { refused: string }): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish('connected'));
    socket.once('error', (err) =>
      finish((err as { code?: string }).code === 'EPROBETARGETREFUSED' ? { refused: err.message } : errorMessage(err)),
    );
    socket.connect({ port, host, lookup: guard.lookup });
  });
}
