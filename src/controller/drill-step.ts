// What a FailoverDrill should do next, as a pure function of what is known now: the drill and its status, its
// policy, the policy's health (with and without the drill's injection), the other drills, and the time. Policies
// are decided the same way (src/decide/planner.ts); the reconciler (drill-reconciler.ts) only gathers the inputs,
// performs the step (status writes, Events, the engine's injection and weight restore, the finalizer) and logs.
//
//   deleted (finalizer)     → a Live drill that started is aborted from its status (injection cleared, the weights in
//                             status.preDrillWeights restored), then DRILL_FINALIZER is released.
//   finished                → nothing, but a finalizer still held is released.
//   invalid spec            → Failed, InvalidSpec=True, the message names the field.
//   policy missing/invalid  → Pending (it may yet be created) / Failed; a Live drill running is aborted.
//   spec.abort              → injection cleared, pre-drill weights restored at once, Aborted.
//   over the namespace cap  → a drill not yet running waits Pending (DrillNamespaceLimitReached) while its namespace
//                             already has `namespaceDrillLimit` drills Running (DryRun simulating or queued for a
//                             simulation, Live injecting): one tenant cannot take every simulation turn.
//   DryRun                  → the embedded simulation of the scenario against the real policy (no AWS call).
//   Live, not started       → refused (Failed) while the real probes see any zone or region not Healthy, held while
//                             another Live drill runs on the policy or its weights are not in its status yet;
//                             otherwise started: finalizer, status (with the pre-drill weights), then the injection.
//   Live, running           → a real incident aborts it; otherwise detection, traffic shift and (with
//                             allowPromotion) the RPO of a promotion are measured; after durationSeconds the
//                             injection is cleared and, with autoFailback, the drill waits for the weights to return,
//                             then finishes with its report.

import {
  type FailoverDrill,
  type FailoverDrillStatus,
  type FailoverPolicy,
  type FailoverPolicyStatus,
  GROUP,
  invalidSpecMessage,
  Reason,
  validateDrill,
  validatePolicy,
} from '../api/index.ts';
import type { HealthView } from '../health/types.ts';
import { keyOf, type ObjectRef } from '../runtime/index.ts';
import type { Scenario } from '../scenarios/index.ts';
import { DrillEventReason } from './drill-events.ts';
import { detectedAt, drillActionsFromJournal, realIncident, trafficShiftedAt, weightsReturned } from './drill-live.ts';
import { DrillSpecError, drilledRecords, drilledZones, drillScenario, outageSeconds } from './drill-scenario.ts';
import { objectiveViolations, summaryOf } from './drill-status.ts';
import type { StoredPolicy } from './policy-reconciler.ts';

/** The drill as the informer caches it: whatever the apiserver stored, not yet validated. */
export interface StoredDrill {
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    uid?: string;
    deletionTimestamp?: Date;
    finalizers?: string[];
    resourceVersion?: string;
  };
  spec?: unknown;
  status?: Partial<FailoverDrillStatus>;
}

/** Held by a Live drill from before its injection until it is finished: a deletion restores the weights first. */
export const DRILL_FINALIZER = `${GROUP}/drill-restore-weights`;
/** How soon a drill waiting for its policy looks again (a new policy does not wake drills). */
export const POLICY_WAIT_MS = 10_000;
/** Extra time a failback may take beyond the policy's recovery window and cooldown before the drill fails. */
export const FAILBACK_GRACE_MS = 60_000;
/** The timeline line that marks the end of the injected outage (written once). */
export const OUTAGE_ENDED = 'ended the injected outage';

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);

export interface DrillEventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** The drill behind an injected failure: a rehearsal promotes the database only when its spec opts in (PB-12). */
export interface LiveDrillRef {
  name: string;
  allowPromotion: boolean;
}

export interface DrillStepInput {
  ref: ObjectRef;
  drill: StoredDrill;
  /** The drill's status as this process knows it (its own last write, else the stored one). */
  status: Partial<FailoverDrillStatus>;
  /** The policy spec.policyRef names (drillPolicyKey), as stored; undefined when it does not exist. */
  policy: StoredPolicy | undefined;
  /** The other drills the informer knows, each with its status. */
  others: ReadonlyArray<{ drill: StoredDrill; status: Partial<FailoverDrillStatus> }>;
  /** The policy's health as the engine sees it (with a drill's injection) and from real probes only. */
  health: HealthView | undefined;
  realHealth: HealthView | undefined;
  /** Pre-drill weights this process remembers for the drill (when its status has none yet). */
  knownPreDrill?: Readonly<Record<string, number>>;
  /**
   * Drills that may run at once in one namespace (FO_DRILL_NAMESPACE_LIMIT); a drill that would start past it waits
   * Pending. Absent: no limit.
   */
  namespaceDrillLimit?: number;
  now: number;
}

