// The executor: performs a plan's actions in order, safely (DESIGN "The executor owns safety").
//
// For each action, one step per block:
//   1. already Done in the journal → not re-issued (no double promotion, PB-7);
//   2. intent recorded (Pending) and SAVED before any AWS call — a crash after this point leaves evidence;
//   3. performed through the call pipeline (PB-3 zone guard, PB-8 timeouts/retries/rate limits/breakers);
//   4. outcome recorded: Done, Failed (and stop: the plan is ordered), or Skipped citing PB-3 (and go on).
// An action whose effect is still settling (DNS change PENDING, promotion under way) ends the run with
// `requeueAfterMs`: the remaining actions are deferred to the next reconcile, which replans from what it observes.
// An action that FAILED is not tried again at once by the next reconcile: attempts of the same action id back off
// exponentially with jitter across reconciles (5 s, 10 s, 20 s … capped at 2 min; `actionBackoffMs`), counted from
// the journal's `attempts` and `finishedAt`, so the backoff survives restarts and leader changes. A new id of the same
// kind on the same target (the drain's weights moved while Route 53 kept failing) continues the streak; a success
// (Done) on that target resets it. While it waits, the run ends with `backoff` (the action, the next attempt time, the error)
// for the status to report, and the remaining actions are deferred (the plan is ordered).
// Every outcome leaves a log line, an Event and a metric citing the rule (PB-11).
//
// Dry run: nothing is written (no AWS write, no journal change); every action is reported as `wouldDo`.

import type { Logger } from 'pino';
import { errorText } from '../cloud/errors.ts';
import type { Cloud, PromotionLock } from '../cloud/types.ts';
import { fingerprint } from '../decide/action-ids.ts';
import type { Plan, PlannedAction, SkippedAction } from '../decide/types.ts';
import type { CallPipeline } from './call-pipeline.ts';
import type { ChangeCoalescer } from './change-coalescer.ts';
import { CircuitOpenError, LeadershipExpiredError, PromotionLockRefused, ZoneImpairedRefusal } from './errors.ts';
import {
  failingStreak,
  findEntry,
  type JournalEntry,
  recordDone,
  recordFailed,
  recordIntent,
  recordSkipped,
} from './journal.ts';
import type { JournalStore } from './journal-store.ts';
import {
  type ActionOutcome,
  type CurrentRecords,
  DEFAULT_SETTLE_OPTIONS,
  type ExecutorPolicy,
  performAction,
  requestTokenFor,
  type SettleOptions,
} from './perform-action.ts';
import { type ActionEvent, ActionEventReason, type ActionMetrics, type ActionResult, type EventSink } from './trail.ts';
import type { Clock } from './types.ts';

export interface ExecutorDeps {
  cloud: Cloud;
  pipeline: CallPipeline;
  clock: Clock;
  logger: Logger;
  journalStore: JournalStore;
  events?: EventSink;
  metrics?: ActionMetrics;
  settle?: Partial<SettleOptions>;
  /** Shares Route 53 change batches and GetChange polls between policies on one hosted zone (PB-8). */
  coalescer?: ChangeCoalescer;
  /** Serves the read before a weight change from the shared record cache (perform-action.ts). */
  currentRecords?: CurrentRecords;
  /**
   * The promotion lock taken right before every PromoteReadReplica (#14), and this operator's name in it. Absent:
   * no lock (one operator per policy; the operator warns at start-up).
   */
  promotionLock?: { lock: PromotionLock; vantage: string; holder: string };
}

export interface ExecuteOptions {
  signal: AbortSignal;
  dryRun: boolean;
}

export interface ExecutionResult {
  done: PlannedAction[];
  /** The first failure; execution stopped there. */
  failed?: { action: PlannedAction; error: Error };
  /** Refused by a guard (PB-3), recorded in the journal as Skipped. */
  skipped: SkippedAction[];
  /** Done in the journal already: not re-issued. */
  alreadyDone: PlannedAction[];
  /** Not attempted because an earlier action failed or is still settling; the next plan decides about them. */
  deferred: PlannedAction[];
  /** Dry run: what would have been done. */
  wouldDo?: PlannedAction[];
  /** Come back after this long (an effect is settling, or a circuit breaker is open). */
  requeueAfterMs?: number;
  /** A Route 53 change submitted and not yet seen INSYNC (for CloudObservation.pendingDnsChange). */
  pendingDnsChange?: string;
  /** An action that failed before and waits out its backoff: not attempted in this run. */
  backoff?: { action: PlannedAction; attempts: number; nextAttemptAt: number; lastError?: string };
}

/** First wait after a failed attempt of an action, and the longest (PB-8: minutes, not seconds). */
export const ACTION_BACKOFF_BASE_MS = 5_000;
export const ACTION_BACKOFF_MAX_MS = 2 * 60_000;

/**
 * How long after its `attempts`-th failed attempt an action waits before the next: base × 2^(attempts−1), capped,
 * with "equal jitter" (half fixed, half spread) drawn from the action id, so policies failing together do not retry
 * in lockstep and a restarted operator computes the same wait.
 */
