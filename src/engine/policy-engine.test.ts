// The engine's health loop, driven on the virtual clock with the real probe scheduler and health model: a fault is
// detected within two probe intervals whatever its phase against the probes (PB-1), and a drill's injected
// failures show in healthOf but never in realHealthOf.

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createInMemoryJournalStore } from '../act/journal-store.ts';
import { createFakeCloud } from '../act/testing/fake-cloud.ts';
import type { FailoverPolicy } from '../api/index.ts';
import { createVirtualClock, type VirtualClock } from '../clock.ts';
import { seededRandom } from '../cloud/sim/sim-random.ts';
import type { FetchLike } from '../health/probe-http.ts';
import type { HealthTransition, HealthView, ProbeResult } from '../health/types.ts';
import type { OperatorMetrics } from '../metrics/operator-metrics.ts';
import { createEngineStack } from './engine-stack.ts';
import { ACTIVE_RESYNC_MS, jitterResync, type PolicyEngine, STEADY_RESYNC_MS } from './policy-engine.ts';

const KEY = 'shop/orders';
const INTERVAL_MS = 5000;
const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

const policy = {
  apiVersion: 'failover.io/v1alpha1',
  kind: 'FailoverPolicy',
  metadata: { name: 'orders', namespace: 'shop' },
  spec: {
    regions: [{ name: 'us-east-1', role: 'primary', zones: ZONES }],
    probes: [{ name: 'api', http: { url: 'https://api-{zone}.example.com/healthz', timeoutSeconds: 2 } }],
    health: { intervalSeconds: INTERVAL_MS / 1000, failureThreshold: 2, recoveryThreshold: 4 },
  },
} as unknown as FailoverPolicy;

interface Harness {
  clock: VirtualClock;
  engine: PolicyEngine;
  transitions: HealthTransition[];
  /** Zones whose endpoint answers 503 from this time on. */
  failFrom: Map<string, number>;
  stop(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.stop()));
});

function startEngine(seed: number, start = 1_000_000): Harness {
  const clock = createVirtualClock(start);
  const shutdown = new AbortController();
  const failFrom = new Map<string, number>();
  const fetch: FetchLike = async (url) => {
    const zone = ZONES.find((z) => url.includes(z));
    const broken = zone !== undefined && clock.now() >= (failFrom.get(zone) ?? Number.POSITIVE_INFINITY);
    return { status: broken ? 503 : 200, text: async () => '' };
  };
  const transitions: HealthTransition[] = [];
  const { engine, scheduler } = createEngineStack({
    cloud: createFakeCloud(),
    clock,
    logger: pino({ level: 'silent' }),
    journalStore: createInMemoryJournalStore(),
    isLeader: () => false,
    signal: shutdown.signal,
    random: seededRandom(seed),
    fetch,
    onHealthChange: (key, ts) => {
      expect(key).toBe(KEY);
      transitions.push(...ts);
    },
  });
  const h: Harness = {
    clock,
    engine,
    transitions,
    failFrom,
    async stop() {
      shutdown.abort();
      await clock.advance(0);
      await scheduler.stopped();
    },
  };
  open.push(h);
  return h;
}

const zoneOf = (view: HealthView | undefined, zone: string) => view?.zones.find((z) => z.name === zone)?.state;