/** How soon a drill held by its namespace's limit looks again (a drill finishing does not wake the others). */
export const NAMESPACE_LIMIT_WAIT_MS = 15_000;

/** The final report of a Live drill. */
export interface LiveFinish {
  passed: boolean;
  violations: NonNullable<FailoverDrillStatus['violations']>;
  actions: NonNullable<FailoverDrillStatus['actions']>;
  skipped: NonNullable<FailoverDrillStatus['skipped']>;
  summary: string;
  /** The Event and condition message. */
  message: string;
  /** The last timeline line. */
  note: string;
  failback: 'returned' | 'timed-out' | 'not-awaited';
  startedAtMs: number;
  /** `live-<scenario type>`, the report's scenario name in metrics. */
  scenario: string;
}

export type DrillStep =
  | { kind: 'nothing' }
  /** Finished: release DRILL_FINALIZER if held. */
  | { kind: 'release-finalizer' }
  /** Being deleted: clear the injection and restore the weights of a Live drill that ran, then release. */
  | {
      kind: 'delete';
      live?: { policyKey: string; restore?: { policy: FailoverPolicy; weights: Record<string, number> } };
    }
  | { kind: 'fail'; reason: string; message: string; invalidSpec: boolean }
  | { kind: 'pending'; reason: string; message: string; requeueAfterMs: number }
  | {
      kind: 'abort';
      policyKey: string;
      why: string;
      /** A Live drill that runs: its injection is forgotten and the policy reconciled. */
      live: boolean;
      restore?: { policy: FailoverPolicy; weights: Record<string, number> };
      trail?: Pick<LiveFinish, 'actions' | 'skipped'>;
    }
  | {
      kind: 'dry-run';
      drill: FailoverDrill;
      policy: FailoverPolicy;
      scenario: Scenario;
      startedAtMs: number;
      /** Set the first time: the Running status and Started Event to write before simulating. */
      announce?: string;
    }
  | {
      kind: 'start-live';
      policyKey: string;
      zones: string[];
      preDrill: Record<string, number>;
      message: string;
      drill: LiveDrillRef;
      addFinalizer: boolean;
      requeueAfterMs: number;
    }
  | {
      kind: 'progress-live';
      policyKey: string;
      zones: string[];
      preDrill: Record<string, number>;
      drill: LiveDrillRef;
      /** Keep injecting (idempotent: resumes after a restart) or clear the injection (the outage is over). */
      injection: 'keep' | 'clear';
      patch: Partial<FailoverDrillStatus>;
      /** Timeline lines (seconds since the start), in order; the last is the summary. */
      steps: string[];
      events: DrillEventSpec[];
      /** Ask the policy controller to reconcile now (the outage ended). */
      reconcilePolicy: boolean;
      /** Come back after this long; absent when `finish` is set. */
      requeueAfterMs?: number;
      finish?: LiveFinish;
    };

/** The key of the policy a drill names, from its raw spec (before validation), or undefined. */
export function drillPolicyKey(ref: ObjectRef, drill: StoredDrill): string | undefined {
  const name = (drill.spec as { policyRef?: { name?: unknown } } | undefined)?.policyRef?.name;
  return typeof name === 'string' && name !== '' ? keyOf({ namespace: ref.namespace, name }) : undefined;
}

