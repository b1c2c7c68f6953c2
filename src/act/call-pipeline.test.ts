import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../cloud/errors.ts';
import { createCallPipeline } from './call-pipeline.ts';
import { CircuitOpenError, DryRunRefused, ZoneImpairedRefusal } from './errors.ts';
import { createRateLimiter, route53Limits } from './rate-limit.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import type { CallMeta, CallOutcome } from './types.ts';

const silent = pino({ level: 'silent' });

function setup(impaired: string[] = []) {
  const clock = createVirtualClock(1_000_000);
  const outcomes: CallOutcome[] = [];
  const pipeline = createCallPipeline({
    clock,
    logger: silent,
    isZoneImpaired: (_r, zone) => impaired.includes(zone),
    onCall: (o) => outcomes.push(o),
    random: seededRandom(7),
  });
  return { clock, outcomes, pipeline };
}

const describeZones: CallMeta = {
  service: 'ec2',
  operation: 'DescribeAvailabilityZones',
  region: 'us-east-1',
  write: false,
};
const cloudError = (kind: 'retryable' | 'timeout' | 'terminal') =>
  new CloudError({ kind, service: 'ec2', operation: 'DescribeAvailabilityZones', code: kind, message: kind });

describe('call pipeline', () => {
  it('runs the named middleware in the documented order', () => {
    expect(setup().pipeline.stack).toEqual([
      'dry-run',
      'zone-guard',
      'retry',
      'circuit-breaker',
      'rate-limit',
      'breaker-recheck',
      'observe',
      'timeout',
    ]);
  });

  it('observes every attempt, retries included, with latency on the injected clock', async () => {
    const { clock, outcomes, pipeline } = setup();
    let n = 0;
    const result = pipeline.call({ ...describeZones, zone: 'us-east-1a', policy: 'ns/p' }, async () => {
      n++;
      await clock.sleep(40);
      if (n === 1) throw cloudError('retryable');
      return 'zones';
    });
    await expect(clock.run(result)).resolves.toBe('zones');
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toMatchObject({
      service: 'ec2',
      operation: 'DescribeAvailabilityZones',
      region: 'us-east-1',
      zone: 'us-east-1a',
      policy: 'ns/p',
      attempt: 1,
      ok: false,
      errorKind: 'retryable',
      latencyMs: 40,
    });
    expect(outcomes[1]).toMatchObject({ attempt: 2, ok: true, latencyMs: 40 });
  });

  it('turns a hang into timeouts, retried, then reports the timeout', async () => {
    const { clock, outcomes, pipeline } = setup();
    const signals: AbortSignal[] = [];
    const result = pipeline.call(describeZones, (signal) => {
      signals.push(signal);
      return new Promise<never>(() => {});
    });
    await expect(clock.run(result)).rejects.toMatchObject({ kind: 'timeout' });
    expect(outcomes.map((o) => o.errorKind)).toEqual(['timeout', 'timeout', 'timeout', 'timeout']);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('opens the breaker under a retry storm and fails the rest fast, without observing non-attempts', async () => {
    const { clock, outcomes, pipeline } = setup();
    const fail = async () => {
      throw cloudError('retryable');
    };
    await clock.run(pipeline.call(describeZones, fail).catch(() => {})); // 4 attempts
    const second = await clock.run(pipeline.call(describeZones, fail).catch((e: unknown) => e)); // 5th opens it
    expect(second).toBeInstanceOf(CircuitOpenError);
    expect(outcomes).toHaveLength(5);
    let called = false;
    const third = await pipeline
      .call(describeZones, async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(third).toBeInstanceOf(CircuitOpenError);
    expect(called).toBe(false);
    expect(outcomes).toHaveLength(5);
  });

  it('reports each breaker state change to onBreakerStateChange, for the circuit_breaker_state gauge', async () => {
    const clock = createVirtualClock(1_000_000);
    const changes: Array<[string, string, string, string]> = [];
    const pipeline = createCallPipeline({
      clock,
      logger: silent,
      isZoneImpaired: () => false,
      random: seededRandom(7),
      onBreakerStateChange: (state, b) => changes.push([b.service, b.region, b.operationClass, state]),
    });
    const fail = async () => {
      throw cloudError('retryable');
    };
    await clock.run(pipeline.call(describeZones, fail).catch(() => {}));
    await clock.run(pipeline.call(describeZones, fail).catch(() => {}));
    expect(changes).toEqual([['ec2', 'us-east-1', 'read', 'open']]);
    await clock.advance(30_000); // the first cool-off: the next call is the half-open trial, and it succeeds
    await clock.run(pipeline.call(describeZones, async () => 'ok'));
    expect(changes.map((c) => c[3])).toEqual(['open', 'half-open', 'closed']);
  });

  it('refuses writes in dry run and zone-targeted writes in impaired zones before spending anything', async () => {
    const { outcomes, pipeline } = setup(['us-east-1a']);
    const never = async () => 'called';
    await expect(
      pipeline.call(
        { service: 'route53', operation: 'ChangeResourceRecordSets', region: 'us-east-1', write: true, dryRun: true },
        never,
      ),
    ).rejects.toBeInstanceOf(DryRunRefused);
    await expect(
      pipeline.call(
        { service: 'rds', operation: 'RebootDBInstance', region: 'us-east-1', zone: 'us-east-1a', write: true },
        never,
      ),
    ).rejects.toBeInstanceOf(ZoneImpairedRefusal);
    await expect(pipeline.call({ ...describeZones, dryRun: true }, never)).resolves.toBe('called');
    expect(outcomes).toHaveLength(1);
  });
});

describe('the probe profile (CallMeta.probe)', () => {
  it('makes one attempt, is observed, and never opens or meets a circuit breaker', async () => {
    const { clock, outcomes, pipeline } = setup();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(cloudError('retryable'));
    };
    const probe = { ...describeZones, probe: true };
    for (let i = 0; i < 20; i++) {
      await expect(clock.run(pipeline.call(probe, failing))).rejects.toMatchObject({ kind: 'retryable' });
    }
    expect(calls).toBe(20); // one attempt each, no retry
    expect(outcomes.filter((o) => o.operation === 'DescribeAvailabilityZones')).toHaveLength(20);
    // Twenty failures did not open the read breaker for everyone else: an observation still reaches the service.
    let observed = 0;
    await clock.run(
      pipeline.call(describeZones, async () => {
        observed++;
        return 'ok';
      }),
    );
    expect(observed).toBe(1);
  });

  it('an ordinary read of the same operation is retried', async () => {
    const { clock, pipeline } = setup();
    let calls = 0;
    const flaky = () => (++calls < 3 ? Promise.reject(cloudError('retryable')) : Promise.resolve('ok'));
    await expect(clock.run(pipeline.call(describeZones, flaky))).resolves.toBe('ok');
    expect(calls).toBe(3);
  });
});

describe('a call that sends several requests', () => {
  const listing: CallMeta = {
    service: 'route53',
    operation: 'ListHealthChecks',
    region: 'us-east-1',
    write: false,
  };

  /** A listing of `pages` requests of 100 ms each, through a pipeline whose Route 53 share is `share`. */
  async function list(share: number, pages: number, readTimeoutMs: number) {
    const clock = createVirtualClock(0);
    const outcomes: CallOutcome[] = [];
    const { all, reads } = route53Limits(share);
    const pipeline = createCallPipeline({
      clock,
      logger: silent,
      isZoneImpaired: () => false,
      onCall: (o) => outcomes.push(o),
      rateLimiter: createRateLimiter(clock, { route53: all }, reads),
      timeouts: { readMs: readTimeoutMs },
    });
    const sent: number[] = [];
    const result = pipeline.call(listing, async (signal, nextRequest) => {
      for (let page = 0; page < pages; page++) {
        if (page > 0) await nextRequest();
        sent.push(clock.now());
        await clock.sleep(100, signal);
      }
      return sent.length;
    });
    await expect(clock.run(result)).resolves.toBe(pages);
    return { sent, outcomes };
  }

  it('sends each request when its own grant comes, not all of them after the last grant', async () => {
    // Share 2: every Route 53 call one in 500 ms; with nothing else asking, an observation's reads borrow the whole
    // share (its own read share alone would be one in 1000 ms).
    const { sent } = await list(2, 4, 10_000);
    expect(sent).toEqual([0, 500, 1_000, 1_500]);
  });

  it('leaves the waits for grants out of the timeout (per request) and out of the latency', async () => {
    // Four requests of 100 ms, 500 ms apart at a share of 2: 1.6 s in all, but no request takes 500 ms.
    const { outcomes } = await list(2, 4, 500);
    expect(outcomes).toEqual([expect.objectContaining({ ok: true, attempt: 1, latencyMs: 400 })]);
  });
});
