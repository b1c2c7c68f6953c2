// The FailoverDrill reconciler (PB-12): a thin executor. What a drill does next is decided by the pure
// decideDrillStep (drill-step.ts: the drill, its status, its policy, the policy's health, the time); this file
// gathers those inputs, performs the step — status writes, Events, the engine's injection and weight restore, the
// finalizer — and logs it. Everything a drill needs to resume after a restart or a leader change is in its status
// (phase, startedAt, the measurements so far, the pre-drill weights in status.preDrillWeights) and its finalizer.
//
// Only the leader runs drills: the Manager runs reconciles only while leading, and writes are guarded as well.

import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import {
  type Condition,
  ConditionStatus,
  DrillConditionType,
  type FailoverDrillStatus,
  type FailoverPolicy,
  Reason,
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
import { simulatedPolicy } from './drill-scenario.ts';
import { DrillSimulationTooLarge } from './drill-simulator.ts';
import { boundedTimeline, preDrillWeightsEntry, reportFromSimulation, timelineEntry } from './drill-status.ts';
import {
  DRILL_FINALIZER,
  type DrillStep,
  decideDrillStep,
  drillPolicyKey,
  type StoredDrill,
  seconds,
} from './drill-step.ts';
import { setConditions } from './policy-conditions.ts';
import type { StoredPolicy } from './policy-reconciler.ts';
import type { Tenancy } from './tenancy-grants.ts';

export {
  DRILL_FINALIZER,
  FAILBACK_GRACE_MS,
  failbackWindowMs,
  POLICY_WAIT_MS,
  type StoredDrill,
} from './drill-step.ts';

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
  /**
   * Namespace grants (#15): a Live drill does not start, and restores no weights, on a policy outside its namespace's
   * grants — both are Route 53 writes. Absent: unrestricted.
   */
  tenancy?: Pick<Tenancy, 'violations'>;
  /** Drills that may run at once in one namespace (FO_DRILL_NAMESPACE_LIMIT); absent: no limit. */
  namespaceDrillLimit?: number;
  clock: Clock;
  logger: Logger;
}

interface Ctx {
  key: string;
  req: ObjectRef;
  stored: StoredDrill;
  status: Partial<FailoverDrillStatus>;
  now: number;
  log: Record<string, unknown>;
}

type Step<K extends DrillStep['kind']> = Extract<DrillStep, { kind: K }>;

