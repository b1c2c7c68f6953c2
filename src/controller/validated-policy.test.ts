import { describe, expect, it } from 'vitest';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import { validateStoredPolicy } from './validated-policy.ts';

describe('validateStoredPolicy', () => {
  it('validates a cached object once: the same object gets the very same result back', () => {
    const stored = loadExample('single-region-web');
    const first = validateStoredPolicy(stored);
    expect(first.ok).toBe(true);
    expect(validateStoredPolicy(stored)).toBe(first);
  });

  it('validates every new object, as the informer hands one out for each watch event: never a stale verdict', () => {
    const valid = loadExample('single-region-web');
    expect(validateStoredPolicy(valid).ok).toBe(true);
    const edited = structuredClone(valid);
    edited.spec.regions = [];
    const result = validateStoredPolicy(edited);
    expect(result.ok).toBe(false);
    expect(validateStoredPolicy(structuredClone(valid)).ok).toBe(true);
  });
});
