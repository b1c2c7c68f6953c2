// The executor's journal, persisted in the FailoverPolicy's `status.journal` through the status subresource. The
// executor records intent before it calls AWS, so `save` resolves only once the apiserver has stored the journal;
// a crash or a leader change after that point resumes from the stored intent (DESIGN "The journal makes it
// crash-safe", PB-7).
//
// One writer, enforced by the apiserver: every save of the journal or of the failover state carries the
// `resourceVersion` of the object the saved value was based on (a merge patch with metadata.resourceVersion is a
// precondition). If anything wrote the policy since — a new leader recording its own intent while this one was
// paused, a person editing the spec — the apiserver answers 409 and nothing is saved: the executor stops before
// the AWS call the intent was for, and the next reconcile starts again from the stored journal.
//
// Freshness: once this process has saved, the base of the next save is the object it last stored (its own save's
// response), not the informer's copy, because the informer receives our own write a moment later (a stale read
// could re-issue an action already Done). Until then each load reads the informer's copy afresh. Our other status writes (the reconciler's conditions) move the base forward only when the
// object they return still holds exactly the journal and failover state the base holds (`observe`); anything else
// leaves the base behind, so the next save fails with 409. After a refused or failed save the base is dropped and
// the next load starts from the informer's copy: a copy older than what is stored just fails again with 409 until
// the informer catches up.

import { isDeepStrictEqual } from 'node:util';
import type { JournalStore } from '../act/journal-store.ts';
import type { FailoverPolicyStatus, FailoverState, JournalEntry } from '../api/index.ts';
import type { FailoverStore } from '../engine/failover-store.ts';
import type { StatusWriter } from '../runtime/index.ts';
import { ConflictError, splitKey } from '../runtime/index.ts';

/** What the store reads of a policy: its resourceVersion and the two fields it owns. */
export interface JournalHolder {
  metadata?: { resourceVersion?: string };
  status?: { journal?: JournalEntry[]; failover?: FailoverState };
}

export interface PolicyJournalStoreDeps {
  /** Reads the cached policy (the informer). */
  getPolicy(key: string): JournalHolder | undefined;
  statusWriter: StatusWriter<Partial<FailoverPolicyStatus>>;
}

/** The journal and the failover state machine, both in the policy's status (the leader is their only writer). */
export interface PolicyJournalStore extends JournalStore, FailoverStore {
  /** Drops the in-memory copy (the policy was deleted). */
  forget(key: string): void;
  /**
   * The policy as another status write of this process stored it: the base moves to its resourceVersion only if
   * it still holds the journal and failover state the base holds.
   */
  observe(key: string, stored: JournalHolder): void;
}

/** The object a save is based on: its resourceVersion and the journal and failover state it held. */
interface Base {
  resourceVersion: string | undefined;
  journal: JournalEntry[];
  failover: FailoverState | undefined;
  /** Stored by this process (kept until refused), rather than read from the informer (read again at each load). */
  own: boolean;
}

export function createPolicyJournalStore(deps: PolicyJournalStoreDeps): PolicyJournalStore {
  const bases = new Map<string, Base>();

  /**
   * The base of the next save. A load takes the last object we stored, else the informer's copy as it is now (a
   * base read from the informer is read again at the next load, so a replica that read while following starts
   * from the current copy when it leads); a save uses the base of the load before it.
   */
  function baseOf(key: string, reading: boolean): Base {
    const known = bases.get(key);
    if (known && (known.own || !reading)) return known;
    const stored = deps.getPolicy(key);
    const base: Base = {
      resourceVersion: stored?.metadata?.resourceVersion,
      journal: structuredClone(stored?.status?.journal ?? []),
      failover: structuredClone(stored?.status?.failover),
      own: false,
    };
    bases.set(key, base);
    return base;
  }

  async function saveStatus(
    key: string,
    status: Partial<FailoverPolicyStatus>,
    next: Pick<Base, 'journal' | 'failover'>,
  ) {
    const base = baseOf(key, false);
    let stored: JournalHolder;
    try {
      stored = await deps.statusWriter.patchStatus(splitKey(key), {
        status,
        ...(base.resourceVersion === undefined ? {} : { resourceVersion: base.resourceVersion }),
      });
    } catch (err) {
      // Refused or unknown: whether it landed or not, the next load starts from what the apiserver shows.
      if (bases.get(key) === base) bases.delete(key);
      if (err instanceof ConflictError) {
        throw new ConflictError(
          `status of ${key} changed since resourceVersion ${base.resourceVersion} that this save was based on (another leader, or an edit): not saved, nothing done`,
          { cause: err },
        );
      }
      throw err;
    }
    bases.set(key, baseFrom(stored, next));
  }

  return {
    async loadFailover(key) {
      const { failover } = baseOf(key, true);
      return failover === undefined ? undefined : structuredClone(failover);
    },
    async saveFailover(key, state) {
      // Saved before the step it records is taken: the apiserver has it when this resolves.
      await saveStatus(
        key,
        { failover: structuredClone(state) },
        { journal: baseOf(key, false).journal, failover: state },
      );
    },
    async load(key) {
      return structuredClone(baseOf(key, true).journal);
    },
    async save(key, journal) {
      // A merge patch replaces the array whole, and only over the object it was based on.
      await saveStatus(key, { journal: structuredClone(journal) }, { journal, failover: baseOf(key, false).failover });
    },
    observe(key, stored) {
      const base = bases.get(key);
      const resourceVersion = stored.metadata?.resourceVersion;
      if (!base || resourceVersion === undefined) return;
      const same =
        sameJson(stored.status?.journal ?? [], base.journal) && sameJson(stored.status?.failover, base.failover);
      if (same) base.resourceVersion = resourceVersion;
    },
    forget(key) {
      bases.delete(key);
    },
  };
}

/**
 * The base after a save: the fields as the apiserver stored them (after its pruning and defaulting, so `observe`
 * compares like with like), or as saved when the response does not show them.
 */
function baseFrom(stored: JournalHolder, saved: Pick<Base, 'journal' | 'failover'>): Base {
  const status = stored.status;
  return {
    resourceVersion: stored.metadata?.resourceVersion,
    journal: structuredClone(status?.journal ?? saved.journal),
    failover: structuredClone(status && 'failover' in status ? status.failover : saved.failover),
    own: true,
  };
}

/** Equal as JSON: absent and undefined fields alike, key order ignored. */
function sameJson(a: unknown, b: unknown): boolean {
  const plain = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  return isDeepStrictEqual(plain(a), plain(b));
}

/** A status writer whose every stored object is shown to the journal store, so its base follows our own writes. */
export function observedBy<S>(writer: StatusWriter<S>, store: Pick<PolicyJournalStore, 'observe'>): StatusWriter<S> {
  return {
    async patchStatus(ref, patch) {
      const stored = await writer.patchStatus(ref, patch);
      store.observe(`${ref.namespace}/${ref.name}`, stored as JournalHolder);
      return stored;
    },
  };
}