export function actionBackoffMs(attempts: number, id: string): number {
  const ceiling = Math.min(ACTION_BACKOFF_MAX_MS, ACTION_BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  const spread = Number.parseInt(fingerprint(`${id}#${attempts}`), 16) / 0xffffffff;
  return Math.round(ceiling / 2 + (ceiling / 2) * spread);
}

export interface Executor {
  execute(
    policyKey: string,
    policy: ExecutorPolicy,
    plan: Pick<Plan, 'actions'>,
    opts: ExecuteOptions,
  ): Promise<ExecutionResult>;
}

export function createExecutor(deps: ExecutorDeps): Executor {
  const { clock, logger, journalStore } = deps;
  const settle: SettleOptions = { ...DEFAULT_SETTLE_OPTIONS, ...deps.settle };

  function leaveTrail(
    policyKey: string,
    action: PlannedAction,
    result: ActionResult,
    rule: string,
    message: string,
    durationMs: number,
    error?: Error,
  ): void {
    const fields = {
      policy: policyKey,
      action: action.action.kind,
      id: action.id,
      target: action.target,
      zone: action.zone,
      region: action.region,
      rule,
      durationMs,
      ...(error !== undefined && { err: error }),
    };
    if (result === 'failed' || result === 'skipped') logger.warn(fields, message);
    else logger.info(fields, message);

    const event: ActionEvent = {
      type: result === 'failed' || result === 'skipped' ? 'Warning' : 'Normal',
      reason:
        result === 'done'
          ? ActionEventReason.Performed
          : result === 'failed'
            ? ActionEventReason.Failed
            : result === 'skipped'
              ? ActionEventReason.Skipped
              : ActionEventReason.DryRun,
      message,
      action,
      rule,
    };
    try {
      Promise.resolve(deps.events?.emit(policyKey, event)).catch((err: unknown) =>
        logger.warn({ policy: policyKey, err }, 'failed to record Event'),
      );
    } catch (err) {
      logger.warn({ policy: policyKey, err }, 'failed to record Event');
    }
    deps.metrics?.observeAction({ policy: policyKey, kind: action.action.kind, rule, result, durationMs });
  }

  const describe = (a: PlannedAction) => `${a.action.kind} on ${a.target}`;

  /**
   * A change to the policy's weighted group is on its way (its intent is about to be saved): starts the shared live
   * read of the group it will read (its outcome is the action's), and, for a weight change, tells the change
   * coalescer, so the zone's next batch waits for it (bounded) instead of leaving a moment before it. Returns the
   * release that ends that expectation (a no-op when there is none).
   */
  function announceGroupChange(action: PlannedAction, policy: ExecutorPolicy, policyKey: string, signal: AbortSignal) {
    const route53 = policy.spec.traffic?.route53;
    const kind = action.action.kind;
    if (route53 === undefined || policy.spec.dryRun === true) return () => {};
    if (kind !== 'SetWeights' && kind !== 'PrepareDataPlane') return () => {};
    deps.currentRecords?.(route53.hostedZoneId, route53.recordName, route53.type, signal).catch(() => {
      // The action's own read reports it (it reads again when this one failed).
    });
    if (deps.coalescer === undefined || kind !== 'SetWeights') return () => {};
    return deps.coalescer.expect(route53.hostedZoneId, policyKey);
  }

  return {
    async execute(policyKey, policy, plan, opts) {
      const result: ExecutionResult = { done: [], skipped: [], alreadyDone: [], deferred: [] };

      if (opts.dryRun || policy.spec.dryRun === true) {
        for (const action of plan.actions) {
          leaveTrail(
            policyKey,
            action,
            'dry-run',
            action.rule,
            `${action.rule} would perform ${describe(action)} (dry run): ${action.reason}`,
            0,
          );
        }
        result.wouldDo = [...plan.actions];
        return result;
      }

      let journal: JournalEntry[] = await journalStore.load(policyKey);

      for (const [index, action] of plan.actions.entries()) {
        opts.signal.throwIfAborted();

        // 1. Never re-issue what is Done.
        const prior = findEntry(journal, action.id);
        if (prior?.state === 'Done') {
          result.alreadyDone.push(action);
          logger.debug(
            { policy: policyKey, action: action.action.kind, id: action.id, rule: action.rule },
            'skipped action already done',
          );
          continue;
        }

        // 1b. A failed action waits out its backoff before the next attempt (survives restarts: it is in the journal),
        // and so does a new id on the same target whose predecessor failed (failingStreak).
        const streak = failingStreak(journal, action);
        if (streak?.finishedAt !== undefined) {
          const attempts = streak.attempts ?? 1;
          const nextAttemptAt = Date.parse(streak.finishedAt) + actionBackoffMs(attempts, action.id);
          if (clock.now() < nextAttemptAt) {
            result.backoff = {
              action,
              attempts,
              nextAttemptAt,
              ...(streak.error === undefined ? {} : { lastError: streak.error }),
            };
            result.deferred = plan.actions.slice(index);
            result.requeueAfterMs = nextAttemptAt - clock.now();
            logger.debug(
              { policy: policyKey, action: action.action.kind, id: action.id, attempts, nextAttemptAt, rule: 'PB-8' },
              'failed action waits out its backoff',
            );
            return result;
          }
        }

        // 2. Intent first, durably. The read a weight change makes before its write (a live listing of the zone,
        // shared by the drains that start together) is started now, while the intent is saved: a read changes
        // nothing, and the write waits for the saved intent as always. The action's own read joins this one.
        const releaseExpectation = announceGroupChange(action, policy, policyKey, opts.signal);
        const token = requestTokenFor(action);
        journal = recordIntent(journal, action, clock.now(), token);
        const savingSince = clock.now();
        try {
          await journalStore.save(policyKey, journal);
        } catch (err) {
          releaseExpectation();
          throw err;
        }
        logger.debug(
          { policy: policyKey, action: action.action.kind, id: action.id, saveMs: clock.now() - savingSince },
          'saved intent',
        );

        // 3. Perform.
        const startedAt = clock.now();
        let outcome: ActionOutcome;
        try {
          outcome = await performAction(action, {
            cloud: deps.cloud,
            pipeline: deps.pipeline,
            clock,
            policyKey,
            policy,
            signal: opts.signal,
            resuming: prior?.state === 'Pending',
            settle,
            ...(deps.coalescer && { coalescer: deps.coalescer }),
            ...(deps.currentRecords && { currentRecords: deps.currentRecords }),
            ...(deps.promotionLock && { promotionLock: deps.promotionLock }),
          });
          releaseExpectation();
        } catch (caught) {
          releaseExpectation();
          const error = caught instanceof Error ? caught : new Error(String(caught));
          // Cancelled by the caller (shutdown, lost leadership): the entry stays Pending; the next leader's
          // observation decides whether the call took effect.
          if (opts.signal.aborted) throw caught;
          // No longer the leader (or about to stop being it): nothing more is written, not even the outcome; the
          // entry stays Pending for the new leader, whose observation decides.
          if (error instanceof LeadershipExpiredError) throw caught;

          // A refusal before the call (the action was never sent): recorded as Skipped, citing the refusing rule.
          const skip = async (refusal: ZoneImpairedRefusal | PromotionLockRefused): Promise<void> => {
            const reason = refusal.message;
            journal = recordSkipped(journal, action.id, clock.now(), refusal.rule, reason);
            await journalStore.save(policyKey, journal);
            result.skipped.push({
              kind: action.action.kind,
              target: action.target,
              ...(refusal instanceof ZoneImpairedRefusal && refusal.zone !== undefined && { zone: refusal.zone }),
              region: refusal.region,
              rule: refusal.rule,
              reason,
            });
            leaveTrail(
              policyKey,
              action,
              'skipped',
              refusal.rule,
              `${refusal.rule} skipped ${describe(action)}: ${reason}`,
              clock.now() - startedAt,
            );
          };

          if (error instanceof ZoneImpairedRefusal) {
            await skip(error);
            continue;
          }

          // Another operator took this failover for another replica (#14): recorded as Skipped citing PB-6, the
          // holder named; the planner holds the failover there (PromotionLocked) and never sends it again. The plan
          // stops here: what follows a promotion must not run without it.
          if (error instanceof PromotionLockRefused) {
            await skip(error);
            result.deferred = plan.actions.slice(index + 1);
            return result;
          }

          // The journal names the AWS error code too: "We encountered an internal error" alone says little.
          const text = errorText(error);
          journal = recordFailed(journal, action.id, clock.now(), text);
          await journalStore.save(policyKey, journal);
          result.failed = { action, error };
          result.deferred = plan.actions.slice(index + 1);
          const circuit = error instanceof CircuitOpenError ? error : error.cause;
          if (circuit instanceof CircuitOpenError) result.requeueAfterMs = circuit.retryAfterMs;
          leaveTrail(
            policyKey,
            action,
            'failed',
            action.rule,
            `${action.rule} failed ${describe(action)}: ${error.message}`,
            clock.now() - startedAt,
            error,
          );
          return result;
        }

        // 4. Done.
        journal = recordDone(journal, action.id, clock.now(), outcome.detail, outcome.requestToken);
        await journalStore.save(policyKey, journal);
        result.done.push(action);
        leaveTrail(
          policyKey,
          action,
          'done',
          action.rule,
          `${action.rule} performed ${describe(action)}: ${outcome.detail}`,
          clock.now() - startedAt,
        );

        if (outcome.pendingDnsChange !== undefined) result.pendingDnsChange = outcome.pendingDnsChange;
        if (outcome.settleAfterMs !== undefined) {
          result.requeueAfterMs = outcome.settleAfterMs;
          result.deferred = plan.actions.slice(index + 1);
          return result;
        }
      }
      return result;
    },
  };
}
