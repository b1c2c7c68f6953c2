// validatePolicy for the informer's cached objects, once per object. The informer replaces a cached object on every
// watch event and never edits one in place (src/runtime/informer.ts), so the same object always validates the same
// way: the tracker's validation of a new policy serves the reconcile that follows, and every resync of an unchanged
// policy (1,000 a minute at 1,000 policies) reuses its result instead of validating again (about 1 ms each). Keyed
// weakly: an object the informer dropped takes its result with it.

import { type FailoverPolicy, type ValidationResult, validatePolicy } from '../api/index.ts';

const results = new WeakMap<object, ValidationResult<FailoverPolicy>>();

/** validatePolicy(stored), remembered for this very object. Callers must not edit `stored` or the returned value. */
export function validateStoredPolicy(stored: object): ValidationResult<FailoverPolicy> {
  const known = results.get(stored);
  if (known) return known;
  const result = validatePolicy(stored);
  results.set(stored, result);
  return result;
}
