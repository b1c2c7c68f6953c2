import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { FailoverPolicyStatus } from '../api/index.ts';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import { createVirtualClock } from '../clock.ts';
import type { ReconcileOutput } from '../engine/policy-engine.ts';
import type { FinalizerHolder } from '../runtime/finalizers.ts';
import { ConflictError, type StatusPatch } from '../runtime/index.ts';
import { createPolicyJournalStore } from './journal-store.ts';
import {
  createPolicyReconciler,
  IDLE_RESYNC_MS,
  lastKnownState,
  POLICY_FINALIZER,
  type StoredPolicy,
} from './policy-reconciler.ts';
import { type Tenancy, unrestrictedTenancy } from './tenancy-grants.ts';

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
  opts: {
    leader?: boolean;
    engineStatus?: FailoverPolicyStatus;
    finalizerConflict?: boolean;
    journal?: FailoverPolicyStatus['journal'];
    tenancy?: Tenancy;
    previewFails?: boolean;
    vantage?: { name: string; region?: string };
  } = {},
) {
  const patches: Array<StatusPatch<Partial<FailoverPolicyStatus>>> = [];
  const finalizerCalls: Array<{ op: 'add' | 'remove'; finalizer: string; current: FinalizerHolder }> = [];
  const events: Array<{ key: string; type: string; reason: string; message: string }> = [];
  const output: ReconcileOutput = {
    status: opts.engineStatus ?? { phase: 'Healthy', observedGeneration: 3 },
    requeueAfterMs: 15_000,
  };
  const order: string[] = [];
  const engine = {
    track: vi.fn(),
    untrack: vi.fn(),
    reconcile: vi.fn(async () => {
      order.push('reconcile');
      return output;
    }),
    preview: vi.fn(async () => {
      order.push('preview');
      if (opts.previewFails) throw new Error('Route 53 listing timed out');
      return {
        plan: {
          phase: 'Degraded' as const,
          actions: [
            {
              id: 'weights/web/1',
              action: { kind: 'SetWeights' as const, weights: { 'use1-a': 0, 'use1-b': 200 } },
              rule: 'PB-5' as const,
              target: 'web.example.com. A',
              region: 'us-east-1',
              zone: 'us-east-1a',
              reason: 'drain us-east-1a: Degraded',
            },
          ],
          skipped: [],
          gates: [{ kind: 'Cooldown' as const, rule: 'PB-9' as const, message: 'cooldown until 10:05' }],
          desiredWeights: { 'use1-a': 0, 'use1-b': 200 },
        },
        observation: {} as never,
        view: { at: Date.parse('2026-11-23T09:59:58Z'), zones: [], regions: [] },
      };
    }),
  };
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
    finalizers: {
      async add(_ref, finalizer, current) {
        finalizerCalls.push({ op: 'add', finalizer, current });
        return !(current.finalizers ?? []).includes(finalizer);
      },
      async remove(_ref, finalizer, current) {
        finalizerCalls.push({ op: 'remove', finalizer, current });
        if (opts.finalizerConflict) throw new ConflictError('finalizers of failoverpolicies team/web: conflict');
        return (current.finalizers ?? []).includes(finalizer);
      },
    },
    ...(opts.journal ? { journal: { load: async () => opts.journal ?? [] } } : {}),
    onPolicyGone: gone,
    tenancy: opts.tenancy ?? unrestrictedTenancy,
    isLeader: () => opts.leader ?? true,
    identity: 'failover-operator-abc123',
    ...(opts.vantage ? { vantage: opts.vantage } : {}),
    clock: createVirtualClock(Date.parse('2026-11-23T10:00:00Z')),
    logger,
  });
  return { reconcile, patches, events, engine, gone, finalizerCalls, order };
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

  it('refuses a policy outside its namespace grants with Ready=False NotPermitted and a Warning, before any engine call', async () => {
    const tenancy: Tenancy = {
      violations: (namespace) => [
        {
          field: 'spec.traffic.route53.hostedZoneId',
          value: 'Z0123456789ABCDEFGHIJ',
          message: `not granted to ${namespace}`,
        },
      ],
      problem: () => undefined,
    };
    const h = harness(stored(), { tenancy });
    expect(await h.reconcile(REQ, new AbortController().signal)).toEqual({ requeueAfterMs: IDLE_RESYNC_MS });
    expect(h.engine.reconcile).not.toHaveBeenCalled();
    expect(h.engine.track).not.toHaveBeenCalled();
    expect(h.engine.untrack).toHaveBeenCalledWith(KEY);
    expect(h.finalizerCalls).toEqual([]);
    const byType = Object.fromEntries((h.patches[0]?.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'NotPermitted', message: 'not granted to team' });
    expect(byType.InvalidSpec).toMatchObject({ status: 'False' });
    expect(h.events).toEqual([{ key: KEY, type: 'Warning', reason: 'NotPermitted', message: 'not granted to team' }]);
  });

  it('says in NotPermitted when the grants in force are not the file (it is invalid or missing)', async () => {
    const tenancy: Tenancy = {
      violations: () => [{ field: 'f', value: 'v', message: 'f v is not granted' }],
      problem: () => 'the grants file /g is invalid (x); the last good grants stay in force',
    };
    const h = harness(stored(), { tenancy });
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.events[0]?.message).toBe(
      'f v is not granted (note: the grants file /g is invalid (x); the last good grants stay in force)',
    );
  });

  it('a policy with spec.vantagePoints is NotAVantage on an operator that is not one of its members: no engine call', async () => {
    const withVantages = (spec: Record<string, unknown>) => {
      spec.vantagePoints = { members: ['use1', 'usw2', 'euw1'] };
    };
    for (const [vantage, says] of [
      [undefined, /runs without a vantage name: set --vantage/],
      [{ name: 'apse1' }, /vantage apse1, which spec.vantagePoints.members \(use1, usw2, euw1\) does not list/],
    ] as const) {
      const h = harness(stored(withVantages), vantage ? { vantage } : {});
      expect(await h.reconcile(REQ, new AbortController().signal)).toEqual({ requeueAfterMs: IDLE_RESYNC_MS });
      expect(h.engine.track).not.toHaveBeenCalled();
      expect(h.engine.reconcile).not.toHaveBeenCalled();
      expect(h.engine.untrack).toHaveBeenCalledWith(KEY);
      const ready = h.patches[0]?.status.conditions?.find((c) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'NotAVantage' });
      expect(ready?.message).toMatch(says);
      expect(h.events.map((e) => e.reason)).toEqual(['NotAVantage']);
    }
    // A member runs it.
    const member = harness(stored(withVantages), { vantage: { name: 'usw2' } });
    await member.reconcile(REQ, new AbortController().signal);
    expect(member.engine.reconcile).toHaveBeenCalled();
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

  it('never writes status.journal or status.failover: the journal store is their one writer', async () => {
    const journal = [
      {
        id: 'w',
        action: 'SetWeights',
        target: 't',
        rule: 'PB-5' as const,
        state: 'Done' as const,
        startedAt: '2026-11-23T10:00:00Z',
      },
    ];
    const failover = {
      epoch: 'manual-20261123T100000Z',
      trigger: 'manual' as const,
      from: { region: 'us-east-1', dbInstanceIdentifier: 'a' },
      to: { region: 'us-west-2', dbInstanceIdentifier: 'b' },
      phase: 'Settled' as const,
      startedAt: '2026-11-23T10:00:00Z',
      phaseSince: '2026-11-23T10:05:00Z',
      reason: 'x',
    };
    const h = harness(stored(), { engineStatus: { phase: 'FailedOver', observedGeneration: 3, journal, failover } });
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.patches).toEqual([{ status: { phase: 'FailedOver', observedGeneration: 3 } }]);
  });

  it('clears a pendingApproval the engine no longer reports (a merge patch that omits it would keep it)', async () => {
    const pending = {
      id: 'orders-usw2',
      action: 'PromoteReadReplica',
      target: 'orders-usw2',
      rule: 'PB-6' as const,
      reason: 'promotion is Manual',
      requestedAt: '2026-11-23T10:00:00Z',
    };
    const h = harness({ ...stored(), status: { phase: 'FailingOver', pendingApproval: pending } } as StoredPolicy);
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.patches).toEqual([{ status: { phase: 'Healthy', observedGeneration: 3, pendingApproval: null } }]);
  });

  it('clears a vantage disagreement that resolved (inside status.vantages a merge patch would keep it)', async () => {
    const vantages = {
      self: 'euw1',
      quorum: 2,
      fresh: 2,
      agreement: 'Reached' as const,
      members: [{ name: 'euw1', self: true, fresh: true }],
    };
    const disagreements = [
      {
        scope: 'zone' as const,
        name: 'us-east-1a',
        region: 'us-east-1',
        local: 'Impaired' as const,
        agreed: 'Degraded' as const,
        reporting: ['euw1'],
      },
    ];
    const h = harness(
      {
        ...stored(),
        status: { phase: 'Healthy', vantages: { ...vantages, disagreements, readError: 'x' } },
      } as StoredPolicy,
      { engineStatus: { phase: 'Healthy', observedGeneration: 3, vantages } },
    );
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.patches).toEqual([
      {
        status: {
          phase: 'Healthy',
          observedGeneration: 3,
          vantages: { ...vantages, disagreements: null, readError: null },
        },
      },
    ]);
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

const signal = () => new AbortController().signal;

/** A stored policy being deleted, still holding `finalizers`, with the status the operator last wrote. */
function deleting(
  base: StoredPolicy,
  status: Partial<FailoverPolicyStatus> = {},
  finalizers: string[] = [POLICY_FINALIZER],
): StoredPolicy {
  return {
    ...base,
    metadata: {
      ...base.metadata,
      resourceVersion: '88',
      deletionTimestamp: '2026-11-23T10:05:00Z' as never,
      finalizers,
    },
    status,
  };
}

const pendingPromotion = {
  id: 'p-1',
  action: 'PromoteReadReplica',
  target: 'orders-usw2',
  rule: 'PB-6',
  state: 'Pending',
  startedAt: '2026-11-23T10:04:00Z',
} as const;

describe('the leave-aws-state finalizer', () => {
  it('is added when the leader first reconciles a valid policy, guarded by the resourceVersion read', async () => {
    const base = stored();
    const h = harness({ ...base, metadata: { ...base.metadata, resourceVersion: '12' } });
    await h.reconcile(REQ, signal());
    expect(POLICY_FINALIZER).toBe('failover.io/leave-aws-state');
    expect(h.finalizerCalls).toEqual([
      { op: 'add', finalizer: POLICY_FINALIZER, current: expect.objectContaining({ resourceVersion: '12' }) },
    ]);
    expect(h.engine.reconcile).toHaveBeenCalled();
  });

  it('is added to a suspended policy too, but not by a follower nor to an invalid spec', async () => {
    const suspended = harness(stored(suspend));
    await suspended.reconcile(REQ, signal());
    expect(suspended.finalizerCalls.map((c) => c.op)).toEqual(['add']);

    const follower = harness(stored(), { leader: false });
    await follower.reconcile(REQ, signal());
    expect(follower.finalizerCalls).toEqual([]);

    const invalid = harness(stored(noRegions));
    await invalid.reconcile(REQ, signal());
    expect(invalid.finalizerCalls).toEqual([]);
  });

  it('on deletion stops probing, leaves AWS alone, says what it left, then releases the finalizer', async () => {
    const h = harness(
      deleting(stored(), {
        weights: { 'use1-a': 0, 'use1-b': 100 },
        activeWriter: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
        journal: [{ ...pendingPromotion, state: 'Done' }],
      }),
    );
    expect(await h.reconcile(REQ, signal())).toBeUndefined();
    expect(h.engine.untrack).toHaveBeenCalledWith(KEY);
    expect(h.engine.track).not.toHaveBeenCalled();
    expect(h.engine.reconcile).not.toHaveBeenCalled(); // no observe, no plan, no AWS call of any kind
    expect(h.patches).toEqual([]);
    expect(h.events).toEqual([
      {
        key: KEY,
        type: 'Normal',
        reason: 'AwsStateLeftAsIs',
        message: expect.stringContaining('AWS records and databases were left as they are'),
      },
    ]);
    expect(h.events[0]?.message).toContain('weights use1-a=0, use1-b=100; writer us-east-1/orders');
    expect(h.events[0]?.message).toContain('no journal entry Pending');
    expect(h.finalizerCalls).toEqual([
      {
        op: 'remove',
        finalizer: POLICY_FINALIZER,
        current: expect.objectContaining({ resourceVersion: '88', finalizers: [POLICY_FINALIZER] }),
      },
    ]);
  });

  it('warns loudly when a journal entry is Pending at deletion: that action may be in flight', async () => {
    const h = harness(deleting(stored(), { journal: [pendingPromotion] }));
    await h.reconcile(REQ, signal());
    const warning = h.events.find((e) => e.type === 'Warning');
    expect(warning?.reason).toBe('DeletedWithActionInFlight');
    expect(warning?.message).toContain(
      'p-1 PromoteReadReplica on orders-usw2 (PB-6, Pending since 2026-11-23T10:04:00Z)',
    );
    expect(warning?.message).toContain('may still be in flight');
    expect(h.events.find((e) => e.type === 'Normal')?.message).toContain('Pending journal entries p-1');
    expect(h.finalizerCalls.map((c) => c.op)).toEqual(['remove']);
  });

  it('reads Pending entries from the journal store, which is fresher than the cached status', async () => {
    const h = harness(deleting(stored(), { journal: [] }), { journal: [pendingPromotion] });
    await h.reconcile(REQ, signal());
    expect(h.events.map((e) => e.reason)).toEqual(['AwsStateLeftAsIs', 'DeletedWithActionInFlight']);
  });

  it('releases a suspended or invalid policy being deleted as well, without validating it first', async () => {
    for (const mutate of [suspend, noRegions]) {
      const h = harness(deleting(stored(mutate)));
      await h.reconcile(REQ, signal());
      expect(h.finalizerCalls.map((c) => c.op)).toEqual(['remove']);
      expect(h.patches).toEqual([]); // no InvalidSpec / Suspended status write on the way out
      expect(h.events.map((e) => e.reason)).toEqual(['AwsStateLeftAsIs']);
    }
  });

  it('leaves a deletion it holds no finalizer for, and a follower, alone (beyond not probing)', async () => {
    const foreign = harness(deleting(stored(), {}, ['someone.else/finalizer']));
    await foreign.reconcile(REQ, signal());
    expect(foreign.engine.untrack).toHaveBeenCalledWith(KEY);
    expect(foreign.events).toEqual([]);
    expect(foreign.finalizerCalls).toEqual([]);

    const follower = harness(deleting(stored()), { leader: false });
    await follower.reconcile(REQ, signal());
    expect(follower.engine.untrack).toHaveBeenCalledWith(KEY);
    expect(follower.events).toEqual([]);
    expect(follower.finalizerCalls).toEqual([]);
  });

  it('throws a conflict on release so the queue retries after the cache catches up', async () => {
    const h = harness(deleting(stored()), { finalizerConflict: true });
    await expect(h.reconcile(REQ, signal())).rejects.toBeInstanceOf(ConflictError);
  });

  it('describes an empty status plainly', () => {
    expect(lastKnownState({})).toBe('weights (none recorded); writer (none recorded); no journal entry Pending');
  });
});

describe('failoverctl plan --now: the preview-request annotation', () => {
  const asking = (id: string, answered?: string): StoredPolicy => {
    const p = stored();
    p.metadata = { ...p.metadata, annotations: { 'failover.io/preview-request': id } };
    if (answered) p.status = { preview: { requestId: answered } as never };
    return p;
  };

  it('answers a new request in status.preview, planned before this reconcile acts and never executed itself', async () => {
    const h = harness(asking('now-1'));
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.order).toEqual(['preview', 'reconcile']);
    expect(h.patches.at(-1)?.status.preview).toEqual({
      requestId: 'now-1',
      computedAt: '2026-11-23T10:00:00.000Z',
      by: 'failover-operator-abc123',
      phase: 'Degraded',
      healthAsOf: '2026-11-23T09:59:58.000Z',
      actions: [
        {
          kind: 'SetWeights',
          target: 'web.example.com. A',
          rule: 'PB-5',
          region: 'us-east-1',
          zone: 'us-east-1a',
          reason: 'drain us-east-1a: Degraded',
        },
      ],
      gates: [{ kind: 'Cooldown', rule: 'PB-9', message: 'cooldown until 10:05' }],
    });
  });

  it('does not plan again for a request already answered, nor without a request', async () => {
    const answered = harness(asking('now-1', 'now-1'));
    await answered.reconcile(REQ, new AbortController().signal);
    const none = harness(stored());
    await none.reconcile(REQ, new AbortController().signal);
    for (const h of [answered, none]) {
      expect(h.engine.preview).not.toHaveBeenCalled();
      expect(h.patches.at(-1)?.status.preview).toBeUndefined();
    }
  });

  it('answers with the reason when no plan could be made, and the reconcile still runs', async () => {
    const h = harness(asking('now-2'), { previewFails: true });
    await h.reconcile(REQ, new AbortController().signal);
    expect(h.engine.reconcile).toHaveBeenCalled();
    expect(h.patches.at(-1)?.status.preview).toMatchObject({
      requestId: 'now-2',
      actions: [],
      error: 'no plan could be made: Route 53 listing timed out',
    });
  });
});
