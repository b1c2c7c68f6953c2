import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { createLeaseApi, LeaderElector } from '../../../src/runtime/leader-election.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';

const logger = pino({ level: 'silent' });
// Short timings so the test runs in seconds; the ratios match the defaults' (15 / 10 / 2).
const timings = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.4 };

describe('leader election on a real Lease', () => {
  const kc = testbed().kubeConfig();
  let namespace: string;
  const stops: AbortController[] = [];

  beforeAll(async () => {
    namespace = await createNamespace(kc, 'rt');
  });
  afterAll(() => {
    for (const stop of stops) stop.abort();
  });

  function candidate(identity: string) {
    const leaseRef = { namespace, name: 'runtime-test' };
    const leading = { count: 0, signal: undefined as AbortSignal | undefined };
    const elector = new LeaderElector({
      ...timings,
      lease: createLeaseApi(kc, leaseRef),
      leaseRef,
      identity,
      clock: systemClock(),
      logger,
      onStartedLeading: (signal) => {
        leading.count++;
        leading.signal = signal;
      },
    });
    const stop = new AbortController();
    stops.push(stop);
    const running = elector.run(stop.signal);
    return { identity, elector, stop, running, leading };
  }

  it('elects exactly one of two candidates, and hands over fast when the leader stops', async () => {
    const a = candidate('replica-a');
    const b = candidate('replica-b');
    await vi.waitFor(() => expect([a, b].filter((c) => c.elector.isLeader())).toHaveLength(1), {
      timeout: 10_000,
      interval: 50,
    });
    // Hold steady for several renew periods: never two leaders, never a change of leader.
    const first = a.elector.isLeader() ? a : b;
    const second = first === a ? b : a;
    for (let i = 0; i < 30; i++) {
      expect([a, b].filter((c) => c.elector.isLeader())).toEqual([first]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(second.elector.observedLeader()).toBe(first.identity);

    const lease = await createLeaseApi(kc, { namespace, name: 'runtime-test' }).get();
    expect(lease?.spec?.holderIdentity).toBe(first.identity);

    const stoppedAt = Date.now();
    first.stop.abort();
    expect(await first.running).toBe('stopped');
    expect(first.leading.signal?.aborted).toBe(true);
    // Released, so the successor does not wait out the 3 s lease: it takes over at its next retry (≤ ~0.9 s).
    await vi.waitFor(() => expect(second.elector.isLeader()).toBe(true), { timeout: 5_000, interval: 25 });
    expect(Date.now() - stoppedAt).toBeLessThan(2_500);
    const after = await createLeaseApi(kc, { namespace, name: 'runtime-test' }).get();
    expect(after?.spec?.holderIdentity).toBe(second.identity);
    expect(after?.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);

    second.stop.abort();
    expect(await second.running).toBe('stopped');
    const released = await createLeaseApi(kc, { namespace, name: 'runtime-test' }).get();
    expect(released?.spec?.holderIdentity).toBeUndefined();
  });
});
