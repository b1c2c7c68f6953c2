// The FailoverDrill reconciler (PB-12): level-based, one step per block with early returns, after
// controller-runtime's reconcilers. Everything a drill needs to resume after a restart or a leader change is in
// its status (phase, startedAt, the measurements so far, the pre-drill weights in status.preDrillWeights), so each reconcile
// recomputes where the drill stands from status + clock + what the engine and the policy report.
//
//   deleted (finalizer)     → a Live drill that started is aborted from its status (injection cleared, the weights in
//                             status.preDrillWeights restored), then DRILL_FINALIZER is released — so a drill
//                             deleted while the operator was down still gets its weights back when it returns.
//   gone                    → a Live drill this process was running is aborted (injection cleared, weights back).
//   finished                → nothing; the status is the report.
//   invalid spec            → Failed, InvalidSpec=True, the message names the field.
//   policy missing/invalid  → Pending (it may yet be created) / Failed.
//   spec.abort              → injection cleared, pre-drill weights restored at once, Aborted.
//   DryRun                  → the embedded simulation runs the drill's scenario against the real policy (no AWS
//                             call at all) and its report goes into status: Succeeded or Failed.
//   Live, not started       → refused (Failed) while the real probes see any zone or region not Healthy;
//                             otherwise the pre-drill weights are recorded in status FIRST, then the zones are
//                             injected as failed in the probe layer, and the real engine acts on AWS.
//   Live, running           → a real incident aborts it; otherwise detection (a drilled zone leaves Healthy) and
//                             traffic shifted (the drilled records at weight 0) are measured; after
//                             durationSeconds (real seconds: AWS cannot be sped up, timeScale applies to DryRun) the
//                             injection is cleared and, with autoFailback, the drill waits for the weights to return.
//
// Only the leader runs drills: the Manager runs reconciles only while leading, and writes are guarded as well.