describe('policy engine health loop', () => {
  it('detects a fault within two probe intervals, whatever its phase against the probes (PB-1)', async () => {
    const phase = seededRandom(4, 'fault-phase');
    const delays: number[] = [];
    for (let run = 0; run < 40; run++) {
      const h = startEngine(run);
      h.engine.track(KEY, policy);
      await h.clock.advance(6 * INTERVAL_MS); // warm up: every probe has run several times
      expect(h.transitions).toEqual([]);
      const faultAt = h.clock.now() + Math.floor(phase() * INTERVAL_MS);
      h.failFrom.set('us-east-1a', faultAt);
      await h.clock.runUntil(faultAt + 2 * INTERVAL_MS);
      const degraded = h.transitions.find((t) => t.scope === 'zone' && t.name === 'us-east-1a');
      expect(degraded).toMatchObject({ from: 'Healthy', to: 'Degraded' });
      delays.push(degraded!.at - faultAt);
      expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1a')).toBe('Degraded');
      expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1b')).toBe('Healthy');
      await h.stop();
    }
    // Two failed probes are needed (failureThreshold 2), and the second comes at most two intervals after the fault.
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(INTERVAL_MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 * INTERVAL_MS);
  });

  it('reports each batch to the metrics as it arrives: one result per probe run, each counted once', async () => {
    const clock = createVirtualClock(0);
    const shutdown = new AbortController();
    const seen: { at: number; results: readonly ProbeResult[]; view: HealthView }[] = [];
    // Only the health sink is exercised: the http-only policy makes no AWS call and nothing reconciles.
    const metrics = {
      observeHealthRound: (_key: string, results: readonly ProbeResult[], view: HealthView) =>
        seen.push({ at: clock.now(), results, view }),
      forgetPolicy: async () => {},
      trackPolicy: () => {},
    } as unknown as OperatorMetrics;
    const { engine, scheduler } = createEngineStack({
      cloud: createFakeCloud(),
      clock,
      logger: pino({ level: 'silent' }),
      journalStore: createInMemoryJournalStore(),
      isLeader: () => false,
      signal: shutdown.signal,
      random: seededRandom(7),
      fetch: async () => ({ status: 200, text: async () => '' }),
      metrics,
    });
    engine.track(KEY, policy);
    await clock.advance(4 * INTERVAL_MS);
    engine.untrack(KEY);
    shutdown.abort();
    await clock.advance(0);
    await scheduler.stopped();
    // Three zones, one http probe each, each on its own jittered phase: three single-result batches per interval.
    expect(seen.length).toBeGreaterThanOrEqual(9);
    expect(seen.every((b) => b.results.length === 1)).toBe(true);
    expect(new Set(seen.map((b) => b.at)).size).toBe(seen.length);
    expect(seen.at(-1)!.view.at).toBe(seen.at(-1)!.at);
    expect(seen.at(-1)!.view.zones.map((z) => z.state)).toEqual(['Healthy', 'Healthy', 'Healthy']);
  });

  it('realHealthOf never sees a drill: injected zones fail in healthOf only, and recover after the window', async () => {
    const h = startEngine(11);
    h.engine.track(KEY, policy);
    await h.clock.advance(3 * INTERVAL_MS);
    expect(h.engine.realHealthOf(KEY)).toEqual(h.engine.healthOf(KEY));
    expect(h.engine.realHealthOf('shop/unknown')).toBeUndefined();

    h.engine.injectZoneFailure(KEY, ['us-east-1b'], 'drill zone-outage');
    await h.clock.advance(2 * INTERVAL_MS);
    expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1b')).toBe('Degraded');
    expect(
      h.engine
        .healthOf(KEY)
        ?.zones.find((z) => z.name === 'us-east-1b')
        ?.reasons.join('\n'),
    ).toContain('drill (http, down): drill: zone treated as failed (drill zone-outage)');
    expect(zoneOf(h.engine.realHealthOf(KEY), 'us-east-1b')).toBe('Healthy');
    expect(h.transitions.map((t) => [t.scope, t.name, t.to])).toEqual([
      ['zone', 'us-east-1b', 'Degraded'],
      ['region', 'us-east-1', 'Degraded'],
    ]);

    // A real fault during the drill shows in both.
    h.failFrom.set('us-east-1c', h.clock.now());
    await h.clock.advance(2 * INTERVAL_MS);
    expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1c')).toBe('Degraded');
    expect(zoneOf(h.engine.realHealthOf(KEY), 'us-east-1c')).toBe('Degraded');
    expect(zoneOf(h.engine.realHealthOf(KEY), 'us-east-1b')).toBe('Healthy');
    h.failFrom.delete('us-east-1c');

    // By now the drill has failed the zone four times in a row (impairedAfterRounds 2 × 2).
    expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1b')).toBe('Impaired');
    // Cleared: the drill probe falls silent; the zone returns once its last result is older than the recovery
    // window (recoveryThreshold 4 × 5 s), not before (PB-9).
    h.engine.clearInjectedFailures(KEY);
    const clearedAt = h.clock.now();
    await h.clock.advance(4 * INTERVAL_MS);
    expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1b')).toBe('Impaired');
    await h.clock.advance(INTERVAL_MS);
    expect(zoneOf(h.engine.healthOf(KEY), 'us-east-1b')).toBe('Healthy');
    const back = h.transitions.find((t) => t.name === 'us-east-1b' && t.to === 'Healthy');
    // The drill's last result came at the clear (its timer shares the interval); the window ends 20 s later and
    // the zone's next real result brings it back.
    expect(back!.at - clearedAt).toBeGreaterThan(4 * INTERVAL_MS);
    expect(back!.at - clearedAt).toBeLessThanOrEqual(5 * INTERVAL_MS);
    expect(back!.reasons[0]).toMatch(/^every probe passed at least 4 times in a row: \d+ of api \(http\)/);
  });
});

