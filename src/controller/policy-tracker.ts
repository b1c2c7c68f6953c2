// Keeps probes warm on every replica (DESIGN.md "Leader election": only the leader acts; followers keep probing
// warm). The reconciler runs only on the leader, so without this a follower would hold no health history and a new
// leader would start from a blank model — every zone Healthy — and could undo a drain (fail traffic back into a zone
// that is still failing) or wait a fresh failureThreshold run before it notices an outage already under way.
//
// It follows the same informer as the reconciler and makes the same decision about *whether* a policy is probed:
// valid, permitted by its namespace's grants (#15), not suspended and not being deleted → engine.track; otherwise →
// engine.untrack. Level-based: it reads the cached object for the key it is handed, never the kind of watch event. It writes nothing — no status, no Event,
// no AWS call; acting stays the leader's reconciler's job.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { FailoverPolicy } from '../api/index.ts';
import type { PolicyEngine } from '../engine/policy-engine.ts';
import type { Runnable } from '../runtime/index.ts';
import type { StoredPolicy } from './policy-reconciler.ts';
import type { Tenancy } from './tenancy-grants.ts';
import { validateStoredPolicy } from './validated-policy.ts';

export interface PolicyTrackerDeps {
  /** The informer the reconciler reads: its cache and its key notifications. */
  informer: {
    get(key: string): StoredPolicy | undefined;
    keys(): string[];
    onKey(handler: (key: string) => void): () => void;
  };
  engine: Pick<PolicyEngine, 'track' | 'untrack'>;
  /** A policy outside its namespace's grants is never probed: probes call AWS too. */
  tenancy: Pick<Tenancy, 'violations'>;
  logger: Logger;
}

/** The policy to probe, or why it is not probed: the reconciler's gate, without its writes. */
export function probedPolicy(
  stored: StoredPolicy | undefined,
  tenancy: Pick<Tenancy, 'violations'>,
): { policy: FailoverPolicy } | { why: string } {
  if (!stored) return { why: 'gone' };
  if (stored.metadata?.deletionTimestamp !== undefined) return { why: 'being deleted' };
  const validated = validateStoredPolicy(stored);
  if (!validated.ok) return { why: 'invalid spec' };
  if (tenancy.violations(stored.metadata?.namespace ?? '', validated.value).length > 0) return { why: 'not permitted' };
  if (validated.value.spec.suspend) return { why: 'suspended' };
  return { policy: validated.value };
}

/**
 * What the decision reads, as a digest: the object without what only changes when a finalizer is added or removed,
 * or status is written (status, finalizers, resourceVersion, managedFields): the leader's own writes. Their watch
 * events then cost a digest, not a validation (about 1 ms, three times per new policy: the create, the finalizer,
 * the first status). Both parts passed the apiserver's own validation on the way in.
 */
export function decisionInput(stored: StoredPolicy): string {
  const { status: _status, metadata, ...rest } = stored as StoredPolicy & Record<string, unknown>;
  const {
    resourceVersion: _rv,
    finalizers: _finalizers,
    managedFields: _managedFields,
    ...meta
  } = (metadata ?? {}) as Record<string, unknown>;
  return createHash('sha1')
    .update(JSON.stringify({ ...rest, metadata: meta }))
    .digest('base64');
}

/**
 * A Runnable with needLeaderElection: false, so it runs on every replica from cache sync to shutdown. It starts
 * from the whole cache, then follows every key the informer hands out (watch events, relists and resyncs).
 */
export function createPolicyTracker(deps: PolicyTrackerDeps): Runnable & { sync(key: string): void; syncAll(): void } {
  const { informer, engine } = deps;
  const logger = deps.logger.child({ component: 'policy-tracker' });
  const probed = new Set<string>();
  /** The decision input each key was last decided on: the same input makes the same decision, so it is skipped. */
  const decidedOn = new Map<string, string>();

  function sync(key: string): void {
    const stored = informer.get(key);
    const input = stored ? decisionInput(stored) : undefined;
    if (input !== undefined && decidedOn.get(key) === input) return;
    if (input === undefined) decidedOn.delete(key);
    else decidedOn.set(key, input);
    const decision = probedPolicy(stored, deps.tenancy);
    if ('policy' in decision) {
      engine.track(key, decision.policy); // idempotent; restarts probes only when the probed parts of the spec change
      probed.add(key);
      return;
    }
    engine.untrack(key);
    if (probed.delete(key)) logger.info({ policy: key, why: decision.why }, 'Stopped keeping probes warm for policy');
  }

  return {
    name: 'failoverpolicy-tracker',
    needLeaderElection: false,
    sync,
    /** Every cached policy again (the grants changed: the same object may now be decided otherwise). */
    syncAll: () => {
      decidedOn.clear();
      for (const key of informer.keys()) sync(key);
    },
    async run(signal) {
      const unsubscribe = informer.onKey((key) => {
        if (!signal.aborted) sync(key);
      });
      for (const key of informer.keys()) sync(key);
      logger.info({ policies: probed.size }, 'Keeping probes warm on this replica');
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      unsubscribe();
    },
  };
}
