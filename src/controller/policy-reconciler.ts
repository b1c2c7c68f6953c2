// The FailoverPolicy reconciler: level-based (it gets only namespace/name and reads everything it needs), one step
// per block with early returns, after controller-runtime's reconcilers. The decisions live in the engine
// (src/engine/policy-engine.ts); this file decides only *whether* the engine may look at a policy, and writes
// what it reports.
//
//   gone            → stop probing it; AWS is left exactly as it is.
//   invalid spec    → InvalidSpec=True, Ready=False, a Warning Event; no AWS call at all until the spec is fixed.
//   suspended       → Suspended=True; probes stop and nothing is written to AWS.
//   otherwise       → engine.reconcile (observe → plan → act on the leader) → status → come back when it says.
//
// Status is written only when it changed: an unchanged status is not patched, so our own write's watch event does
// not turn into a reconcile loop, and Route 53 reads stay within PB-8's budget.

import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import {
  ConditionStatus,
  ConditionType,
  type FailoverPolicy,
  type FailoverPolicyStatus,
  invalidSpecMessage,
  Reason,
  validatePolicy,
} from '../api/index.ts';
import type { Clock } from '../clock.ts';
import type { PolicyEngine } from '../engine/policy-engine.ts';
import { keyOf, type ObjectRef, type Reconciler, type StatusWriter } from '../runtime/index.ts';
import { setConditions } from './policy-conditions.ts';
import type { PolicyEvents } from './policy-events.ts';

/** The policy as the informer caches it: whatever the apiserver stored, not yet validated. */
export interface StoredPolicy {
  metadata?: { name?: string; namespace?: string; generation?: number; uid?: string };
  spec?: unknown;
  status?: Partial<FailoverPolicyStatus>;
}

export interface PolicyReconcilerDeps {
  getPolicy(key: string): StoredPolicy | undefined;
  engine: Pick<PolicyEngine, 'track' | 'untrack' | 'reconcile'>;
  statusWriter: StatusWriter<Partial<FailoverPolicyStatus>>;
  events: Pick<PolicyEvents, 'record'>;
  /** Forgets per-policy state kept outside the engine (the journal store's cache). */
  onPolicyGone?: (key: string) => void;
  /** Only the leader writes status (the Manager runs reconciles only while leading; this guards the window). */
  isLeader: () => boolean;
  clock: Clock;
  logger: Logger;
}

/** How soon a suspended or invalid policy is looked at again when nothing changes (a spec edit comes at once). */
export const IDLE_RESYNC_MS = 5 * 60_000;

export function createPolicyReconciler(deps: PolicyReconcilerDeps): Reconciler {
  const { engine, clock } = deps;
  const logger = deps.logger.child({ controller: 'failoverpolicy' });

  async function writeStatus(req: ObjectRef, stored: StoredPolicy, status: Partial<FailoverPolicyStatus>) {
    if (!deps.isLeader()) return;
    const current = stored.status ?? {};
    const merged = { ...current, ...status };
    if (isDeepStrictEqual(normalize(merged), normalize(current))) return;
    await deps.statusWriter.patchStatus(req, { status });
  }

  return async (req, signal) => {
    const key = keyOf(req);
    const log = { namespace: req.namespace, name: req.name };

    const stored = deps.getPolicy(key);
    if (!stored) {
      engine.untrack(key);
      deps.onPolicyGone?.(key);
      logger.info(log, 'Policy is gone; stopped probing it and left AWS as it is');
      return undefined;
    }
    const generation = stored.metadata?.generation;
    const now = clock.now();

    const validated = validatePolicy(stored);
    if (!validated.ok) {
      engine.untrack(key);
      const message = invalidSpecMessage(validated.errors);
      await writeStatus(req, stored, {
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        conditions: setConditions(
          stored.status?.conditions,
          [
            { type: ConditionType.InvalidSpec, status: ConditionStatus.True, reason: Reason.SpecInvalid, message },
            { type: ConditionType.Ready, status: ConditionStatus.False, reason: Reason.SpecInvalid, message },
          ],
          { now, ...(generation === undefined ? {} : { observedGeneration: generation }) },
        ),
      });
      await deps.events.record(key, { type: 'Warning', reason: Reason.SpecInvalid, message });
      logger.warn(
        { ...log, errors: validated.errors.length, rule: 'PB-11' },
        'Rejected invalid spec; made no AWS call',
      );
      return { requeueAfterMs: IDLE_RESYNC_MS };
    }
    const policy: FailoverPolicy = validated.value;

    if (policy.spec.suspend) {
      engine.untrack(key);
      const message = 'spec.suspend is true: the operator neither probes nor acts on this policy';
      await writeStatus(req, stored, {
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        conditions: setConditions(
          stored.status?.conditions,
          [
            { type: ConditionType.Suspended, status: ConditionStatus.True, reason: Reason.SuspendedBySpec, message },
            {
              type: ConditionType.InvalidSpec,
              status: ConditionStatus.False,
              reason: Reason.SpecValid,
              message: 'the spec passed validation',
            },
          ],
          { now, ...(generation === undefined ? {} : { observedGeneration: generation }) },
        ),
      });
      logger.info(log, 'Policy is suspended; stopped probing and acting');
      return { requeueAfterMs: IDLE_RESYNC_MS };
    }

    engine.track(key, policy);
    const out = await engine.reconcile(key, policy, signal);
    await writeStatus(req, stored, out.status);
    logger.debug({ ...log, phase: out.status.phase, requeueAfterMs: out.requeueAfterMs }, 'Reconciled policy');
    return { requeueAfterMs: out.requeueAfterMs };
  };
}

/** JSON form, so `undefined` fields and key order do not count as a change. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}));
}
