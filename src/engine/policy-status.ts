// Builds a FailoverPolicy's status from one reconcile: health view, cloud observation, plan, execution and journal.
// Pure: the same inputs give the same status. Times come in as epoch ms and leave as RFC 3339.

import type { ExecutionResult } from '../act/executor.ts';
import { actionBackoffMs } from '../act/executor.ts';
import type { JournalEntry } from '../act/journal.ts';
import type {
  Condition,
  FailoverPolicy,
  FailoverPolicyStatus,
  FailoverState,
  LastFailover,
  PendingApproval,
} from '../api/index.ts';
import { ConditionStatus, ConditionType, Reason } from '../api/index.ts';
import { errorText } from '../cloud/errors.ts';
import { effectiveWeights } from '../decide/data-plane.ts';
import { isWritablePrimary } from '../decide/database-failover.ts';
import { DATA_PLANE_DEFAULTS } from '../decide/policy-view.ts';
import type { CloudObservation, Plan, Verdict } from '../decide/types.ts';
import { healthConditions, regionStatuses, rfc3339, zoneStatuses } from '../health/health-status.ts';
import type { HealthView } from '../health/types.ts';
import { manualRequestStatus } from './operator-requests.ts';

export interface StatusInputs {
  policy: FailoverPolicy;
  view: HealthView;
  observation: CloudObservation;
  plan: Plan;
  execution?: ExecutionResult;
  journal: JournalEntry[];
  /** The failover state machine as saved (status.failover); the previous status's when none was given. */
  failover?: FailoverState;
  now: number;
  /** False on followers and in dry run: the plan was reported, not performed. */
  acted: boolean;
}

/** The writable primary as observed: described, available and not replicating from anything. */
export function observedWriter(obs: CloudObservation): { region: string; dbInstanceIdentifier: string } | undefined {
  const writers = obs.databases.filter((d) => isWritablePrimary(d) && d.status === 'available');
  const w = writers.length === 1 ? writers[0] : undefined;
  return w ? { region: w.region, dbInstanceIdentifier: w.id } : undefined;
}

/** Current weights: what was observed, updated by a SetWeights this reconcile performed. */
export function currentWeights(obs: CloudObservation, execution?: ExecutionResult): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const r of obs.records) if (r.setIdentifier !== undefined) weights[r.setIdentifier] = r.weight ?? 0;
  for (const done of execution?.done ?? []) {
    if (done.action.kind === 'SetWeights') Object.assign(weights, done.action.weights);
  }
  return weights;
}

export function buildPolicyStatus(inp: StatusInputs): FailoverPolicyStatus {
  const { policy, view, observation, plan, execution, journal, now } = inp;
  const previous = policy.status ?? {};
  const generation = policy.metadata.generation;
  const primaryRegion = policy.spec.regions.find((r) => r.role === 'primary')?.name;
  // The plan's writer wins once RDS shows it writable (after a promotion the old primary may be writable again, but
  // the writer record sends every write where the plan put it, PB-7); an unpromoted replica is never the writer.
  const desired = plan.desiredWriter;
  const desiredDb = desired && observation.databases.find((d) => d.id === desired.dbInstanceIdentifier);
  const writer =
    (desiredDb && isWritablePrimary(desiredDb) ? desired : undefined) ??
    observedWriter(observation) ??
    previous.activeWriter ??
    desired;
  const activeRegion = writer?.region ?? previous.activeRegion ?? primaryRegion;
  const unhealthy = view.zones.filter((z) => z.state !== 'Healthy').map((z) => z.name);
  const pendingApproval = approvalFrom(plan, observation, now, previous.pendingApproval);
  const lastDone = journal
    .filter((e) => e.state === 'Done' && e.finishedAt !== undefined)
    .map((e) => e.finishedAt!)
    .sort()
    .at(-1);

  const engine = engineConditions(
    inp,
    generation,
    previous.conditions ?? [],
    primaryRegion !== undefined && writer !== undefined && writer.region !== primaryRegion,
  );
  // A failing action overrides health's Ready: the service is not being kept as the policy asks.
  const readyOverride = engine.find((c) => c.type === ConditionType.Ready);
  const conditions: Condition[] = [
    ...healthConditions(view, {
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      previous: previous.conditions ?? [],
    }).map((c) => (readyOverride && c.type === ConditionType.Ready ? readyOverride : c)),
    ...engine.filter((c) => c !== readyOverride),
  ];

  const base: FailoverPolicyStatus = {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions,
    phase: plan.phase,
    ...(activeRegion === undefined ? {} : { activeRegion }),
    degradedZones: unhealthy.join(','),
    zones: zoneStatuses(view),
    regions: regionStatuses(view),
    ...(writer === undefined ? {} : { activeWriter: writer }),
    weights: currentWeights(observation, execution),
    journal,
    ...(lastDone === undefined ? {} : { lastActionAt: lastDone }),
    ...(pendingApproval === undefined ? {} : { pendingApproval }),
  };
  const failover = inp.failover ?? previous.failover;
  if (failover) base.failover = failover;
  const lastFailover = lastFailoverFrom(inp, previous.lastFailover, primaryRegion);
  if (lastFailover) base.lastFailover = lastFailover;
  const manual = manualRequestStatus(policy, base, rfc3339(now));
  if (manual) base.manual = manual;
  return base;
}