import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import {
  type Condition,
  ConditionStatus,
  DrillConditionType,
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
import type { Clock } from '../clock.ts';
import type { PolicyEngine } from '../engine/policy-engine.ts';
import { rfc3339 } from '../health/health-status.ts';
import type { OperatorMetrics } from '../metrics/operator-metrics.ts';
import { type Finalizers, hasFinalizer } from '../runtime/finalizers.ts';
import { keyOf, type ObjectRef, type Reconciler, type StatusWriter } from '../runtime/index.ts';
import type { Scenario } from '../scenarios/index.ts';
import type { DrillReport } from '../simulate/drill-report.ts';
import type { TimelineEntry } from '../simulate/timeline.ts';
import { DrillEventReason, type DrillEvents } from './drill-events.ts';
import { detectedAt, drillActionsFromJournal, realIncident, trafficShiftedAt, weightsReturned } from './drill-live.ts';
import {
  DrillSpecError,
  drilledRecords,
  drilledZones,
  drillScenario,
  outageSeconds,
  simulatedPolicy,
} from './drill-scenario.ts';
import {
  boundedTimeline,
  objectiveViolations,
  preDrillWeightsEntry,
  reportFromSimulation,
  summaryOf,
  timelineEntry,
} from './drill-status.ts';
import { setConditions } from './policy-conditions.ts';
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

export type DrillSimulator = (input: {
  policy: FailoverPolicy;
  scenario: Scenario;
  signal: AbortSignal;
}) => Promise<{ report: DrillReport; timeline: TimelineEntry[] }>;

export type DrillEngine = Pick<
  PolicyEngine,
  | 'healthOf'
  | 'realHealthOf'
  | 'injectZoneFailure'
  | 'clearInjectedFailures'
  | 'forgetInjectedFailures'
  | 'restoreWeights'
>;

export interface DrillReconcilerDeps {
  getDrill(key: string): StoredDrill | undefined;
  listDrills(): StoredDrill[];
  getPolicy(key: string): StoredPolicy | undefined;
  engine: DrillEngine;
  /** Runs a DryRun drill's scenario against the simulated cloud (src/simulate/run-simulation.ts). */
  simulate: DrillSimulator;
  statusWriter: StatusWriter<Partial<FailoverDrillStatus>>;
  events: Pick<DrillEvents, 'record'>;
  metrics?: Pick<OperatorMetrics, 'recordDrillReport'>;
  /** Asks the policy controller to reconcile a policy now (after an injection, a restore). */
  reconcilePolicy?: (policyKey: string) => void;
  isLeader: () => boolean;
  /**
   * Adds and releases DRILL_FINALIZER on Live drills (src/runtime/finalizers.ts). Without it a drill deleted while no
   * operator runs skips its weight restore; the controller always passes it.
   */
  finalizers?: Pick<Finalizers, 'add' | 'remove'>;
  clock: Clock;
  logger: Logger;
}

/** Held by a Live drill from before its injection until it is finished: a deletion restores the weights first. */
export const DRILL_FINALIZER = `${GROUP}/drill-restore-weights`;

/** How soon a drill waiting for its policy looks again (a new policy does not wake drills). */
export const POLICY_WAIT_MS = 10_000;
/** Extra time a failback may take beyond the policy's recovery window and cooldown before the drill fails. */
export const FAILBACK_GRACE_MS = 60_000;

const TERMINAL = new Set(['Succeeded', 'Failed', 'Aborted']);
const OUTAGE_ENDED = 'ended the injected outage';

interface Ctx {
  key: string;
  req: ObjectRef;
  stored: StoredDrill;
  status: Partial<FailoverDrillStatus>;
  now: number;
  log: Record<string, unknown>;
}

/** What this process knows of a Live drill it runs, to clean up if the drill object is deleted mid-drill. */
interface RunningLive {
  policyKey: string;
  preDrill: Record<string, number>;
}

export function createDrillReconciler(deps: DrillReconcilerDeps): Reconciler {
  const { engine, clock } = deps;
  const logger = deps.logger.child({ controller: 'failoverdrill' });
  /** The status this process wrote last, by drill uid: fresher than the informer, which sees our write later. */
  const written = new Map<string, Partial<FailoverDrillStatus>>();
  const running = new Map<string, RunningLive>();

  const statusOf = (d: StoredDrill) => written.get(d.metadata?.uid ?? '') ?? d.status ?? {};

  async function write(ctx: Ctx, patch: Partial<FailoverDrillStatus>): Promise<void> {
    if (!deps.isLeader()) return;
    const merged = { ...ctx.status, ...patch };
    if (isDeepStrictEqual(normalize(merged), normalize(ctx.status))) return;
    await deps.statusWriter.patchStatus(ctx.req, { status: patch });
    ctx.status = merged;
    written.set(ctx.stored.metadata?.uid ?? '', merged);
  }

  function conditions(ctx: Ctx, updates: Parameters<typeof setConditions>[1]): Condition[] {
    const generation = ctx.stored.metadata?.generation;
    return setConditions(ctx.status.conditions, updates, {
      now: ctx.now,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    });
  }

  function observed(ctx: Ctx): { observedGeneration?: number } {
    const generation = ctx.stored.metadata?.generation;
    return generation === undefined ? {} : { observedGeneration: generation };
  }

  /** The timeline with `messages` appended (seconds since the drill started), bounded. */
  function note(ctx: Ctx, ...messages: string[]): NonNullable<FailoverDrillStatus['timeline']> {
    const startedAt = ctx.status.startedAt ? Date.parse(ctx.status.startedAt) : ctx.now;
    const at = seconds(ctx.now - startedAt);
    return boundedTimeline([
      ...(ctx.status.timeline ?? []),
      ...messages.map((m) => timelineEntry(ctx.now, m, 'PB-12', at)),
    ]);
  }

  /** Ends the drill without running it (bad spec, refused start): phase Failed, a Warning Event. */
  async function fail(ctx: Ctx, reason: string, message: string, invalidSpec = false): Promise<undefined> {
    await write(ctx, {
      ...observed(ctx),
      phase: 'Failed',
      result: 'Failed',
      passed: false,
      completedAt: rfc3339(ctx.now),
      summary: message.slice(0, 1024),
      timeline: note(ctx, message),
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.False, reason, message },
        { type: DrillConditionType.Completed, status: ConditionStatus.True, reason, message },
        ...(invalidSpec
          ? [{ type: DrillConditionType.InvalidSpec, status: ConditionStatus.True, reason, message }]
          : []),
      ]),
    });
    await deps.events.record(ctx.key, { type: 'Warning', reason, message });
    logger.warn({ ...ctx.log, reason, rule: 'PB-12' }, `Failed drill: ${message}`);
    return undefined;
  }

  async function pending(ctx: Ctx, reason: string, message: string, requeueAfterMs: number) {
    const changed = ctx.status.phase !== 'Pending' || ctx.status.summary !== message;
    await write(ctx, {
      ...observed(ctx),
      phase: 'Pending',
      summary: message.slice(0, 1024),
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.False, reason, message },
      ]),
    });
    if (changed) {
      await deps.events.record(ctx.key, { type: 'Normal', reason: DrillEventReason.Pending, message });
      logger.info({ ...ctx.log, reason, rule: 'PB-12' }, `Held drill pending: ${message}`);
    }
    return { requeueAfterMs };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Abort: the injection is forgotten (health back to what the real probes say, no recovery window: the zone
  // never really failed) and, for spec.abort, the pre-drill weights go back at once through the executor.

  async function abort(
    ctx: Ctx,
    policyKey: string,
    policy: FailoverPolicy | undefined,
    why: string,
    o: { live: boolean; restore: boolean },
    signal: AbortSignal,
  ): Promise<undefined> {
    // Only a Live drill that runs has injected anything; another drill's injection on the same policy is not ours.
    if (o.live) engine.forgetInjectedFailures(policyKey);
    const preDrill = ctx.status.preDrillWeights ?? running.get(ctx.key)?.preDrill;
    let restored = '';
    if (o.live && o.restore && policy && preDrill && Object.values(preDrill).some((w) => w > 0)) {
      // Always through the executor, never judged from the policy's status: that status lags the engine (a drain
      // may have landed in Route 53 before the status says so). The executor reads the records and writes them
      // back to the pre-drill weights; restoring weights that are already there changes nothing.
      const result = await engine.restoreWeights(
        policyKey,
        policy,
        preDrill,
        `drill ${ctx.req.name} aborted: restoring the pre-drill weights (PB-12)`,
        signal,
      );
      if (result.failed) throw result.failed.error; // retried with backoff; the injection stays cleared
      restored = `; restored the pre-drill weights ${formatWeights(preDrill)}`;
      await deps.events.record(ctx.key, {
        type: 'Normal',
        reason: DrillEventReason.WeightsRestored,
        message: `PB-12 restored the pre-drill Route 53 weights of ${policyKey}: ${formatWeights(preDrill)}`,
      });
    }
    running.delete(ctx.key);
    const message = `${why}${restored}`;
    const startedAt = ctx.status.startedAt ? Date.parse(ctx.status.startedAt) : ctx.now;
    const trail = policy ? drillActionsFromJournal(deps.getPolicy(policyKey)?.status?.journal, startedAt) : undefined;
    await write(ctx, {
      ...observed(ctx),
      phase: 'Aborted',
      result: 'Aborted',
      passed: false,
      completedAt: rfc3339(ctx.now),
      summary: message.slice(0, 1024),
      ...(trail ? { actions: trail.actions.slice(0, 200), skipped: trail.skipped.slice(0, 200) } : {}),
      timeline: note(ctx, message),
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.False, reason: Reason.DrillAborted, message },
        { type: DrillConditionType.Completed, status: ConditionStatus.True, reason: Reason.DrillAborted, message },
      ]),
    });
    await deps.events.record(ctx.key, { type: 'Warning', reason: DrillEventReason.Aborted, message });
    logger.warn(
      { ...ctx.log, policy: policyKey, restored: restored !== '', rule: 'PB-12' },
      `Aborted drill: ${message}`,
    );
    if (o.live) deps.reconcilePolicy?.(policyKey);
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------------------
  // DryRun

  async function runDryRun(ctx: Ctx, drill: FailoverDrill, policy: FailoverPolicy, signal: AbortSignal) {
    let scenario: Scenario;
    try {
      scenario = drillScenario(drill, policy);
    } catch (err) {
      if (err instanceof DrillSpecError) return fail(ctx, Reason.DrillFailed, err.message, true);
      throw err;
    }
    const startedAtMs = ctx.status.startedAt ? Date.parse(ctx.status.startedAt) : ctx.now;
    if (ctx.status.phase !== 'Running') {
      const message = `simulating ${scenario.name} against policy ${policy.metadata.name} (DryRun: no AWS call)`;
      await write(ctx, {
        ...observed(ctx),
        phase: 'Running',
        startedAt: rfc3339(startedAtMs),
        timeline: note(ctx, message),
        conditions: conditions(ctx, [
          { type: DrillConditionType.Running, status: ConditionStatus.True, reason: Reason.DrillStarted, message },
        ]),
      });
      await deps.events.record(ctx.key, { type: 'Normal', reason: DrillEventReason.Started, message });
      logger.info({ ...ctx.log, scenario: scenario.name, mode: 'DryRun', rule: 'PB-12' }, 'Started drill');
    }
    const { report, timeline } = await deps.simulate({
      policy: simulatedPolicy(drill, policy),
      scenario,
      signal,
    });
    const fields = reportFromSimulation({
      policy,
      report,
      timeline,
      startedAtMs,
      timeScale: drill.spec.timeScale,
    });
    ctx.now = clock.now();
    const reason = fields.passed ? Reason.DrillPassed : Reason.DrillFailed;
    const message = `DryRun ${scenario.name} ${fields.summary}`;
    await write(ctx, {
      ...observed(ctx),
      ...fields,
      phase: fields.passed ? 'Succeeded' : 'Failed',
      completedAt: rfc3339(ctx.now),
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.False, reason, message },
        { type: DrillConditionType.Completed, status: ConditionStatus.True, reason, message },
      ]),
    });
    deps.metrics?.recordDrillReport(report);
    await deps.events.record(ctx.key, { type: fields.passed ? 'Normal' : 'Warning', reason, message });
    logger.info(
      {
        ...ctx.log,
        scenario: scenario.name,
        passed: fields.passed,
        detectionSeconds: report.detectionSeconds,
        rtoSeconds: report.rtoSeconds,
        actions: report.actions.length,
        rule: 'PB-12',
      },
      'Finished DryRun drill',
    );
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Live

  async function startLive(
    ctx: Ctx,
    drill: FailoverDrill,
    policyKey: string,
    policy: FailoverPolicy,
    policyStatus: Partial<FailoverPolicyStatus> | undefined,
  ) {
    if (drill.spec.scenario.type !== 'zone-outage' && drill.spec.scenario.type !== 'region-outage') {
      return fail(
        ctx,
        Reason.DrillFailed,
        `spec.mode: Live supports scenario types zone-outage and region-outage, not ${drill.spec.scenario.type}; use mode DryRun for it`,
        true,
      );
    }
    if (policy.spec.suspend || policy.spec.dryRun) {
      const field = policy.spec.suspend ? 'spec.suspend' : 'spec.dryRun';
      return fail(
        ctx,
        DrillEventReason.Refused,
        `refused to start: policy ${policyKey} has ${field}: true, so the engine would not act on AWS; clear it or run the drill with mode DryRun`,
      );
    }
    let target: { region: string; zones: string[] };
    try {
      target = drilledZones(drill, policy);
    } catch (err) {
      if (err instanceof DrillSpecError) return fail(ctx, Reason.DrillFailed, err.message, true);
      throw err;
    }
    const other = deps.listDrills().find((d) => {
      const s = statusOf(d);
      const spec = d.spec as { policyRef?: { name?: string }; mode?: string } | undefined;
      return (
        d.metadata?.uid !== ctx.stored.metadata?.uid &&
        d.metadata?.namespace === ctx.req.namespace &&
        spec?.policyRef?.name === policy.metadata.name &&
        spec?.mode === 'Live' &&
        s.phase === 'Running'
      );
    });
    if (other) {
      return pending(
        ctx,
        Reason.DrillPending,
        `waiting: Live drill ${other.metadata?.name} is already running against policy ${policyKey}`,
        POLICY_WAIT_MS,
      );
    }
    const real = engine.realHealthOf(policyKey);
    if (!real) {
      return pending(
        ctx,
        Reason.DrillPending,
        `waiting for policy ${policyKey} to be probed (the policy controller has not picked it up yet)`,
        intervalMs(policy),
      );
    }
    const incident = realIncident(real);
    if (incident) {
      return fail(
        ctx,
        DrillEventReason.Refused,
        `refused to start: a real incident is in progress for policy ${policyKey}: ${incident}`,
      );
    }
    const records = policy.spec.traffic?.route53?.records ?? [];
    const preDrill: Record<string, number> = {};
    for (const r of records) {
      const w = policyStatus?.weights?.[r.setIdentifier];
      if (w !== undefined) preDrill[r.setIdentifier] = w;
    }
    if (Object.keys(preDrill).length < records.length) {
      return pending(
        ctx,
        Reason.DrillPending,
        `waiting for policy ${policyKey}'s status to report its Route 53 weights (recorded before the drill starts, restored on abort)`,
        intervalMs(policy),
      );
    }

    // The finalizer first (with the resourceVersion just read; a conflict retries from here, nothing done yet): from
    // the moment the drill is Running, a deletion restores the weights before it completes.
    if (deps.finalizers && !hasFinalizer(ctx.stored.metadata ?? {}, DRILL_FINALIZER)) {
      await deps.finalizers.add(ctx.req, DRILL_FINALIZER, ctx.stored.metadata ?? {});
    }
    // Intent first: the pre-drill state is in status before anything is injected, so abort can always restore it.
    const message = `injected a failure of ${target.zones.join(', ')} into the probe layer of policy ${policyKey} for ${outageSeconds(drill)}s (Live: the engine acts on AWS)`;
    const startedAt = rfc3339(ctx.now);
    ctx.status = { ...ctx.status, startedAt };
    await write(ctx, {
      ...observed(ctx),
      phase: 'Running',
      startedAt,
      preDrillWeights: preDrill,
      timeline: boundedTimeline([
        ...(ctx.status.timeline ?? []),
        preDrillWeightsEntry(ctx.now, preDrill),
        timelineEntry(ctx.now, message, 'PB-12', 0),
      ]),
      summary: message,
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.True, reason: Reason.DrillStarted, message },
      ]),
    });
    running.set(ctx.key, { policyKey, preDrill });
    engine.injectZoneFailure(policyKey, target.zones, `drill ${ctx.req.name}`, liveDrillOf(ctx, drill));
    await deps.events.record(ctx.key, { type: 'Normal', reason: DrillEventReason.Started, message });
    logger.info(
      { ...ctx.log, policy: policyKey, zones: target.zones, preDrill, rule: 'PB-12' },
      'Started Live drill: injected zone failure',
    );
    deps.reconcilePolicy?.(policyKey);
    return { requeueAfterMs: intervalMs(policy) };
  }

  async function progressLive(
    ctx: Ctx,
    drill: FailoverDrill,
    policyKey: string,
    policy: FailoverPolicy,
    policyStatus: Partial<FailoverPolicyStatus> | undefined,
    signal: AbortSignal,
  ) {
    const target = drilledZones(drill, policy); // validated at start; the spec is immutable
    const startedAtMs = Date.parse(ctx.status.startedAt ?? rfc3339(ctx.now));
    const endsAtMs = startedAtMs + outageSeconds(drill) * 1000;
    const preDrill = ctx.status.preDrillWeights ?? {};
    running.set(ctx.key, { policyKey, preDrill });

    // A real incident ends the rehearsal: the engine must deal with reality, with the real health.
    const real = engine.realHealthOf(policyKey);
    const incident = real ? realIncident(real) : undefined;
    if (incident) {
      return abort(
        ctx,
        policyKey,
        policy,
        `aborted: a real incident started during the drill: ${incident}; the injected failure was cleared and the engine now acts on the real health`,
        { live: true, restore: false },
        signal,
      );
    }

    const ended = ctx.now >= endsAtMs;
    if (!ended) engine.injectZoneFailure(policyKey, target.zones, `drill ${ctx.req.name}`, liveDrillOf(ctx, drill)); // idempotent; resumes
    const patch: Partial<FailoverDrillStatus> = {};
    const steps: string[] = [];

    if (ctx.status.detectionSeconds === undefined) {
      const at = detectedAt(engine.healthOf(policyKey), target.zones, startedAtMs);
      if (at !== undefined) {
        patch.detectionSeconds = seconds(at - startedAtMs);
        steps.push(`detected the outage after ${patch.detectionSeconds}s (PB-1, PB-2)`);
        await deps.events.record(ctx.key, {
          type: 'Normal',
          reason: DrillEventReason.OutageDetected,
          message: `PB-12 the engine detected the drilled outage of ${target.zones.join(', ')} after ${patch.detectionSeconds}s`,
        });
      }
    }
    const records = drilledRecords(policy, target.region, target.zones);
    if (ctx.status.trafficShiftedSeconds === undefined) {
      const at = trafficShiftedAt(policyStatus, records, startedAtMs, ctx.now);
      if (at !== undefined) {
        patch.trafficShiftedSeconds = seconds(at - startedAtMs);
        patch.rtoSeconds = patch.trafficShiftedSeconds;
        // No write is lost while the writer stays put; a promotion during the drill sets the RPO below.
        patch.rpoSeconds = 0;
        steps.push(`traffic left ${records.join(', ')} after ${patch.trafficShiftedSeconds}s (PB-5)`);
        await deps.events.record(ctx.key, {
          type: 'Normal',
          reason: DrillEventReason.TrafficShifted,
          message: `PB-12 traffic shifted off ${records.join(', ')} after ${patch.trafficShiftedSeconds}s`,
        });
      }
    }
    const promotedLag = drillPromotionLag(policyStatus, startedAtMs);
    if (promotedLag !== undefined && ctx.status.rpoSeconds !== promotedLag) {
      patch.rpoSeconds = promotedLag;
      steps.push(
        `the drill promoted a replica: RPO ${promotedLag}s, its replica lag when the promotion was sent (PB-6)`,
      );
    }
    const outageEndedNoted = (ctx.status.timeline ?? []).some((e) => e.message.startsWith(OUTAGE_ENDED));
    if (ended) {
      engine.clearInjectedFailures(policyKey);
      if (!outageEndedNoted) {
        steps.push(
          `${OUTAGE_ENDED} after ${outageSeconds(drill)}s; ${drill.spec.autoFailback ? 'waiting for the policy to fail traffic back (PB-9, PB-10)' : 'autoFailback is false: traffic stays where the engine put it'}`,
        );
        await deps.events.record(ctx.key, {
          type: 'Normal',
          reason: DrillEventReason.OutageEnded,
          message: `PB-12 cleared the injected failure of ${target.zones.join(', ')}`,
        });
        deps.reconcilePolicy?.(policyKey);
      }
    }
    if (steps.length > 0 || Object.keys(patch).length > 0) {
      await write(ctx, {
        ...patch,
        timeline: note(ctx, ...steps),
        ...(steps.length > 0 ? { summary: steps.at(-1) } : {}),
      });
      for (const step of steps) logger.info({ ...ctx.log, policy: policyKey, rule: 'PB-12' }, `Drill ${step}`);
    }
    if (!ended) return { requeueAfterMs: Math.min(intervalMs(policy), Math.max(100, endsAtMs - ctx.now)) };

    const waitFailback =
      drill.spec.autoFailback && records.length > 0 && ctx.status.trafficShiftedSeconds !== undefined;
    const returned = !waitFailback || weightsReturned(policyStatus, pick(preDrill, records));
    const deadline = endsAtMs + failbackWindowMs(policy) + FAILBACK_GRACE_MS;
    if (!returned && ctx.now < deadline) return { requeueAfterMs: intervalMs(policy) };
    return finishLive(ctx, drill, policyKey, policy, policyStatus, {
      startedAtMs,
      records,
      failback: waitFailback ? (returned ? 'returned' : 'timed-out') : 'not-awaited',
      deadlineSeconds: seconds(deadline - endsAtMs),
    });
  }

  async function finishLive(
    ctx: Ctx,
    drill: FailoverDrill,
    policyKey: string,
    policy: FailoverPolicy,
    policyStatus: Partial<FailoverPolicyStatus> | undefined,
    o: {
      startedAtMs: number;
      records: string[];
      failback: 'returned' | 'timed-out' | 'not-awaited';
      deadlineSeconds: number;
    },
  ) {
    const s = ctx.status;
    const violations = [...objectiveViolations(policy, s)];
    if (s.detectionSeconds === undefined) {
      violations.push({
        objective: 'detectionSeconds',
        message: `the engine never saw the injected outage within ${outageSeconds(drill)}s (PB-1)`,
      });
    }
    if (o.records.length > 0 && s.trafficShiftedSeconds === undefined) {
      violations.push({
        objective: 'PB-5',
        message: `traffic never left ${o.records.join(', ')} during the outage`,
      });
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
    const reason = passed ? Reason.DrillPassed : Reason.DrillFailed;
    const message = `Live ${drill.spec.scenario.type} ${summary}`;
    running.delete(ctx.key);
    await write(ctx, {
      ...observed(ctx),
      phase: passed ? 'Succeeded' : 'Failed',
      result: passed ? 'Passed' : 'Failed',
      passed,
      completedAt: rfc3339(ctx.now),
      actions: actions.slice(0, 200),
      skipped: skipped.slice(0, 200),
      violations: violations.slice(0, 32),
      summary,
      timeline: note(
        ctx,
        o.failback === 'returned' ? `traffic returned to the pre-drill weights; ${summary}` : `finished: ${summary}`,
      ),
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.False, reason, message },
        { type: DrillConditionType.Completed, status: ConditionStatus.True, reason, message },
      ]),
    });
    deps.metrics?.recordDrillReport({
      scenario: `live-${drill.spec.scenario.type}`,
      policy: policyKey,
      passed,
      detectionSeconds: s.detectionSeconds ?? null,
      trafficShiftedSeconds: s.trafficShiftedSeconds ?? null,
      rtoSeconds: s.rtoSeconds ?? null,
      rpoSeconds: s.rpoSeconds ?? null,
      actions: actions.map((a) => ({ kind: a.kind, target: a.target, rule: a.rule, at: a.scenarioSeconds ?? 0 })),
      skipped: [],
      violations: violations.map((v) => ({ rule: v.objective, message: v.message })),
      expectations: [],
      durationSeconds: seconds(ctx.now - o.startedAtMs),
    });
    await deps.events.record(ctx.key, { type: passed ? 'Normal' : 'Warning', reason, message });
    logger.info(
      {
        ...ctx.log,
        policy: policyKey,
        passed,
        detectionSeconds: s.detectionSeconds,
        trafficShiftedSeconds: s.trafficShiftedSeconds,
        failback: o.failback,
        rule: 'PB-12',
      },
      'Finished Live drill',
    );
    return undefined;
  }

  /** Releases DRILL_FINALIZER when the drill holds it (finished drills never block their deletion). */
  async function releaseFinalizer(ctx: Ctx): Promise<void> {
    const metadata = ctx.stored.metadata ?? {};
    if (!deps.finalizers || !hasFinalizer(metadata, DRILL_FINALIZER)) return;
    await deps.finalizers.remove(ctx.req, DRILL_FINALIZER, metadata);
    logger.info({ ...ctx.log, finalizer: DRILL_FINALIZER }, 'Released drill finalizer');
  }

  /**
   * A drill being deleted: a Live drill that started (its pre-drill weights are in status) is aborted from its
   * status — the injection cleared, the weights restored through the executor — before its finalizer is released.
   * This works in a process that never ran the drill: everything needed is in the stored object.
   */
  async function deleted(ctx: Ctx, signal: AbortSignal): Promise<undefined> {
    const metadata = ctx.stored.metadata ?? {};
    if (!hasFinalizer(metadata, DRILL_FINALIZER)) return undefined;
    const spec = (ctx.stored.spec ?? {}) as { mode?: string; policyRef?: { name?: string } };
    const preDrill = ctx.status.preDrillWeights ?? running.get(ctx.key)?.preDrill;
    const started = spec.mode === 'Live' && ctx.status.startedAt !== undefined;
    const finished = TERMINAL.has(ctx.status.phase ?? '');
    if (started && !finished && spec.policyRef?.name) {
      const policyKey = keyOf({ namespace: ctx.req.namespace, name: spec.policyRef.name });
      engine.forgetInjectedFailures(policyKey);
      const checked = validatePolicy(deps.getPolicy(policyKey));
      if (checked.ok && preDrill && Object.values(preDrill).some((w) => w > 0)) {
        const result = await engine.restoreWeights(
          policyKey,
          checked.value,
          preDrill,
          `drill ${ctx.req.name} deleted while running: restoring the pre-drill weights (PB-12)`,
          signal,
        );
        if (result.failed) throw result.failed.error; // retried with backoff; the finalizer holds the deletion
      }
      logger.warn({ ...ctx.log, policy: policyKey, rule: 'PB-12' }, 'Drill deleted while running; aborted it');
      deps.reconcilePolicy?.(policyKey);
    }
    running.delete(ctx.key);
    await releaseFinalizer(ctx);
    return undefined;
  }

  // -------------------------------------------------------------------------------------------------------------

  return async (req, signal) => {
    const key = keyOf(req);
    const log = { namespace: req.namespace, name: req.name };

    // The Manager runs reconciles only while leading; this guards the window around a leadership change.
    if (!deps.isLeader()) return undefined;
    const stored = deps.getDrill(key);
    if (!stored) {
      const live = running.get(key);
      if (live) {
        // Deleting a running drill stops it like an abort; there is no status left to write.
        running.delete(key);
        engine.forgetInjectedFailures(live.policyKey);
        const policy = validatePolicy(deps.getPolicy(live.policyKey));
        if (policy.ok && Object.values(live.preDrill).some((w) => w > 0)) {
          await engine.restoreWeights(
            live.policyKey,
            policy.value,
            live.preDrill,
            `drill ${req.name} deleted while running: restoring the pre-drill weights (PB-12)`,
            signal,
          );
        }
        logger.warn({ ...log, policy: live.policyKey, rule: 'PB-12' }, 'Drill deleted while running; aborted it');
        deps.reconcilePolicy?.(live.policyKey);
      }
      return undefined;
    }
    const ctx: Ctx = { key, req, stored, status: statusOf(stored), now: clock.now(), log };

    if (stored.metadata?.deletionTimestamp !== undefined) return deleted(ctx, signal);
    if (TERMINAL.has(ctx.status.phase ?? '')) {
      await releaseFinalizer(ctx);
      return undefined;
    }

    const validated = validateDrill(stored);
    if (!validated.ok) {
      return fail(ctx, Reason.SpecInvalid, invalidSpecMessage(validated.errors), true);
    }
    const drill = validated.value;
    const policyKey = keyOf({ namespace: req.namespace, name: drill.spec.policyRef.name });
    const storedPolicy = deps.getPolicy(policyKey);
    const checkedPolicy = storedPolicy ? validatePolicy(storedPolicy) : undefined;
    const policy = checkedPolicy?.ok ? checkedPolicy.value : undefined;
    const isLiveRunning = drill.spec.mode === 'Live' && ctx.status.phase === 'Running';

    if (drill.spec.abort) {
      const why = `aborted by spec.abort${isLiveRunning ? '; cleared the injected failure' : ''}`;
      return abort(ctx, policyKey, policy, why, { live: isLiveRunning, restore: true }, signal);
    }

    if (!storedPolicy) {
      if (isLiveRunning) {
        return abort(
          ctx,
          policyKey,
          undefined,
          `aborted: policy ${policyKey} was deleted during the drill`,
          { live: true, restore: false },
          signal,
        );
      }
      return pending(
        ctx,
        Reason.PolicyNotFound,
        `FailoverPolicy ${policyKey} (spec.policyRef.name) does not exist; create it or fix spec.policyRef.name`,
        POLICY_WAIT_MS,
      );
    }
    if (!checkedPolicy?.ok || !policy) {
      const errors = checkedPolicy && !checkedPolicy.ok ? invalidSpecMessage(checkedPolicy.errors, 900) : '';
      if (isLiveRunning) {
        return abort(
          ctx,
          policyKey,
          undefined,
          `aborted: policy ${policyKey} became invalid: ${errors}`,
          { live: true, restore: false },
          signal,
        );
      }
      return fail(ctx, Reason.PolicyInvalid, `FailoverPolicy ${policyKey} is not valid: ${errors}`);
    }

    if (drill.spec.mode === 'DryRun') return runDryRun(ctx, drill, policy, signal);
    if (!isLiveRunning) return startLive(ctx, drill, policyKey, policy, storedPolicy.status);
    return progressLive(ctx, drill, policyKey, policy, storedPolicy.status, signal);
  };
}