/** What this process knows of a Live drill it runs, to clean up if the drill object vanishes mid-drill. */
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
  /**
   * Drills (by uid) whose start this process has decided but not yet written: they count as Running for the other
   * workers' decisions, so two drills of one namespace deciding at once cannot both take its last turn.
   */
  const starting = new Set<string>();

  /** Whether the policy's namespace is granted what it names; a refusal is logged (no AWS call is made). */
  const permitted = (policyKey: string, policy: FailoverPolicy): boolean => {
    const violations = deps.tenancy?.violations(policyKey.split('/')[0] ?? '', policy) ?? [];
    if (violations.length === 0) return true;
    logger.warn(
      { policy: policyKey, fields: violations.map((v) => v.field) },
      'Made no AWS call for a drill: its policy names AWS resources its namespace is not granted',
    );
    return false;
  };

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
  async function fail(ctx: Ctx, step: Step<'fail'>): Promise<undefined> {
    const { reason, message, invalidSpec } = step;
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

  async function pending(ctx: Ctx, step: Step<'pending'>) {
    const { reason, message } = step;
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
    return { requeueAfterMs: step.requeueAfterMs };
  }

  /**
   * Restores the pre-drill weights through the executor — never judged from the policy's status, which lags the
   * engine (a drain may have landed in Route 53 before the status says so). Restoring weights already there
   * changes nothing. A failure throws: the reconcile is retried with backoff.
   */
  async function restore(
    policyKey: string,
    r: { policy: FailoverPolicy; weights: Record<string, number> },
    why: string,
    signal: AbortSignal,
  ): Promise<void> {
    if (!permitted(policyKey, r.policy)) return;
    const result = await engine.restoreWeights(policyKey, r.policy, r.weights, why, signal);
    if (result.failed) throw result.failed.error;
  }

  // Abort: the injection is forgotten (health back to what the real probes say, no recovery window: the zone
  // never really failed) and, for spec.abort, the pre-drill weights go back at once through the executor.
  async function abort(ctx: Ctx, step: Step<'abort'>, signal: AbortSignal): Promise<undefined> {
    const { policyKey } = step;
    // Only a Live drill that runs has injected anything; another drill's injection on the same policy is not ours.
    if (step.live) engine.forgetInjectedFailures(policyKey);
    let restored = '';
    if (step.restore) {
      await restore(
        policyKey,
        step.restore,
        `drill ${ctx.req.name} aborted: restoring the pre-drill weights (PB-12)`,
        signal,
      );
      restored = `; restored the pre-drill weights ${formatWeights(step.restore.weights)}`;
      await deps.events.record(ctx.key, {
        type: 'Normal',
        reason: DrillEventReason.WeightsRestored,
        message: `PB-12 restored the pre-drill Route 53 weights of ${policyKey}: ${formatWeights(step.restore.weights)}`,
      });
    }
    running.delete(ctx.key);
    const message = `${step.why}${restored}`;
    await write(ctx, {
      ...observed(ctx),
      phase: 'Aborted',
      result: 'Aborted',
      passed: false,
      completedAt: rfc3339(ctx.now),
      summary: message.slice(0, 1024),
      ...(step.trail ? { actions: step.trail.actions.slice(0, 200), skipped: step.trail.skipped.slice(0, 200) } : {}),
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
    if (step.live) deps.reconcilePolicy?.(policyKey);
    return undefined;
  }

  async function runDryRun(ctx: Ctx, step: Step<'dry-run'>, signal: AbortSignal) {
    const { drill, policy, scenario, startedAtMs } = step;
    if (step.announce !== undefined) {
      const message = step.announce;
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
    let simulated: Awaited<ReturnType<typeof deps.simulate>>;
    try {
      simulated = await deps.simulate({ policy: simulatedPolicy(drill, policy), scenario, signal });
    } catch (err) {
      if (!(err instanceof DrillSimulationTooLarge)) throw err;
      // It would outgrow its worker every time: the drill fails, with the reason, instead of retrying forever.
      ctx.now = clock.now();
      const message = `DryRun ${scenario.name} could not be simulated: ${err.message}`;
      await write(ctx, {
        ...observed(ctx),
        phase: 'Failed',
        completedAt: rfc3339(ctx.now),
        conditions: conditions(ctx, [
          { type: DrillConditionType.Running, status: ConditionStatus.False, reason: Reason.DrillFailed, message },
          { type: DrillConditionType.Completed, status: ConditionStatus.True, reason: Reason.DrillFailed, message },
        ]),
      });
      await deps.events.record(ctx.key, { type: 'Warning', reason: Reason.DrillFailed, message });
      logger.warn({ ...ctx.log, scenario: scenario.name, rule: 'PB-12' }, message);
      return undefined;
    }
    const { report, timeline } = simulated;
    const fields = reportFromSimulation({ policy, report, timeline, startedAtMs, timeScale: drill.spec.timeScale });
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

  async function startLive(ctx: Ctx, step: Step<'start-live'>) {
    const { policyKey, preDrill, message } = step;
    // The finalizer first (with the resourceVersion just read; a conflict retries from here, nothing done yet): from
    // the moment the drill is Running, a deletion restores the weights before it completes.
    if (step.addFinalizer && deps.finalizers)
      await deps.finalizers.add(ctx.req, DRILL_FINALIZER, ctx.stored.metadata ?? {});
    // Intent first: the pre-drill state is in status before anything is injected, so abort can always restore it.
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
    engine.injectZoneFailure(policyKey, step.zones, `drill ${ctx.req.name}`, step.drill);
    await deps.events.record(ctx.key, { type: 'Normal', reason: DrillEventReason.Started, message });
    logger.info(
      { ...ctx.log, policy: policyKey, zones: step.zones, preDrill, rule: 'PB-12' },
      'Started Live drill: injected zone failure',
    );
    deps.reconcilePolicy?.(policyKey);
    return { requeueAfterMs: step.requeueAfterMs };
  }

  async function progressLive(ctx: Ctx, step: Step<'progress-live'>) {
    const { policyKey } = step;
    running.set(ctx.key, { policyKey, preDrill: step.preDrill });
    if (step.injection === 'keep') {
      engine.injectZoneFailure(policyKey, step.zones, `drill ${ctx.req.name}`, step.drill); // idempotent; resumes
    } else {
      engine.clearInjectedFailures(policyKey);
    }
    for (const event of step.events) await deps.events.record(ctx.key, event);
    if (step.reconcilePolicy) deps.reconcilePolicy?.(policyKey);
    if (step.steps.length > 0 || Object.keys(step.patch).length > 0) {
      await write(ctx, {
        ...step.patch,
        timeline: note(ctx, ...step.steps),
        ...(step.steps.length > 0 ? { summary: step.steps.at(-1) } : {}),
      });
      for (const line of step.steps) logger.info({ ...ctx.log, policy: policyKey, rule: 'PB-12' }, `Drill ${line}`);
    }
    if (!step.finish) return { requeueAfterMs: step.requeueAfterMs ?? 1_000 };
    return finishLive(ctx, step, step.finish);
  }

  async function finishLive(ctx: Ctx, step: Step<'progress-live'>, f: NonNullable<Step<'progress-live'>['finish']>) {
    const s = ctx.status;
    const reason = f.passed ? Reason.DrillPassed : Reason.DrillFailed;
    running.delete(ctx.key);
    await write(ctx, {
      ...observed(ctx),
      phase: f.passed ? 'Succeeded' : 'Failed',
      result: f.passed ? 'Passed' : 'Failed',
      passed: f.passed,
      completedAt: rfc3339(ctx.now),
      actions: f.actions.slice(0, 200),
      skipped: f.skipped.slice(0, 200),
      violations: f.violations.slice(0, 32),
      summary: f.summary,
      timeline: note(ctx, f.note),
      conditions: conditions(ctx, [
        { type: DrillConditionType.Running, status: ConditionStatus.False, reason, message: f.message },
        { type: DrillConditionType.Completed, status: ConditionStatus.True, reason, message: f.message },
      ]),
    });
    deps.metrics?.recordDrillReport({
      scenario: f.scenario,
      policy: step.policyKey,
      passed: f.passed,
      // A Live drill's fault is injected when it starts: T+0 is the start, and its times count from there.
      faultAt: rfc3339(f.startedAtMs),
      faultScenarioSeconds: 0,
      measuredFromSeconds: 0,
      detectionSeconds: s.detectionSeconds ?? null,
      trafficShiftedSeconds: s.trafficShiftedSeconds ?? null,
      rtoSeconds: s.rtoSeconds ?? null,
      rpoSeconds: s.rpoSeconds ?? null,
      actions: f.actions.map((a) => ({ kind: a.kind, target: a.target, rule: a.rule, at: a.scenarioSeconds ?? 0 })),
      skipped: [],
      violations: f.violations.map((v) => ({ rule: v.objective, message: v.message })),
      expectations: [],
      durationSeconds: seconds(ctx.now - f.startedAtMs),
    });
    await deps.events.record(ctx.key, { type: f.passed ? 'Normal' : 'Warning', reason, message: f.message });
    logger.info(
      {
        ...ctx.log,
        policy: step.policyKey,
        passed: f.passed,
        detectionSeconds: s.detectionSeconds,
        trafficShiftedSeconds: s.trafficShiftedSeconds,
        failback: f.failback,
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
  async function deleted(ctx: Ctx, step: Step<'delete'>, signal: AbortSignal): Promise<undefined> {
    if (step.live) {
      const { policyKey } = step.live;
      engine.forgetInjectedFailures(policyKey);
      if (step.live.restore) {
        const why = `drill ${ctx.req.name} deleted while running: restoring the pre-drill weights (PB-12)`;
        await restore(policyKey, step.live.restore, why, signal); // a failure retries; the finalizer holds the deletion
      }
      logger.warn({ ...ctx.log, policy: policyKey, rule: 'PB-12' }, 'Drill deleted while running; aborted it');
      deps.reconcilePolicy?.(policyKey);
    }
    running.delete(ctx.key);
    await releaseFinalizer(ctx);
    return undefined;
  }

  /** The drill object is gone (no finalizer held it): clean up what this process injected, if anything. */
  async function vanished(key: string, req: ObjectRef, log: Record<string, unknown>, signal: AbortSignal) {
    const live = running.get(key);
    if (!live) return undefined;
    running.delete(key);
    engine.forgetInjectedFailures(live.policyKey);
    const policy = validatePolicy(deps.getPolicy(live.policyKey));
    if (policy.ok && Object.values(live.preDrill).some((w) => w > 0) && permitted(live.policyKey, policy.value)) {
      const why = `drill ${req.name} deleted while running: restoring the pre-drill weights (PB-12)`;
      await engine.restoreWeights(live.policyKey, policy.value, live.preDrill, why, signal);
    }
    logger.warn({ ...log, policy: live.policyKey, rule: 'PB-12' }, 'Drill deleted while running; aborted it');
    deps.reconcilePolicy?.(live.policyKey);
    return undefined;
  }

  /** Performs one decided step. */
  async function perform(ctx: Ctx, step: DrillStep, signal: AbortSignal) {
    switch (step.kind) {
      case 'nothing':
        return undefined;
      case 'release-finalizer':
        await releaseFinalizer(ctx);
        return undefined;
      case 'delete':
        return deleted(ctx, step, signal);
      case 'fail':
        return fail(ctx, step);
      case 'pending':
        return pending(ctx, step);
      case 'abort':
        return abort(ctx, step, signal);
      case 'dry-run':
        return runDryRun(ctx, step, signal);
      case 'start-live': {
        const policy = validatePolicy(deps.getPolicy(step.policyKey));
        if (policy.ok && !permitted(step.policyKey, policy.value)) {
          return fail(ctx, {
            kind: 'fail',
            reason: Reason.DrillRefused,
            message: `Live drill refused: policy ${step.policyKey} is NotPermitted (it names AWS resources its namespace is not granted; see its Ready condition)`,
            invalidSpec: false,
          });
        }
        return startLive(ctx, step);
      }
      case 'progress-live':
        return progressLive(ctx, step);
    }
  }

  // -------------------------------------------------------------------------------------------------------------

  return async (req, signal) => {
    const key = keyOf(req);
    const log = { namespace: req.namespace, name: req.name };

    // The Manager runs reconciles only while leading; this guards the window around a leadership change.
    if (!deps.isLeader()) return undefined;
    const stored = deps.getDrill(key);
    if (!stored) return vanished(key, req, log, signal);
    const ctx: Ctx = { key, req, stored, status: statusOf(stored), now: clock.now(), log };
    const policyKey = drillPolicyKey(req, stored);
    const step = decideDrillStep({
      ref: req,
      drill: stored,
      status: ctx.status,
      policy: policyKey === undefined ? undefined : deps.getPolicy(policyKey),
      others: deps.listDrills().map((d) => ({
        drill: d,
        status: starting.has(d.metadata?.uid ?? '') ? { ...statusOf(d), phase: 'Running' as const } : statusOf(d),
      })),
      health: policyKey === undefined ? undefined : engine.healthOf(policyKey),
      realHealth: policyKey === undefined ? undefined : engine.realHealthOf(policyKey),
      ...(running.get(key) ? { knownPreDrill: running.get(key)!.preDrill } : {}),
      ...(deps.namespaceDrillLimit === undefined ? {} : { namespaceDrillLimit: deps.namespaceDrillLimit }),
      now: ctx.now,
    });
    const uid = stored.metadata?.uid ?? key;
    const starts = (step.kind === 'dry-run' && step.announce !== undefined) || step.kind === 'start-live';
    if (!starts) return perform(ctx, step, signal);
    starting.add(uid);
    try {
      return await perform(ctx, step, signal);
    } finally {
      starting.delete(uid);
    }
  };
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