export function decideDrillStep(input: DrillStepInput): DrillStep {
  const { drill: stored, status, now, ref } = input;
  if (stored.metadata?.deletionTimestamp !== undefined) return deletedStep(input);
  if (TERMINAL.has(status.phase ?? '')) {
    return (stored.metadata?.finalizers ?? []).includes(DRILL_FINALIZER)
      ? { kind: 'release-finalizer' }
      : { kind: 'nothing' };
  }
  const validated = validateDrill(stored);
  if (!validated.ok) {
    return {
      kind: 'fail',
      reason: Reason.SpecInvalid,
      message: invalidSpecMessage(validated.errors),
      invalidSpec: true,
    };
  }
  const drill = validated.value;
  const policyKey = keyOf({ namespace: ref.namespace, name: drill.spec.policyRef.name });
  const checkedPolicy = input.policy ? validatePolicy(input.policy) : undefined;
  const policy = checkedPolicy?.ok ? checkedPolicy.value : undefined;
  const isLiveRunning = drill.spec.mode === 'Live' && status.phase === 'Running';
  const preDrill = { ...(status.preDrillWeights ?? input.knownPreDrill ?? {}) };
  const startedAtMs = status.startedAt ? Date.parse(status.startedAt) : now;
  const trail = () => drillActionsFromJournal(input.policy?.status?.journal, startedAtMs);

  if (drill.spec.abort) {
    return {
      kind: 'abort',
      policyKey,
      why: `aborted by spec.abort${isLiveRunning ? '; cleared the injected failure' : ''}`,
      live: isLiveRunning,
      ...(isLiveRunning && policy && restorable(preDrill) ? { restore: { policy, weights: preDrill } } : {}),
      ...(policy ? { trail: trail() } : {}),
    };
  }
  if (!input.policy) {
    if (isLiveRunning) {
      return { kind: 'abort', policyKey, why: `aborted: policy ${policyKey} was deleted during the drill`, live: true };
    }
    return {
      kind: 'pending',
      reason: Reason.PolicyNotFound,
      message: `FailoverPolicy ${policyKey} (spec.policyRef.name) does not exist; create it or fix spec.policyRef.name`,
      requeueAfterMs: POLICY_WAIT_MS,
    };
  }
  if (!checkedPolicy?.ok || !policy) {
    const errors = checkedPolicy && !checkedPolicy.ok ? invalidSpecMessage(checkedPolicy.errors, 900) : '';
    if (isLiveRunning) {
      return { kind: 'abort', policyKey, why: `aborted: policy ${policyKey} became invalid: ${errors}`, live: true };
    }
    return {
      kind: 'fail',
      reason: Reason.PolicyInvalid,
      message: `FailoverPolicy ${policyKey} is not valid: ${errors}`,
      invalidSpec: false,
    };
  }
  if (status.phase !== 'Running') {
    const held = namespaceLimitStep(input);
    if (held) return held;
  }
  if (drill.spec.mode === 'DryRun') return dryRunStep(input, drill, policy);
  if (!isLiveRunning) return startLiveStep(input, drill, policyKey, policy);
  return progressLiveStep(input, drill, policyKey, policy, preDrill, startedAtMs);
}

/**
 * The per-namespace budget: Pending while `namespaceDrillLimit` other drills of the namespace are Running. A drill
 * already Running is never held (it resumes after a restart whatever the others do).
 */
function namespaceLimitStep(input: DrillStepInput): DrillStep | undefined {
  const limit = input.namespaceDrillLimit;
  if (limit === undefined) return undefined;
  const running = input.others.filter(
    ({ drill: d, status: s }) =>
      d.metadata?.uid !== input.drill.metadata?.uid &&
      d.metadata?.namespace === input.ref.namespace &&
      s.phase === 'Running',
  );
  if (running.length < limit) return undefined;
  const names = running
    .map(({ drill: d }) => d.metadata?.name ?? '?')
    .sort()
    .join(', ');
  return {
    kind: 'pending',
    reason: Reason.DrillNamespaceLimitReached,
    message: `waiting: namespace ${input.ref.namespace} already runs ${running.length} drill(s) (${names}), its limit is ${limit} (FO_DRILL_NAMESPACE_LIMIT, chart value drills.perNamespaceLimit); starts when one finishes`,
    requeueAfterMs: NAMESPACE_LIMIT_WAIT_MS,
  };
}

function restorable(weights: Readonly<Record<string, number>> | undefined): weights is Record<string, number> {
  return weights !== undefined && Object.values(weights).some((w) => w > 0);
}