/** What Route 53 shows against what the spec places and what the plan wants (the status follows what is observed). */
interface TrafficTruth {
  /** Observed weights differ from the spec's: traffic is away from where the spec places it. */
  away: boolean;
  /** The plan wants weights Route 53 does not show yet. */
  unlanded: string[];
  /** Record set ids at weight 0 that the spec gives weight. */
  drained: string[];
  /** Judged from the verdict alarms (the data-plane path), not from the weights. */
  byAlarms?: boolean;
}

function trafficTruth(inp: StatusInputs): TrafficTruth {
  const records = inp.policy.spec.traffic?.route53?.records ?? [];
  const stored = currentWeights(inp.observation, inp.execution);
  const answered = answeredWeights(inp, stored);
  if (answered !== undefined) {
    // Through health checks: what Route 53 answers is the stored weights under what the ALARMS show (not what was
    // published: the checks follow the alarms). Shares, not numbers, are compared: 150/150/0 is 100/100/skip.
    const serves = (w: number | undefined) => (w ?? 0) > 0;
    const drained = records.filter((r) => r.weight > 0 && answered[r.setIdentifier] === 0).map((r) => r.setIdentifier);
    const away = records.some((r) => serves(answered[r.setIdentifier]) !== serves(r.weight)) || drained.length > 0;
    const unlanded = Object.entries(inp.plan.desiredWeights ?? {})
      .filter(([id, w]) => answered[id] !== undefined && serves(answered[id]) !== serves(w))
      .map(([id]) => id)
      .sort();
    return { away, unlanded, drained, byAlarms: true };
  }
  const drained = records.filter((r) => r.weight > 0 && stored[r.setIdentifier] === 0).map((r) => r.setIdentifier);
  const away = records.some((r) => stored[r.setIdentifier] !== undefined && stored[r.setIdentifier] !== r.weight);
  const unlanded = Object.entries(inp.plan.desiredWeights ?? {})
    .filter(([id, w]) => stored[id] !== undefined && stored[id] !== w)
    .map(([id]) => id)
    .sort();
  return { away, unlanded, drained };
}

/**
 * For a policy whose data-plane path is prepared: each record's share of answers as the verdict alarms show them
 * (ALARM drains; a record whose alarm shows no verdict yet serves). Undefined otherwise.
 */
function answeredWeights(inp: StatusInputs, stored: Record<string, number>): Record<string, number> | undefined {
  const dp = inp.observation.dataPlane;
  const records = inp.policy.spec.traffic?.route53?.records;
  if (!dp || !records || inp.plan.dataPlane?.ready !== true) return undefined;
  const shown: Record<string, Verdict> = {};
  for (const [id, state] of Object.entries(dp.alarms)) {
    if (state === 'ALARM') shown[id] = 'drain';
    else if (state === 'OK') shown[id] = 'serve';
  }
  return effectiveWeights(
    records.map((r) => ({ setIdentifier: r.setIdentifier, weight: r.weight })),
    stored,
    shown,
  );
}

