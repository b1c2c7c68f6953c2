import { describe, expect, it } from 'vitest';
import type { ZoneState } from '../health/types.ts';
import { PROMOTION_GRACE_MS, PROMOTION_NOT_SENT } from './database-failover.ts';
import { plan } from './planner.ts';
import {
  cloud,
  DEFAULT_RECORDS,
  entry,
  execute,
  finishPromotion,
  health,
  type InputOptions,
  input,
  iso,
  kinds,
  MIN,
  NORMAL_WEIGHTS,
  observedAt,
  PRIMARY_ENDPOINT,
  primaryDb,
  REPLICA_ENDPOINT,
  replicaDb,
  SEC,
  T0,
  weightsOf,
} from './test-fixtures.ts';
import type { Plan, PlanInput } from './types.ts';

const REGION_DOWN = { 'us-east-1a': 'Impaired', 'us-east-1b': 'Impaired' } as const;
/** us-east-1 impaired, writer in us-west-2: the healthy zone us-east-1c and the standby region share the traffic. */
const SPLIT = { 'use1-a': 0, 'use1-b': 0, 'use1-c': 150, usw2: 150 };
const ZONE_C_ONLY = { 'use1-a': 0, 'use1-b': 0, 'use1-c': 255, usw2: 0 };
const EPOCH = 'auto-20261123T100000Z';
const gateKinds = (p: Plan) => p.gates.map((g) => g.kind);

describe('plan: steady state', () => {
  it('does nothing when everything is healthy and as configured', () => {
    const p = plan(input());
    expect(p).toEqual({
      phase: 'Healthy',
      actions: [],
      skipped: [],
      gates: [],
      desiredWeights: NORMAL_WEIGHTS,
      desiredWriter: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
      // The data-plane path is the default; nothing observed of it here, so nothing is prepared or assumed.
      dataPlane: expect.objectContaining({ ready: false, reason: 'Unobserved' }),
    });
  });

  it('is truthful in dryRun: the same plan (the executor is the one that does not write)', () => {
    const i = input({ health: health({ 'us-east-1b': 'Impaired' }) });
    const dry = { ...i, policy: { ...i.policy, spec: { ...i.policy.spec, dryRun: true } } };
    expect(plan(dry)).toEqual(plan(i));
  });
});

describe('plan: zone drain (PB-5)', () => {
  it.each<[string, Record<string, ZoneState>, Record<string, number>]>([
    ['impaired zone', { 'us-east-1a': 'Impaired' }, { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150, usw2: 0 }],
    ['degraded zone', { 'us-east-1c': 'Degraded' }, { 'use1-a': 150, 'use1-b': 150, 'use1-c': 0, usw2: 0 }],
    ['standby zone only', { 'us-west-2a': 'Impaired' }, NORMAL_WEIGHTS],
  ])('%s', (_name, zones, expected) => {
    const p = plan(input({ health: health(zones) }));
    expect(p.desiredWeights).toEqual(expected);
    const changed = JSON.stringify(expected) !== JSON.stringify(NORMAL_WEIGHTS);
    expect(kinds(p).filter((k) => k === 'SetWeights')).toHaveLength(changed ? 1 : 0);
    if (changed) {
      expect(p.actions[0]).toMatchObject({ rule: 'PB-5', target: 'api.example.com.', action: { weights: expected } });
      expect(p.phase).toBe('Degraded');
    }
  });

  it('puts every record of the group in the one SetWeights (UPSERT of the group, nothing deleted)', () => {
    const p = plan(input({ health: health({ 'us-east-1a': 'Impaired' }) }));
    expect(Object.keys(weightsOf(p) ?? {}).sort()).toEqual(['use1-a', 'use1-b', 'use1-c', 'usw2']);
  });

  it('keeps the weights and gates NoHealthyTarget when nothing can serve', () => {
    const zones = Object.fromEntries(
      ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-west-2a', 'us-west-2b'].map((z) => [z, 'Impaired' as const]),
    );
    const p = plan(input({ health: health(zones), cloud: cloud({ databases: [primaryDb()] }) }));
    expect(kinds(p)).not.toContain('SetWeights');
    expect(p.desiredWeights).toEqual(NORMAL_WEIGHTS);
    expect(gateKinds(p)).toContain('NoHealthyTarget');
    expect(p.gates.find((g) => g.kind === 'NoHealthyTarget')?.rule).toBe('PB-5');
  });
});

describe('plan: cooldown and traffic failback (PB-9, PB-10)', () => {
  const drained = { 'use1-a': 0, 'use1-b': 150, 'use1-c': 150, usw2: 0 };
  function afterDrain(o: InputOptions = {}) {
    const { policyOptions, ...rest } = o;
    const first = input({ health: health({ 'us-east-1a': 'Impaired' }), ...(policyOptions ? { policyOptions } : {}) });
    const next = execute(first, plan(first), T0 + 5 * SEC);
    return { ...next, health: health(), ...rest } satisfies PlanInput;
  }

  it('holds traffic away from a recovered zone until the cooldown passes, then returns it', () => {
    const during = afterDrain({ now: T0 + 2 * MIN });
    const held = plan(during);
    expect(held.actions).toEqual([]);
    expect(held.phase).toBe('Recovering');
    expect(held.desiredWeights).toEqual(drained);
    expect(held.gates).toEqual([
      {
        kind: 'RecoveryWindow',
        rule: 'PB-10',
        message: 'traffic to recovered record use1-a held: traffic cooldown after the last weight change (PB-9)',
        until: T0 + 5 * SEC + 5 * MIN,
      },
    ]);

    const back = plan({ ...during, now: T0 + 6 * MIN });
    expect(weightsOf(back)).toEqual(NORMAL_WEIGHTS);
    expect(back.actions[0]?.rule).toBe('PB-10');
    expect(back.phase).toBe('Recovering');
  });

  it('drains a newly failed zone at once, even within the cooldown', () => {
    const next = afterDrain({
      now: T0 + 1 * MIN,
      health: health({ 'us-east-1a': 'Impaired', 'us-east-1c': 'Degraded' }),
    });
    const p = plan(next);
    expect(weightsOf(p)).toEqual({ 'use1-a': 0, 'use1-b': 255, 'use1-c': 0, usw2: 0 });
    expect(p.actions[0]?.rule).toBe('PB-5');
  });

  it('holds a rescale (no drain) within the cooldown', () => {
    const next = afterDrain({ now: T0 + 1 * MIN, health: health({ 'us-east-1a': 'Impaired' }) });
    const drifted = { ...next, cloud: cloud({ weights: { 'use1-a': 0, 'use1-b': 200, 'use1-c': 100, usw2: 0 } }) };
    const p = plan(drifted);
    expect(p.actions).toEqual([]);
    expect(gateKinds(p)).toEqual(['Cooldown']);
    expect(p.gates[0]?.until).toBe(T0 + 5 * SEC + 5 * MIN);
  });

  it('with failback.traffic Manual, returns traffic only on a failback request', () => {
    const manual = afterDrain({ now: T0 + 10 * MIN, policyOptions: { failbackTraffic: 'Manual' } });
    const held = plan(manual);
    expect(held.actions).toEqual([]);
    expect(held.gates[0]).toMatchObject({ kind: 'RecoveryWindow', message: expect.stringContaining('Manual') });
    const requested = plan({ ...manual, requests: { failback: { requestedAt: T0 + 9 * MIN } } });
    expect(weightsOf(requested)).toEqual(NORMAL_WEIGHTS);
  });
});

