// Property tests: the planner's invariants hold for arbitrary health, observations, journals and requests.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FailoverPhase, FailoverState, JournalEntry } from '../api/index.ts';
import type { ZoneState } from '../health/types.ts';
import { failoverIds } from './action-ids.ts';
import { isFinished } from './database-failover.ts';
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

const PHASES: FailoverPhase[] = ['Fencing', 'AwaitingPropagation', 'Promoting', 'Repointing', 'Settled', 'Aborted'];

/** A recorded failover (status.failover) in any phase, either direction, with or without fence and promotion data. */
const arbFailover = fc
  .record({
    back: fc.boolean(),
    phase: fc.constantFrom(...PHASES),
    startedSeconds: fc.integer({ min: 0, max: 3600 }),
    changeId: fc.option(fc.constant('C1'), { nil: undefined }),
    inSyncSeconds: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: undefined }),
    previousTtl: fc.option(fc.constantFrom(30, 60, 300), { nil: undefined }),
    attempts: fc.integer({ min: 1, max: 3 }),
  })
  .map((g): FailoverState => {
    const [from, to] = g.back
      ? [
          { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
          { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
        ]
      : [
          { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
          { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
        ];
    const at = iso(T0 + g.startedSeconds * SEC);
    const sent = g.phase === 'Promoting' || g.phase === 'Repointing' || g.phase === 'Settled';
    return {
      epoch: g.back ? BACK : AUTO,
      trigger: g.back ? 'failback' : 'auto',
      from,
      to,
      phase: g.phase,
      startedAt: at,
      phaseSince: at,
      reason: 'generated',
      fence: {
        ...(g.changeId ? { changeId: g.changeId } : {}),
        ...(g.inSyncSeconds === undefined ? {} : { inSyncAt: iso(T0 + g.inSyncSeconds * SEC) }),
        ...(g.previousTtl === undefined ? {} : { previousTtlSeconds: g.previousTtl }),
      },
      ...(sent ? { promotion: { attempts: g.attempts, lastAttemptAt: at, lagSeconds: 3 } } : {}),
      ...(isFinished({ phase: g.phase } as FailoverState) ? { finishedAt: at } : {}),
    };
  });

const zoneState = fc.constantFrom<ZoneState>('Healthy', 'Healthy', 'Degraded', 'Impaired');
const weight = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 }), fc.constant(100));

const arbInput = fc
  .record({
    zones: fc.oneof(
      fc.tuple(...ALL_ZONES.map(() => zoneState)),
      // us-east-1 impaired (two zones or more), the standby region anything
      fc.tuple(fc.constant<ZoneState>('Impaired'), fc.constant<ZoneState>('Impaired'), zoneState, zoneState, zoneState),
    ),
    weights: fc.tuple(weight, weight, weight, weight),
    lag: fc.option(
      fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 }) },
        { weight: 1, arbitrary: fc.integer({ min: 31, max: 120 }) },
        { weight: 1, arbitrary: fc.constant(-1) },
      ),
      { nil: undefined },
    ),
    lagAgeSeconds: fc.constantFrom(0, 0, 60, 180, 181, 900),
    evidence: fc.record({
      dataPlane: fc.subarray(['us-east-1a', 'us-east-1b', 'us-east-1c']),
      database: fc.boolean(),
    }),
    failover: fc.option(arbFailover, { nil: undefined }),
    fenceChange: fc.option(fc.constantFrom('PENDING' as const, 'INSYNC' as const), { nil: undefined }),
    liveDrill: fc.option(fc.boolean(), { nil: undefined }),
    replicaStatus: fc.constantFrom('available', 'available', 'available', 'backing-up', 'modifying', 'unreachable'),
    replicaIsReplica: fc.constantFrom(true, true, true, false),
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
    const now = T0 + g.nowSeconds * SEC;
    const lagAt = now - g.lagAgeSeconds * SEC;
    const databases = [
      replicaDb({
        status: g.replicaStatus,
        lagSeconds: g.lag,
        lagAt,
        ...(g.replicaIsReplica ? {} : { replicaSourceId: undefined }),
      }),
    ];
    if (g.primary !== 'absent') {
      databases.push(
        primaryDb({
          ...(g.primary === 'replica-of-usw2' ? { replicaSourceId: USW2_ARN, lagSeconds: g.lag, lagAt } : {}),
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
    return input({
      ...(g.failover ? { failover: g.failover } : {}),
      policyOptions: {
        promotion: g.promotion,
        failbackTraffic: g.failbackTraffic,
        failbackDatabase: g.failbackDatabase,
        ...(g.compute ? { compute: { minHealthyInstances: 9, restoreVolumesFromSnapshots: true } } : {}),
      },
      health: health(zones, {
        since: T0,
        evidence: {
          'us-east-1': {
            dataPlaneDownZones: g.evidence.dataPlane,
            downDatabases: g.evidence.database ? ['orders'] : [],
          },
        },
      }),
      cloud: cloud({
        weights: { 'use1-a': g.weights[0], 'use1-b': g.weights[1], 'use1-c': g.weights[2], usw2: g.weights[3] },
        writer: g.writer,
        databases,
        ...(g.pendingDns ? { pendingDnsChange: 'C1' } : {}),
        ...(g.fenceChange ? { fenceChange: { id: 'C1', status: g.fenceChange } } : {}),
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
        ...(g.liveDrill === undefined ? {} : { liveDrill: { name: 'ns/drill', allowPromotion: g.liveDrill } }),
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
          const forced =
            (i.requests.failoverTo?.force === true && i.requests.failoverTo.region === region) ||
            i.failover?.promotion?.forced === true;
          const lag = db?.lagSeconds;
          const fresh = db?.lagAt !== undefined && i.now - db.lagAt <= 180 * SEC;
          expect(forced || (lag !== undefined && lag >= 0 && lag <= 30 && fresh)).toBe(true);
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

  it('once a promotion was sent, the writer only ever points at the promoted instance (PB-7)', () => {
    const endpointOf: Record<string, string> = { orders: PRIMARY_ENDPOINT, 'orders-usw2': REPLICA_ENDPOINT };
    fc.assert(
      fc.property(arbInput, (i) => {
        const p = plan(i);
        const f = i.failover;
        const sent = f && (f.phase === 'Promoting' || f.phase === 'Repointing' || f.phase === 'Settled');
        const next = p.failover && p.failover.epoch !== f?.epoch ? p.failover : undefined;
        for (const a of p.actions) {
          if (a.action.kind !== 'SetWriterRecord') continue;
          expect(a.id.startsWith('failover/')).toBe(true); // the writer only ever moves as a failover step
          expect(Object.values(endpointOf)).toContain(a.action.value);
          if (sent && !next) expect(a.action.value).toBe(endpointOf[f.to.dbInstanceIdentifier]);
          if (next) expect(a.action.value).toBe(endpointOf[next.to.dbInstanceIdentifier]);
        }
        // The plan never goes back to a phase before the promotion once one was sent.
        if (sent && p.failover?.epoch === f.epoch) {
          expect(['Promoting', 'Repointing', 'Settled']).toContain(p.failover.phase);
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

  it('the writer goes back to the old primary only by an abort before any promotion was sent (PB-7)', () => {
    const endpointOf: Record<string, string> = { orders: PRIMARY_ENDPOINT, 'orders-usw2': REPLICA_ENDPOINT };
    fc.assert(
      fc.property(arbInput, (i) => {
        const p = plan(i);
        for (const a of p.actions) {
          if (a.action.kind !== 'SetWriterRecord' || !a.id.includes('/abort-writer/')) continue;
          const f = i.failover!;
          expect(['Fencing', 'AwaitingPropagation', 'Aborted']).toContain(f.phase);
          expect(p.failover?.phase).toBe('Aborted');
          expect(a.action.value).toBe(endpointOf[f.from.dbInstanceIdentifier]);
        }
      }),
      RUNS,
    );
  });

  it('an automatic failover starts only on independent evidence, and never from a drill that does not allow it (PB-6)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const p = plan(i);
        const started = p.failover && p.failover.epoch !== i.failover?.epoch ? p.failover : undefined;
        if (started?.trigger !== 'auto') return;
        const drill = i.requests.liveDrill;
        expect(drill === undefined || drill.allowPromotion).toBe(true);
        if (drill) return; // a rehearsal with allowPromotion needs an approval instead (planner.test.ts)
        const ev = i.health.regions.find((r) => r.name === started.from.region)?.evidence;
        expect(ev?.downDatabases).toContain(started.from.dbInstanceIdentifier);
        expect((ev?.dataPlaneDownZones.length ?? 0) >= 2).toBe(true);
      }),
      RUNS,
    );
  });

  it('never promotes before the fence change is INSYNC and the longer writer TTL has passed since (PB-7)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const p = plan(i);
        if (!p.actions.some((a) => a.action.kind === 'PromoteReplica')) return;
        // A failover recorded as Promoting passed this check when it entered the phase (its resend is the
        // counts-as-sent rule's business): the property is about the step INTO Promoting.
        if (i.failover?.phase === 'Promoting' && p.failover?.epoch === i.failover.epoch) return;
        const f = p.failover!;
        const inSync = f.fence?.inSyncAt === undefined ? undefined : Date.parse(f.fence.inSyncAt);
        expect(inSync).toBeDefined();
        const ttl = Math.max(f.fence?.previousTtlSeconds ?? 0, 30, i.cloud.writer?.ttl ?? 0);
        expect(i.now).toBeGreaterThanOrEqual(inSync! + ttl * SEC);
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
