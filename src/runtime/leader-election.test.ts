import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../clock.ts';
import { ConflictError } from './errors.ts';
import { type ElectionEnd, LeaderElector, type LeaseApi } from './leader-election.ts';
import { fakeLeaseStore } from './testing/fake-lease.ts';
import { flushMicrotasks } from './testing/flush.ts';

function candidate(identity: string, clock: VirtualClock, api: LeaseApi, random = () => 0) {
  const log = {
    started: 0,
    stopped: 0,
    leaderSignal: undefined as AbortSignal | undefined,
    newLeaders: [] as string[],
  };
  const elector = new LeaderElector({
    lease: api,
    leaseRef: { namespace: 'ns', name: 'op' },
    identity,
    clock,
    logger: pino({ level: 'silent' }),
    random,
    onStartedLeading: (signal) => {
      log.started++;
      log.leaderSignal = signal;
    },
    onStoppedLeading: () => {
      log.stopped++;
    },
    onNewLeader: (holder) => log.newLeaders.push(holder),
  });
  const controller = new AbortController();
  let end: ElectionEnd | undefined;
  const running = elector.run(controller.signal).then((e) => {
    end = e;
    return e;
  });
  return { elector, log, controller, running, ended: () => end };
}

describe('LeaderElector', () => {
  it('acquires a lease that does not exist yet', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    expect(a.elector.isLeader()).toBe(true);
    expect(a.log.started).toBe(1);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    a.controller.abort();
    await a.running;
  });

  it('does not acquire a lease another holder keeps renewing', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { api, holdBy } = fakeLeaseStore();
    holdBy('other');
    const b = candidate('b', clock, api);
    for (let t = 0; t < 60; t++) {
      await clock.advance(1_000);
      if (t % 5 === 0) holdBy('other'); // the holder renews every 5 s
    }
    expect(b.elector.isLeader()).toBe(false);
    expect(b.log.started).toBe(0);
    expect(b.log.newLeaders).toEqual(['other']);
    b.controller.abort();
    expect(await b.running).toBe('stopped');
  });

  it('takes over a lease that stopped changing for leaseDuration, judged on its own clock', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api, holdBy } = fakeLeaseStore();
    holdBy('crashed');
    const b = candidate('b', clock, api);
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBe('b');
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    b.controller.abort();
    await b.running;
  });

  it('takes over a released lease at its next retry', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    store.lease = {
      metadata: { name: 'op', namespace: 'ns', resourceVersion: '0' },
      spec: { leaseDurationSeconds: 1 },
    };
    const b = candidate('b', clock, api);
    await flushMicrotasks();
    expect(b.elector.isLeader()).toBe(true);
    b.controller.abort();
    await b.running;
  });

  it('renews every retry period while leading', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    const firstRenew = new Date(store.lease?.spec?.renewTime ?? 0).getTime();
    const writes = store.writes;
    await clock.advance(10_000);
    expect(store.writes - writes).toBe(5);
    expect(new Date(store.lease?.spec?.renewTime ?? 0).getTime()).toBe(firstRenew + 10_000);
    expect(store.lease?.spec?.acquireTime).toEqual(store.lease?.spec?.acquireTime);
    expect(a.elector.isLeader()).toBe(true);
    a.controller.abort();
    await a.running;
  });

  it("renews with one write on the Lease it last wrote (client-go's fast path), reading only when that fails", async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    const [reads, writes] = [store.reads, store.writes];
    await clock.advance(10_000);
    expect([store.reads - reads, store.writes - writes]).toEqual([0, 5]);
    // Someone else wrote the Lease (kubectl annotate, say) without taking it: the optimistic write conflicts, the
    // slow path reads it and renews on top.
    store.lease = { ...store.lease, metadata: { ...store.lease?.metadata, resourceVersion: String(++store.version) } };
    await clock.advance(2_000);
    expect(store.reads - reads).toBe(1);
    expect(a.elector.isLeader()).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBe('a');
    expect(new Date(store.lease?.spec?.renewTime ?? 0).getTime()).toBe(clock.now());
    a.controller.abort();
    await a.running;
  });

  it('stops leading when renewals keep failing past the renew deadline', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    store.failReads = true;
    store.failWrites = true;
    await clock.advance(8_000);
    expect(a.elector.isLeader()).toBe(true); // transient failures within the deadline are tolerated
    expect(a.log.leaderSignal?.aborted).toBe(false);
    await clock.advance(2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log.leaderSignal?.aborted).toBe(true);
    expect(a.log.stopped).toBe(1);
    expect(await a.running).toBe('lost');
  });

  it('says until when it may act as leader: the last renew plus the renew deadline, 0 once not leading', async () => {
    const t0 = 1_700_000_000_000;
    const clock = createVirtualClock(t0);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    expect(a.elector.leadershipValidUntil()).toBe(t0 + 10_000);
    await clock.advance(2_000); // one renewal
    expect(a.elector.leadershipValidUntil()).toBe(t0 + 12_000);
    store.failReads = true; // renewals stop succeeding: the validity stops moving, then ends
    store.failWrites = true;
    await clock.advance(6_000);
    expect(a.elector.leadershipValidUntil()).toBe(t0 + 12_000);
    await clock.advance(6_000);
    expect(a.elector.leadershipValidUntil()).toBe(0);
    // The renew deadline (10 s) ends before another replica may take the Lease (15 s after the last renew).
    expect(t0 + 12_000).toBeLessThan(t0 + 2_000 + 15_000);
  });

  it('stops leading by the deadline even when a renewal hangs', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    store.hang = true;
    await clock.advance(12_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.ended()).toBe('lost');
  });

  it('a candidate stuck on a hanging API call still stops when asked', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    store.hang = true;
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    a.controller.abort();
    expect(await a.running).toBe('stopped');
    expect(a.log.started).toBe(0);
  });

  it('stops leading at once when another holder has taken the lease', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { api, holdBy } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    holdBy('usurper');
    await clock.advance(2_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(await a.running).toBe('lost');
  });

  it('is not leader when its write conflicts', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const racing: LeaseApi = {
      ...api,
      async create() {
        throw new ConflictError('someone created it first');
      },
    };
    const a = candidate('a', clock, racing);
    await flushMicrotasks();
    expect(a.elector.isLeader()).toBe(false);
    expect(store.lease).toBeUndefined();
    a.controller.abort();
    await a.running;
  });

  it('releases the lease on stop so that a candidate takes over without waiting for expiry', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { store, api } = fakeLeaseStore();
    const a = candidate('a', clock, api);
    await flushMicrotasks();
    const b = candidate('b', clock, api);
    await clock.advance(4_000);
    expect(b.elector.isLeader()).toBe(false);
    a.controller.abort();
    expect(await a.running).toBe('stopped');
    expect(a.log.stopped).toBe(1);
    expect(a.log.leaderSignal?.aborted).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBeUndefined();
    expect(store.lease?.spec?.leaseDurationSeconds).toBe(1);
    await clock.advance(2_000); // b's next retry (random() = 0: no jitter)
    expect(b.elector.isLeader()).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    b.controller.abort();
    await b.running;
  });

  it('never has two leaders among candidates sharing a lease', async () => {
    const clock = createVirtualClock(1_700_000_000_000);
    const { api } = fakeLeaseStore();
    const electors = ['a', 'b', 'c'].map((id, i) => candidate(id, clock, api, () => (i * 0.37) % 1));
    for (let step = 0; step < 120; step++) {
      await clock.advance(500);
      expect(electors.filter((e) => e.elector.isLeader()).length).toBeLessThanOrEqual(1);
      if (step === 60) {
        const leader = electors.find((e) => e.elector.isLeader());
        expect(leader).toBeDefined();
        leader?.controller.abort();
      }
    }
    expect(electors.filter((e) => e.elector.isLeader())).toHaveLength(1);
    for (const e of electors) e.controller.abort();
    await Promise.all(electors.map((e) => e.running));
  });

  it('rejects timings that leave no safety margin', () => {
    const { api } = fakeLeaseStore();
    const base = {
      lease: api,
      leaseRef: { namespace: 'ns', name: 'op' },
      identity: 'a',
      clock: createVirtualClock(1_700_000_000_000),
      logger: pino({ level: 'silent' }),
      onStartedLeading: () => {},
    };
    expect(() => new LeaderElector({ ...base, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 })).toThrow();
    expect(() => new LeaderElector({ ...base, renewDeadlineSeconds: 2, retryPeriodSeconds: 2 })).toThrow();
  });
});
