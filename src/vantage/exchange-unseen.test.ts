// The verdict exchange's read cadence: a vantage that has not heard a peer keeps looking for it every heartbeat
// (at start-up the peers may publish after the first read), and a quiet policy whose peers are all heard costs no
// read per heartbeat.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from '../act/call-pipeline.ts';
import type { FailoverPolicy } from '../api/index.ts';
import { createVirtualClock } from '../clock.ts';
import type { Verdicts } from '../cloud/types.ts';
import type { HealthView } from '../health/types.ts';
import { createVerdictExchange } from './exchange.ts';
import { encodeVerdict, nextSequence } from './verdict.ts';

const KEY = 'default/orders';
const HEARTBEAT = 10_000;

const policyWith = (staleAfterSeconds: number) =>
  ({
    metadata: { name: 'orders', namespace: 'default' },
    spec: {
      regions: [{ name: 'us-east-1', role: 'primary', zones: ['us-east-1a'] }],
      vantagePoints: { members: ['use1', 'usw2'], staleAfterSeconds },
    },
  }) as unknown as FailoverPolicy;

const healthy = (at: number): HealthView => ({
  at,
  zones: [{ name: 'us-east-1a', region: 'us-east-1', state: 'Healthy', since: at, reasons: [] }],
  regions: [
    {
      name: 'us-east-1',
      state: 'Healthy',
      since: at,
      reasons: [],
      evidence: { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] },
    },
  ],
});

function setup() {
  const clock = createVirtualClock(1_800_000_000_000);
  const stop = new AbortController();
  /** What the peer usw2 has published: its latest encoded value per metric, or nothing yet. */
  let peerValue: number | undefined;
  let reads = 0;
  const verdicts: Verdicts = {
    async putVerdictAlarm() {},
    async describeAlarms() {
      return [];
    },
    async publishVerdicts() {},
    async readMaxima(_region, _namespace, metrics) {
      reads++;
      return metrics.map((m) => (m.dimensions.Vantage === 'usw2' ? peerValue : undefined));
    },
  };
  const changed: string[] = [];
  const exchange = createVerdictExchange({
    self: { name: 'use1' },
    verdicts,
    pipeline: createCallPipeline({
      clock,
      logger: pino({ level: 'silent' }),
      isZoneImpaired: () => false,
      random: () => 0.5,
      retry: { maxAttempts: 1 },
    }),
    clock,
    logger: pino({ level: 'silent' }),
    isLeader: () => true,
    signal: stop.signal,
    heartbeatMs: HEARTBEAT,
    onPeersChanged: (key) => changed.push(key),
  });
  const publishPeer = () => {
    peerValue = encodeVerdict('Healthy', nextSequence(undefined, clock.now()));
  };
  return { clock, stop, exchange, publishPeer, changed, reads: () => reads };
}

describe('verdict exchange: reading the peers', () => {
  it('keeps reading every heartbeat while a peer is unheard, and reports the peer once it publishes', async () => {
    const { clock, stop, exchange, publishPeer, changed, reads } = setup();
    exchange.update(KEY, policyWith(30), healthy(clock.now()), false);
    // The first reconcile reads before the peer has published anything: this vantage is alone.
    const first = await exchange.peers(KEY, stop.signal);
    expect(first.verdicts).toEqual([]);
    expect(reads()).toBe(1);

    // The peer publishes; nothing about the policy is unhealthy, yet the next heartbeat looks for the peer again.
    publishPeer();
    await clock.advance(HEARTBEAT);
    expect(reads()).toBe(2);
    expect(changed).toEqual([KEY]); // a reconcile is asked for: the agreement now has its quorum
    const second = await exchange.peers(KEY, stop.signal);
    expect(second.verdicts.map((v) => [v.vantage, v.scope, v.state])).toEqual(
      expect.arrayContaining([
        ['usw2', 'zone', 'Healthy'],
        ['usw2', 'region', 'Healthy'],
      ]),
    );

    // Every peer heard (its verdict read 10 s ago is fresh) and everything Healthy: a heartbeat costs no read (a
    // quiet policy is read per resync).
    await clock.advance(HEARTBEAT);
    expect(reads()).toBe(2);
    stop.abort();
  });

  it('looks for a peer again once its last verdict has gone stale (a vantage that died)', async () => {
    const { clock, stop, exchange, publishPeer, reads } = setup();
    exchange.update(KEY, policyWith(15), healthy(clock.now()), false);
    publishPeer();
    await exchange.peers(KEY, stop.signal);
    expect(reads()).toBe(1);
    await clock.advance(HEARTBEAT); // the verdict is 10 s old: fresh (staleAfterSeconds 15), no read
    expect(reads()).toBe(1);
    await clock.advance(HEARTBEAT); // 20 s old: stale, so the heartbeat reads again
    expect(reads()).toBe(2);
    stop.abort();
  });
});
