import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from '../act/call-pipeline.ts';
import type { FailoverPolicy } from '../api/index.ts';
import { newSim, settle } from '../cloud/sim/sim-test-helpers.ts';
import type { HealthView, ZoneState } from '../health/types.ts';
import { createVerdictExchange } from './exchange.ts';

const KEY = 'shop/web';
const policy = {
  apiVersion: 'failover.io/v1alpha1',
  kind: 'FailoverPolicy',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    regions: [
      { name: 'us-east-1', role: 'primary', zones: ['us-east-1a', 'us-east-1b'] },
      { name: 'us-west-2', role: 'standby', zones: ['us-west-2a'] },
    ],
    vantagePoints: { members: ['a', 'b', 'c'], staleAfterSeconds: 60 },
  },
} as unknown as FailoverPolicy;

function view(at: number, zone1a: ZoneState): HealthView {
  const zone = (name: string, region: string, state: ZoneState) => ({ name, region, state, since: at, reasons: [] });
  const evidence = { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] };
  return {
    at,
    zones: [
      zone('us-east-1a', 'us-east-1', zone1a),
      zone('us-east-1b', 'us-east-1', 'Healthy'),
      zone('us-west-2a', 'us-west-2', 'Healthy'),
    ],
    regions: [
      { name: 'us-east-1', state: zone1a === 'Healthy' ? 'Healthy' : 'Degraded', since: at, reasons: [], evidence },
      { name: 'us-west-2', state: 'Healthy', since: at, reasons: [], evidence },
    ],
  };
}

function setup() {
  const { sim, clock } = newSim();
  const logger = pino({ level: 'silent' });
  const pipeline = createCallPipeline({ clock, logger, isZoneImpaired: () => false, random: () => 0.5 });
  const stop = new AbortController();
  const changed: string[] = [];
  const make = (name: string) =>
    createVerdictExchange({
      self: { name },
      verdicts: sim.verdicts,
      pipeline,
      clock,
      logger,
      isLeader: () => true,
      signal: stop.signal,
      onPeersChanged: (key) => changed.push(`${name}:${key}`),
    });
  return { sim, clock, stop, changed, a: make('a'), b: make('b') };
}

describe('verdict exchange', () => {
  it("publishes a vantage's transition at once; a peer reads it after CloudWatch's read delay and is woken", async () => {
    const { clock, stop, changed, a, b } = setup();
    b.update(KEY, policy, view(clock.now(), 'Healthy'), false);
    a.update(KEY, policy, view(clock.now(), 'Impaired'), true);
    await clock.advance(1_000);
    // Not readable yet (the simulated ingestion delay is 5 s).
    const early = settle(b.peers(KEY, AbortSignal.timeout(60_000), 0));
    await clock.advance(100);
    expect(early.value?.verdicts).toEqual([]);
    await clock.advance(5_000);
    const later = settle(b.peers(KEY, AbortSignal.timeout(60_000), 0));
    await clock.advance(100);
    const zone1a = later.value?.verdicts.find((v) => v.zone === 'us-east-1a');
    expect(zone1a).toMatchObject({ vantage: 'a', scope: 'zone', state: 'Impaired' });
    expect(later.value?.verdicts.find((v) => v.scope === 'region' && v.region === 'us-east-1')?.state).toBe('Degraded');
    expect(changed).toContain(`b:${KEY}`);
    stop.abort();
  });

  it('merges what the regions that answer hold: CloudWatch failing in us-east-1 loses nothing', async () => {
    const { sim, clock, stop, a, b } = setup();
    sim.faults.set('cw-use1', { service: 'cloudwatch', region: 'us-east-1', errorRate: 1 });
    b.update(KEY, policy, view(clock.now(), 'Healthy'), false);
    a.update(KEY, policy, view(clock.now(), 'Impaired'), true);
    await clock.advance(30_000); // retries give up on us-east-1; us-west-2 holds the verdicts
    const read = settle(b.peers(KEY, AbortSignal.timeout(600_000), 0));
    await clock.advance(30_000);
    expect(read.done).toBe(true);
    expect(read.value?.readError).toBeUndefined();
    expect(read.value?.verdicts.find((v) => v.zone === 'us-east-1a')?.state).toBe('Impaired');
    // Every region failing: the last verdicts are kept (they age out) and the error is reported.
    sim.faults.set('cw-usw2', { service: 'cloudwatch', region: 'us-west-2', errorRate: 1 });
    const failed = settle(b.peers(KEY, AbortSignal.timeout(600_000), 0));
    await clock.advance(60_000);
    expect(failed.value?.readError).toMatch(/us-east-1: .*; us-west-2: /);
    expect(failed.value?.verdicts.find((v) => v.zone === 'us-east-1a')?.state).toBe('Impaired');
    stop.abort();
  });

  it('a follower publishes nothing; the heartbeat re-publishes the latest view', async () => {
    const { sim, clock, stop } = setup();
    const pipeline = createCallPipeline({ clock, logger: pino({ level: 'silent' }), isZoneImpaired: () => false });
    let leader = false;
    const x = createVerdictExchange({
      self: { name: 'c' },
      verdicts: sim.verdicts,
      pipeline,
      clock,
      logger: pino({ level: 'silent' }),
      isLeader: () => leader,
      signal: stop.signal,
      heartbeatMs: 10_000,
    });
    x.update(KEY, policy, view(clock.now(), 'Impaired'), true);
    await clock.advance(12_000);
    const dims = { Policy: KEY, Vantage: 'c', Region: 'us-east-1', Zone: 'us-east-1a' };
    expect(sim.verdicts.datapoints('us-west-2', 'FailoverOperator/Vantages', 'ZoneVerdict', dims)).toEqual([]);
    leader = true;
    await clock.advance(10_000);
    const points = sim.verdicts.datapoints('us-west-2', 'FailoverOperator/Vantages', 'ZoneVerdict', dims);
    expect(points).toHaveLength(1);
    expect(points[0]?.value).toBe(Math.floor(points[0]!.at / 1000) * 4 + 2);
    stop.abort();
  });
});
