import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { DnsRecord } from '../types.ts';
import { answeredRecords, trafficShareOf } from './sim-dns.ts';
import { newSim } from './sim-test-helpers.ts';

const HZ = 'Z0123456789';
const NAME = 'api.example.com.';
const weighted = (setIdentifier: string, weight: number): DnsRecord => ({
  name: NAME,
  type: 'A',
  ttl: 60,
  values: [`10.0.0.${weight}`],
  setIdentifier,
  weight,
});

describe('weighted routing', () => {
  it('spreads traffic equally when every weight is 0 (AWS rule), proportionally otherwise', () => {
    expect(trafficShareOf([weighted('a', 0), weighted('b', 0), weighted('c', 0), weighted('d', 0)])).toEqual({
      a: 0.25,
      b: 0.25,
      c: 0.25,
      d: 0.25,
    });
    expect(trafficShareOf([weighted('a', 0), weighted('b', 100), weighted('c', 300)])).toEqual({
      a: 0,
      b: 0.25,
      c: 0.75,
    });
  });

  it('applies the all-zero rule to what resolvers serve after the change is INSYNC', async () => {
    const { sim, clock } = newSim({ dns: { propagationMs: { min: 1000, max: 1000 } } });
    await sim.dns.upsertRecords(
      HZ,
      ['use1-a', 'use1-b', 'use1-c'].map((s) => weighted(s, 0)),
      'drain all',
    );
    await clock.advance(1000);
    const share = sim.trafficShare(HZ, NAME, 'A');
    for (const id of ['use1-a', 'use1-b', 'use1-c', 'usw2']) expect(share[id]).toBeCloseTo(0.25);
  });
});

describe('change propagation', () => {
  it('is PENDING until its propagation delay (30-60 s by default) has passed, then INSYNC', async () => {
    const { sim, clock } = newSim();
    const id = await sim.dns.upsertRecords(HZ, [weighted('use1-a', 0)], 'drain us-east-1a');
    const change = sim.dns.changes().find((c) => c.id === id)!;
    const delay = change.insyncAt - change.submittedAt;
    expect(delay).toBeGreaterThanOrEqual(30_000);
    expect(delay).toBeLessThanOrEqual(60_000);

    // The API view changes at once; resolvers keep answering with the old weight until INSYNC.
    const listed = await sim.dns.listRecords(HZ, NAME, 'A');
    expect(listed.find((r) => r.setIdentifier === 'use1-a')?.weight).toBe(0);
    expect(sim.trafficShare(HZ, NAME, 'A')['use1-a']).toBeCloseTo(1 / 3);

    await clock.advance(delay - 1);
    expect(await sim.dns.getChangeStatus(id)).toBe('PENDING');
    await clock.advance(1);
    expect(await sim.dns.getChangeStatus(id)).toBe('INSYNC');
    expect(sim.trafficShare(HZ, NAME, 'A')).toMatchObject({ 'use1-a': 0, 'use1-b': 0.5, 'use1-c': 0.5 });
  });

  it('reports an unknown change as not-found', async () => {
    const { sim } = newSim();
    await expect(sim.dns.getChangeStatus('/change/NOPE')).rejects.toMatchObject({
      kind: 'not-found',
      code: 'NoSuchChange',
    });
  });

  it('rejects invalid weights as a terminal InvalidChangeBatch', async () => {
    const { sim } = newSim();
    await expect(sim.dns.upsertRecords(HZ, [weighted('use1-a', 256)], 'bad')).rejects.toMatchObject({
      kind: 'terminal',
      code: 'InvalidChangeBatch',
    });
  });
});

describe('PriorRequestNotComplete', () => {
  it('refuses a second change to the same hosted zone while the first is being processed, then accepts it', async () => {
    const { sim, clock } = newSim({
      dns: { propagationMs: { min: 40_000, max: 40_000 }, priorRequestWindowMs: 15_000 },
    });
    const first = await sim.dns.upsertRecords(HZ, [weighted('use1-a', 0)], 'drain a');
    await clock.advance(5_000);
    const err = await sim.dns.upsertRecords(HZ, [weighted('use1-b', 0)], 'drain b').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'busy', code: 'PriorRequestNotComplete', service: 'route53' });

    await clock.advance(10_000);
    const second = await sim.dns.upsertRecords(HZ, [weighted('use1-b', 0)], 'drain b');
    const [c1, c2] = [first, second].map((id) => sim.dns.changes().find((c) => c.id === id)!);
    // Accepted while the first still propagates, and never INSYNC before it.
    expect(c2!.insyncAt).toBeGreaterThanOrEqual(c1!.insyncAt);
    expect(await sim.dns.getChangeStatus(first)).toBe('PENDING');
  });

  it('does not block other hosted zones', async () => {
    const { sim } = newSim();
    sim.dns.addHostedZone({ id: 'ZOTHER', records: [] });
    await sim.dns.upsertRecords(HZ, [weighted('use1-a', 0)], 'drain a');
    await expect(sim.dns.upsertRecords('ZOTHER', [weighted('x', 1)], 'other')).resolves.toMatch(/^\/change\//);
  });
});