function deletedStep(input: DrillStepInput): DrillStep {
  const { drill: stored, status, ref } = input;
  if (!(stored.metadata?.finalizers ?? []).includes(DRILL_FINALIZER)) return { kind: 'nothing' };
  const spec = (stored.spec ?? {}) as { mode?: string };
  const policyKey = drillPolicyKey(ref, stored);
  const started = spec.mode === 'Live' && status.startedAt !== undefined;
  if (!started || TERMINAL.has(status.phase ?? '') || policyKey === undefined) return { kind: 'delete' };
  const checked = input.policy ? validatePolicy(input.policy) : undefined;
  const weights = status.preDrillWeights ?? input.knownPreDrill;
  return {
    kind: 'delete',
    live: {
      policyKey,
      ...(checked?.ok && restorable(weights) ? { restore: { policy: checked.value, weights: { ...weights } } } : {}),
    },
  };
}

function fail(reason: string, message: string, invalidSpec = false): DrillStep {
  return { kind: 'fail', reason, message, invalidSpec };
}

function dryRunStep(input: DrillStepInput, drill: FailoverDrill, policy: FailoverPolicy): DrillStep {
  let scenario: Scenario;
  try {
    scenario = drillScenario(drill, policy);
  } catch (err) {
    if (err instanceof DrillSpecError) return fail(Reason.DrillFailed, err.message, true);
    throw err;
  }
  const startedAtMs = input.status.startedAt ? Date.parse(input.status.startedAt) : input.now;
  return {
    kind: 'dry-run',
    drill,
    policy,
    scenario,
    startedAtMs,
    ...(input.status.phase === 'Running'
      ? {}
      : { announce: `simulating ${scenario.name} against policy ${policy.metadata.name} (DryRun: no AWS call)` }),
  };
}

function liveDrillRef(ref: ObjectRef, drill: FailoverDrill): LiveDrillRef {
  return { name: `${ref.namespace}/${ref.name}`, allowPromotion: drill.spec.allowPromotion === true };
}

function startLiveStep(input: DrillStepInput, drill: FailoverDrill, policyKey: string, policy: FailoverPolicy) {
  const { ref } = input;
  if (drill.spec.scenario.type !== 'zone-outage' && drill.spec.scenario.type !== 'region-outage') {
    return fail(
      Reason.DrillFailed,
      `spec.mode: Live supports scenario types zone-outage and region-outage, not ${drill.spec.scenario.type}; use mode DryRun for it`,
      true,
    );
  }
  if (policy.spec.suspend || policy.spec.dryRun) {
    const field = policy.spec.suspend ? 'spec.suspend' : 'spec.dryRun';
    return fail(
      DrillEventReason.Refused,
      `refused to start: policy ${policyKey} has ${field}: true, so the engine would not act on AWS; clear it or run the drill with mode DryRun`,
    );
  }
  let target: { region: string; zones: string[] };
  try {
    target = drilledZones(drill, policy);
  } catch (err) {
    if (err instanceof DrillSpecError) return fail(Reason.DrillFailed, err.message, true);
    throw err;
  }
  const other = input.others.find(({ drill: d, status: s }) => {
    const spec = d.spec as { policyRef?: { name?: string }; mode?: string } | undefined;
    return (
      d.metadata?.uid !== input.drill.metadata?.uid &&
      d.metadata?.namespace === ref.namespace &&
      spec?.policyRef?.name === policy.metadata.name &&
      spec?.mode === 'Live' &&
      s.phase === 'Running'
    );
  });
  const pending = (message: string, requeueAfterMs: number): DrillStep => ({
    kind: 'pending',
    reason: Reason.DrillPending,
    message,
    requeueAfterMs,
  });
  if (other) {
    return pending(
      `waiting: Live drill ${other.drill.metadata?.name} is already running against policy ${policyKey}`,
      POLICY_WAIT_MS,
    );
  }
  if (!input.realHealth) {
    return pending(
      `waiting for policy ${policyKey} to be probed (the policy controller has not picked it up yet)`,
      intervalMs(policy),
    );
  }
  const incident = realIncident(input.realHealth);
  if (incident) {
    return fail(
      DrillEventReason.Refused,
      `refused to start: a real incident is in progress for policy ${policyKey}: ${incident}`,
    );
  }
  const records = policy.spec.traffic?.route53?.records ?? [];
  const preDrill: Record<string, number> = {};
  for (const r of records) {
    const w = input.policy?.status?.weights?.[r.setIdentifier];
    if (w !== undefined) preDrill[r.setIdentifier] = w;
  }
  if (Object.keys(preDrill).length < records.length) {
    return pending(
      `waiting for policy ${policyKey}'s status to report its Route 53 weights (recorded before the drill starts, restored on abort)`,
      intervalMs(policy),
    );
  }
  return {
    kind: 'start-live',
    policyKey,
    zones: target.zones,
    preDrill,
    message: `injected a failure of ${target.zones.join(', ')} into the probe layer of policy ${policyKey} for ${outageSeconds(drill)}s (Live: the engine acts on AWS)`,
    drill: liveDrillRef(ref, drill),
    addFinalizer: !(input.drill.metadata?.finalizers ?? []).includes(DRILL_FINALIZER),
    requeueAfterMs: intervalMs(policy),
  } satisfies DrillStep;
}

