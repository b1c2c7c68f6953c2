// The traffic part of a plan: at most ONE SetWeights action for the whole record group (UPSERTs in one change
// batch, never a delete, PB-5), or a gate saying why the weights stay as they are.
//
// Urgency decides what the cooldown (PB-9) holds: draining a newly failed zone and a failover's fence are urgent
// and go at once; rescaling and returning traffic to a recovered zone (failback, PB-10) wait until the cooldown
// after the last completed weight change has passed — and, when failback.traffic is Manual, for a failback request.

import { boundId, fingerprint, weightsId } from './action-ids.ts';
import { dataPlaneReadiness, describeVerdicts, effectiveWeights, sameVerdicts, verdictsFor } from './data-plane.ts';
import type { DatabaseDecision } from './database-failover.ts';
import { gate, trafficCooldown } from './gates.ts';
import type { PlanContext } from './plan-context.ts';
import { regionOfRecord } from './policy-view.ts';
import { computeWeights, sameWeights, type WeightDecision } from './traffic-weights.ts';
import type { DataPlaneReadiness, PlanGate, PlannedAction } from './types.ts';

export interface TrafficDecision {
  action?: PlannedAction;
  gates: PlanGate[];
  /** Weights the plan converges to (the current ones when nothing changes now). */
  desiredWeights: Record<string, number>;
  /** The weight computation behind it (for the phase). */
  weights?: WeightDecision;
  /** The data-plane path's readiness, for policies that asked for it. */
  dataPlane?: DataPlaneReadiness;
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
  const stored: Record<string, number> = {};
  for (const r of traffic.records) stored[r.setIdentifier] = ctx.currentWeights[r.setIdentifier] ?? 0;

  // The data-plane path: what Route 53 answers is the stored weights under the verdicts in force.
  const dp = traffic.dataPlane;
  const readiness = dp && dataPlaneReadiness(traffic.records, ctx.cloud.records, ctx.cloud.dataPlane, dp.signalRegion);
  const inForce = readiness?.ready ? (ctx.cloud.dataPlane?.verdicts ?? {}) : undefined;
  const current = inForce ? effectiveWeights(traffic.records, stored, inForce) : stored;

  const lastWeights = ctx.journal.lastDone('SetWeights');
  const lastVerdicts = ctx.journal.lastDone('SetVerdicts');
  const lastChangeAt = Math.max(
    lastWeights?.at ?? Number.NEGATIVE_INFINITY,
    lastVerdicts?.at ?? Number.NEGATIVE_INFINITY,
  );
  const cooldown = trafficCooldown(
    Number.isFinite(lastChangeAt) ? lastChangeAt : undefined,
    ctx.settings.cooldownMs,
    ctx.now,
  );
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
  const withReadiness = (d: TrafficDecision): TrafficDecision => (readiness ? { ...d, dataPlane: readiness } : d);

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

  // A failover's fence step stays a record edit (its INSYNC is what the promotion waits for, PB-7).
  const verdicts =
    inForce && step === undefined && !decision.noHealthyTarget
      ? verdictsFor(traffic.records, stored, decision.weights, new Set(decision.excluded.map((e) => e.setIdentifier)))
      : undefined;
  const ids = traffic.records.map((r) => r.setIdentifier);
  const unchanged = verdicts
    ? sameVerdicts(ids, verdicts, inForce ?? {})
    : sameWeights(decision.weights, current) || (inForce !== undefined && sameWeights(decision.weights, stored));
  if (unchanged) {
    const prepare =
      dp && readiness?.reason === 'NotPrepared' ? prepareAction(ctx, dp.signalRegion, ids, readiness) : undefined;
    return withReadiness({
      gates,
      desiredWeights: decision.weights,
      weights: decision,
      ...(prepare && gates.length === 0 && isSteady(ctx, db) ? { action: prepare } : {}),
    });
  }

  const urgent = step !== undefined || decision.drained.length > 0;
  if (!urgent && cooldown.active) {
    gates.push(gate.cooldown(cooldown.until, 'rescaling the weights'));
    return withReadiness({ gates, desiredWeights: current, weights: decision });
  }
  if (verdicts && inForce && dp) {
    const action: PlannedAction = {
      id: boundId(
        `verdicts/${lastVerdicts ? fingerprint(lastVerdicts.id) : 'initial'}/${fingerprint(describeVerdicts(verdicts))}`,
      ),
      action: { kind: 'SetVerdicts', signalRegion: dp.signalRegion, verdicts },
      rule: decision.drained.length > 0 ? 'PB-5' : decision.returning.length > 0 ? 'PB-10' : 'PB-5',
      target: traffic.recordName,
      region: dp.signalRegion,
      reason: `${describe(decision)}; through health checks (verdicts ${describeVerdicts(verdicts)} in ${dp.signalRegion}), no record edit`,
    };
    return withReadiness({ action, gates, desiredWeights: decision.weights, weights: decision });
  }
  if (!urgent && ctx.cloud.pendingDnsChange !== undefined) {
    gates.push(gate.dnsPropagation(ctx.cloud.pendingDnsChange, 'the next weight change'));
    return withReadiness({ gates, desiredWeights: current, weights: decision });
  }
  const action: PlannedAction = {
    id: step?.id ?? weightsId(lastWeights ? fingerprint(lastWeights.id) : 'initial', decision.weights),
    action: { kind: 'SetWeights', weights: decision.weights },
    rule: step ? 'PB-7' : decision.drained.length > 0 ? 'PB-5' : decision.returning.length > 0 ? 'PB-10' : 'PB-5',
    target: traffic.recordName,
    reason: step ? `${step.reason}; ${describe(decision)}` : describe(decision),
  };
  return withReadiness({ action, gates, desiredWeights: decision.weights, weights: decision });
}

/**
 * Steady state, the only time the data-plane path is prepared (it needs Route 53's control plane): every zone and
 * region healthy, no failover in progress, no record change still propagating.
 */
function isSteady(ctx: PlanContext, db: DatabaseDecision): boolean {
  if (db.stage === 'failing-over' || db.stage === 'recovering' || db.weightsStep !== undefined) return false;
  if (ctx.cloud.pendingDnsChange !== undefined || ctx.cloud.recordsStale !== undefined) return false;
  return ctx.settings.regions.every(
    (r) =>
      (ctx.regionState(r.name) ?? 'Healthy') === 'Healthy' &&
      r.zones.every((z) => (ctx.zoneState(z) ?? 'Healthy') === 'Healthy'),
  );
}

function prepareAction(
  ctx: PlanContext,
  signalRegion: string,
  ids: string[],
  readiness: DataPlaneReadiness,
): PlannedAction {
  return {
    // One preparation per (records, what is missing): a new gap is a new action, the same one is not retried.
    id: boundId(
      `dataplane/${signalRegion}/${fingerprint(`${ids.join(',')}|${readiness.message.split('; could not read')[0]}`)}`,
    ),
    action: { kind: 'PrepareDataPlane', signalRegion, setIdentifiers: ids },
    rule: 'PB-5',
    target: ctx.settings.traffic?.recordName ?? '',
    region: signalRegion,
    reason: `prepared the data-plane path in steady state (${readiness.message})`,
  };
}
