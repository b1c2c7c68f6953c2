import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from '../act/call-pipeline.ts';
import { createExecutor } from '../act/executor.ts';
import { recordIntent } from '../act/journal.ts';
import type { ExecutorPolicy } from '../act/perform-action.ts';
import { createFakeCloud } from '../act/testing/fake-cloud.ts';
import { createVirtualClock } from '../act/testing/virtual-clock.ts';
import type { FailoverPolicyStatus, FailoverState, JournalEntry } from '../api/index.ts';
import type { DnsRecord } from '../cloud/types.ts';
import type { PlannedAction } from '../decide/types.ts';
import { ConflictError, type StatusPatch, type StatusWriter } from '../runtime/index.ts';
import { createPolicyJournalStore, type JournalHolder, observedBy } from './journal-store.ts';

const KEY = 'team/web';
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

const entry = (id: string, state: JournalEntry['state'] = 'Pending'): JournalEntry =>
  ({ id, action: 'SetWeights', target: 'Z1/www', rule: 'PB-5', state, startedAt: '2026-11-23T10:00:00Z' }) as never;

/**
 * The apiserver's side of the status subresource: a JSON merge patch of `status` (top-level fields replaced,
 * null deletes), refused with 409 when the patch names a resourceVersion that is no longer the stored one. The
 * informer's copy lags until `sync()`.
 */
function fakeApiserver(status: Partial<FailoverPolicyStatus> = {}) {
  let version = 7;
  let stored: JournalHolder & { status: Partial<FailoverPolicyStatus> } = {
    metadata: { resourceVersion: String(version) },
    status: structuredClone(status),
  };
  let informer = structuredClone(stored);
  const patches: Array<StatusPatch<Partial<FailoverPolicyStatus>>> = [];
  const apply = (patch: Partial<FailoverPolicyStatus>) => {
    const next: Record<string, unknown> = { ...stored.status };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete next[field];
      else next[field] = structuredClone(value);
    }
    version++;
    stored = { metadata: { resourceVersion: String(version) }, status: next };
    return structuredClone(stored);
  };
  const writer: StatusWriter<Partial<FailoverPolicyStatus>> = {
    async patchStatus(_ref, patch) {
      patches.push(structuredClone(patch));
      if (patch.resourceVersion !== undefined && patch.resourceVersion !== stored.metadata?.resourceVersion) {
        throw new ConflictError('the object has been modified');
      }
      return apply(patch.status);
    },
  };
  return {
    writer,
    patches,
    getPolicy: () => informer,
    stored: () => stored,
    /** The informer catches up with what is stored. */
    sync: () => {
      informer = structuredClone(stored);
    },
    /** Someone else writes (a new leader, a person): no precondition. */
    writeByOther: (patch: Partial<FailoverPolicyStatus>) => apply(patch),
  };
}

