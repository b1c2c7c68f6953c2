// Condition bookkeeping for the statuses the reconciler writes itself (invalid spec, suspended); the engine builds
// every other status (src/engine/policy-status.ts). metav1.Condition semantics: lastTransitionTime changes only
// when a condition's status changes, so rewriting the same state is a no-op patch.

import type { Condition } from '../api/index.ts';
import { rfc3339 } from '../health/health-status.ts';

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** `previous` with each of `updates` set (replacing the condition of the same type), in a stable order. */
export function setConditions(
  previous: readonly Condition[] | undefined,
  updates: readonly ConditionInput[],
  opts: { now: number; observedGeneration?: number },
): Condition[] {
  const result = [...(previous ?? [])];
  for (const u of updates) {
    const index = result.findIndex((c) => c.type === u.type);
    const prev = index >= 0 ? result[index] : undefined;
    const next = {
      ...u,
      message: u.message.slice(0, 32_000),
      lastTransitionTime: prev && prev.status === u.status ? prev.lastTransitionTime : rfc3339(opts.now),
      ...(opts.observedGeneration === undefined ? {} : { observedGeneration: opts.observedGeneration }),
    } as Condition;
    if (index >= 0) result[index] = next;
    else result.push(next);
  }
  return result;
}