function progressLiveStep(
  input: DrillStepInput,
  drill: FailoverDrill,
  policyKey: string,
  policy: FailoverPolicy,
  preDrill: Record<string, number>,
  startedAtMs: number,
): DrillStep {
  const { status, now, ref } = input;
  const policyStatus = input.policy?.status;
  const target = drilledZones(drill, policy); // validated at start; the spec is immutable
  const endsAtMs = startedAtMs + outageSeconds(drill) * 1000;

  // A real incident ends the rehearsal: the engine must deal with reality, with the real health.
  const incident = input.realHealth ? realIncident(input.realHealth) : undefined;
  if (incident) {
    return {
      kind: 'abort',
      policyKey,
      why: `aborted: a real incident started during the drill: ${incident}; the injected failure was cleared and the engine now acts on the real health`,
      live: true,
      trail: drillActionsFromJournal(policyStatus?.journal, startedAtMs),
    };
  }

  const ended = now >= endsAtMs;
  const patch: Partial<FailoverDrillStatus> = {};
  const steps: string[] = [];
  const events: DrillEventSpec[] = [];
  if (status.detectionSeconds === undefined) {
    const at = detectedAt(input.health, target.zones, startedAtMs);
    if (at !== undefined) {
      patch.detectionSeconds = seconds(at - startedAtMs);
      steps.push(`detected the outage after ${patch.detectionSeconds}s (PB-1, PB-2)`);
      events.push({
        type: 'Normal',
        reason: DrillEventReason.OutageDetected,
        message: `PB-12 the engine detected the drilled outage of ${target.zones.join(', ')} after ${patch.detectionSeconds}s`,
      });
    }
  }
  const records = drilledRecords(policy, target.region, target.zones);
  if (status.trafficShiftedSeconds === undefined) {
    const at = trafficShiftedAt(policyStatus, records, startedAtMs, now);
    if (at !== undefined) {
      patch.trafficShiftedSeconds = seconds(at - startedAtMs);
      patch.rtoSeconds = patch.trafficShiftedSeconds;
      // No write is lost while the writer stays put; a promotion during the drill sets the RPO below.
      patch.rpoSeconds = 0;
      steps.push(`traffic left ${records.join(', ')} after ${patch.trafficShiftedSeconds}s (PB-5)`);
      events.push({
        type: 'Normal',
        reason: DrillEventReason.TrafficShifted,
        message: `PB-12 traffic shifted off ${records.join(', ')} after ${patch.trafficShiftedSeconds}s`,
      });
    }
  }
  const promotedLag = drillPromotionLag(policyStatus, startedAtMs);
  if (promotedLag !== undefined && (patch.rpoSeconds ?? status.rpoSeconds) !== promotedLag) {
    patch.rpoSeconds = promotedLag;
    steps.push(`the drill promoted a replica: RPO ${promotedLag}s, its replica lag when the promotion was sent (PB-6)`);
  }
  const outageEndedNoted = (status.timeline ?? []).some((e) => e.message.startsWith(OUTAGE_ENDED));
  const announceEnd = ended && !outageEndedNoted;
  if (announceEnd) {
    steps.push(
      `${OUTAGE_ENDED} after ${outageSeconds(drill)}s; ${drill.spec.autoFailback ? 'waiting for the policy to fail traffic back (PB-9, PB-10)' : 'autoFailback is false: traffic stays where the engine put it'}`,
    );
    events.push({
      type: 'Normal',
      reason: DrillEventReason.OutageEnded,
      message: `PB-12 cleared the injected failure of ${target.zones.join(', ')}`,
    });
  }
  const step = {
    kind: 'progress-live' as const,
    policyKey,
    zones: target.zones,
    preDrill,
    drill: liveDrillRef(ref, drill),
    injection: ended ? ('clear' as const) : ('keep' as const),
    patch,
    steps,
    events,
    reconcilePolicy: announceEnd,
  };
  if (!ended) return { ...step, requeueAfterMs: Math.min(intervalMs(policy), Math.max(100, endsAtMs - now)) };

  const measured = { ...status, ...patch };
  const waitFailback = drill.spec.autoFailback && records.length > 0 && measured.trafficShiftedSeconds !== undefined;
  const returned = !waitFailback || weightsReturned(policyStatus, pick(preDrill, records));
  const deadline = endsAtMs + failbackWindowMs(policy) + FAILBACK_GRACE_MS;
  if (!returned && now < deadline) return { ...step, requeueAfterMs: intervalMs(policy) };
  const failback = waitFailback ? (returned ? 'returned' : 'timed-out') : 'not-awaited';
  return {
    ...step,
    finish: finishReport(drill, policy, policyStatus, measured, {
      startedAtMs,
      records,
      failback,
      deadlineSeconds: seconds(deadline - endsAtMs),
    }),
  };
}

