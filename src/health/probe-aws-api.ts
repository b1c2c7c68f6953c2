// The aws-api probe turns the operator's own AWS call statistics (api-call-stats.ts) into ProbeResults: PB-1's
// leading signal. Per service it observes the region as a whole and each named zone over the last `windowMs`:
//   degraded  errorRate >= errorRateThreshold, or p90 latency >= latencyThresholdMs
//   ok        otherwise
// and nothing at all when fewer than `minCalls` calls fell in the window: one failed call out of one is not a
// 100% error rate, and "no traffic" is no evidence that the zone is fine either. It never reports `down`: a rising
// error rate is a warning, not proof the zone is dead; the health model escalates it only if it persists.

import type { AwsService, RegionName, ZoneName } from '../cloud/types.ts';
import type { ApiCallStats } from './api-call-stats.ts';
import { OPERATOR_SOURCE, type Probe, type ProbeObservation, stableKey } from './probe.ts';

export interface AwsApiProbeSpec {
  region: RegionName;
  zones: ZoneName[];
  services: (AwsService | string)[];
  errorRateThreshold: number;
  /** Absent: latency is not judged. */
  latencyThresholdMs?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** Default 10. */
  minCalls?: number;
  /** Reading in-memory stats is instant; the timeout exists only because every probe has one. Default 1 s. */
  timeoutMs?: number;
}

export function createAwsApiProbe(
  spec: AwsApiProbeSpec,
  deps: { stats: ApiCallStats; now: () => number; source?: string },
): Probe {
  const windowMs = spec.windowMs ?? 60_000;
  const minCalls = spec.minCalls ?? 10;
  const source = deps.source ?? OPERATOR_SOURCE;
  const services = [...spec.services].sort();
  const zones = [...spec.zones].sort();
  const scopes: (ZoneName | undefined)[] = [undefined, ...zones];
  return {
    key: `aws-api:${stableKey({ region: spec.region, zones, services, errorRateThreshold: spec.errorRateThreshold, latencyThresholdMs: spec.latencyThresholdMs ?? null, windowMs, minCalls })}`,
    kind: 'aws-api',
    region: spec.region,
    timeoutMs: spec.timeoutMs ?? 1_000,
    async run() {
      const at = deps.now();
      const out: ProbeObservation[] = [];
      for (const service of services) {
        for (const zone of scopes) {
          const s = deps.stats.stats(service, spec.region, zone, windowMs, at);
          if (s.calls < minCalls) continue;
          const where = zone ?? spec.region;
          const summary = `${service} API in ${where}: ${s.errors}/${s.calls} calls failed (${pct(s.errorRate)}), p90 ${s.p90LatencyMs}ms over ${windowMs / 1000}s`;
          const breaches: string[] = [];
          if (s.errorRate >= spec.errorRateThreshold) breaches.push(`error rate >= ${pct(spec.errorRateThreshold)}`);
          if (spec.latencyThresholdMs !== undefined && s.p90LatencyMs >= spec.latencyThresholdMs) {
            breaches.push(`p90 latency >= ${spec.latencyThresholdMs}ms`);
          }
          const base = { kind: 'aws-api' as const, region: spec.region, ...(zone ? { zone } : {}), at, source };
          out.push(
            breaches.length === 0
              ? { ...base, ok: true, detail: summary }
              : { ...base, ok: false, severity: 'degraded', detail: `${summary}; ${breaches.join(', ')} (PB-1)` },
          );
        }
      }
      return out;
    },
  };
}

function pct(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}
