// Baseline: Route 53 health-check failover, what a team without this operator would configure — one endpoint
// health check per zone record (HTTP to the zone's endpoint, the same one our http probe reaches) and records that
// Route 53 answers only while their check is healthy (failover or weighted routing with health checks).
//
// How Route 53 judges an endpoint (Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check
// is healthy", https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html;
// API reference HealthCheckConfig: RequestInterval 10 or 30, FailureThreshold default 3):
// - health checkers in several locations each send a request every RequestInterval seconds, uncoordinated (here:
//   each checker starts at its own seeded phase within the interval);
// - an HTTP check fails when no TCP connection is made within 4 s or no 2xx/3xx status comes within 2 s after it
//   (here: an answer slower than 2 s fails, a dead endpoint fails);
// - a checker changes its view after FailureThreshold consecutive failures (or successes);
// - Route 53 considers the endpoint healthy while more than 18% of its checkers report it healthy, unhealthy at 18%
//   or fewer — with 8 checkers, once 7 of them have seen FailureThreshold failures in a row. A fault at T with a
//   10 s interval and threshold 3 is therefore seen between T+20 s and T+30 s.
// Resolvers then skip the record; clients keep the old answer for the record's TTL. Route 53 does not document how
// long its name servers take to act on a status change; the model takes it as immediate (in the baselines' favour).

import type { ConditionChange } from '../../cloud/sim/sim-endpoints.ts';
import { conditionCursor, requestFails } from './endpoint-replay.ts';

export interface Route53HealthCheckSettings {
  requestIntervalSeconds: 10 | 30;
  failureThreshold: number;
  /** Health checker locations (Route 53's default set has 8 regions). */
  checkers?: number;
}

/** Route 53 HTTP checks: 4 s to connect, then 2 s for the status; the simulated latency is the answer's. */
export const ROUTE53_HTTP_ANSWER_LIMIT_MS = 2_000;
/** Healthy while more than this share of checkers report healthy. */
export const ROUTE53_HEALTHY_SHARE = 0.18;
export const ROUTE53_DEFAULT_CHECKERS = 8;

export interface CheckReplay {
  /** The zone's endpoint conditions (clock ms), as SimEndpoints recorded them. */
  history: readonly ConditionChange[];
  /** Clock ms the checks start at (healthy, settled). */
  startMs: number;
  /** The first unhealthy verdict at or after this time is returned. */
  fromMs: number;
  untilMs: number;
  /** Seeded dice for this check alone: checker phases, answer latencies, errors. */
  random: () => number;
}

/** Clock ms when Route 53 first holds the zone's check unhealthy at or after `fromMs`; undefined if never by `untilMs`. */
export function route53UnhealthyAt(replay: CheckReplay, settings: Route53HealthCheckSettings): number | undefined {
  const intervalMs = settings.requestIntervalSeconds * 1000;
  const checkers = settings.checkers ?? ROUTE53_DEFAULT_CHECKERS;
  const phases = Array.from({ length: checkers }, () => Math.floor(replay.random() * intervalMs)).sort((a, b) => a - b);
  const state = phases.map(() => ({ healthy: true, streak: 0 }));
  let healthyCount = checkers;
  const conditionAt = conditionCursor(replay.history);
  // Rounds of requests; within a round the checkers go in phase order, so times only grow.
  for (let round = replay.startMs; round <= replay.untilMs; round += intervalMs) {
    for (const [i, phase] of phases.entries()) {
      const at = round + phase;
      if (at > replay.untilMs) return undefined;
      const checker = state[i]!;
      const failed = requestFails(conditionAt(at), replay.random, ROUTE53_HTTP_ANSWER_LIMIT_MS);
      // A streak counts requests that disagree with the checker's current view.
      checker.streak = failed === checker.healthy ? checker.streak + 1 : 0;
      if (checker.streak >= settings.failureThreshold) {
        checker.healthy = !checker.healthy;
        checker.streak = 0;
        healthyCount += checker.healthy ? 1 : -1;
      }
      if (at >= replay.fromMs && healthyCount / checkers <= ROUTE53_HEALTHY_SHARE) return at;
    }
  }
  return undefined;
}
