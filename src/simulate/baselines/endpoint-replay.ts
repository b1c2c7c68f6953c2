// Replays a check of a zone's endpoint over the condition history the simulated endpoints recorded
// (SimEndpoints.conditionHistory): the same faults our probes met, gray latency and error rates included, judged
// the way another checker judges them. Each baseline draws its own seeded dice, never the simulated cloud's, so
// computing a baseline cannot change the operator's run.

import {
  BASE_LATENCY_MS,
  type ConditionChange,
  combine,
  type EndpointCondition,
  LATENCY_SPREAD_MS,
} from '../../cloud/sim/sim-endpoints.ts';

const HEALTHY: Required<EndpointCondition> = combine([]);

/**
 * The condition in force at a time, for probes asked in time order: a cursor over the history, so replaying a
 * week of probes is one pass.
 */
export function conditionCursor(history: readonly ConditionChange[]): (atMs: number) => Required<EndpointCondition> {
  let i = -1;
  return (atMs) => {
    if (i >= 0 && history[i]!.at > atMs) i = -1; // asked earlier than last time: start over
    while (i + 1 < history.length && history[i + 1]!.at <= atMs) i++;
    return i < 0 ? HEALTHY : history[i]!.condition;
  };
}

/**
 * Whether one request fails for a checker that gives up after `limitMs`: a dead endpoint never answers; a live
 * one answers in the simulated endpoint's latency (base, spread, added latency and jitter) and errors at its rate.
 */
export function requestFails(condition: Required<EndpointCondition>, draw: () => number, limitMs: number): boolean {
  if (condition.down || condition.errorRate >= 1) return true;
  const spread = Math.floor(draw() * LATENCY_SPREAD_MS);
  const jitter = condition.latencyJitterMs > 0 ? Math.floor(draw() * (condition.latencyJitterMs + 1)) : 0;
  if (BASE_LATENCY_MS + spread + condition.latencyMs + jitter >= limitMs) return true;
  return condition.errorRate > 0 && draw() < condition.errorRate;
}
