// The executor's journal, persisted in the FailoverPolicy's `status.journal` through the status subresource. The
// executor records intent before it calls AWS, so `save` resolves only once the apiserver has stored the journal;
// a crash or a leader change after that point resumes from the stored intent (DESIGN "The journal makes it
// crash-safe", PB-7).
//
// Freshness: `load` prefers the journal this process saved last over the informer's copy, because the informer
// receives our own write a moment later (a stale read could re-issue an action already Done). The in-memory copy
// is valid for the life of the process: only the leader saves, and a replica that loses leadership exits (the
// Manager returns `leadership-lost`), so no other writer can have changed the journal since our last save.

import type { JournalStore } from '../act/journal-store.ts';
import type { FailoverPolicyStatus, FailoverState, JournalEntry } from '../api/index.ts';
import type { FailoverStore } from '../engine/failover-store.ts';
import type { StatusWriter } from '../runtime/index.ts';
import { splitKey } from '../runtime/index.ts';

export interface PolicyJournalStoreDeps {
  /** Reads the cached policy (the informer). */
  getPolicy(key: string): { status?: { journal?: JournalEntry[]; failover?: FailoverState } } | undefined;
  statusWriter: StatusWriter<Partial<FailoverPolicyStatus>>;
}

/** The journal and the failover state machine, both in the policy's status (the leader is their only writer). */
export interface PolicyJournalStore extends JournalStore, FailoverStore {
  /** Drops the in-memory copy (the policy was deleted). */
  forget(key: string): void;
}

export function createPolicyJournalStore(deps: PolicyJournalStoreDeps): PolicyJournalStore {
  const saved = new Map<string, JournalEntry[]>();
  const failovers = new Map<string, FailoverState>();
  return {
    async loadFailover(key) {
      const mine = failovers.get(key) ?? deps.getPolicy(key)?.status?.failover;
      return mine === undefined ? undefined : structuredClone(mine);
    },
    async saveFailover(key, state) {
      // Saved before the step it records is taken: the apiserver has it when this resolves.
      await deps.statusWriter.patchStatus(splitKey(key), { status: { failover: structuredClone(state) } });
      failovers.set(key, structuredClone(state));
    },
    async load(key) {
      const mine = saved.get(key);
      if (mine) return structuredClone(mine);
      const stored = deps.getPolicy(key)?.status?.journal ?? [];
      return structuredClone(stored);
    },
    async save(key, journal) {
      // A merge patch replaces the array whole; no resourceVersion precondition: we are the only writer (leader).
      await deps.statusWriter.patchStatus(splitKey(key), {
        status: { journal: structuredClone(journal) },
      });
      saved.set(key, structuredClone(journal));
    },
    forget(key) {
      saved.delete(key);
      failovers.delete(key);
    },
  };
}
