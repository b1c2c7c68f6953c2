// The FailoverPolicy reconciler: level-based (it gets only namespace/name and reads everything it needs), one step
// per block with early returns, after controller-runtime's reconcilers. The decisions live in the engine
// (src/engine/policy-engine.ts); this file decides only *whether* the engine may look at a policy, and writes
// what it reports.
//
//   gone            → stop probing it; AWS is left exactly as it is.
//   being deleted   → stop probing; say (Event + log, PB-11) that AWS records and databases were left as they are
//                     and what the last known state was — loudly if a journal entry is still Pending, since that
//                     action may be in flight — then release our finalizer so the deletion completes. Nothing in
//                     AWS is deleted, waited for or undone: a deleted policy must never cause an AWS write.
//   invalid spec    → InvalidSpec=True, Ready=False, a Warning Event; no AWS call at all until the spec is fixed.
//   not permitted   → it names an AWS resource its namespace is not granted (#15, docs/tenancy.md): Ready=False
//                     NotPermitted, a Warning Event; no AWS call at all (no probe, no read, no write) until granted.
//   (valid)         → our finalizer is added, so a deletion always leaves that trail.
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
  GROUP,
  invalidSpecMessage,
  type JournalEntry,
  type PolicyPreview,
  PREVIEW_REQUEST_ANNOTATION,
  Reason,
} from '../api/index.ts';
import { notPermittedMessage } from '../api/tenancy.ts';
import type { Clock } from '../clock.ts';
import type { PolicyEngine } from '../engine/policy-engine.ts';
import { type Finalizers, hasFinalizer } from '../runtime/finalizers.ts';
import { keyOf, type ObjectRef, type Reconciler, type StatusWriter } from '../runtime/index.ts';
import { type OperatorVantage, vantageMembership } from '../vantage/settings.ts';
import { setConditions } from './policy-conditions.ts';
import type { PolicyEvents } from './policy-events.ts';
import type { Tenancy } from './tenancy-grants.ts';
import { validateStoredPolicy } from './validated-policy.ts';

/** The policy as the informer caches it: whatever the apiserver stored, not yet validated. */
export interface StoredPolicy {
  metadata?: {
    name?: string;
    namespace?: string;
    generation?: number;
    uid?: string;
    resourceVersion?: string;
    /** client-node types it as a Date; the informer holds the raw JSON string. Only its presence is read. */
    deletionTimestamp?: Date;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: Partial<FailoverPolicyStatus>;
}

export interface PolicyReconcilerDeps {
  getPolicy(key: string): StoredPolicy | undefined;
  engine: Pick<PolicyEngine, 'track' | 'untrack' | 'reconcile' | 'preview'>;
  statusWriter: StatusWriter<Partial<FailoverPolicyStatus>>;
  events: Pick<PolicyEvents, 'record'>;
  /** Adds and releases POLICY_FINALIZER (src/runtime/finalizers.ts). */
  finalizers: Pick<Finalizers, 'add' | 'remove'>;
  /** The freshest journal (the store's own last save beats the informer's copy); default: the cached status. */
  journal?: { load(key: string): Promise<readonly JournalEntry[]> };
  /** Forgets per-policy state kept outside the engine (the journal store's cache). */
  onPolicyGone?: (key: string) => void;
  /** The namespace grants a policy is held to before any AWS call (src/controller/tenancy-grants.ts). */
  tenancy: Tenancy;
  /** Only the leader writes status (the Manager runs reconciles only while leading; this guards the window). */
  isLeader: () => boolean;
  /** This replica's identity (the Lease holder name), named in status.preview. */
  identity?: string;
  /** This operator as a vantage point (FO_VANTAGE); undefined: not one (#14). */
  vantage?: OperatorVantage;
  clock: Clock;
  logger: Logger;
}

/** How soon a suspended or invalid policy is looked at again when nothing changes (a spec edit comes at once). */
export const IDLE_RESYNC_MS = 5 * 60_000;

/**
 * Held on every valid policy so that its deletion passes through the reconciler, which records that AWS was left
 * as it is (and what was in flight) before letting it go. It never blocks a deletion on AWS.
 */
export const POLICY_FINALIZER = `${GROUP}/leave-aws-state`;

/** Event reasons of a deletion. TODO(api owner): move beside `Reason` in src/api/conditions.ts. */
export const DeletionReason = {
  /** Normal: the policy was deleted and AWS records and databases were left exactly as they were. */
  AwsStateLeftAsIs: Reason.AwsStateLeftAsIs,
  /** Warning: deleted while a journal entry was Pending, so that AWS action may still be in flight. */
  DeletedWithActionInFlight: Reason.DeletedWithActionInFlight,
} as const;

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

