import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudError, type CloudErrorKind } from '../cloud/errors.ts';
import { createCallPipeline } from './call-pipeline.ts';
import { createCircuitBreaker, createCircuitBreakers } from './circuit-breaker.ts';
import { CircuitOpenError } from './errors.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import type { CallMeta } from './types.ts';

const fail = (kind: CloudErrorKind) => async () => {
  throw new CloudError({ kind, service: 'ec2', operation: 'RunInstances', code: kind, message: kind });
};
const ok = async () => 'ok';

/** What Route 53 answers a change while its control plane fails: a 5xx, so the breaker counts it. */
const route53InternalFailure = async (): Promise<never> => {
  throw new CloudError({
    kind: 'retryable',
    service: 'route53',
    operation: 'ChangeResourceRecordSets',
    code: 'InternalFailure',
    message: 'We encountered an internal error. Please try again.',
  });
};

/** The real call pipeline on a virtual clock, silent, with seeded jitter. */
const pipelineOn = (clock: ReturnType<typeof createVirtualClock>, retry?: { maxAttempts: number }) =>
  createCallPipeline({
    clock,
    logger: pino({ level: 'silent' }),
    isZoneImpaired: () => false,
    random: seededRandom(3),
    ...(retry ? { retry } : {}),
  });

describe('circuit breaker', () => {
  it('opens after consecutive unanswered failures and then fails fast without calling', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1', operationClass: 'write' });
    for (let i = 0; i < 4; i++) await expect(breaker.execute(fail('timeout'))).rejects.toBeInstanceOf(CloudError);
    expect(breaker.state()).toBe('closed');
    await expect(breaker.execute(fail('retryable'))).rejects.toBeInstanceOf(CloudError);
    expect(breaker.state()).toBe('open');

    await clock.advance(10_000);
    let called = false;
    const rejection = await breaker
      .execute(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(rejection).toBeInstanceOf(CircuitOpenError);
    expect((rejection as CircuitOpenError).retryAfterMs).toBe(20_000);
  });

  it('half-opens after the cool-off: a successful trial closes it', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1', operationClass: 'write' });
    for (let i = 0; i < 5; i++) await breaker.execute(fail('timeout')).catch(() => {});
    await clock.advance(30_000);
    expect(breaker.state()).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
  });

  it('lets only one trial through while half-open', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1', operationClass: 'write' });
    for (let i = 0; i < 5; i++) await breaker.execute(fail('timeout')).catch(() => {});
    await clock.advance(30_000);
    let release!: () => void;
    const trial = breaker.execute(() => new Promise<void>((r) => (release = r)));
    await expect(breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await trial;
    expect(breaker.state()).toBe('closed');
  });

  it('re-opens on a failed trial with a doubled cool-off', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1', operationClass: 'write' });
    for (let i = 0; i < 5; i++) await breaker.execute(fail('timeout')).catch(() => {});
    await clock.advance(30_000);
    await breaker.execute(fail('timeout')).catch(() => {});
    expect(breaker.state()).toBe('open');
    const rejection = (await breaker.execute(ok).catch((e: unknown) => e)) as CircuitOpenError;
    expect(rejection.retryAfterMs).toBe(60_000);
  });

  it('treats an answer (terminal, throttled, not-found) as proof of life and resets the count', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1', operationClass: 'write' });
    for (const kind of ['timeout', 'timeout', 'timeout', 'timeout', 'terminal', 'timeout', 'timeout'] as const) {
      await breaker.execute(fail(kind)).catch(() => {});
    }
    expect(breaker.state()).toBe('closed');
    for (const kind of ['throttled', 'busy', 'not-found'] as const) {
      for (let i = 0; i < 6; i++) await breaker.execute(fail(kind)).catch(() => {});
    }
    expect(breaker.state()).toBe('closed');
  });

  it('keeps one breaker per service, region and operation class', async () => {
    const clock = createVirtualClock();
    const breakers = createCircuitBreakers(clock);
    for (let i = 0; i < 5; i++)
      await breakers
        .for('ec2', 'us-east-1', 'write')
        .execute(fail('timeout'))
        .catch(() => {});
    expect(breakers.for('ec2', 'us-east-1', 'write').state()).toBe('open');
    expect(breakers.for('ec2', 'us-east-1', 'read').state()).toBe('closed');
    expect(breakers.for('ec2', 'us-west-2', 'write').state()).toBe('closed');
    expect(breakers.for('rds', 'us-east-1', 'write').state()).toBe('closed');
  });

  it('does not let successful Route 53 reads close the breaker that failing writes opened', async () => {
    const clock = createVirtualClock();
    const pipeline = pipelineOn(clock);
    const meta = { service: 'route53', region: 'us-east-1', partOfAction: true } as const;
    const change: CallMeta = { ...meta, operation: 'ChangeResourceRecordSets', write: true, idempotent: true };
    const list: CallMeta = { ...meta, operation: 'ListResourceRecordSets', write: false };
    let changes = 0;
    const writeAttempt = () =>
      clock.run(
        pipeline.call(change, () => {
          changes++;
          return route53InternalFailure();
        }),
      );
    // Interleaved as in the outage: an observation (answered) between every failed change.
    for (let i = 0; i < 3; i++) {
      await writeAttempt().catch(() => {});
      await clock.run(pipeline.call(list, async () => [])); // Route 53 reads answer
    }
    const sent = changes;
    await expect(writeAttempt()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(changes).toBe(sent); // failed fast: no request
    expect(sent).toBeLessThanOrEqual(8); // open after 5 unanswered attempts (4 per call, retries included)
    await expect(clock.run(pipeline.call(list, async () => 'answered'))).resolves.toBe('answered');
  });

  it('sends nothing more once it opens, not even writes admitted earlier that were still waiting for their budget', async () => {
    const clock = createVirtualClock();
    const pipeline = pipelineOn(clock, { maxAttempts: 1 });
    // One policy with a budget of 6 a minute (one per 10 s): eight drains queue at once, all admitted by the
    // closed breaker, then wait for their grants one by one.
    const change: CallMeta = {
      service: 'route53',
      region: 'us-east-1',
      operation: 'ChangeResourceRecordSets',
      write: true,
      idempotent: true,
      policy: 'shop/web',
      maxWritesPerMinute: 6,
    };
    const sentAt: number[] = [];
    const outcomes = await clock.run(
      Promise.allSettled(
        Array.from({ length: 8 }, () =>
          pipeline.call(change, () => {
            sentAt.push(clock.now());
            return route53InternalFailure();
          }),
        ),
      ),
    );
    // The fifth unanswered attempt opens the breaker; the three still waiting fail fast when their grant comes.
    expect(sentAt).toHaveLength(5);
    const reasons = outcomes.map((o) => (o.status === 'rejected' ? o.reason : undefined));
    expect(reasons.filter((r) => r instanceof CircuitOpenError)).toHaveLength(3);
  });
});
