// The strategies users would otherwise pick, run over the same simulated outage as the operator (the same seed, the
// same endpoint faults), so the drill report can set our detection, traffic-shift time and RTO beside theirs.
//
// Each baseline replays its own checks over the condition history the simulated endpoints recorded: it sees the
// faults our probes saw, gray latency and error rates included, with its own seeded dice (the operator's run is not
// changed by computing them). Times are seconds from the fault the report's measures count from.
//
// What is compared: the time until clients stop being sent to the failed zone, i.e. until resolvers' answers moved
// plus the record's TTL (clients keep a cached answer that long). That holds for us as for them, so our side of
// each ratio is the report's traffic-shifted time plus the same TTL; detection needs no TTL. A ratio is ours ÷
// theirs: 0.25 means we took a quarter of their time. A baseline that cannot do what our RTO includes (promote the
// RDS replica) has no RTO (null, with the reason in its notes): no number is invented.

import type { ConditionChange } from '../../cloud/sim/sim-endpoints.ts';
import { seededRandom } from '../../cloud/sim/sim-random.ts';
import { K8GB_DEFAULTS, k8gbUnhealthyAt } from './k8gb.ts';
import { type CheckReplay, type Route53HealthCheckSettings, route53UnhealthyAt } from './route53-health-check.ts';

/** Ours ÷ theirs, 2 decimals; null when either side has no number (or theirs is 0). */
export interface BaselineRatios {
  detection: number | null;
  trafficShifted: number | null;
  rto: number | null;
}

export interface BaselineResult {
  /** Stable id: `route53-health-check-10s`, `route53-health-check-30s`, `k8gb`. */
  name: string;
  /** How the report writes it. */
  label: string;
  /** Seconds from the measured fault to the baseline holding a zone unhealthy. */
  detectionSeconds: number | null;
  /** Seconds from the measured fault until clients moved: detection + DNS change + TTL. */
  trafficShiftedSeconds: number | null;
  /** As the report defines RTO for us; null when the baseline cannot restore service (see notes). */
  rtoSeconds: number | null;
  notes: string;
  ratios: BaselineRatios;
}

/** Our side of every ratio, on the same basis as the baselines' (clients moved = answers moved + TTL). */
export interface BaselineComparison {
  ratio: 'ours / theirs';
  /** The TTL of the policy's weighted records, added to every answers-moved time (ours and theirs). */
  ttlSeconds: number;
  ours: { detectionSeconds: number | null; trafficShiftedSeconds: number | null; rtoSeconds: number | null };
}

export interface BaselineInputs {
  /** The zones whose records the baselines check, each with its endpoint's condition history (clock ms). */
  zones: ReadonlyArray<{ zone: string; history: readonly ConditionChange[] }>;
  /** Clock ms the checks start at (scenario minute 0), of the fault the measures count from, and of the run's end. */
  startMs: number;
  fromMs: number;
  untilMs: number;
  ttlSeconds: number;
  seed: number;
  /** The report's own measures, seconds from the same fault (answers moved, as the report defines them). */
  ours: { detectionSeconds: number | null; trafficShiftedSeconds: number | null; rtoSeconds: number | null };
  /** Our RTO includes a database promotion, which no baseline performs. */
  promoted: boolean;
}

const ROUTE53_SETTINGS: Array<Route53HealthCheckSettings & { requestIntervalSeconds: 10 | 30 }> = [
  { requestIntervalSeconds: 10, failureThreshold: 3 },
  { requestIntervalSeconds: 30, failureThreshold: 3 },
];

export function ratio(ours: number | null, theirs: number | null): number | null {
  if (ours === null || theirs === null || theirs === 0) return null;
  return Math.round((ours / theirs) * 100) / 100;
}