/**
 * The action that keeps failing, with its error and when it is tried next; undefined when nothing fails. A failing
 * preparation of the data-plane path is not a failing failover: drains still work by record edits, so it is told
 * in DataPlaneReady, not in Ready (an upgraded operator without the new IAM permissions keeps working).
 */
function failingAction(inp: StatusInputs): { text: string } | undefined {
  const kind = inp.execution?.backoff?.action.action.kind ?? inp.execution?.failed?.action.action.kind;
  if (kind === 'PrepareDataPlane') return undefined;
  return failingActionText(inp);
}

function failingActionText(inp: StatusInputs): { text: string } | undefined {
  const { execution, now } = inp;
  if (execution?.backoff) {
    const b = execution.backoff;
    return {
      text: `${b.action.action.kind} ${b.action.id} failed ${b.attempts} time(s)${b.lastError ? `: ${b.lastError}` : ''}; next attempt at ${rfc3339(b.nextAttemptAt)} (PB-8 backoff)`,
    };
  }
  if (execution?.failed) {
    const { action, error } = execution.failed;
    const attempts = inp.journal.find((e) => e.id === action.id)?.attempts ?? 1;
    const nextAt = Math.max(now + (execution.requeueAfterMs ?? 0), now + actionBackoffMs(attempts, action.id));
    return {
      text: `${action.action.kind} ${action.id} failed${attempts > 1 ? ` (attempt ${attempts})` : ''}: ${errorText(error)}; next attempt at ${rfc3339(nextAt)}`,
    };
  }
  return undefined;
}

/**
 * Ready, FailingOver and FailedOver follow what is OBSERVED, not what was planned: a drain the plan wants but Route 53
 * does not show is FailingOver (ChangePending, or ActionFailing with the error and the next attempt) and not yet
 * FailedOver; an action that keeps failing makes Ready False, because the operator cannot do what the health asks.
 */
