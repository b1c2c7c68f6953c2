// The planner: policy + health + cloud observation + journal + requests + now → plan. PURE: no I/O, no clock, no
// randomness; the same inputs give a deep-equal plan, whatever the order of the input arrays (they are sorted
// once, in plan-context.ts). Each concern lives in its own module; this function only sequences them:
//
//   1. database failover (PB-6, PB-7): continue the one in progress (status.failover), start one on independent
//      evidence, or hold steady — this also says where the writer is, which regions are fenced, whether a weight
//      change is a failover step, and the failover state to save before anything is done;
//   2. traffic (PB-5, PB-9, PB-10): at most one SetWeights for the record group;
//   3. compute (PB-4): replacements and volume restores into healthy zones;
//   4. PB-3 guard: zone-targeted actions in impaired zones become SkippedActions;
//   5. nothing already Done in the journal is planned again.
//
// Order of the actions: writer fence, weights, promotion / writer re-point, compute. The executor runs them in
// order and stops at the first failure, so a failed fence never lets a promotion through.

import { planComputeReplacement } from './compute-replacement.ts';
import { type DatabaseDecision, planDatabaseFailover } from './database-failover.ts';
import { buildContext, type PlanContext } from './plan-context.ts';
import { guardImpairedZones, inPlaceRecoveryCandidates } from './playbook-guards.ts';
import { planTraffic, type TrafficDecision } from './traffic-plan.ts';
import type { Plan, PlanInput, PlannedAction, PlanPhase, SkippedAction } from './types.ts';

function phaseOf(ctx: PlanContext, db: DatabaseDecision, traffic: TrafficDecision): PlanPhase {
  if (db.stage === 'failing-over') return 'FailingOver';
  if (db.stage === 'recovering') return 'Recovering';
  if (db.writerRegion !== undefined && db.writerRegion !== ctx.settings.primaryRegion) return 'FailedOver';
  const w = traffic.weights;
  if (w) {
    if (w.unhealthy.length > 0 || w.noHealthyTarget) return 'Degraded';
    if (w.held.length > 0 || (traffic.action !== undefined && w.returning.length > 0)) return 'Recovering';
    return 'Healthy';
  }
  const zones = ctx.settings.regions.flatMap((r) => r.zones);
  return zones.some((z) => (ctx.zoneState(z) ?? 'Healthy') !== 'Healthy') ? 'Degraded' : 'Healthy';
}

export function plan(input: PlanInput): Plan {
  const ctx = buildContext(input);
  const db = planDatabaseFailover(ctx);
  const traffic = planTraffic(ctx, db);
  const compute = planComputeReplacement(ctx);

  // Two-phase: a promotion waits until the fence's weight change is journaled, never rides in the same plan.
  const fencingWeightsNow = traffic.action !== undefined && traffic.action.id === db.weightsStep?.id;
  const capacity = [...compute.actions, ...inPlaceRecoveryCandidates(ctx)];
  const candidates: PlannedAction[] = [
    ...db.before,
    ...(traffic.action ? [traffic.action] : []),
    ...(fencingWeightsNow ? [] : db.after),
    ...capacity,
  ];
  const guarded = guardImpairedZones(candidates, ctx.impairedZones);
  const pending = guarded.actions.filter((a) => !ctx.journal.isDone(a.id));
  // Vantage points (#14): capacity is another member's to act on (one launch for all vantages); shown as skipped.
  const leftTo = input.requests.capacityLeftTo;
  const capacityIds = new Set(capacity.map((a) => a.id));
  const actions = leftTo === undefined ? pending : pending.filter((a) => !capacityIds.has(a.id));
  const capacitySkipped: SkippedAction[] =
    leftTo === undefined
      ? []
      : pending
          .filter((a) => capacityIds.has(a.id))
          .map((a) => ({
            kind: a.action.kind,
            target: a.target,
            ...(a.zone === undefined ? {} : { zone: a.zone }),
            ...(a.region === undefined ? {} : { region: a.region }),
            rule: a.rule,
            reason: `${a.rule} left ${a.action.kind} on ${a.target} to vantage ${leftTo}: the first fresh member acts on capacity, so agreeing vantages launch and restore once`,
          }));

  const result: Plan = {
    phase: phaseOf(ctx, db, traffic),
    actions,
    skipped: [...guarded.skipped, ...compute.skipped, ...capacitySkipped],
    gates: [...db.gates, ...traffic.gates],
    desiredWeights: traffic.desiredWeights,
  };
  if (db.desiredWriter) result.desiredWriter = db.desiredWriter;
  if (traffic.dataPlane) result.dataPlane = traffic.dataPlane;
  // The state machine is saved before the actions: when the promotion was held back, so is its transition.
  const failover = fencingWeightsNow && db.heldFailover ? db.heldFailover : db.failover;
  if (failover) result.failover = failover;
  return result;
}