export function runBaselines(inp: BaselineInputs): { baselines: BaselineResult[]; comparison: BaselineComparison } {
  const plusTtl = (s: number | null) => (s === null ? null : s + inp.ttlSeconds);
  const ours = {
    detectionSeconds: inp.ours.detectionSeconds,
    trafficShiftedSeconds: plusTtl(inp.ours.trafficShiftedSeconds),
    rtoSeconds: plusTtl(inp.ours.rtoSeconds),
  };
  const replay = (name: string, zone: string, history: readonly ConditionChange[]): CheckReplay => ({
    history,
    startMs: inp.startMs,
    fromMs: inp.fromMs,
    untilMs: inp.untilMs,
    random: seededRandom(inp.seed, `baseline:${name}:${zone}`),
  });
  const results: BaselineResult[] = [];
  for (const settings of ROUTE53_SETTINGS) {
    const name = `route53-health-check-${settings.requestIntervalSeconds}s`;
    const seen = inp.zones.map(({ zone, history }) => route53UnhealthyAt(replay(name, zone, history), settings));
    results.push(
      result(inp, ours, {
        name,
        label: `Route 53 health checks, ${settings.requestIntervalSeconds}s × ${settings.failureThreshold}`,
        unhealthyAt: earliest(seen),
        why: `one HTTP health check per zone record, ${settings.requestIntervalSeconds}s interval, failure threshold ${settings.failureThreshold}, unhealthy at ≤18% healthy checkers; resolvers skip the record at once, clients after the ${inp.ttlSeconds}s TTL`,
        cannotPromote: 'n/a: Route 53 health-check failover moves DNS answers only; it never promotes the RDS replica',
      }),
    );
  }
  const phaseMs = Math.floor(seededRandom(inp.seed, 'baseline:k8gb:phase')() * K8GB_DEFAULTS.requeueSeconds * 1000);
  const k8gbSeen = inp.zones.map(({ zone, history }) =>
    k8gbUnhealthyAt(replay('k8gb', zone, history), { ...K8GB_DEFAULTS, phaseMs }),
  );
  results.push(
    result(inp, ours, {
      name: 'k8gb',
      label: `k8gb-style GSLB, ${K8GB_DEFAULTS.requeueSeconds}s requeue`,
      unhealthyAt: earliest(k8gbSeen),
      why: `reconciles every ${K8GB_DEFAULTS.requeueSeconds}s, one readiness look (${K8GB_DEFAULTS.readinessTimeoutMs / 1000}s timeout) per zone endpoint, drops a failing zone from its own DNS at once, clients after the ${inp.ttlSeconds}s TTL; kubelet's readiness failure threshold not modelled (in its favour)`,
      cannotPromote: 'n/a: a GSLB controller moves DNS answers only; it never promotes the RDS replica',
    }),
  );
  return { baselines: results, comparison: { ratio: 'ours / theirs', ttlSeconds: inp.ttlSeconds, ours } };
}

function earliest(times: Array<number | undefined>): number | undefined {
  const seen = times.filter((t): t is number => t !== undefined);
  return seen.length === 0 ? undefined : Math.min(...seen);
}

function result(
  inp: BaselineInputs,
  ours: BaselineComparison['ours'],
  b: { name: string; label: string; unhealthyAt: number | undefined; why: string; cannotPromote: string },
): BaselineResult {
  const detection = b.unhealthyAt === undefined ? null : Math.round((b.unhealthyAt - inp.fromMs) / 1000);
  // DNS change: none to wait for (the name servers act on the status at once), then the TTL.
  const shifted = detection === null ? null : detection + inp.ttlSeconds;
  const rto = inp.promoted ? null : shifted;
  const notes = [
    b.why,
    ...(detection === null ? ['never saw the endpoints fail: nothing moved'] : []),
    ...(inp.promoted ? [b.cannotPromote] : []),
  ].join('; ');
  return {
    name: b.name,
    label: b.label,
    detectionSeconds: detection,
    trafficShiftedSeconds: shifted,
    rtoSeconds: rto,
    notes,
    ratios: {
      detection: ratio(ours.detectionSeconds, detection),
      trafficShifted: ratio(ours.trafficShiftedSeconds, shifted),
      rto: ratio(ours.rtoSeconds, rto),
    },
  };
}