function engineConditions(
  inp: StatusInputs,
  generation: number | undefined,
  previous: readonly Condition[],
  writerAway: boolean,
): Condition[] {
  const { plan, acted, policy } = inp;
  const at = rfc3339(inp.now);
  const make = (type: string, status: string, reason: string, message: string): Condition => {
    const prev = previous.find((p) => p.type === type);
    return {
      type,
      status,
      reason,
      message: message.slice(0, 32_000),
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : at,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    } as Condition;
  };
  const gates = plan.gates.map((g) => `${g.rule}: ${g.message}`).join('; ');
  const truth = trafficTruth(inp);
  const failing = acted ? failingAction(inp) : undefined;
  const planFailingOver = plan.phase === 'FailingOver' || plan.phase === 'Recovering';
  const pendingChange = acted && truth.unlanded.length > 0;
  const failingOver = planFailingOver || pendingChange || failing !== undefined;
  const failedOver = truth.away || writerAway;
  const failingReason = failing
    ? Reason.ActionFailing
    : plan.gates.some((g) => g.kind === 'Approval')
      ? Reason.AwaitingApproval
      : plan.gates.some((g) => g.kind === 'PromotionLocked')
        ? Reason.PromotionLocked
        : plan.gates.some((g) => g.kind === 'ReplicaLag')
          ? Reason.ReplicaLagAboveBudget
          : plan.phase === 'Recovering'
            ? Reason.FailingBack
            : planFailingOver
              ? Reason.PromotingReplica
              : Reason.ChangePending;
  const dry = !acted && (policy.spec.dryRun || plan.actions.length > 0);
  const failingMessage = [
    failing?.text,
    pendingChange
      ? truth.byAlarms
        ? `the verdict alarms do not show the planned change of ${truth.unlanded.join(', ')} yet (the health checks follow them)`
        : `Route 53 does not show the planned weights of ${truth.unlanded.join(', ')} yet`
      : undefined,
    gates || (planFailingOver ? `${plan.actions.length} action(s) in progress` : undefined),
  ]
    .filter((x): x is string => x !== undefined && x !== '')
    .join('; ');
  const conditions = [
    make(
      ConditionType.FailingOver,
      failingOver ? ConditionStatus.True : ConditionStatus.False,
      failingOver ? (dry && policy.spec.dryRun ? Reason.DryRun : failingReason) : Reason.NoFailover,
      failingOver ? failingMessage || 'in progress' : 'no failover in progress',
    ),
    make(
      ConditionType.FailedOver,
      failedOver ? ConditionStatus.True : ConditionStatus.False,
      writerAway
        ? Reason.ReplicaPromoted
        : truth.drained.length > 0
          ? Reason.ZoneDrained
          : failedOver
            ? Reason.TrafficShifted
            : Reason.NoFailover,
      failedOver
        ? `Route 53 shows traffic or the writer away from the spec's placement${truth.drained.length > 0 ? ` (weight 0: ${truth.drained.join(', ')})` : ''}${writerAway ? '; the writer is in another region' : ''}${gates ? `; ${gates}` : ''}`
        : 'Route 53 shows traffic and the writer where the spec places them',
    ),
    make(ConditionType.Suspended, ConditionStatus.False, Reason.NotSuspended, 'the operator acts on this policy'),
    make(ConditionType.InvalidSpec, ConditionStatus.False, Reason.SpecValid, 'the spec passed validation'),
  ];
  if (failing) {
    conditions.push(
      make(
        ConditionType.Ready,
        ConditionStatus.False,
        Reason.ActionFailing,
        `the plan cannot be carried out: ${failing.text}`,
      ),
    );
  }
  const dataPlane = dataPlaneCondition(inp);
  if (dataPlane) conditions.push(make(ConditionType.DataPlaneReady, ...dataPlane));
  return conditions;
}

const READINESS_REASON = {
  Prepared: Reason.DataPlanePrepared,
  Preparing: Reason.DataPlaneNotPrepared,
  NotPrepared: Reason.DataPlaneNotPrepared,
  Unavailable: Reason.DataPlaneUnavailable,
  Unobserved: Reason.DataPlaneUnobserved,
} as const;

/** DataPlaneReady for a policy that asked for the data-plane path: status, reason, message. */
function dataPlaneCondition(inp: StatusInputs): [string, string, string] | undefined {
  const dataPlane = inp.policy.spec.traffic?.route53?.dataPlane as { mechanism?: string } | undefined;
  if ((dataPlane?.mechanism ?? DATA_PLANE_DEFAULTS.mechanism) !== 'HealthChecks') return undefined;
  const readiness = inp.plan.dataPlane;
  if (readiness === undefined) {
    return [
      ConditionStatus.False,
      Reason.DataPlaneUnavailable,
      'no region outside the primary region to publish verdicts in (add a standby region and name it in dataPlane.signalRegion); every drain edits records',
    ];
  }
  const dp = inp.observation.dataPlane;
  const drained = dp
    ? Object.keys(dp.verdicts)
        .filter((id) => dp.verdicts[id] === 'drain')
        .sort()
    : [];
  const alarming = dp
    ? Object.keys(dp.alarms)
        .filter((id) => dp.alarms[id] === 'ALARM')
        .sort()
    : [];
  const inForce = dp
    ? `; verdicts: ${drained.length ? `drain ${drained.join(', ')}` : 'every record serves'}${
        drained.join() === alarming.join() ? '' : ` (alarms in ALARM: ${alarming.join(', ') || 'none'})`
      }`
    : '';
  const preparing =
    (inp.execution?.backoff?.action.action.kind ?? inp.execution?.failed?.action.action.kind) === 'PrepareDataPlane'
      ? failingActionText(inp)
      : undefined;
  if (preparing) {
    return [
      ConditionStatus.False,
      Reason.DataPlaneNotPrepared,
      `preparing the health checks and alarms failed: ${preparing.text}; drains edit records until it succeeds (docs/iam-policy.json lists the permissions it needs)`,
    ];
  }
  const stale = inp.observation.recordsStale;
  const staleNote = stale
    ? `; Route 53 records could not be listed (${stale.reason}): planning from the listing of ${rfc3339(stale.listedAt)}`
    : '';
  return [
    readiness.ready ? ConditionStatus.True : ConditionStatus.False,
    READINESS_REASON[readiness.reason],
    `${readiness.message}${inForce}${staleNote}`,
  ];
}

