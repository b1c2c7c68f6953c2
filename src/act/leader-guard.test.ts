import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../cloud/errors.ts';
import { createCallPipeline } from './call-pipeline.ts';
import { LeadershipExpiredError } from './errors.ts';
import { LEADERSHIP_WRITE_MARGIN_MS } from './leader-guard.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import type { CallMeta } from './types.ts';

const write: CallMeta = {
  service: 'route53',
  operation: 'ChangeResourceRecordSets',
  region: 'us-east-1',
  write: true,
  idempotent: true,
};
const read: CallMeta = { ...write, operation: 'ListResourceRecordSets', write: false };

function setup(validUntil: () => number) {
  const clock = createVirtualClock(1_000_000);
  const pipeline = createCallPipeline({
    clock,
    logger: pino({ level: 'silent' }),
    isZoneImpaired: () => false,
    leadershipValidUntil: validUntil,
  });
  let sent = 0;
  const fn = async () => {
    sent++;
    return 'ok';
  };
  return { clock, pipeline, fn, sent: () => sent };
}

describe('leader guard', () => {
  it('sits right after the rate limiter, so a write is checked at the moment it would go out', () => {
    const { pipeline } = setup(() => Number.POSITIVE_INFINITY);
    expect(pipeline.stack.indexOf('leader-guard')).toBe(pipeline.stack.indexOf('rate-limit') + 1);
  });

  it('lets writes out while leadership is valid for more than the margin; refuses them after, never reads', async () => {
    let until = 1_000_000 + 10_000;
    const { clock, pipeline, fn, sent } = setup(() => until);
    await expect(clock.run(pipeline.call(write, fn))).resolves.toBe('ok');
    until = clock.now() + LEADERSHIP_WRITE_MARGIN_MS - 1;
    await expect(clock.run(pipeline.call(write, fn))).rejects.toBeInstanceOf(LeadershipExpiredError);
    until = 0; // deposed
    await expect(clock.run(pipeline.call(write, fn))).rejects.toThrow(/does not lead/);
    await expect(clock.run(pipeline.call(read, fn))).resolves.toBe('ok');
    expect(sent()).toBe(2);
  });

  it("checks a write again after each further request's grant: leadership that ran out meanwhile stops it", async () => {
    const { clock, pipeline } = setup(() => 1_000_000 + 3_000);
    const sent: number[] = [];
    const twoRequests = pipeline.call(
      { ...write, operation: 'CreateHealthCheck', idempotent: false },
      async (_signal, nextRequest) => {
        sent.push(clock.now());
        await clock.sleep(2_000); // the first request takes long: the Lease is nearly out when it answers
        await nextRequest();
        sent.push(clock.now());
        return 'ok';
      },
    );
    await expect(clock.run(twoRequests)).rejects.toBeInstanceOf(LeadershipExpiredError);
    expect(sent).toEqual([1_000_000]); // the tags never went out
  });

  it('is not retried: one refusal, no AWS call', async () => {
    const { clock, pipeline, fn, sent } = setup(() => 0);
    await expect(clock.run(pipeline.call(write, fn))).rejects.toBeInstanceOf(LeadershipExpiredError);
    expect(sent()).toBe(0);
  });
});

describe('leader scope', () => {
  function scoped() {
    const clock = createVirtualClock(1_000_000);
    let term = new AbortController();
    const pipeline = createCallPipeline({
      clock,
      logger: pino({ level: 'silent' }),
      isZoneImpaired: () => false,
      leadershipSignal: () => term.signal,
    });
    const signals: AbortSignal[] = [];
    /** An AWS call that never answers: only its signal ends it. */
    const hang = (signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    return {
      clock,
      pipeline,
      hang,
      signals,
      newTerm: () => {
        term = new AbortController();
      },
      endTerm: () => term.abort(new Error('leadership lost')),
    };
  }

  it('sits outside the retry loop, so a retry wait ends with the leadership too', () => {
    const { pipeline } = scoped();
    expect(pipeline.stack.indexOf('leader-scope')).toBeLessThan(pipeline.stack.indexOf('retry'));
    expect(pipeline.stack.indexOf('leader-scope')).toBeGreaterThan(pipeline.stack.indexOf('zone-guard'));
  });

  it('aborts a write in flight the moment leadership ends, and says so', async () => {
    const { pipeline, hang, signals, endTerm } = scoped();
    const call = pipeline.call(write, hang);
    await new Promise((r) => setImmediate(r));
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(false);
    endTerm();
    const err = await call.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeadershipExpiredError);
    expect((err as Error).message).toMatch(
      /ChangeResourceRecordSets abandoned: leadership ended while it was in flight/,
    );
    expect(signals[0]!.aborted).toBe(true);
    expect(signals).toHaveLength(1); // not retried, although the write is idempotent and a timeout would be
  });

  it("ends a write's retry wait: no further attempt goes out", async () => {
    const { clock, pipeline, endTerm } = scoped();
    let attempts = 0;
    const throttled = async () => {
      attempts++;
      if (attempts === 1) setImmediate(endTerm); // leadership ends while the retry waits
      throw new CloudError({
        kind: 'throttled',
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        code: 'Throttling',
        message: 'Rate exceeded',
      });
    };
    await expect(clock.run(pipeline.call(write, throttled))).rejects.toBeInstanceOf(LeadershipExpiredError);
    expect(attempts).toBe(1);
  });

  it('refuses writes outside a term, lets reads through, and runs writes again in a new term', async () => {
    const { clock, pipeline, endTerm, newTerm } = scoped();
    let sent = 0;
    const fn = async () => {
      sent++;
      return 'ok';
    };
    endTerm();
    await expect(pipeline.call(write, fn)).rejects.toThrow(/refused: this process does not lead/);
    await expect(clock.run(pipeline.call(read, fn))).resolves.toBe('ok');
    newTerm();
    await expect(clock.run(pipeline.call(write, fn))).resolves.toBe('ok');
    expect(sent).toBe(2);
  });

  it("keeps the caller's own cancellation as it is", async () => {
    const { pipeline, hang } = scoped();
    const caller = new AbortController();
    const call = pipeline.call({ ...write, signal: caller.signal }, hang);
    await new Promise((r) => setImmediate(r));
    caller.abort(new Error('reconcile cancelled'));
    await expect(call).rejects.toThrow('reconcile cancelled');
  });

  it('leaves reads alone when leadership ends mid-call', async () => {
    const { pipeline, hang, signals, endTerm } = scoped();
    const call = pipeline.call(read, hang);
    await new Promise((r) => setImmediate(r));
    endTerm();
    await new Promise((r) => setImmediate(r));
    expect(signals[0]!.aborted).toBe(false);
    call.catch(() => {});
  });
});
