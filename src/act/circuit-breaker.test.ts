import { describe, expect, it } from 'vitest';
import { CloudError, type CloudErrorKind } from '../cloud/errors.ts';
import { createCircuitBreaker, createCircuitBreakers } from './circuit-breaker.ts';
import { CircuitOpenError } from './errors.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';

const fail = (kind: CloudErrorKind) => async () => {
  throw new CloudError({ kind, service: 'ec2', operation: 'RunInstances', code: kind, message: kind });
};
const ok = async () => 'ok';

describe('circuit breaker', () => {
  it('opens after consecutive unanswered failures and then fails fast without calling', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1' });
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
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1' });
    for (let i = 0; i < 5; i++) await breaker.execute(fail('timeout')).catch(() => {});
    await clock.advance(30_000);
    expect(breaker.state()).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state()).toBe('closed');
  });

  it('lets only one trial through while half-open', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1' });
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
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1' });
    for (let i = 0; i < 5; i++) await breaker.execute(fail('timeout')).catch(() => {});
    await clock.advance(30_000);
    await breaker.execute(fail('timeout')).catch(() => {});
    expect(breaker.state()).toBe('open');
    const rejection = (await breaker.execute(ok).catch((e: unknown) => e)) as CircuitOpenError;
    expect(rejection.retryAfterMs).toBe(60_000);
  });

  it('treats an answer (terminal, throttled, not-found) as proof of life and resets the count', async () => {
    const clock = createVirtualClock();
    const breaker = createCircuitBreaker(clock, { service: 'ec2', region: 'us-east-1' });
    for (const kind of ['timeout', 'timeout', 'timeout', 'timeout', 'terminal', 'timeout', 'timeout'] as const) {
      await breaker.execute(fail(kind)).catch(() => {});
    }
    expect(breaker.state()).toBe('closed');
    for (const kind of ['throttled', 'busy', 'not-found'] as const) {
      for (let i = 0; i < 6; i++) await breaker.execute(fail(kind)).catch(() => {});
    }
    expect(breaker.state()).toBe('closed');
  });

  it('keeps one breaker per service and region', async () => {
    const clock = createVirtualClock();
    const breakers = createCircuitBreakers(clock);
    for (let i = 0; i < 5; i++)
      await breakers
        .for('ec2', 'us-east-1')
        .execute(fail('timeout'))
        .catch(() => {});
    expect(breakers.for('ec2', 'us-east-1').state()).toBe('open');
    expect(breakers.for('ec2', 'us-west-2').state()).toBe('closed');
    expect(breakers.for('rds', 'us-east-1').state()).toBe('closed');
  });
});
