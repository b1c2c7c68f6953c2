// Property tests: the planner's invariants hold for arbitrary health, observations, journals and requests.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../api/index.ts';
import type { ZoneState } from '../health/types.ts';
import { failoverIds, parseFailoverId } from './action-ids.ts';
import { plan } from './planner.ts';
import { zoneOf } from './playbook-guards.ts';
import {
  ALL_ZONES,
  cloud,
  health,
  input,
  iso,
  PRIMARY_ENDPOINT,
  primaryDb,
  REPLICA_ENDPOINT,
  replicaDb,
  SEC,
  T0,
} from './test-fixtures.ts';
import type { PlanInput } from './types.ts';

const AUTO = 'auto-20261123T100000Z';
const BACK = 'failback-20261124T100000Z';
const USW2_ARN = 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2';

/** Every step id a journal of these two epochs can hold, with the action kind it journals. */
const STEPS: Array<[string, string, number]> = [
  [failoverIds.fenceWriter(AUTO, 'orders', 'orders-usw2'), 'SetWriterRecord', 0],
  [failoverIds.fenceWeights(AUTO, 'orders', 'orders-usw2'), 'SetWeights', 1],
  [failoverIds.promote(AUTO, 'orders-usw2'), 'PromoteReplica', 2],
  [failoverIds.writer(AUTO, 'orders-usw2'), 'SetWriterRecord', 3],
  [failoverIds.abortWriter(AUTO, 'orders'), 'SetWriterRecord', 3],
  [failoverIds.fenceWriter(BACK, 'orders-usw2', 'orders'), 'SetWriterRecord', 24 * 3600],
  [failoverIds.promote(BACK, 'orders'), 'PromoteReplica', 24 * 3600 + 60],
  ['weights/initial/0000beef', 'SetWeights', 30],
];

const zoneState = fc.constantFrom<ZoneState>('Healthy', 'Healthy', 'Degraded', 'Impaired');
const weight = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }), fc.constant(100));

const arbInput = fc
  .record({
    zones: fc.tuple(...ALL_ZONES.map(() => zoneState)),
    weights: fc.tuple(weight, weight, weight, weight),
    lag: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
    replicaStatus: fc.constantFrom('available', 'available', 'backing-up', 'modifying', 'rebooting'),
    replicaIsReplica: fc.boolean(),
    primary: fc.constantFrom('writable', 'replica-of-usw2', 'absent', 'failed'),
    writer: fc.constantFrom(PRIMARY_ENDPOINT, REPLICA_ENDPOINT, 'other.example.com'),
    journal: fc.array(
      fc.record({
        step: fc.integer({ min: 0, max: STEPS.length - 1 }),
        state: fc.constantFrom('Pending', 'Done', 'Failed'),
      }),
      { maxLength: 6 },
    ),
    promotion: fc.constantFrom('Automatic' as const, 'Manual' as const),
    failbackTraffic: fc.constantFrom('Automatic' as const, 'Manual' as const),
    failbackDatabase: fc.constantFrom('Automatic' as const, 'Manual' as const),
    failoverTo: fc.option(fc.record({ region: fc.constantFrom('us-east-1', 'us-west-2'), force: fc.boolean() }), {
      nil: undefined,
    }),
    failback: fc.boolean(),
    approve: fc.option(fc.constantFrom('orders', 'orders-usw2'), { nil: undefined }),
    compute: fc.boolean(),
    healthy: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
    nowSeconds: fc.integer({ min: 0, max: 3 * 24 * 3600 }),
    pendingDns: fc.boolean(),
  })
  .map((g): PlanInput => {
    const zones = Object.fromEntries(ALL_ZONES.map((z, i) => [z, g.zones[i] as ZoneState]));
    const databases = [
      replicaDb({
        status: g.replicaStatus,
        lagSeconds: g.lag,
        ...(g.replicaIsReplica ? {} : { replicaSourceId: undefined }),
      }),
    ];
    if (g.primary !== 'absent') {
      databases.push(
        primaryDb({
          ...(g.primary === 'replica-of-usw2' ? { replicaSourceId: USW2_ARN, lagSeconds: g.lag } : {}),
          ...(g.primary === 'failed' ? { status: 'failed' } : {}),
        }),
      );
    }
    const journal: JournalEntry[] = g.journal.map(({ step, state }) => {
      const [id, action, offset] = STEPS[step] as [string, string, number];
      const at = T0 + offset * SEC;
      return {
        id,
        action,
        target: 't',
        rule: 'PB-7',
        state: state as JournalEntry['state'],
        startedAt: iso(at),
        ...(state === 'Pending' ? {} : { finishedAt: iso(at + SEC) }),
      };
    });
    const now = T0 + g.nowSeconds * SEC;
    return input({
      policyOptions: {
        promotion: g.promotion,
        failbackTraffic: g.failbackTraffic,
        failbackDatabase: g.failbackDatabase,
        ...(g.compute ? { compute: { minHealthyInstances: 9, restoreVolumesFromSnapshots: true } } : {}),
      },
      health: health(zones, { since: T0 }),
      cloud: cloud({
        weights: { 'use1-a': g.weights[0], 'use1-b': g.weights[1], 'use1-c': g.weights[2], usw2: g.weights[3] },
        writer: g.writer,
        databases,
        ...(g.pendingDns ? { pendingDnsChange: 'C1' } : {}),
        instances: ALL_ZONES.map((zone, i) => ({
          region: zone.startsWith('us-east-1') ? 'us-east-1' : 'us-west-2',
          zone,
          healthy: g.healthy[i] ?? 0,
          unhealthyIds: [`i-${i}`],
        })),
        volumes: [{ id: 'vol-1', region: 'us-east-1', zone: 'us-east-1a' }],
        snapshots: [
          { id: 'snap-1', region: 'us-east-1', volumeId: 'vol-1', startTime: T0 - 3600_000, state: 'completed' },
        ],
      }),
      journal,
      requests: {
        ...(g.failoverTo ? { failoverTo: { ...g.failoverTo, requestedAt: T0 + 7 * SEC } } : {}),
        ...(g.failback ? { failback: { requestedAt: T0 + 3600 * SEC } } : {}),
        ...(g.approve ? { approvePromotion: { dbInstanceIdentifier: g.approve, approvedAt: T0 } } : {}),
      },
      now,
    });
  });

