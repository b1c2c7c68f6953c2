import pino from 'pino';
import { describe, expect, it } from 'vitest';
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

  it('is not retried: one refusal, no AWS call', async () => {
    const { clock, pipeline, fn, sent } = setup(() => 0);
    await expect(clock.run(pipeline.call(write, fn))).rejects.toBeInstanceOf(LeadershipExpiredError);
    expect(sent()).toBe(0);
  });
});