function approvalFrom(
  plan: Plan,
  obs: CloudObservation,
  now: number,
  previous: PendingApproval | undefined,
): PendingApproval | undefined {
  const gate = plan.gates.find((g) => g.kind === 'Approval');
  if (!gate) return undefined;
  // The id a person approves is the replica the planner would promote (the gate's target): `failoverctl approve`
  // copies it into spec.manual.approvalId, and the planner accepts exactly that id.
  const id = gate.target ?? previous?.id ?? 'promotion';
  const target = obs.databases.find((d) => d.id === id);
  const lag = target?.lagSeconds;
  return {
    id,
    action: 'PromoteReadReplica',
    target: id,
    ...(target?.region === undefined ? {} : { region: target.region }),
    rule: gate.rule,
    reason: gate.message.slice(0, 1024),
    requestedAt: previous?.id === id ? previous.requestedAt : rfc3339(now),
    ...(lag === undefined ? {} : { lagSeconds: lag }),
  };
}

/**
 * The most recent failover: started when the plan first left Healthy/Degraded for FailingOver, completed when it
 * reached FailedOver. Detection time is when the region (or, for a zone drain, the zone) first became unhealthy.
 */
function lastFailoverFrom(
  inp: StatusInputs,
  previous: LastFailover | undefined,
  primaryRegion: string | undefined,
): LastFailover | undefined {
  const { plan, view, observation, execution, now } = inp;
  const impairedRegion = view.regions.find((r) => r.state === 'Impaired');
  const drained = view.zones.filter((z) => z.state !== 'Healthy');
  const inProgress = previous !== undefined && previous.completedAt === undefined;
  let last = previous;

  if (plan.phase === 'FailingOver' && !inProgress && inp.acted) {
    const detected = impairedRegion?.since ?? Math.min(...drained.map((z) => z.since), now);
    const target = plan.desiredWriter;
    last = {
      startedAt: rfc3339(now),
      detectedAt: rfc3339(detected),
      ...(primaryRegion === undefined ? {} : { fromRegion: impairedRegion?.name ?? primaryRegion }),
      ...(target ? { toRegion: target.region } : {}),
      zones: drained.map((z) => z.name),
      reason: impairedRegion
        ? `region ${impairedRegion.name} Impaired: ${impairedRegion.reasons.join('; ')}`.slice(0, 1024)
        : 'manual failover',
    };
  }
  // RPO: the replica lag recorded when the promotion was sent (status.failover), else as observed at the promotion.
  const recordedLag = inp.failover?.phase === 'Aborted' ? undefined : inp.failover?.promotion?.lagSeconds;
  if (last && last.rpoSeconds === undefined && recordedLag !== undefined && last.completedAt === undefined) {
    last = { ...last, rpoSeconds: Math.max(0, recordedLag) };
  }
  if (last && last.rpoSeconds === undefined) {
    const promoted = execution?.done.find((a) => a.action.kind === 'PromoteReplica');
    if (promoted && promoted.action.kind === 'PromoteReplica') {
      const id = promoted.action.dbInstanceIdentifier;
      const lag = observation.databases.find((d) => d.id === id)?.lagSeconds;
      if (lag !== undefined) last = { ...last, rpoSeconds: lag };
    }
  }
  if (last && last.completedAt === undefined && plan.phase === 'FailedOver') {
    last = { ...last, completedAt: rfc3339(now) };
  }
  return last;
}