describe('PolicyJournalStore: saves with a resourceVersion precondition', () => {
  it('bases the first save on the informer copy and every next one on its own last save, not the lagging copy', async () => {
    const api = fakeApiserver({ journal: [] });
    const store = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    expect(await store.load(KEY)).toEqual([]);
    await store.save(KEY, [entry('a1')]);
    await store.save(KEY, [entry('a1', 'Done')]); // the informer still shows resourceVersion 7
    expect(api.patches.map((p) => p.resourceVersion)).toEqual(['7', '8']);
    expect(api.stored().status.journal).toEqual([entry('a1', 'Done')]);
    expect(await store.load(KEY)).toEqual([entry('a1', 'Done')]);
  });

  it('reads the informer copy afresh at each load until it has saved, so an early read pins nothing', async () => {
    const api = fakeApiserver({ journal: [] });
    const store = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    expect(await store.load(KEY)).toEqual([]); // e.g. read while another replica led
    api.writeByOther({ journal: [entry('b1', 'Done')] });
    api.sync();
    expect(await store.load(KEY)).toEqual([entry('b1', 'Done')]);
    await store.save(KEY, [entry('b1', 'Done'), entry('a1')]);
    expect(api.patches.map((p) => p.resourceVersion)).toEqual(['8']);
  });

  it("refuses a stale leader's intent with 409, stores nothing, and starts again from what is stored", async () => {
    const api = fakeApiserver({ journal: [] });
    const stale = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    await stale.save(KEY, [entry('a1')]);
    // While the old leader was paused, the new one recorded its own intent.
    api.writeByOther({ journal: [entry('a1', 'Done'), entry('b1')] });

    const err = await stale.save(KEY, [entry('a1'), entry('a2')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toMatch(/changed since resourceVersion 8 .* not saved, nothing done/);
    expect(api.stored().status.journal).toEqual([entry('a1', 'Done'), entry('b1')]);

    // The next reconcile reads the journal the apiserver holds (once the informer has it) and saves over that.
    api.sync();
    expect(await stale.load(KEY)).toEqual([entry('a1', 'Done'), entry('b1')]);
    await stale.save(KEY, [entry('a1', 'Done'), entry('b1', 'Done')]);
    expect(api.patches.at(-1)?.resourceVersion).toBe('9');
  });

  it('a lagging informer copy after a refusal fails again rather than overwriting a newer journal', async () => {
    const api = fakeApiserver({ journal: [] });
    const store = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    await store.load(KEY);
    api.writeByOther({ journal: [entry('b1')] });
    await expect(store.save(KEY, [entry('a1')])).rejects.toBeInstanceOf(ConflictError);
    // Informer not caught up: the copy is resourceVersion 7 again, so the retry is refused too.
    expect(await store.load(KEY)).toEqual([]);
    await expect(store.save(KEY, [entry('a1')])).rejects.toBeInstanceOf(ConflictError);
    expect(api.stored().status.journal).toEqual([entry('b1')]);
  });

  it('preconditions failover state saves the same way, over one shared base', async () => {
    const api = fakeApiserver({});
    const store = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    const fencing = { phase: 'Fencing' } as unknown as FailoverState;
    await store.saveFailover(KEY, fencing);
    await store.save(KEY, [entry('f1')]);
    expect(api.patches.map((p) => p.resourceVersion)).toEqual(['7', '8']);
    expect(await store.loadFailover(KEY)).toEqual(fencing);
    api.writeByOther({ failover: { phase: 'Promoting' } as unknown as FailoverState });
    await expect(store.saveFailover(KEY, fencing)).rejects.toBeInstanceOf(ConflictError);
    expect(api.stored().status.failover).toEqual({ phase: 'Promoting' });
  });

  it('follows our own condition writes that leave the journal as it was, and not writes that changed it', async () => {
    const api = fakeApiserver({ journal: [] });
    const store = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    const reconcilerWriter = observedBy(api.writer, store);
    await store.save(KEY, [entry('a1')]);
    await reconcilerWriter.patchStatus({ namespace: 'team', name: 'web' }, { status: { phase: 'Healthy' } as never });
    await store.save(KEY, [entry('a1', 'Done')]); // no 409 of our own making
    expect(api.patches.map((p) => p.resourceVersion)).toEqual(['7', undefined, '9']);

    api.writeByOther({ journal: [entry('b1')] });
    // Our next conditions write lands (it has no precondition) and shows a journal we did not write: not followed.
    await reconcilerWriter.patchStatus({ namespace: 'team', name: 'web' }, { status: { phase: 'Degraded' } as never });
    await expect(store.save(KEY, [entry('a1', 'Done'), entry('a2')])).rejects.toBeInstanceOf(ConflictError);
    expect(api.stored().status.journal).toEqual([entry('b1')]);
  });

  it('stops the action before its AWS call when the intent is refused with 409', async () => {
    const clock = createVirtualClock(T0);
    const records: DnsRecord[] = ['use1-a', 'use1-b'].map((setIdentifier, i) => ({
      name: 'www.example.com.',
      type: 'A',
      ttl: 60,
      values: [`10.0.${i}.10`],
      setIdentifier,
      weight: 100,
    }));
    const cloud = createFakeCloud({ records });
    const logger = pino({ level: 'silent' });
    const api = fakeApiserver({ journal: [] });
    const store = createPolicyJournalStore({ getPolicy: api.getPolicy, statusWriter: api.writer });
    const executor = createExecutor({
      cloud,
      pipeline: createCallPipeline({ clock, logger, isZoneImpaired: () => false }),
      clock,
      logger,
      journalStore: store,
    });
    const policy: ExecutorPolicy = {
      spec: { traffic: { route53: { hostedZoneId: 'Z1', recordName: 'www.example.com.', type: 'A' } } },
    };
    const drain: PlannedAction = {
      id: 'weights/www/e1',
      action: { kind: 'SetWeights', weights: { 'use1-a': 0 } },
      rule: 'PB-5',
      target: 'www.example.com. A',
      region: 'us-east-1',
      zone: 'us-east-1a',
      reason: 'zone us-east-1a impaired',
    };
    await store.load(KEY); // this process read resourceVersion 7 …
    const byNewLeader = recordIntent([], { ...drain, id: 'weights/www/e2' }, T0, 'token');
    api.writeByOther({ journal: byNewLeader }); // … and a new leader wrote since

    const run = executor.execute(
      KEY,
      policy,
      { actions: [drain] },
      { signal: new AbortController().signal, dryRun: false },
    );
    await expect(clock.run(run)).rejects.toBeInstanceOf(ConflictError);
    expect(cloud.calls).toEqual([]); // no read, no write: nothing reached AWS
    expect(api.stored().status.journal).toEqual(byNewLeader);
  });
});