describe('one writer per policy', () => {
  it("a drill's weight restore waits for the policy's in-flight reconcile, so a stale drain cannot land after it", async () => {
    const clock = createVirtualClock(1_000_000);
    const shutdown = new AbortController();
    const name = 'api.example.com.';
    const cloud = createFakeCloud({
      records: ZONES.map((zone) => ({ name, type: 'A', values: ['192.0.2.1'], setIdentifier: zone, weight: 100 })),
    });
    const { engine, scheduler } = createEngineStack({
      cloud,
      clock,
      logger: pino({ level: 'silent' }),
      journalStore: createInMemoryJournalStore(),
      isLeader: () => true,
      signal: shutdown.signal,
      random: seededRandom(1),
      fetch: async () => ({ status: 200, text: async () => '' }),
    });
    const withTraffic = {
      ...policy,
      spec: {
        ...policy.spec,
        traffic: {
          route53: {
            hostedZoneId: 'Z1',
            recordName: name,
            type: 'A',
            records: ZONES.map((zone) => ({ setIdentifier: zone, zone, weight: 100 })),
          },
        },
      },
    } as unknown as FailoverPolicy;
    // The reconcile's Route 53 read (the shared record cache's listing) hangs until its signal ends it.
    cloud.fail('listRecordsPage', { kind: 'hang' }, 1);
    const reconcileStop = new AbortController();
    const reconciling = engine.reconcile(KEY, withTraffic, reconcileStop.signal).catch((err: unknown) => err);
    const restored = { 'us-east-1a': 100, 'us-east-1b': 50, 'us-east-1c': 50 };
    const restoring = engine.restoreWeights(KEY, withTraffic, restored, 'drill aborted', new AbortController().signal);
    await clock.advance(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(cloud.callsOf('upsertRecords')).toEqual([]); // the restore is queued behind the reconcile

    reconcileStop.abort();
    // Drive the virtual clock (retry backoff, Route 53 INSYNC polling) until both have settled.
    let settled = false;
    const both = Promise.all([reconciling, restoring]).finally(() => {
      settled = true;
    });
    for (let i = 0; i < 600 && !settled; i++) await clock.advance(1000);
    const [, result] = await both;
    expect(result.failed).toBeUndefined();
    expect(cloud.callsOf('upsertRecords')).toHaveLength(1);
    expect(Object.fromEntries(cloud.records.map((r) => [r.setIdentifier, r.weight]))).toEqual(restored);
    shutdown.abort();
    await clock.advance(0);
    await scheduler.stopped();
  });
});

describe('resync spreading', () => {
  it('spreads quiet policies over ±10% of the steady resync, and leaves active ones on time', () => {
    const random = seededRandom(7);
    const spread = Array.from({ length: 1000 }, () => jitterResync(STEADY_RESYNC_MS, random));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(0.9 * STEADY_RESYNC_MS);
    expect(Math.max(...spread)).toBeLessThanOrEqual(1.1 * STEADY_RESYNC_MS);
    // Not in lockstep: the thousand land in many different seconds.
    expect(new Set(spread.map((ms) => Math.floor(ms / 1000))).size).toBeGreaterThan(10);
    expect(jitterResync(ACTIVE_RESYNC_MS, random)).toBe(ACTIVE_RESYNC_MS);
    expect(jitterResync(5_000, () => 0.99)).toBe(5_000);
  });
});

describe('PB-3 guard input per policy (tenancy)', () => {
  it("one policy's impaired zone does not block another policy whose own probes see the zone healthy", async () => {
    const clock = createVirtualClock(1_000_000);
    const shutdown = new AbortController();
    // Team A's endpoint in us-east-1a is dead; team B's endpoint in the same zone answers.
    const fetch: FetchLike = async (url) => ({
      status: url.includes('team-a') && url.includes('us-east-1a') ? 503 : 200,
      text: async () => '',
    });
    const { engine, scheduler } = createEngineStack({
      cloud: createFakeCloud(),
      clock,
      logger: pino({ level: 'silent' }),
      journalStore: createInMemoryJournalStore(),
      isLeader: () => false,
      signal: shutdown.signal,
      random: seededRandom(1),
      fetch,
    });
    const teamPolicy = (team: string) =>
      ({
        ...policy,
        metadata: { name: 'web', namespace: team },
        spec: {
          ...policy.spec,
          probes: [{ name: 'api', http: { url: `https://${team}-{zone}.example.com/healthz`, timeoutSeconds: 2 } }],
        },
      }) as unknown as FailoverPolicy;
    engine.track('team-a/web', teamPolicy('team-a'));
    engine.track('team-b/web', teamPolicy('team-b'));
    await clock.advance(20 * INTERVAL_MS);
    try {
      expect(zoneOf(engine.healthOf('team-a/web'), 'us-east-1a')).toBe('Impaired');
      expect(zoneOf(engine.healthOf('team-b/web'), 'us-east-1a')).toBe('Healthy');
      expect(engine.isZoneImpaired('us-east-1', 'us-east-1a', 'team-a/web')).toBe(true);
      expect(engine.isZoneImpaired('us-east-1', 'us-east-1a', 'team-b/web')).toBe(false);
      // A call on behalf of no policy (or an untracked one) is held to every policy's view.
      expect(engine.isZoneImpaired('us-east-1', 'us-east-1a')).toBe(true);
      expect(engine.isZoneImpaired('us-east-1', 'us-east-1a', 'team-c/web')).toBe(true);
    } finally {
      shutdown.abort();
      await clock.advance(0);
      await scheduler.stopped();
    }
  });
});