  /** PB-11: the trail a deletion leaves. Never touches AWS. */
  async function recordLeftAsIs(key: string, log: object, status: Partial<FailoverPolicyStatus>) {
    const state = lastKnownState(status);
    const pending = (status.journal ?? []).filter((e) => e.state === 'Pending');
    const message = `Policy deleted: AWS records and databases were left as they are (the operator never deletes them). Last known state: ${state}.`;
    await deps.events.record(key, { type: 'Normal', reason: DeletionReason.AwsStateLeftAsIs, message });
    logger.info(
      { ...log, rule: 'PB-11', lastKnownState: state },
      'Policy deleted; left AWS records and databases as they are',
    );
    if (pending.length === 0) return;
    const actions = pending.map((e) => `${e.id} ${e.action} on ${e.target} (${e.rule}, Pending since ${e.startedAt})`);
    const warning = `Policy deleted while ${pending.length === 1 ? 'an action was' : `${pending.length} actions were`} Pending: ${actions.join('; ')}. The AWS call may still be in flight or may have completed; nobody will finish or verify it now. Check the target in AWS before acting by hand.`;
    await deps.events.record(key, {
      type: 'Warning',
      reason: DeletionReason.DeletedWithActionInFlight,
      message: warning,
    });
    logger.warn(
      { ...log, rule: 'PB-11', pending: pending.map((e) => e.id) },
      'Policy deleted with an action still Pending; it may be in flight in AWS',
    );
  }