// ---------------------------------------------------------------------------------------------------------------

function intervalMs(policy: FailoverPolicy): number {
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

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 100) / 10);
}

function pick(weights: Readonly<Record<string, number>>, ids: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) if (weights[id] !== undefined) out[id] = weights[id];
  return out;
}

function formatWeights(weights: Readonly<Record<string, number>>): string {
  return Object.keys(weights)
    .sort()
    .map((id) => `${id}=${weights[id]}`)
    .join(', ');
}

/** JSON form, so `undefined` fields and key order do not count as a change. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}));
}

/** The drill behind an injected failure: a rehearsal promotes the database only when its spec opts in (PB-12). */
function liveDrillOf(ctx: Ctx, drill: FailoverDrill): { name: string; allowPromotion: boolean } {
  return { name: `${ctx.req.namespace}/${ctx.req.name}`, allowPromotion: drill.spec.allowPromotion === true };
}

/**
 * The RPO of a promotion this drill caused: the replica lag status.failover recorded when PromoteReadReplica was
 * sent, for a failover started after the drill did (never negative: −1 never passes the RPO gate).
 */
function drillPromotionLag(
  policyStatus: Partial<FailoverPolicyStatus> | undefined,
  startedAtMs: number,
): number | undefined {
  const failover = policyStatus?.failover;
  const lag = failover?.promotion?.lagSeconds;
  if (!failover || lag === undefined || failover.phase === 'Aborted') return undefined;
  return Date.parse(failover.startedAt) >= startedAtMs ? Math.max(0, lag) : undefined;
}