function finishReport(
  drill: FailoverDrill,
  policy: FailoverPolicy,
  policyStatus: Partial<FailoverPolicyStatus> | undefined,
  s: Partial<FailoverDrillStatus>,
  o: { startedAtMs: number; records: string[]; failback: LiveFinish['failback']; deadlineSeconds: number },
): LiveFinish {
  const violations = [...objectiveViolations(policy, s)];
  if (s.detectionSeconds === undefined) {
    violations.push({
      objective: 'detectionSeconds',
      message: `the engine never saw the injected outage within ${outageSeconds(drill)}s (PB-1)`,
    });
  }
  if (o.records.length > 0 && s.trafficShiftedSeconds === undefined) {
    violations.push({ objective: 'PB-5', message: `traffic never left ${o.records.join(', ')} during the outage` });
  }
  if (o.failback === 'timed-out') {
    violations.push({
      objective: 'PB-10',
      message: `the weights did not return to their pre-drill values within ${o.deadlineSeconds}s of the outage ending`,
    });
  }
  const passed = violations.length === 0;
  const { actions, skipped } = drillActionsFromJournal(policyStatus?.journal, o.startedAtMs);
  const summary = summaryOf({ ...s, passed, actions: actions.length, violations: violations.length });
  return {
    passed,
    violations,
    actions,
    skipped,
    summary,
    message: `Live ${drill.spec.scenario.type} ${summary}`,
    note: o.failback === 'returned' ? `traffic returned to the pre-drill weights; ${summary}` : `finished: ${summary}`,
    failback: o.failback,
    startedAtMs: o.startedAtMs,
    scenario: `live-${drill.spec.scenario.type}`,
  };
}

export function intervalMs(policy: FailoverPolicy): number {
  return Math.min(5_000, Math.max(250, policy.spec.health.intervalSeconds * 1000));
}

/** How long the engine's failback may take once the outage ends: recovery window (PB-9) plus cooldown. */
export function failbackWindowMs(policy: FailoverPolicy): number {
  const h = policy.spec.health;
  return (
    (h.recoveryThreshold + h.failureThreshold) * h.intervalSeconds * 1000 +
    policy.spec.guardrails.cooldownSeconds * 1000
  );
}

/** Milliseconds to seconds with one decimal, never negative. */
export function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 100) / 10);
}

function pick(weights: Readonly<Record<string, number>>, ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) if (weights[id] !== undefined) out[id] = weights[id];
  return out;
}

/**
 * The RPO of a promotion this drill caused: the replica lag status.failover recorded when PromoteReadReplica was
 * sent, for a failover started after the drill did (never negative: −1 never passes the RPO gate).
 */
export function drillPromotionLag(
  policyStatus: Partial<FailoverPolicyStatus> | undefined,
  startedAtMs: number,
): number | undefined {
  const failover = policyStatus?.failover;
  const lag = failover?.promotion?.lagSeconds;
  if (!failover || lag === undefined || failover.phase === 'Aborted') return undefined;
  return Date.parse(failover.startedAt) >= startedAtMs ? Math.max(0, lag) : undefined;
}