  async function previewFor(
    requestId: string,
    key: string,
    policy: FailoverPolicy,
    signal: AbortSignal,
  ): Promise<PolicyPreview> {
    const base = {
      requestId,
      computedAt: new Date(clock.now()).toISOString(),
      by: deps.identity ?? 'failover-operator',
    };
    try {
      const { plan, view } = await engine.preview(key, policy, signal);
      return {
        ...base,
        phase: plan.phase,
        healthAsOf: new Date(view.at).toISOString(),
        actions: plan.actions.slice(0, 50).map((a) => ({
          kind: a.action.kind,
          target: a.target.slice(0, 512),
          rule: a.rule,
          ...(a.region === undefined ? {} : { region: a.region }),
          ...(a.zone === undefined ? {} : { zone: a.zone }),
          reason: a.reason.slice(0, 1024),
        })),
        gates: plan.gates.slice(0, 50).map((g) => ({ kind: g.kind, rule: g.rule, message: g.message.slice(0, 1024) })),
      };
    } catch (err) {
      if (signal.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      deps.logger.warn({ policy: key, requestId, err: message }, 'Could not plan the requested preview');
      return {
        ...base,
        phase: deps.getPolicy(key)?.status?.phase ?? 'Healthy',
        actions: [],
        gates: [],
        error: `no plan could be made: ${message}`.slice(0, 1024),
      };
    }
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
    if (stored.metadata?.deletionTimestamp !== undefined) {
      engine.untrack(key);
      if (!deps.isLeader() || !hasFinalizer(stored.metadata, POLICY_FINALIZER)) return undefined;
      const journal = deps.journal ? await deps.journal.load(key) : stored.status?.journal;
      await recordLeftAsIs(key, log, { ...stored.status, ...(journal ? { journal: [...journal] } : {}) });
      await deps.finalizers.remove(req, POLICY_FINALIZER, stored.metadata);
      logger.info({ ...log, finalizer: POLICY_FINALIZER }, 'Released finalizer; deletion can complete');
      return undefined;
    }
    const generation = stored.metadata?.generation;
    const now = clock.now();

    const validated = validateStoredPolicy(stored);
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

    /** A valid spec this operator must not act on: stop probing it, and say why in Ready (no AWS call at all). */
    const refuseValid = async (reason: string, message: string): Promise<void> => {
      engine.untrack(key);
      await writeStatus(req, stored, {
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        conditions: setConditions(
          stored.status?.conditions,
          [
            { type: ConditionType.Ready, status: ConditionStatus.False, reason, message },
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
    };

    const violations = deps.tenancy.violations(req.namespace ?? '', policy);
    if (violations.length > 0) {
      const problem = deps.tenancy.problem();
      const message = `${notPermittedMessage(violations)}${problem ? ` (note: ${problem})` : ''}`;
      await refuseValid(Reason.NotPermitted, message);
      await deps.events.record(key, { type: 'Warning', reason: Reason.NotPermitted, message });
      logger.warn(
        { ...log, fields: violations.map((v) => v.field) },
        'Refused policy naming AWS resources its namespace is not granted; made no AWS call',
      );
      return { requeueAfterMs: IDLE_RESYNC_MS };
    }

    const membership = vantageMembership(policy.spec, deps.vantage);
    if (membership.kind === 'not-a-member') {
      const message = membership.message;
      await refuseValid(Reason.NotAVantage, message);
      if (deps.isLeader()) await deps.events.record(key, { type: 'Warning', reason: Reason.NotAVantage, message });
      logger.warn({ ...log, vantage: deps.vantage?.name }, 'Not a vantage point of this policy; made no AWS call');
      return { requeueAfterMs: IDLE_RESYNC_MS };
    }

    if (deps.isLeader() && (await deps.finalizers.add(req, POLICY_FINALIZER, stored.metadata ?? {}))) {
      logger.info({ ...log, finalizer: POLICY_FINALIZER }, 'Added finalizer; a deletion will leave AWS as it is');
    }

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
    // `failoverctl plan --now`: planned from this replica's health and a fresh observation BEFORE this reconcile
    // acts, and never executed itself; answered once per request id.
    const requestId = stored.metadata?.annotations?.[PREVIEW_REQUEST_ANNOTATION];
    const preview =
      requestId && requestId !== stored.status?.preview?.requestId
        ? await previewFor(requestId.slice(0, 64), key, policy, signal)
        : undefined;
    const out = await engine.reconcile(key, policy, signal);
    // status.journal and status.failover have one writer, the journal store (saved before each action): this merge
    // patch never carries them, so it cannot put back an older journal or failover state over a newer one.
    const { journal: _journal, failover: _failover, ...owned } = out.status;
    await writeStatus(req, stored, withClearedFields({ ...owned, ...(preview ? { preview } : {}) }, stored.status));
    logger.debug({ ...log, phase: out.status.phase, requeueAfterMs: out.requeueAfterMs }, 'Reconciled policy');
    return { requeueAfterMs: out.requeueAfterMs };
  };
}

/** One line for the deletion trail: weights, writer and any Pending journal entry, as the last status had them. */
export function lastKnownState(status: Partial<FailoverPolicyStatus>): string {
  const weights = Object.entries(status.weights ?? {});
  const writer = status.activeWriter;
  const pending = (status.journal ?? []).filter((e) => e.state === 'Pending');
  return [
    `weights ${weights.length === 0 ? '(none recorded)' : weights.map(([id, w]) => `${id}=${w}`).join(', ')}`,
    `writer ${writer ? `${writer.region}/${writer.dbInstanceIdentifier}` : '(none recorded)'}`,
    pending.length === 0
      ? 'no journal entry Pending'
      : `Pending journal entries ${pending.map((e) => e.id).join(', ')}`,
  ].join('; ');
}

/** JSON form, so `undefined` fields and key order do not count as a change. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}));
}

/**
 * Engine-owned optional fields the engine no longer sets are cleared with `null`: a JSON merge patch that merely
 * leaves a field out keeps the stored value, so an approval that was granted would stay "pending" forever. The same
 * holds one level down, inside these objects: a `vantages.disagreements` that resolved (or a `readError` that
 * passed) would otherwise stay in the status for good.
 */
const CLEARABLE = ['pendingApproval', 'vantages'] as const;

function withClearedFields(
  status: Partial<FailoverPolicyStatus>,
  stored: Partial<FailoverPolicyStatus> | undefined,
): Partial<FailoverPolicyStatus> {
  const out: Record<string, unknown> = { ...status };
  for (const field of CLEARABLE) {
    const now = status[field] as Record<string, unknown> | undefined;
    const before = stored?.[field] as Record<string, unknown> | undefined;
    if (now === undefined) {
      if (before !== undefined) out[field] = null;
      continue;
    }
    if (before === undefined || typeof before !== 'object' || Array.isArray(before)) continue;
    const gone = Object.keys(before).filter((key) => now[key] === undefined);
    if (gone.length > 0) out[field] = { ...now, ...Object.fromEntries(gone.map((key) => [key, null])) };
  }
  return out as Partial<FailoverPolicyStatus>;
}
