import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { FailoverPolicyStatus } from '../api/index.ts';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import { createVirtualClock } from '../clock.ts';
import type { ReconcileOutput } from '../engine/policy-engine.ts';
import type { StatusPatch } from '../runtime/index.ts';
import { createPolicyJournalStore } from './journal-store.ts';
import { createPolicyReconciler, type StoredPolicy } from './policy-reconciler.ts';

const logger = pino({ level: 'silent' });
const REQ = { namespace: 'team', name: 'web' };
const KEY = 'team/web';

function stored(mutate: (spec: Record<string, unknown>) => void = () => {}): StoredPolicy {
  const manifest = loadExample('single-region-web');
  manifest.metadata = { name: 'web', namespace: 'team', generation: 3, uid: 'u-1' };
  mutate(manifest.spec);
  return manifest as StoredPolicy;
}

function harness(
  policy: StoredPolicy | undefined,
  opts: { leader?: boolean; engineStatus?: FailoverPolicyStatus } = {},
) {
  const patches: Array<StatusPatch<Partial<FailoverPolicyStatus>>> = [];
  const events: Array<{ key: string; type: string; reason: string; message: string }> = [];
  const output: ReconcileOutput = {
    status: opts.engineStatus ?? { phase: 'Healthy', observedGeneration: 3 },
    requeueAfterMs: 15_000,
  };
  const engine = { track: vi.fn(), untrack: vi.fn(), reconcile: vi.fn(async () => output) };
  const gone = vi.fn();
  const reconcile = createPolicyReconciler({
    getPolicy: (key) => (key === KEY ? policy : undefined),
    engine,
    statusWriter: {
      async patchStatus(_ref, patch) {
        patches.push(patch);
        return { status: patch.status };
      },
    },
    events: {
      async record(key, spec) {
        events.push({ key, ...spec });
      },
    },
    onPolicyGone: gone,
    isLeader: () => opts.leader ?? true,
    clock: createVirtualClock(Date.parse('2026-11-23T10:00:00Z')),
    logger,
  });
  return { reconcile, patches, events, engine, gone };
}

const noRegions = (spec: Record<string, unknown>) => {
  spec.regions = [];
};
const suspend = (spec: Record<string, unknown>) => {
  spec.suspend = true;
};

describe('createPolicyReconciler', () => {
  it('untracks a deleted policy and forgets its journal, touching nothing else', async () => {
    const h = harness(undefined);
    expect(await h.reconcile(REQ, new AbortController().signal)).toBeUndefined();
    expect(h.engine.untrack).toHaveBeenCalledWith(KEY);
    expect(h.gone).toHaveBeenCalledWith(KEY);
    expect(h.engine.reconcile).not.toHaveBeenCalled();
    expect(h.patches).toEqual([]);
  });

  it('reports an invalid spec with InvalidSpec=True, Ready=False and a Warning, and never runs the engine', async () => {
    const h = harness(
      stored((spec) => {
        spec.regions = [];
      }),
    );
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.engine.reconcile).not.toHaveBeenCalled();
    expect(h.engine.track).not.toHaveBeenCalled();
    expect(h.engine.untrack).toHaveBeenCalledWith(KEY);
    const status = h.patches[0]?.status;
    expect(status?.observedGeneration).toBe(3);
    const byType = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.InvalidSpec).toMatchObject({ status: 'True', reason: 'SpecInvalid', observedGeneration: 3 });
    expect(byType.InvalidSpec?.message).toContain('spec.regions');
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'SpecInvalid' });
    expect(h.events).toEqual([expect.objectContaining({ key: KEY, type: 'Warning', reason: 'SpecInvalid' })]);
  });

  it('does not patch again when the invalid status is already stored (no self-triggered loop)', async () => {
    const first = harness(stored(noRegions));
    await first.reconcile(REQ, new AbortController().signal);
    const again = harness({ ...stored(noRegions), status: first.patches[0]!.status });
    await again.reconcile(REQ, new AbortController().signal);
    expect(again.patches).toEqual([]);
  });

  it('reports a suspended policy and makes no engine call', async () => {
    const h = harness(stored(suspend));
    expect(await h.reconcile(REQ, new AbortController().signal)).toEqual({ requeueAfterMs: expect.any(Number) });
    expect(h.engine.reconcile).not.toHaveBeenCalled();
    expect(h.engine.untrack).toHaveBeenCalledWith(KEY);
    const suspended = h.patches[0]?.status.conditions?.find((c) => c.type === 'Suspended');
    expect(suspended).toMatchObject({ status: 'True', reason: 'SuspendedBySpec' });
  });

  it('runs the engine with the defaulted policy, writes its status and requeues when it says', async () => {
    const h = harness(stored());
    expect(await h.reconcile(REQ, new AbortController().signal)).toEqual({ requeueAfterMs: 15_000 });
    expect(h.engine.track).toHaveBeenCalledWith(KEY, expect.objectContaining({ spec: expect.any(Object) }));
    const policyArg = h.engine.reconcile.mock.calls[0] as unknown as [string, { spec: { dryRun: boolean } }];
    expect(policyArg[1].spec.dryRun).toBe(false); // a default applied by validation
    expect(h.patches).toEqual([{ status: { phase: 'Healthy', observedGeneration: 3 } }]);
  });

  it('does not write status on a follower', async () => {
    const h = harness(stored(), { leader: false });
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.engine.reconcile).toHaveBeenCalled();
    expect(h.patches).toEqual([]);
  });
});

describe('createPolicyJournalStore', () => {
  const entry = {
    id: 'a1',
    action: 'SetWeights',
    target: 'Z1/www',
    rule: 'PB-5',
    state: 'Pending',
    startedAt: '2026-11-23T10:00:00Z',
  } as never;

  it('persists before resolving, then prefers its own last save over the (lagging) informer copy', async () => {
    const informerCopy = { status: { journal: [] } };
    const order: string[] = [];
    const store = createPolicyJournalStore({
      getPolicy: () => informerCopy,
      statusWriter: {
        async patchStatus(ref, patch) {
          await new Promise((r) => setTimeout(r, 5));
          order.push(`patched ${ref.namespace}/${ref.name} ${patch.status.journal?.length}`);
          return {};
        },
      },
    });
    expect(await store.load(KEY)).toEqual([]);
    await store.save(KEY, [entry]);
    order.push('resolved');
    expect(order).toEqual(['patched team/web 1', 'resolved']);
    expect(await store.load(KEY)).toEqual([entry]);
    store.forget(KEY);
    expect(await store.load(KEY)).toEqual([]);
  });

  it('does not cache a save the apiserver refused', async () => {
    const store = createPolicyJournalStore({
      getPolicy: () => undefined,
      statusWriter: {
        patchStatus: async () => {
          throw new Error('503');
        },
      },
    });
    await expect(store.save(KEY, [entry])).rejects.toThrow('503');
    expect(await store.load(KEY)).toEqual([]);
  });
});