describe('throttling', () => {
  it('throttles above 5 Route 53 requests per second, account-wide, and recovers the next second', async () => {
    const { sim, clock } = newSim();
    for (let i = 0; i < 5; i++) await sim.dns.listRecords(HZ, NAME, 'A');
    await expect(sim.dns.getChangeStatus('/change/ANY')).rejects.toMatchObject({
      kind: 'throttled',
      code: 'Throttling',
    });
    await clock.advance(1000);
    await expect(sim.dns.listRecords(HZ, NAME, 'A')).resolves.toHaveLength(4);
  });
});

describe('whole-zone listing', () => {
  it('pages through every record of a hosted zone, each page one throttled request', async () => {
    const records = Array.from({ length: 5 }, (_, i) => ({
      name: `r${i}.example.com.`,
      type: 'A',
      ttl: 60,
      values: [`10.0.0.${i}`],
      setIdentifier: 'x',
      weight: 1,
    }));
    const { sim } = newSim({ dns: { listPageSize: 2 } });
    sim.dns.addHostedZone({ id: 'ZPAGES', records });
    const seen: string[] = [];
    let page = await sim.dns.listRecordsPage('ZPAGES', undefined);
    seen.push(...page.records.map((r) => r.name));
    while (page.next) {
      page = await sim.dns.listRecordsPage('ZPAGES', page.next);
      seen.push(...page.records.map((r) => r.name));
    }
    expect(seen).toEqual(records.map((r) => r.name));
    expect(sim.calls.recent().filter((c) => c.operation === 'ListResourceRecordSets')).toHaveLength(3);
  });
});

