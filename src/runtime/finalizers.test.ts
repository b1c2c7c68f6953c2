import { describe, expect, it } from 'vitest';
import { ConflictError } from './errors.ts';
import { createFinalizersWith, finalizersMergePatch, hasFinalizer } from './finalizers.ts';

const RESOURCE = { group: 'failover.io', version: 'v1alpha1', plural: 'failoverpolicies' };
const REF = { namespace: 'team', name: 'web' };
const F = 'failover.io/leave-aws-state';

function recorder(fail?: { code: number }) {
  const calls: Array<Record<string, unknown>> = [];
  const finalizers = createFinalizersWith(RESOURCE, async (request) => {
    calls.push(request);
    if (fail) throw Object.assign(new Error(`HTTP ${fail.code}`), fail);
    return {};
  });
  return { finalizers, calls };
}

describe('finalizers', () => {
  it('adds after the finalizers already there, guarded by the resourceVersion read', async () => {
    const r = recorder();
    expect(await r.finalizers.add(REF, F, { finalizers: ['other/keep'], resourceVersion: '41' })).toBe(true);
    expect(r.calls).toEqual([
      {
        ...RESOURCE,
        ...REF,
        body: { metadata: { finalizers: ['other/keep', F], resourceVersion: '41' } },
      },
    ]);
  });

  it('removes only its own finalizer and keeps the others', async () => {
    const r = recorder();
    expect(await r.finalizers.remove(REF, F, { finalizers: [F, 'other/keep'], resourceVersion: '7' })).toBe(true);
    expect(r.calls[0]?.body).toEqual({ metadata: { finalizers: ['other/keep'], resourceVersion: '7' } });
  });

  it('makes no call when there is nothing to change', async () => {
    const r = recorder();
    expect(await r.finalizers.add(REF, F, { finalizers: [F] })).toBe(false);
    expect(await r.finalizers.remove(REF, F, { finalizers: ['other/keep'] })).toBe(false);
    expect(await r.finalizers.remove(REF, F, {})).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it('surfaces a 409 as ConflictError (retryable) and treats a vanished object as released', async () => {
    await expect(recorder({ code: 409 }).finalizers.add(REF, F, { resourceVersion: '1' })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await recorder({ code: 404 }).finalizers.remove(REF, F, { finalizers: [F] })).toBe(false);
    await expect(recorder({ code: 500 }).finalizers.remove(REF, F, { finalizers: [F] })).rejects.toThrow('HTTP 500');
  });

  it('builds the merge patch without a precondition when no resourceVersion is known', () => {
    expect(finalizersMergePatch([])).toEqual({ metadata: { finalizers: [] } });
    expect(hasFinalizer({ finalizers: [F] }, F)).toBe(true);
  });
});
