// Where the failover state machine (status.failover, src/decide/database-failover.ts) is persisted. The engine saves
// a changed state BEFORE it runs the plan's actions, so after a crash or a leader change the next leader resumes
// from what was decided, never from a journal that may have been trimmed. `save` must be durable before it resolves.
// The controller's implementation writes the policy's status subresource (src/controller/journal-store.ts).

import type { FailoverState } from '../api/index.ts';

export interface FailoverStore {
  /** The last saved state, or undefined when this store never saved one (the caller falls back to the status). */
  loadFailover(policyKey: string): Promise<FailoverState | undefined>;
  saveFailover(policyKey: string, state: FailoverState): Promise<void>;
}

/** For tests and the simulation. Copies on the way in and out, as a real store would. */
export function createInMemoryFailoverStore(): FailoverStore {
  const states = new Map<string, FailoverState>();
  return {
    async loadFailover(policyKey) {
      const state = states.get(policyKey);
      return state === undefined ? undefined : structuredClone(state);
    },
    async saveFailover(policyKey, state) {
      states.set(policyKey, structuredClone(state));
    },
  };
}

/** Two states are the same when every field is (the state is plain JSON). */
export function sameFailoverState(a: FailoverState | undefined, b: FailoverState | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
