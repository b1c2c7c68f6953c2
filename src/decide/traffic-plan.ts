// The traffic part of a plan: at most ONE SetWeights action for the whole record group (UPSERTs in one change
// batch, never a delete, PB-5), or a gate saying why the weights stay as they are.
//
// Urgency decides what the cooldown (PB-9) holds: draining a newly failed zone and a failover's fence are urgent
// and go at once; rescaling and returning traffic to a recovered zone (failback, PB-10) wait until the cooldown
// after the last completed weight change has passed — and, when failback.traffic is Manual, for a failback request.

import { fingerprint, weightsId } from './action-ids.ts';
import type { DatabaseDecision } from './database-failover.ts';
import { gate, trafficCooldown } from './gates.ts';
import type { PlanContext } from './plan-context.ts';
import { regionOfRecord } from './policy-view.ts';
import { computeWeights, sameWeights, type WeightDecision } from './traffic-weights.ts';
import type { PlanGate, PlannedAction } from './types.ts';

export interface TrafficDecision {
  action?: PlannedAction;
  gates: PlanGate[];
  /** Weights the plan converges to (the current ones when nothing changes now). */
  desiredWeights: Record<string, number>;
  /** The weight computation behind it (for the phase). */
  weights?: WeightDecision;
}

function describe(decision: WeightDecision): string {
  const parts: string[] = [];
  const why = new Map(decision.excluded.map((e) => [e.setIdentifier, e.reason]));
  if (decision.drained.length > 0)
    parts.push(`drained ${decision.drained.map((id) => `${id} (${why.get(id) ?? 'excluded'})`).join(', ')}`);
  if (decision.returning.length > 0) parts.push(`sent traffic to ${decision.returning.join(', ')}`);
  const serving = Object.entries(decision.weights).filter(([, w]) => w > 0);
  parts.push(`weights now ${serving.map(([id, w]) => `${id}=${w}`).join(', ')}`);
  return parts.join('; ');
}

export function planTraffic(ctx: PlanContext, db: DatabaseDecision): TrafficDecision {
  const traffic = ctx.settings.traffic;
  if (!traffic || traffic.records.length === 0) return { gates: [], desiredWeights: {} };
  const current: Record<string, number> = {};
  for (const r of traffic.records) current[r.setIdentifier] = ctx.currentWeights[r.setIdentifier] ?? 0;

  const last = ctx.journal.lastDone('SetWeights');
  const cooldown = trafficCooldown(last?.at, ctx.settings.cooldownMs, ctx.now);
  const failbackPermitted = ctx.settings.failback.traffic === 'Automatic' || ctx.requests.failback !== undefined;
  const step = db.weightsStep;
  const decision = computeWeights({
    records: traffic.records,
    regionOfRecord: (r) => regionOfRecord(ctx.settings, r),
    zoneState: ctx.zoneState,
    regionState: ctx.regionState,
    current,
    fencedRegions: db.fencedRegions,
    ...(db.writerRegion === undefined ? {} : { writerRegion: db.writerRegion }),
    homeRegion: ctx.settings.primaryRegion,
    allowReturn: step !== undefined || (failbackPermitted && !cooldown.active),
  });

  const gates: PlanGate[] = [];
  if (decision.noHealthyTarget)
    gates.push(gate.noHealthyTarget(decision.excluded.map((e) => `${e.setIdentifier}: ${e.reason}`).join('; ')));
  if (decision.held.length > 0) {
    gates.push(
      failbackPermitted
        ? gate.recoveryWindow(decision.held, cooldown.until, 'traffic cooldown after the last weight change (PB-9)')
        : gate.recoveryWindow(decision.held, undefined, 'traffic failback is Manual: waiting for failoverctl failback'),
    );
  }
  if (sameWeights(decision.weights, current)) return { gates, desiredWeights: decision.weights, weights: decision };

  const urgent = step !== undefined || decision.drained.length > 0;
  if (!urgent && cooldown.active) {
    gates.push(gate.cooldown(cooldown.until, 'rescaling the weights'));
    return { gates, desiredWeights: current, weights: decision };
  }
  if (!urgent && ctx.cloud.pendingDnsChange !== undefined) {
    gates.push(gate.dnsPropagation(ctx.cloud.pendingDnsChange, 'the next weight change'));
    return { gates, desiredWeights: current, weights: decision };
  }
  const action: PlannedAction = {
    id: step?.id ?? weightsId(last ? fingerprint(last.id) : 'initial', decision.weights),
    action: { kind: 'SetWeights', weights: decision.weights },
    rule: step ? 'PB-7' : decision.drained.length > 0 ? 'PB-5' : decision.returning.length > 0 ? 'PB-10' : 'PB-5',
    target: traffic.recordName,
    reason: step ? `${step.reason}; ${describe(decision)}` : describe(decision),
  };
  return { action, gates, desiredWeights: decision.weights, weights: decision };
}