describe('health checks on weighted records', () => {
  const checked = (setIdentifier: string, weight: number, healthCheckId?: string): DnsRecord => ({
    ...weighted(setIdentifier, weight),
    ...(healthCheckId ? { healthCheckId } : {}),
  });

  it('answers from the healthy records with weight > 0; a record without a check is always healthy', () => {
    const unhealthy = new Set(['hc-a']);
    const healthy = (id: string) => !unhealthy.has(id);
    const records = [checked('a', 100, 'hc-a'), checked('b', 100, 'hc-b'), checked('c', 200), checked('d', 0, 'hc-d')];
    expect(answeredRecords(records, healthy).map((r) => r.setIdentifier)).toEqual(['b', 'c']);
    expect(trafficShareOf(records, healthy)).toEqual({ a: 0, b: 1 / 3, c: 2 / 3, d: 0 });
  });

  it('falls back to the healthy zero-weight records, equally, only when every record with weight > 0 is unhealthy', () => {
    const records = [checked('a', 100, 'hc-a'), checked('b', 50, 'hc-b'), checked('s1', 0, 'hc-s1'), checked('s2', 0)];
    expect(trafficShareOf(records, (id) => id !== 'hc-a')).toEqual({ a: 0, b: 1, s1: 0, s2: 0 });
    expect(trafficShareOf(records, (id) => id === 'hc-s1')).toEqual({ a: 0, b: 0, s1: 0.5, s2: 0.5 });
    expect(trafficShareOf(records, () => false)).toEqual({ a: 0, b: 0, s1: 0, s2: 1 });
  });

  it('answers as if all were healthy when no record is healthy (by weight; all-zero weights equally)', () => {
    const records = [checked('a', 100, 'hc-a'), checked('b', 300, 'hc-b'), checked('s', 0, 'hc-s')];
    expect(trafficShareOf(records, () => false)).toEqual({ a: 0.25, b: 0.75, s: 0 });
    const drained = [checked('a', 0, 'hc-a'), checked('b', 0, 'hc-b')];
    expect(trafficShareOf(drained, () => false)).toEqual({ a: 0.5, b: 0.5 });
  });

  /** The default topology (use1-a/b/c weight 100, usw2 weight 0), each record bound to a verdict alarm. */
  async function dataPlane() {
    const { sim, clock } = newSim({ dns: { propagationMs: { min: 1000, max: 1000 } } });
    const ids = ['use1-a', 'use1-b', 'use1-c', 'usw2'];
    const checks: Record<string, string> = {};
    for (const id of ids) {
      await sim.verdicts.putVerdictAlarm({
        region: 'us-west-2',
        name: `drain-${id}`,
        namespace: 'Failover/Verdicts',
        metricName: 'Drain',
        dimensions: { Record: id },
        periodSeconds: 10,
        description: `drain ${id}`,
      });
      checks[id] = await sim.healthChecks.createAlarmHealthCheck({
        callerReference: `ref-${id}`,
        alarm: { region: 'us-west-2', name: `drain-${id}` },
        insufficientDataHealthStatus: 'LastKnownStatus',
        tags: {},
      });
      await clock.advance(1000);
    }
    const current = await sim.dns.listRecords(HZ, NAME, 'A');
    await sim.dns.upsertRecords(
      HZ,
      current.map((r) => ({ ...r, healthCheckId: checks[r.setIdentifier!]! })),
      'attach health checks',
    );
    await clock.advance(1000);
    /** Publishes the verdicts (1 = drain) and waits for alarm (20 s) and health checks (30 s). */
    const drain = async (verdicts: Record<string, number>) => {
      await sim.verdicts.publishVerdicts(
        'us-west-2',
        'Failover/Verdicts',
        Object.entries(verdicts).map(([id, value]) => ({
          metricName: 'Drain',
          dimensions: { Record: id },
          value,
          at: clock.now(),
        })),
      );
      await clock.advance(60_000);
    };
    return { sim, clock, checks, drain };
  }

  it('stores HealthCheckId, returns it, and detaches it on an UPSERT without one', async () => {
    const { sim, clock, checks } = await dataPlane();
    const listed = await sim.dns.listRecords(HZ, NAME, 'A');
    expect(listed.find((r) => r.setIdentifier === 'use1-a')?.healthCheckId).toBe(checks['use1-a']);
    expect(sim.dns.servedRecords(HZ, NAME, 'A').every((r) => r.healthCheckId !== undefined)).toBe(true);
    await clock.advance(30_000);
    await sim.dns.upsertRecords(HZ, [weighted('use1-a', 100)], 'rewrite without the check');
    const after = await sim.dns.listRecords(HZ, NAME, 'A');
    expect(after.find((r) => r.setIdentifier === 'use1-a')?.healthCheckId).toBeUndefined();
  });

  it('refuses a HealthCheckId that does not exist (NoSuchHealthCheck)', async () => {
    const { sim } = newSim();
    await expect(
      sim.dns.upsertRecords(HZ, [{ ...weighted('use1-a', 100), healthCheckId: 'hc-9999' }], 'bad'),
    ).rejects.toMatchObject({ kind: 'terminal', code: 'NoSuchHealthCheck' });
  });

  it('drains a record without editing it: resolvers skip it once its check is unhealthy', async () => {
    const { sim, drain } = await dataPlane();
    const changes = sim.dns.changes().length;
    await drain({ 'use1-a': 1, 'use1-b': 0, 'use1-c': 0, usw2: 0 });
    expect(sim.trafficShare(HZ, NAME, 'A')).toEqual({ 'use1-a': 0, 'use1-b': 0.5, 'use1-c': 0.5, usw2: 0 });
    expect(sim.dns.changes()).toHaveLength(changes);
    expect(
      sim.calls
        .recent()
        .filter((c) => c.operation === 'PutMetricData')
        .map((c) => c.region),
    ).toEqual(['us-west-2']);
  });

  it('serves the zero-weight standby only when every record with weight > 0 is unhealthy', async () => {
    const { sim, drain } = await dataPlane();
    await drain({ 'use1-a': 1, 'use1-b': 1, 'use1-c': 0, usw2: 0 });
    expect(sim.trafficShare(HZ, NAME, 'A')).toMatchObject({ 'use1-c': 1, usw2: 0 });
    await drain({ 'use1-c': 1 });
    expect(sim.trafficShare(HZ, NAME, 'A')).toEqual({ 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 1 });
    // Every record unhealthy: answered as if all were healthy, by weight.
    await drain({ usw2: 1 });
    const all = sim.trafficShare(HZ, NAME, 'A');
    expect(all).toMatchObject({ usw2: 0 });
    for (const id of ['use1-a', 'use1-b', 'use1-c']) expect(all[id]).toBeCloseTo(1 / 3);
  });
});