/** A deterministic shuffle (seeded LCG), so the property reports a reproducible counterexample. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function shuffled(i: PlanInput, seed: number): PlanInput {
  const spec = i.policy.spec;
  const route53 = spec.traffic!.route53;
  return {
    ...i,
    policy: {
      ...i.policy,
      spec: {
        ...spec,
        regions: shuffle(
          spec.regions.map((r) => ({ ...r, zones: shuffle(r.zones, seed + 1) })),
          seed + 2,
        ),
        traffic: { route53: { ...route53, records: shuffle(route53.records, seed + 3) } },
      },
    },
    health: { ...i.health, zones: shuffle(i.health.zones, seed + 4), regions: shuffle(i.health.regions, seed + 5) },
    cloud: {
      ...i.cloud,
      records: shuffle(i.cloud.records, seed + 6),
      databases: shuffle(i.cloud.databases, seed + 7),
      instances: shuffle(i.cloud.instances ?? [], seed + 8),
    },
    journal: shuffle(i.journal, seed + 9),
  };
}

const RUNS = { numRuns: 400 };

describe('planner invariants', () => {
  it('same inputs → same plan, whatever the order of the input arrays', () => {
    fc.assert(
      fc.property(arbInput, fc.integer(), (i, seed) => {
        const p = plan(i);
        expect(plan(i)).toEqual(p);
        expect(plan(shuffled(i, seed))).toEqual(p);
      }),
      RUNS,
    );
  });

  it('no action targets an impaired zone (PB-3)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const impaired = new Set(i.health.zones.filter((z) => z.state === 'Impaired').map((z) => z.name));
        for (const a of plan(i).actions) {
          const zone = zoneOf(a);
          expect(zone === undefined || !impaired.has(zone)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('never promotes a replica over the lag budget (or of unknown lag) unless forced for its region (PB-6)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        for (const a of plan(i).actions) {
          if (a.action.kind !== 'PromoteReplica') continue;
          const { dbInstanceIdentifier, region } = a.action;
          const db = i.cloud.databases.find((d) => d.id === dbInstanceIdentifier);
          const forced = i.requests.failoverTo?.force === true && i.requests.failoverTo.region === region;
          expect(forced || (db?.lagSeconds !== undefined && db.lagSeconds <= 30)).toBe(true);
          expect(db?.status).toBe('available');
          expect(a.action.backupRetentionPeriod).toBeGreaterThanOrEqual(1);
        }
      }),
      RUNS,
    );
  });

  it('never sets all-zero weights; never loses traffic that something could serve (PB-5)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const p = plan(i);
        const sum = (w: Record<string, number>) => Object.values(w).reduce((s, x) => s + x, 0);
        for (const a of p.actions) {
          if (a.action.kind !== 'SetWeights') continue;
          expect(sum(a.action.weights)).toBeGreaterThan(0);
          for (const w of Object.values(a.action.weights)) expect(Number.isInteger(w) && w >= 0 && w <= 255).toBe(true);
        }
        const current = Object.fromEntries(i.cloud.records.map((r) => [r.setIdentifier ?? '', r.weight ?? 0]));
        const anyHealthy = i.health.zones.some((z) => z.state === 'Healthy');
        if (anyHealthy && sum(current) > 0) expect(sum(p.desiredWeights)).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('never plans an action the journal has Done, and at most one SetWeights', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const done = new Set(i.journal.filter((e) => e.state === 'Done').map((e) => e.id));
        const p = plan(i);
        for (const a of p.actions) expect(done.has(a.id)).toBe(false);
        expect(p.actions.filter((a) => a.action.kind === 'SetWeights').length).toBeLessThanOrEqual(1);
        expect(new Set(p.actions.map((a) => a.id)).size).toBe(p.actions.length);
      }),
      RUNS,
    );
  });

  it('within a failover, once the promotion is sent the writer only points at the promoted instance (PB-7)', () => {
    const endpointOf: Record<string, string> = { orders: PRIMARY_ENDPOINT, 'orders-usw2': REPLICA_ENDPOINT };
    fc.assert(
      fc.property(arbInput, (i) => {
        const promotions = i.journal
          .filter((e) => e.state === 'Done' || e.state === 'Pending')
          .map((e) => parseFailoverId(e.id))
          .filter((x) => x?.step === 'promote');
        const p = plan(i);
        for (const a of p.actions) {
          if (a.action.kind !== 'SetWriterRecord') continue;
          const step = parseFailoverId(a.id);
          expect(step).toBeDefined(); // the writer only ever moves as a failover step
          const sent = promotions.find((x) => x?.epoch === step?.epoch);
          if (sent?.toId) expect(a.action.value).toBe(endpointOf[sent.toId]);
          expect(Object.values(endpointOf)).toContain(a.action.value);
        }
        // Never a PromoteReplica while another writable primary is in traffic: at most one writable besides it.
        for (const a of p.actions) {
          if (a.action.kind !== 'PromoteReplica') continue;
          const target = a.action.dbInstanceIdentifier;
          const others = i.cloud.databases.filter(
            (d) => d.id !== target && d.replicaSourceId === undefined && d.status !== 'failed',
          );
          expect(others.length).toBeLessThanOrEqual(1);
        }
      }),
      RUNS,
    );
  });

  it('once a failover started, the writer is moved only off the old primary, back only by an abort before any promotion attempt (PB-7)', () => {
    const endpointOf: Record<string, string> = { orders: PRIMARY_ENDPOINT, 'orders-usw2': REPLICA_ENDPOINT };
    fc.assert(
      fc.property(arbInput, (i) => {
        const attempted = new Set(
          i.journal.map((e) => parseFailoverId(e.id)).flatMap((x) => (x?.step === 'promote' ? [x.epoch] : [])),
        );
        for (const a of plan(i).actions) {
          if (a.action.kind !== 'SetWriterRecord') continue;
          const step = parseFailoverId(a.id);
          if (step?.step === 'abort-writer') {
            expect(attempted.has(step.epoch)).toBe(false);
            expect(a.action.value).toBe(endpointOf[step.fromId ?? '']);
          } else {
            expect(step?.toId).toBeDefined();
            expect(a.action.value).toBe(endpointOf[step?.toId ?? '']);
            if (step?.fromId !== undefined) expect(a.action.value).not.toBe(endpointOf[step.fromId]);
          }
        }
      }),
      RUNS,
    );
  });

  it('zone records follow zone health only: a healthy zone that serves is never drained, in any phase (PB-5)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const zoneOfRecord = new Map(
          i.policy.spec.traffic!.route53.records.flatMap((r) => (r.zone ? [[r.setIdentifier, r.zone] as const] : [])),
        );
        const state = new Map(i.health.zones.map((z) => [z.name, z.state]));
        const current = Object.fromEntries(i.cloud.records.map((r) => [r.setIdentifier ?? '', r.weight ?? 0]));
        const p = plan(i);
        // Nothing can serve at all: the weights are kept as they are rather than set all zero.
        if (p.gates.some((g) => g.kind === 'NoHealthyTarget')) return;
        for (const [id, zone] of zoneOfRecord) {
          const w = p.desiredWeights[id] ?? 0;
          if (state.get(zone) !== 'Healthy') expect(w).toBe(0);
          else if ((current[id] ?? 0) > 0) expect(w).toBeGreaterThan(0);
        }
      }),
      RUNS,
    );
  });

  it('never plans a snapshot or backup (PB-8)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        for (const a of plan(i).actions) expect(a.action.kind).not.toMatch(/snapshot|backup/i);
      }),
      RUNS,
    );
  });
});