describe('plan: database failover, step by step (PB-6, PB-7)', () => {
  function start(o: InputOptions = {}): PlanInput {
    return input({ health: health(REGION_DOWN), now: T0 + 10 * SEC, ...o });
  }

  it('walks trigger → fence → promote → promoted → FailedOver', () => {
    // Phase 1: choose the target and fence the old writer (writer record first, then the weights). The standby
    // region's record takes traffic; the healthy zone of the impaired region keeps serving.
    let i = start();
    const p1 = plan(i);
    expect(p1.phase).toBe('FailingOver');
    expect(p1.actions.map((a) => [a.id, a.action])).toEqual([
      [`failover/${EPOCH}/fence-writer/orders/orders-usw2`, { kind: 'SetWriterRecord', value: REPLICA_ENDPOINT }],
      [`failover/${EPOCH}/fence-weights/orders/orders-usw2`, { kind: 'SetWeights', weights: SPLIT }],
    ]);
    expect(p1.actions.every((a) => a.rule === 'PB-7')).toBe(true);
    expect(p1.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
    expect(p1.skipped.map((s) => s.reason)).toEqual([
      'PB-3 skipped RebootDBInstance on orders: zone us-east-1a impaired',
    ]);

    expect(p1.failover).toMatchObject({
      epoch: EPOCH,
      trigger: 'auto',
      phase: 'Fencing',
      from: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
      to: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
      fence: { previousValue: PRIMARY_ENDPOINT, previousTtlSeconds: 30 },
    });

    // The fence is journaled INSYNC at 15 s; phase 2 waits for the writer record's TTL (30 s) plus a margin (5 s)
    // after INSYNC, so clients stop using the old primary.
    i = execute(i, p1, T0 + 15 * SEC);
    const p2 = plan({ ...i, now: T0 + 20 * SEC });
    expect(p2.actions).toEqual([]);
    expect(p2.gates).toEqual([expect.objectContaining({ kind: 'DnsPropagation', rule: 'PB-7', until: T0 + 50 * SEC })]);
    expect(p2.phase).toBe('FailingOver');
    expect(p2.failover).toMatchObject({ phase: 'AwaitingPropagation', fence: { inSyncAt: iso(T0 + 15 * SEC) } });
    expect(plan({ ...i, now: T0 + 49 * SEC }).actions).toEqual([]);

    // Phase 2: promote, with backups kept (retention at least 1, here the old primary's 7 days).
    i = { ...i, now: T0 + 50 * SEC };
    const p3 = plan(i);
    expect(p3.actions.map((a) => [a.id, a.rule, a.action])).toEqual([
      [
        `failover/${EPOCH}/promote/orders-usw2`,
        'PB-6',
        {
          kind: 'PromoteReplica',
          region: 'us-west-2',
          dbInstanceIdentifier: 'orders-usw2',
          backupRetentionPeriod: 7,
          // The promotion lock's key (#14): the writer failed away from.
          from: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
          epoch: EPOCH,
        },
      ],
    ]);
    // Recorded before it is sent, with the lag it is sent at (the RPO).
    expect(p3.failover).toMatchObject({ phase: 'Promoting', promotion: { attempts: 1, lagSeconds: 5 } });

    // Promotion sent: the instance is modifying. Nothing is re-issued; the plan waits.
    i = execute(i, p3, T0 + 50 * SEC);
    const p4 = plan({ ...i, now: T0 + 2 * MIN });
    expect(p4.actions).toEqual([]);
    expect(gateKinds(p4)).toEqual(['DatabaseBusy']);
    expect(p4.phase).toBe('FailingOver');

    // Promoted and available; the writer already points at it from the fence: FailedOver, nothing to do.
    i = finishPromotion({ ...i, now: T0 + 5 * MIN }, 'orders-usw2');
    const p5 = plan(i);
    expect(p5).toMatchObject({ phase: 'FailedOver', actions: [], gates: [] });
    expect(p5.failover).toMatchObject({ phase: 'Settled', finishedAt: iso(T0 + 5 * MIN) });
    expect(p5.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
    expect(p5.desiredWeights).toEqual(SPLIT);

    // us-east-1 recovers: its zones get traffic back (PB-10), the standby keeps its share while the writer is
    // there; the database failback is Manual, so the writer stays in us-west-2.
    const recovered = plan({ ...i, health: health(), now: T0 + 60 * MIN });
    expect(recovered.phase).toBe('FailedOver');
    expect(recovered.actions.map((a) => [a.rule, a.action])).toEqual([
      ['PB-10', { kind: 'SetWeights', weights: { 'use1-a': 75, 'use1-b': 75, 'use1-c': 75, usw2: 75 } }],
    ]);
    expect(recovered.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
  });

  describe('promotion lock (#14)', () => {
    /** The plan at the promotion step: fenced, INSYNC at 15 s, the TTL passed by 50 s. */
    function atPromotion(): { i: PlanInput; promote: Plan } {
      let i = start();
      i = execute(i, plan(i), T0 + 15 * SEC);
      i = { ...i, now: T0 + 50 * SEC };
      return { i, promote: plan(i) };
    }

    it("names the old writer by incarnation in the promotion, from the writer's last observation", () => {
      let i = start();
      i = {
        ...i,
        cloud: {
          ...i.cloud,
          databases: i.cloud.databases.map((d) => (d.id === 'orders' ? { ...d, resourceId: 'db-OLDWRITER' } : d)),
        },
      };
      i = execute(i, plan(i), T0 + 15 * SEC);
      const p = plan({ ...i, now: T0 + 50 * SEC });
      expect(p.actions[0]?.action).toMatchObject({
        kind: 'PromoteReplica',
        from: { region: 'us-east-1', dbInstanceIdentifier: 'orders', resourceId: 'db-OLDWRITER' },
        epoch: EPOCH,
      });
    });

    it('held for another replica: a PromotionLocked gate naming the holder, never sent again', () => {
      const { i, promote } = atPromotion();
      const refusal =
        'promotion of us-west-2/orders-usw2 refused: the failover away from us-east-1/orders (db-X) was already taken by vantage op-eu for eu-west-1/orders-euw1 at 2026-12-06T03:00:00.000Z (promotion lock locks in us-east-2)';
      const skipped = {
        ...i,
        failover: promote.failover!,
        journal: [
          ...i.journal,
          { ...entry(promote.actions[0]!, 'Skipped', i.now), rule: 'PB-6' as const, detail: refusal },
        ],
      };
      for (const later of [T0 + 2 * MIN, T0 + 50 * SEC + PROMOTION_GRACE_MS + MIN, T0 + 3 * 60 * MIN]) {
        const p = plan(observedAt(skipped, later));
        expect(p.actions).toEqual([]);
        expect(p.gates).toEqual([
          expect.objectContaining({ kind: 'PromotionLocked', rule: 'PB-6', target: 'orders-usw2' }),
        ]);
        expect(p.gates[0]?.message).toContain(refusal);
        expect(p.failover).toMatchObject({ phase: 'Promoting', promotion: { attempts: 1 } });
      }
    });

    it("held for another replica whose promotion landed: adopts the holder's writer and repoints to it, promoting nothing", () => {
      const { i, promote } = atPromotion();
      // A second replica in the standby region, chosen and promoted by the operator that holds the lock.
      const policy = structuredClone(i.policy);
      policy.spec.database?.rds?.replicas?.push({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2b' });
      const other = replicaDb({
        id: 'orders-usw2b',
        arn: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2b',
        endpoint: 'orders-usw2b.cluster.us-west-2.rds.amazonaws.com',
      });
      const refusal =
        'promotion of us-west-2/orders-usw2 refused: the failover away from us-east-1/orders was already taken by vantage usw2 for us-west-2/orders-usw2b';
      const skipped: PlanInput = {
        ...i,
        policy,
        cloud: { ...i.cloud, databases: [...i.cloud.databases, other] },
        failover: promote.failover!,
        journal: [
          ...i.journal,
          { ...entry(promote.actions[0]!, 'Skipped', i.now), rule: 'PB-6' as const, detail: refusal },
        ],
      };
      // Until the holder's promotion shows, the failover holds at PromotionLocked.
      expect(plan(observedAt(skipped, T0 + 2 * MIN)).gates.map((g) => g.kind)).toEqual(['PromotionLocked']);
      // It shows: this operator adopts orders-usw2b and repoints the writer record to it.
      const landed = observedAt(finishPromotion(skipped, 'orders-usw2b'), T0 + 3 * MIN);
      const p = plan(landed);
      expect(p.actions.some((a) => a.action.kind === 'PromoteReplica')).toBe(false);
      expect(p.failover).toMatchObject({ to: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2b' } });
      expect(p.failover?.reason).toContain('adopted orders-usw2b');
      expect(p.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2b' });
      expect(p.actions.map((a) => a.action)).toContainEqual({
        kind: 'SetWriterRecord',
        value: 'orders-usw2b.cluster.us-west-2.rds.amazonaws.com',
      });
    });

    it('the lock could not be taken (not sent): the same attempt again at once, the executor backing it off', () => {
      const { i, promote } = atPromotion();
      const failed = {
        ...i,
        failover: promote.failover!,
        journal: [
          ...i.journal,
          {
            ...entry(promote.actions[0]!, 'Failed', i.now),
            error: `${PROMOTION_NOT_SENT}the promotion lock locks in us-east-2 could not be taken (TimeoutError)`,
          },
        ],
      };
      const p = plan(observedAt(failed, T0 + 55 * SEC));
      expect(p.actions.map((a) => a.id)).toEqual([promote.actions[0]!.id]);
      expect(p.failover).toMatchObject({ phase: 'Promoting', promotion: { attempts: 1 } });
    });

    it('a PromoteReadReplica that failed (it may have reached RDS) still counts as sent until the grace window ends', () => {
      const { i, promote } = atPromotion();
      const failed = {
        ...i,
        failover: promote.failover!,
        journal: [...i.journal, { ...entry(promote.actions[0]!, 'Failed', i.now), error: 'TimeoutError: hung' }],
      };
      expect(plan(observedAt(failed, T0 + 55 * SEC)).actions).toEqual([]);
    });
  });

  it('re-points the writer after promotion if it drifted from the fence', () => {
    let i = start();
    i = execute(i, plan(i), T0 + 15 * SEC);
    i = { ...i, now: T0 + 60 * SEC };
    i = execute(i, plan(i), T0 + 60 * SEC);
    i = finishPromotion(
      { ...i, cloud: { ...i.cloud, writer: { ...i.cloud.writer!, values: ['elsewhere.example.com'] } } },
      'orders-usw2',
    );
    const p = plan(i);
    expect(p.actions.map((a) => [a.id, a.action])).toEqual([
      [`failover/${EPOCH}/writer/orders-usw2`, { kind: 'SetWriterRecord', value: REPLICA_ENDPOINT }],
    ]);
    expect(p.phase).toBe('FailingOver');
  });

  it('promotes only after the fence change is INSYNC and the longer TTL has passed since (PB-7)', () => {
    // The executor handed back before INSYNC: the fence is journaled Done with its change still PENDING.
    let i = start({ cloud: cloud({ writer: PRIMARY_ENDPOINT }) });
    i = { ...i, cloud: { ...i.cloud, writer: { ...i.cloud.writer!, ttl: 300 } } }; // the record had a 300 s TTL
    const p1 = plan(i);
    expect(p1.failover?.fence?.previousTtlSeconds).toBe(300);
    const fence = p1.actions[0]!;
    i = {
      ...execute(i, p1, T0 + 15 * SEC),
      journal: [
        ...i.journal,
        { ...entry(fence, 'Done', T0 + 15 * SEC), requestToken: 'C123', detail: 'change C123 still PENDING' },
        ...p1.actions.slice(1).map((a) => entry(a, 'Done', T0 + 15 * SEC)),
      ],
    };
    const pending = plan({ ...i, now: T0 + 2 * MIN });
    expect(kinds(pending)).toEqual([]);
    expect(pending.gates[0]).toMatchObject({ kind: 'DnsPropagation', message: expect.stringContaining('C123') });
    i = { ...i, failover: pending.failover! };
    expect(pending.failover).toMatchObject({ phase: 'AwaitingPropagation', fence: { changeId: 'C123' } });
    const stillPending = plan({
      ...i,
      now: T0 + 3 * MIN,
      cloud: { ...i.cloud, fenceChange: { id: 'C123', status: 'PENDING' } },
    });
    expect(kinds(stillPending)).toEqual([]);
    // Seen INSYNC at 4 min: the old TTL (300 s, longer than the spec's 30 s) plus the margin must pass first.
    const seen = plan({
      ...i,
      now: T0 + 4 * MIN,
      cloud: { ...i.cloud, at: T0 + 4 * MIN, fenceChange: { id: 'C123', status: 'INSYNC' } },
    });
    expect(kinds(seen)).toEqual([]);
    expect(seen.gates[0]).toMatchObject({ kind: 'DnsPropagation', until: T0 + 4 * MIN + 305 * SEC });
    i = { ...i, failover: seen.failover! };
    expect(kinds(plan({ ...i, now: T0 + 4 * MIN + 304 * SEC }))).toEqual([]);
    expect(kinds(plan(observedAt(i, T0 + 4 * MIN + 305 * SEC)))).toEqual(['PromoteReplica']);
  });

  describe('gates', () => {
    it.each([
      ['over budget', 45, 'lag 45s exceeds the 30s RPO budget'],
      ['unknown', undefined, 'lag unknown'],
      ['-1 (replication not running)', -1, 'ReplicaLag -1: replication is not running'],
    ])('lag %s: no fence, no promotion, ReplicaLag (PB-6); zones still drained', (_name, lag, message) => {
      const p = plan(start({ cloud: cloud({ databases: [primaryDb(), replicaDb({ lagSeconds: lag })] }) }));
      expect(kinds(p)).toEqual(['SetWeights']);
      expect(weightsOf(p)).toEqual(ZONE_C_ONLY);
      expect(p.gates).toEqual([expect.objectContaining({ kind: 'ReplicaLag', rule: 'PB-6' })]);
      expect(p.gates[0]?.message).toContain(message);
      expect(p.phase).toBe('Degraded');
    });

    it('lag that grows between fence and promotion holds the promotion', () => {
      let i = start();
      i = execute(i, plan(i), T0 + 15 * SEC);
      i = { ...i, now: T0 + 2 * MIN, cloud: { ...i.cloud, databases: [primaryDb(), replicaDb({ lagSeconds: 90 })] } };
      const p = plan(i);
      expect(kinds(p)).toEqual([]);
      expect(gateKinds(p)).toEqual(['ReplicaLag']);
      // …unless an operator forces it for that region (a force for another region does not count).
      const elsewhere = plan({
        ...i,
        requests: { failoverTo: { region: 'us-east-1', force: true, requestedAt: T0 + MIN } },
      });
      expect(gateKinds(elsewhere)).toEqual(['ReplicaLag']);
      const forced = plan({
        ...i,
        requests: { failoverTo: { region: 'us-west-2', force: true, requestedAt: T0 + MIN } },
      });
      expect(kinds(forced)).toEqual(['PromoteReplica']);
    });

    it('a forced manual failover goes ahead over the lag budget, with its own epoch', () => {
      const i = start({
        cloud: cloud({ databases: [primaryDb(), replicaDb({ lagSeconds: 300 })] }),
        requests: { failoverTo: { region: 'us-west-2', force: true, requestedAt: T0 + 5 * SEC } },
      });
      const p = plan(i);
      expect(p.actions.map((a) => a.id)).toEqual([
        'failover/manual-20261123T100005Z/fence-writer/orders/orders-usw2',
        'failover/manual-20261123T100005Z/fence-weights/orders/orders-usw2',
      ]);
    });

    it('Manual promotion waits for approval of that replica before fencing anything', () => {
      const i = start({ policyOptions: { promotion: 'Manual' } });
      const waiting = plan(i);
      expect(kinds(waiting)).toEqual(['SetWeights']); // the zone drain only
      expect(waiting.gates).toEqual([
        {
          kind: 'Approval',
          rule: 'PB-6',
          target: 'orders-usw2',
          message: 'promotion is Manual: promoting orders-usw2 waits for failoverctl approve (approval id orders-usw2)',
        },
      ]);
      const wrong = plan({ ...i, requests: { approvePromotion: { dbInstanceIdentifier: 'other', approvedAt: T0 } } });
      expect(gateKinds(wrong)).toEqual(['Approval']);
      const approved = plan({
        ...i,
        requests: { approvePromotion: { dbInstanceIdentifier: 'orders-usw2', approvedAt: T0 } },
      });
      expect(kinds(approved)).toEqual(['SetWriterRecord', 'SetWeights']);
    });

    it('a backing-up replica is not promoted (AWS refuses): DatabaseBusy', () => {
      let i = start();
      i = execute(i, plan(i), T0 + 15 * SEC);
      i = {
        ...i,
        now: T0 + 2 * MIN,
        cloud: { ...i.cloud, databases: [primaryDb(), replicaDb({ status: 'backing-up' })] },
      };
      const p = plan(i);
      expect(kinds(p)).toEqual([]);
      expect(p.gates[0]).toMatchObject({ kind: 'DatabaseBusy', message: expect.stringContaining('backing-up') });
    });

    it('refuses to act while two writable primaries are visible (PB-7)', () => {
      const p = plan(start({ cloud: cloud({ databases: [primaryDb(), replicaDb({ replicaSourceId: undefined })] }) }));
      expect(kinds(p)).not.toContain('SetWriterRecord');
      expect(kinds(p)).not.toContain('PromoteReplica');
      expect(p.gates).toEqual([expect.objectContaining({ kind: 'MultiplePrimaries', rule: 'PB-7' })]);
    });

    it('no replica to go to: NoStandby, with the reasons', () => {
      const p = plan(start({ health: health({ ...REGION_DOWN, 'us-west-2a': 'Impaired', 'us-west-2b': 'Impaired' }) }));
      expect(p.gates).toEqual([
        expect.objectContaining({ kind: 'NoStandby', message: expect.stringContaining('region us-west-2 impaired') }),
      ]);
    });
  });

  describe('evidence before an irreversible step (PB-6)', () => {
    it.each([
      [
        'EC2 metadata alone (endpoints and database answer)',
        { dataPlaneDownZones: [], metadataImpairedZones: ['us-east-1a', 'us-east-1b'], downDatabases: [] },
        /AWS metadata alone never moves a database/,
      ],
      [
        'endpoints down but the database answers',
        { dataPlaneDownZones: ['us-east-1a', 'us-east-1b'], downDatabases: [] },
        /primary database orders is not seen unreachable or impaired/,
      ],
      [
        'the database down but endpoints answer (slow, not down) in all but one zone',
        { dataPlaneDownZones: ['us-east-1b'], downDatabases: ['orders'] },
        /endpoints answer no probe in only 1 of the 2 zones required/,
      ],
    ])('%s: zones drained, nothing fenced or promoted', (_name, evidence, why) => {
      const p = plan(start({ health: health(REGION_DOWN, { evidence: { 'us-east-1': evidence } }) }));
      expect(kinds(p)).toEqual(['SetWeights']);
      expect(weightsOf(p)).toEqual(ZONE_C_ONLY);
      expect(p.failover).toBeUndefined();
      expect(p.gates).toEqual([expect.objectContaining({ kind: 'InsufficientEvidence', rule: 'PB-6' })]);
      expect(p.gates[0]?.message).toMatch(why);
    });

    it('the writer zone plus one more down is enough data-plane evidence', () => {
      const p = plan(
        start({
          health: health(REGION_DOWN, {
            evidence: { 'us-east-1': { dataPlaneDownZones: ['us-east-1a', 'us-east-1c'] } },
          }),
        }),
      );
      expect(kinds(p)).toEqual(['SetWriterRecord', 'SetWeights']);
    });

    it.each(['unreachable', 'not-found'])(
      'an unobservable standby (%s) is neither a second primary nor a target',
      (status) => {
        const unseen = { ...replicaDb({ status }), replicaSourceId: undefined, lagSeconds: undefined };
        const steadyPlan = plan(input({ cloud: cloud({ databases: [primaryDb(), unseen] }) }));
        expect(steadyPlan).toMatchObject({ phase: 'Healthy', actions: [], gates: [] });
        const impaired = plan(start({ cloud: cloud({ databases: [primaryDb(), unseen] }) }));
        expect(gateKinds(impaired)).not.toContain('MultiplePrimaries');
        expect(kinds(impaired)).not.toContain('SetWriterRecord');
        expect(gateKinds(impaired)).toEqual(['NoStandby']);
      },
    );

    it('a Live drill never fails the database over unless it allows it, and then waits for approval', () => {
      const drilled = plan(start({ requests: { liveDrill: { name: 'ns/rehearsal', allowPromotion: false } } }));
      expect(kinds(drilled)).toEqual(['SetWeights']);
      expect(drilled.gates).toEqual([expect.objectContaining({ kind: 'Drill', rule: 'PB-12' })]);
      const allowed = start({ requests: { liveDrill: { name: 'ns/rehearsal', allowPromotion: true } } });
      expect(plan(allowed).gates).toEqual([expect.objectContaining({ kind: 'Approval', target: 'orders-usw2' })]);
      const approved = plan({
        ...allowed,
        requests: {
          liveDrill: { name: 'ns/rehearsal', allowPromotion: true },
          approvePromotion: { dbInstanceIdentifier: 'orders-usw2', approvedAt: T0 },
        },
      });
      expect(kinds(approved)).toEqual(['SetWriterRecord', 'SetWeights']);
    });

    it('a traffic-only failback never moves the database', () => {
      let i = start();
      i = execute(i, plan(i), T0 + 15 * SEC);
      i = execute(observedAt(i, T0 + 60 * SEC), plan(observedAt(i, T0 + 60 * SEC)), T0 + 60 * SEC);
      i = finishPromotion(i, 'orders-usw2');
      const reseeded = replicaDb({
        id: 'orders',
        region: 'us-east-1',
        endpoint: PRIMARY_ENDPOINT,
        replicaSourceId: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2',
      });
      const home = observedAt(
        {
          ...i,
          health: health(),
          cloud: { ...i.cloud, databases: [reseeded, i.cloud.databases.find((d) => d.id === 'orders-usw2')!] },
          requests: { failback: { requestedAt: T0 + 100 * MIN } },
        },
        T0 + 2 * 60 * MIN,
      );
      const p = plan(home);
      expect(kinds(p)).not.toContain('SetWriterRecord');
      expect(kinds(p)).not.toContain('PromoteReplica');
      expect(p.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
    });
  });

  describe('never promotes twice', () => {
    function fencedAndPromoted(state: 'Done' | 'Pending' | 'Failed', status: string): PlanInput {
      let i = start();
      i = execute(i, plan(i), T0 + 15 * SEC);
      i = { ...i, now: T0 + 60 * SEC };
      const p = plan(i);
      expect(kinds(p)).toEqual(['PromoteReplica']);
      const promote = p.actions[0]!;
      return {
        ...i,
        failover: p.failover!, // saved before the call (policy-engine.ts)
        now: T0 + 90 * SEC,
        journal: [...i.journal, entry(promote, state, T0 + 60 * SEC)],
        cloud: { ...i.cloud, databases: [primaryDb(), replicaDb({ status })] },
      };
    }

    it.each([
      ['Done, status not yet changed', 'Done' as const, 'available'],
      ['Done, modifying', 'Done' as const, 'modifying'],
      ['Pending, rebooting (it was sent)', 'Pending' as const, 'rebooting'],
    ])('%s: no second PromoteReplica', (_name, state, status) => {
      const p = plan(fencedAndPromoted(state, status));
      expect(kinds(p)).not.toContain('PromoteReplica');
      expect(gateKinds(p)).toEqual(['DatabaseBusy']);
    });

    it.each([
      ['Pending (the save of Done was lost)', 'Pending' as const],
      ['Failed (a client timeout)', 'Failed' as const],
    ])('%s, replica untouched: counts as sent until the grace window disproves it', (_name, state) => {
      const i = fencedAndPromoted(state, 'available');
      const within = plan({ ...i, now: T0 + 60 * SEC + PROMOTION_GRACE_MS - 1 });
      expect(kinds(within)).toEqual([]);
      expect(within.gates[0]?.message).toContain('counts as sent');
      const after = plan(observedAt(i, T0 + 60 * SEC + PROMOTION_GRACE_MS));
      expect(after.actions.map((a) => a.id)).toEqual([`failover/${EPOCH}/promote/orders-usw2/2`]);
      expect(after.failover?.promotion?.attempts).toBe(2);
    });

    it('recorded as due but never journaled (stopped between the save and the call): sent once, same id', () => {
      const i = fencedAndPromoted('Pending', 'available');
      const p = plan({ ...i, journal: i.journal.filter((e) => !e.id.includes('/promote/')) });
      expect(p.actions.map((a) => a.id)).toEqual([`failover/${EPOCH}/promote/orders-usw2`]);
    });

    it('the journal trimmed of every failover entry does not undo the failover', () => {
      const i = fencedAndPromoted('Done', 'modifying');
      const trimmed = plan({ ...i, journal: [], now: T0 + 3 * MIN });
      expect(kinds(trimmed)).toEqual([]);
      expect(trimmed.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
      const settled = plan(finishPromotion({ ...i, journal: [], now: T0 + 5 * MIN }, 'orders-usw2'));
      expect(settled).toMatchObject({ phase: 'FailedOver', actions: [] });
      expect(settled.failover?.phase).toBe('Settled');
      const later = plan({
        ...finishPromotion(i, 'orders-usw2'),
        failover: settled.failover!,
        journal: [],
        now: T0 + 9 * MIN,
      });
      expect(later.desiredWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
      expect(kinds(later)).not.toContain('SetWriterRecord');
    });
  });

  it('abandons an automatic failover when the region recovers before promotion', () => {
    let i = start();
    i = execute(i, plan(i), T0 + 15 * SEC);
    i = { ...i, health: health(), now: T0 + 20 * SEC };
    const p = plan(i);
    // The writer goes back at once; the standby record drains (urgent); the recovered zones wait for the cooldown.
    expect(p.actions.map((a) => [a.id, a.action])).toEqual([
      [`failover/${EPOCH}/abort-writer/orders`, { kind: 'SetWriterRecord', value: PRIMARY_ENDPOINT }],
      [expect.stringMatching(/^weights\//), { kind: 'SetWeights', weights: ZONE_C_ONLY }],
    ]);
    i = execute(i, p, T0 + 25 * SEC);
    const held = plan({ ...i, now: T0 + 30 * SEC });
    expect(held).toMatchObject({ phase: 'Recovering', actions: [], desiredWriter: { region: 'us-east-1' } });
    expect(gateKinds(held)).toEqual(['RecoveryWindow']);
    const back = plan({ ...i, now: T0 + 25 * SEC + 5 * MIN });
    expect(back.actions.map((a) => a.action)).toEqual([{ kind: 'SetWeights', weights: NORMAL_WEIGHTS }]);
  });

  it('vantage points: a vantage alone mid-failover holds it instead of abandoning it (#14)', () => {
    let i = start();
    i = execute(i, plan(i), T0 + 15 * SEC);
    // The region looks no longer Impaired only because this vantage lost sight of its peers (capped at Degraded).
    const degraded = health({ 'us-east-1a': 'Impaired' });
    i = { ...i, health: degraded, now: T0 + 20 * SEC, requests: { ...i.requests, vantageAlone: 'only 1 of 3 fresh' } };
    const p = plan(i);
    expect(p.actions.map((a) => a.id)).not.toContain(`failover/${EPOCH}/abort-writer/orders`);
    expect(p.failover?.phase).not.toBe('Aborted');
    // The same health agreed by a quorum (the region really is no longer Impaired): abandoned, as before.
    const { vantageAlone: _alone, ...requests } = i.requests;
    const agreed = plan({ ...i, requests });
    expect(agreed.actions.map((a) => a.id)).toContain(`failover/${EPOCH}/abort-writer/orders`);
  });

  describe('database failback (PB-10)', () => {
    /** Failed over to us-west-2; us-east-1 recovered and its zones got their traffic back (PB-10). */
    function failedOver(): PlanInput {
      let i = start();
      i = execute(i, plan(i), T0 + 15 * SEC);
      i = { ...i, now: T0 + 60 * SEC };
      i = execute(i, plan(i), T0 + 60 * SEC);
      i = finishPromotion(i, 'orders-usw2');
      i = observedAt({ ...i, health: health() }, T0 + 2 * 60 * MIN);
      const trafficBack = plan(i);
      expect(kinds(trafficBack)).toEqual(['SetWeights']);
      return execute(i, trafficBack, i.now);
    }
    const reseeded = replicaDb({
      id: 'orders',
      region: 'us-east-1',
      zone: 'us-east-1b',
      endpoint: PRIMARY_ENDPOINT,
      replicaSourceId: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2',
      lagSeconds: 2,
      lagAt: T0 + 2 * 60 * MIN,
    });

    it('does not happen without a request', () => {
      const p = plan(failedOver());
      expect(p).toMatchObject({ phase: 'FailedOver', actions: [], gates: [] });
      expect(p.desiredWeights).toEqual({ 'use1-a': 75, 'use1-b': 75, 'use1-c': 75, usw2: 75 });
    });

    it('is refused while the old primary is still a writable primary', () => {
      const p = plan({
        ...failedOver(),
        requests: { failback: { requestedAt: T0 + 100 * MIN, includeDatabase: true } },
      });
      expect(kinds(p)).toEqual([]);
      expect(gateKinds(p)).toEqual(['MultiplePrimaries']);
    });

    it('on request, fails over back home with the same two phases once the old region has a replica', () => {
      const base = failedOver();
      const usw2 = base.cloud.databases.find((d) => d.id === 'orders-usw2')!;
      let i: PlanInput = {
        ...base,
        cloud: { ...base.cloud, databases: [reseeded, usw2] },
        requests: { failback: { requestedAt: Date.parse('2026-11-23T11:40:00Z'), includeDatabase: true } },
      };
      const p1 = plan(i);
      expect(p1.phase).toBe('Recovering');
      expect(p1.actions.map((a) => [a.id, a.action])).toEqual([
        [
          'failover/failback-20261123T114000Z/fence-writer/orders-usw2/orders',
          { kind: 'SetWriterRecord', value: PRIMARY_ENDPOINT },
        ],
        [
          'failover/failback-20261123T114000Z/fence-weights/orders-usw2/orders',
          { kind: 'SetWeights', weights: NORMAL_WEIGHTS },
        ],
      ]);
      i = execute(i, p1, i.now);
      i = { ...i, now: i.now + MIN };
      const p2 = plan(i);
      expect(p2.actions.map((a) => a.action)).toMatchObject([
        {
          kind: 'PromoteReplica',
          region: 'us-east-1',
          dbInstanceIdentifier: 'orders',
          backupRetentionPeriod: 7,
          from: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
        },
      ]);
      i = finishPromotion(execute(i, p2, i.now), 'orders');
      expect(plan(i)).toMatchObject({ phase: 'Healthy', actions: [], gates: [], desiredWeights: NORMAL_WEIGHTS });
    });

    it('a request older than the last failover is stale and starts nothing', () => {
      const i = failedOver();
      const stale = plan({
        ...i,
        requests: { failoverTo: { region: 'us-east-1', force: true, requestedAt: T0 - MIN } },
      });
      expect(stale).toMatchObject({ phase: 'FailedOver', actions: [], gates: [] });
    });

    it('a second failover months later gets its own epoch and ids', () => {
      const base = failedOver();
      const usw2 = base.cloud.databases.find((d) => d.id === 'orders-usw2')!;
      let i: PlanInput = {
        ...base,
        cloud: { ...base.cloud, databases: [reseeded, usw2] },
        requests: { failback: { requestedAt: T0 + 100 * MIN, includeDatabase: true } },
      };
      i = execute(i, plan(i), i.now);
      i = { ...i, now: i.now + MIN };
      i = finishPromotion(execute(i, plan(i), i.now), 'orders');
      // Months later: us-east-1 fails again; orders-usw2 is again a replica of orders.
      const later = Date.parse('2027-03-01T00:00:00Z');
      const freshReplica = replicaDb({ lagAt: later + 10 * SEC });
      const again: PlanInput = {
        ...i,
        requests: {},
        now: later + 10 * SEC,
        health: health(REGION_DOWN, { since: later }),
        cloud: {
          ...i.cloud,
          databases: [i.cloud.databases.find((d) => d.id === 'orders')!, freshReplica],
        },
      };
      const p = plan(again);
      expect(p.actions.map((a) => a.id)).toEqual([
        'failover/auto-20270301T000000Z/fence-writer/orders/orders-usw2',
        'failover/auto-20270301T000000Z/fence-weights/orders/orders-usw2',
      ]);
    });
  });
});

describe('plan: region failover and zone traffic (PB-5, PB-7, PB-10)', () => {
  const WRITER_USW2 = { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' };
  const weightOf = (p: Plan, id: string) => weightsOf(p)?.[id] ?? p.desiredWeights[id] ?? 0;

  /** The failover walked to its end: fenced at +15 s, promoted at +60 s, promotion finished. */
  function failedOverWith(zones: Record<string, ZoneState>, now: number): PlanInput {
    let i = input({ health: health(REGION_DOWN), now: T0 + 10 * SEC });
    i = execute(i, plan(i), T0 + 15 * SEC);
    i = { ...i, now: T0 + 60 * SEC };
    i = execute(i, plan(i), T0 + 60 * SEC);
    i = finishPromotion(i, 'orders-usw2');
    return { ...i, health: health(zones, { since: T0 }), now };
  }

  describe('a healthy zone of the impaired region keeps serving in every phase', () => {
    const phases: Array<[string, () => PlanInput]> = [
      ['fence (phase 1)', () => input({ health: health(REGION_DOWN), now: T0 + 10 * SEC })],
      [
        'waiting for the writer TTL',
        () => {
          const i = input({ health: health(REGION_DOWN), now: T0 + 10 * SEC });
          return { ...execute(i, plan(i), T0 + 15 * SEC), now: T0 + 20 * SEC };
        },
      ],
      [
        'promotion (phase 2)',
        () => {
          const i = input({ health: health(REGION_DOWN), now: T0 + 10 * SEC });
          return { ...execute(i, plan(i), T0 + 15 * SEC), now: T0 + 60 * SEC };
        },
      ],
      ['failed over, region still impaired', () => failedOverWith(REGION_DOWN, T0 + 30 * MIN)],
    ];
    it.each(phases)('%s: use1-c serves, the impaired zones do not, the writer is off the old primary', (_n, make) => {
      const p = plan(make());
      expect(weightOf(p, 'use1-c')).toBeGreaterThan(0);
      expect(weightOf(p, 'usw2')).toBeGreaterThan(0);
      expect(weightOf(p, 'use1-a')).toBe(0);
      expect(weightOf(p, 'use1-b')).toBe(0);
      expect(p.desiredWriter).toEqual(WRITER_USW2);
      for (const a of p.actions) if (a.action.kind === 'SetWriterRecord') expect(a.action.value).toBe(REPLICA_ENDPOINT);
    });
  });

  // The health layer holds a zone Degraded until it has been good for recoveryThreshold rounds; the planner then
  // holds its traffic for the cooldown after the last weight change (the fence at +15 s, PB-9), then returns it.
  it.each<[string, Record<string, ZoneState>, number, Record<string, number>, string[]]>([
    [
      'still inside its recovery window (health: Degraded)',
      { 'us-east-1a': 'Impaired', 'us-east-1b': 'Degraded' },
      T0 + 30 * MIN,
      SPLIT,
      [],
    ],
    [
      'Healthy, within the cooldown after the fence',
      { 'us-east-1a': 'Impaired' },
      T0 + 3 * MIN,
      SPLIT,
      ['RecoveryWindow'],
    ],
    [
      'Healthy, after the cooldown',
      { 'us-east-1a': 'Impaired' },
      T0 + 15 * SEC + 5 * MIN,
      { 'use1-a': 0, 'use1-b': 100, 'use1-c': 100, usw2: 100 },
      [],
    ],
  ])(
    'a recovering zone of the impaired region, %s; the writer stays in us-west-2',
    (_n, zones, now, weights, gates) => {
      const p = plan(failedOverWith(zones, now));
      expect(p.desiredWeights).toEqual(weights);
      expect(gateKinds(p)).toEqual(gates);
      expect(p.phase).toBe('FailedOver');
      expect(p.desiredWriter).toEqual(WRITER_USW2);
      const returning = weights['use1-b'] !== 0;
      expect(p.actions.map((a) => [a.rule, a.action.kind])).toEqual(returning ? [['PB-10', 'SetWeights']] : []);
    },
  );

  it.each<[string, Array<{ setIdentifier: string; zone?: string; region?: string; weight: number }>, object]>([
    ['a region record of the standby region', DEFAULT_RECORDS, SPLIT],
    [
      'zone records of the standby region',
      [
        ...DEFAULT_RECORDS.slice(0, 3),
        { setIdentifier: 'usw2-a', zone: 'us-west-2a', weight: 0 },
        { setIdentifier: 'usw2-b', zone: 'us-west-2b', weight: 0 },
      ],
      { 'use1-a': 0, 'use1-b': 0, 'use1-c': 100, 'usw2-a': 100, 'usw2-b': 100 },
    ],
    [
      'region records only: the impaired region record drains',
      [
        { setIdentifier: 'use1', region: 'us-east-1', weight: 100 },
        { setIdentifier: 'usw2', region: 'us-west-2', weight: 0 },
      ],
      { use1: 0, usw2: 100 },
    ],
  ])('the standby gets weight at fence time: %s', (_n, records, expected) => {
    const current = Object.fromEntries(records.map((r) => [r.setIdentifier, r.weight]));
    const p = plan(
      input({ policyOptions: { records }, health: health(REGION_DOWN), cloud: cloud({ weights: current }), now: T0 }),
    );
    expect(p.actions.map((a) => [a.id, a.action.kind])).toEqual([
      [`failover/${EPOCH}/fence-writer/orders/orders-usw2`, 'SetWriterRecord'],
      [`failover/${EPOCH}/fence-weights/orders/orders-usw2`, 'SetWeights'],
    ]);
    expect(weightsOf(p)).toEqual(expected);
  });

  it('every zone of the impaired region down: the standby region takes all the traffic', () => {
    const p = plan(input({ health: health({ ...REGION_DOWN, 'us-east-1c': 'Degraded' }), now: T0 }));
    expect(weightsOf(p)).toEqual({ 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 255 });
  });
});

describe('plan: policies without a writer record or without a database', () => {
  it('without a writer record, the fence is the weight change alone and the promotion follows it', () => {
    let i = input({ policyOptions: { writerRecord: false }, health: health(REGION_DOWN), now: T0 + 10 * SEC });
    i = { ...i, cloud: { ...i.cloud, writer: undefined } };
    const p1 = plan(i);
    expect(p1.actions.map((a) => a.id)).toEqual([`failover/${EPOCH}/fence-weights/orders/orders-usw2`]);
    i = execute(i, p1, T0 + 15 * SEC);
    expect(kinds(plan({ ...i, now: T0 + 20 * SEC }))).toEqual(['PromoteReplica']);
  });

  it('without a database, traffic alone follows zone and region health', () => {
    const down = { ...REGION_DOWN, 'us-east-1c': 'Degraded' } as const;
    const p = plan(
      input({ policyOptions: { database: false }, health: health(down), cloud: cloud({ databases: [] }) }),
    );
    expect(weightsOf(p)).toEqual({ 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 255 });
    expect(p.phase).toBe('Degraded');
    expect(p.desiredWriter).toBeUndefined();
  });
});

describe('plan: compute and PB-3', () => {
  it('vantage points: capacity left to another member is skipped, naming it; traffic still moves (#14)', () => {
    const base = input({
      policyOptions: { compute: { minHealthyInstances: 6 } },
      health: health({ 'us-east-1a': 'Impaired' }),
      cloud: cloud({
        instances: [
          { region: 'us-east-1', zone: 'us-east-1a', healthy: 0, unhealthyIds: ['i-2', 'i-1'] },
          { region: 'us-east-1', zone: 'us-east-1b', healthy: 2 },
          { region: 'us-east-1', zone: 'us-east-1c', healthy: 2 },
        ],
      }),
    });
    const p = plan({ ...base, requests: { ...base.requests, capacityLeftTo: 'use1' } });
    expect(kinds(p)).toEqual(['SetWeights']);
    const left = p.skipped.filter((s) => s.reason.includes('to vantage use1'));
    expect(left.map((s) => [s.kind, s.zone])).toEqual([
      ['LaunchReplacements', 'us-east-1b'],
      ['LaunchReplacements', 'us-east-1c'],
    ]);
    // The PB-3 refusals in the impaired zone are still reported as such.
    expect(p.skipped.filter((s) => s.rule === 'PB-3').length).toBeGreaterThan(0);
  });

  it('launches replacements only in healthy zones and records skipped in-place recovery', () => {
    const p = plan(
      input({
        policyOptions: { compute: { minHealthyInstances: 6 } },
        health: health({ 'us-east-1a': 'Impaired' }),
        cloud: cloud({
          instances: [
            { region: 'us-east-1', zone: 'us-east-1a', healthy: 0, unhealthyIds: ['i-2', 'i-1'] },
            { region: 'us-east-1', zone: 'us-east-1b', healthy: 2 },
            { region: 'us-east-1', zone: 'us-east-1c', healthy: 2 },
          ],
        }),
      }),
    );
    expect(kinds(p)).toEqual(['SetWeights', 'LaunchReplacements', 'LaunchReplacements']);
    expect(p.actions.filter((a) => a.zone !== undefined).map((a) => a.zone)).toEqual(['us-east-1b', 'us-east-1c']);
    expect(p.skipped).toEqual([
      {
        kind: 'RebootDBInstance',
        target: 'orders',
        zone: 'us-east-1a',
        region: 'us-east-1',
        rule: 'PB-3',
        reason: 'PB-3 skipped RebootDBInstance on orders: zone us-east-1a impaired',
      },
      {
        kind: 'RebootInstances',
        target: '2 instances in us-east-1a',
        zone: 'us-east-1a',
        region: 'us-east-1',
        rule: 'PB-3',
        reason: 'PB-3 skipped RebootInstances on 2 instances in us-east-1a: zone us-east-1a impaired',
      },
    ]);
  });

  it('does not repeat a launch already Done for this impairment', () => {
    const i = input({
      policyOptions: { compute: { minHealthyInstances: 6 } },
      health: health({ 'us-east-1a': 'Impaired' }),
      cloud: cloud({ instances: [{ region: 'us-east-1', zone: 'us-east-1b', healthy: 2 }] }),
    });
    const first = plan(i);
    const next = execute(i, first, T0 + SEC);
    expect(kinds(plan({ ...next, now: T0 + MIN }))).toEqual([]);
  });
});
