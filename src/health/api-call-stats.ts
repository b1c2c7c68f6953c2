// The control-plane signal of PB-1: in April 2011 the EBS/EC2 API error rate and latency rose minutes before
// endpoints died. Every AWS call the operator makes is recorded here (by the executor's middleware and the
// adapters); the aws-api probe (probe-aws-api.ts) turns the recent window into ProbeResults.
//
// A sliding window of raw samples per (service, region, zone): exact error rates and p90 latency over any window
// up to `retentionMs`. Memory is bounded twice: samples older than the retention are pruned on every record, and
// each series keeps at most `maxSamplesPerSeries` (oldest dropped first) — a call storm cannot grow it unbounded.

import type { RegionName, ZoneName } from '../cloud/types.ts';

export interface ApiCallSample {
  service: string;
  operation: string;
  region: RegionName;
  zone?: ZoneName;
  ok: boolean;
  latencyMs: number;
  at: number; // epoch ms
}

export interface ApiCallWindowStats {
  calls: number;
  errors: number;
  /** errors / calls; 0 when there were no calls. */
  errorRate: number;
  /** Nearest-rank 90th percentile latency; 0 when there were no calls. */
  p90LatencyMs: number;
}

export interface ApiCallStats {
  record(sample: ApiCallSample): void;
  /**
   * Calls to `service` in `region` within (now - windowMs, now]. With `zone`, only calls that targeted that zone;
   * without, every call in the region (zone-targeted or not).
   */
  stats(
    service: string,
    region: RegionName,
    zone: ZoneName | undefined,
    windowMs: number,
    now: number,
  ): ApiCallWindowStats;
}

export interface ApiCallStatsOptions {
  /** How long samples are kept; the longest window `stats` can answer. Default 10 minutes. */
  retentionMs?: number;
  /** Cap per (service, region, zone) series. Default 10,000. */
  maxSamplesPerSeries?: number;
}

interface Entry {
  at: number;
  ok: boolean;
  latencyMs: number;
}

export function createApiCallStats(options: ApiCallStatsOptions = {}): ApiCallStats {
  const retentionMs = options.retentionMs ?? 10 * 60_000;
  const maxSamples = options.maxSamplesPerSeries ?? 10_000;
  // service -> region -> zone ('' for region-wide calls) -> samples in arrival order
  const series = new Map<string, Map<RegionName, Map<string, Entry[]>>>();

  function prune(list: Entry[], newest: number): void {
    let drop = 0;
    while (drop < list.length && list[drop]!.at <= newest - retentionMs) drop++;
    if (list.length - drop > maxSamples) drop = list.length - maxSamples;
    if (drop > 0) list.splice(0, drop);
  }

  return {
    record(sample) {
      let byRegion = series.get(sample.service);
      if (!byRegion) {
        byRegion = new Map();
        series.set(sample.service, byRegion);
      }
      let byZone = byRegion.get(sample.region);
      if (!byZone) {
        byZone = new Map();
        byRegion.set(sample.region, byZone);
      }
      const zoneKey = sample.zone ?? '';
      let list = byZone.get(zoneKey);
      if (!list) {
        list = [];
        byZone.set(zoneKey, list);
      }
      list.push({ at: sample.at, ok: sample.ok, latencyMs: sample.latencyMs });
      prune(list, sample.at);
    },

    stats(service, region, zone, windowMs, now) {
      const byZone = series.get(service)?.get(region);
      const lists = !byZone ? [] : zone === undefined ? [...byZone.values()] : [byZone.get(zone) ?? []];
      const latencies: number[] = [];
      let errors = 0;
      for (const list of lists) {
        for (const e of list) {
          if (e.at <= now - windowMs || e.at > now) continue;
          latencies.push(e.latencyMs);
          if (!e.ok) errors++;
        }
      }
      const calls = latencies.length;
      if (calls === 0) return { calls: 0, errors: 0, errorRate: 0, p90LatencyMs: 0 };
      latencies.sort((a, b) => a - b);
      const p90LatencyMs = latencies[Math.ceil(0.9 * calls) - 1]!;
      return { calls, errors, errorRate: errors / calls, p90LatencyMs };
    },
  };
}
