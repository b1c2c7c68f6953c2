import { describe, expect, it } from 'vitest';
import { CloudError } from '../cloud/errors.ts';
import { runThrough } from './testing/middleware-harness.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import { DEFAULT_TIMEOUT_OPTIONS, timeoutMiddleware } from './timeout.ts';
import type { CallMeta } from './types.ts';

const read: CallMeta = { service: 'rds', operation: 'DescribeDBInstances', region: 'us-east-1', write: false };
const write: CallMeta = {
  service: 'rds',
  operation: 'RebootDBInstance',
  region: 'us-east-1',
  zone: 'us-east-1b',
  write: true,
};

/** A call that never answers, even when aborted (the worst case): remembers the signal it was given. */
function hang() {
  const seen: { signal?: AbortSignal } = {};
  const fn = (signal: AbortSignal) => {
    seen.signal = signal;
    return new Promise<never>(() => {});
  };
  return { fn, seen };
}

describe('timeout middleware', () => {
  it('turns a hang into CloudError timeout after the read budget and aborts the call signal', async () => {
    const clock = createVirtualClock();
    const { fn, seen } = hang();
    const error = await clock.run(runThrough([timeoutMiddleware(clock)], read, fn).catch((e: unknown) => e));
    expect(error).toBeInstanceOf(CloudError);
    expect(error).toMatchObject({ kind: 'timeout', service: 'rds', operation: 'DescribeDBInstances' });
    expect(clock.now()).toBe(10_000);
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.signal?.reason).toBe(error);
  });

  it('gives writes the longer budget and honours per-operation overrides', async () => {
    const clock = createVirtualClock();
    await clock.run(runThrough([timeoutMiddleware(clock)], write, hang().fn).catch(() => {}));
    expect(clock.now()).toBe(20_000);

    const clock2 = createVirtualClock();
    const options = { ...DEFAULT_TIMEOUT_OPTIONS, perOperation: { 'rds:RebootDBInstance': 3_000 } };
    await clock2.run(runThrough([timeoutMiddleware(clock2, options)], write, hang().fn).catch(() => {}));
    expect(clock2.now()).toBe(3_000);
  });

  it('passes the caller abort through with its own reason, not as a timeout', async () => {
    const clock = createVirtualClock();
    const controller = new AbortController();
    const { fn, seen } = hang();
    const call = runThrough([timeoutMiddleware(clock)], { ...read, signal: controller.signal }, fn);
    call.catch(() => {});
    await clock.advance(1_000);
    const reason = new Error('lost leadership');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen.signal?.aborted).toBe(true);
  });

  it('cancels its timer when the call answers in time', async () => {
    const clock = createVirtualClock();
    const result = await runThrough([timeoutMiddleware(clock)], read, async () => 'answer');
    expect(result).toBe('answer');
    await clock.advance(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});
