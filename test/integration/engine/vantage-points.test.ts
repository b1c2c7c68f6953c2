// Vantage points (issue #14) end to end: three real operator processes, one per "cluster" of the test bed (kube-
// apiservers a, b, c), each a vantage point (FO_VANTAGE use1 / usw2 / euw1) whose AWS calls and probes go through its
// own fault-proxy route, all sharing moto, CloudWatch verdicts and the DynamoDB promotion lock. The same database
// policy (us-east-1 primary, us-west-2 replica, automatic promotion) is applied in each cluster with
// spec.vantagePoints { members: [use1, usw2, euw1] } (quorum: the default majority, 2).
//
// - Partition: use1 alone cannot reach us-east-1's endpoints (its probe forwards are reset) and, on its route alone,
//   RDS reports the primary failed — so use1's OWN evidence is complete for a drain and a promotion. usw2 and euw1 see
//   all healthy. Agreement (2nd worst of Impaired, Healthy, Healthy = Healthy) holds everyone back: no weight or
//   writer change, no PromoteReadReplica, over more than a staleness bound; use1 reports the disagreement in
//   status.vantages and a VantageDisagreement Event.
// - The vantage in the failing region dies: use1 is SIGKILLed, then us-east-1 fails for everyone (both zones' endpoints
//   answer 503, RDS reports the primary failed). usw2 and euw1 agree (2 of 3, use1's last verdict Healthy or stale),
//   drain us-east-1, and exactly one PromoteReadReplica reaches the proxy; both report the replica as the writer.
//
// The race of many policies failing over at once is test/integration/engine/vantage-race.test.ts.

import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FailoverPolicyStatus } from '../../../src/api/index.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  eventually,
  motoRecordValue,
  motoWeights,
  type OperatorProcess,
  operatorProcessSuite,
  ProxyCallRecorder,
  sleep,
} from '../support/operator-fixture.ts';
import {
  agreesWithAll,
  COUNTER_TIMES,
  createService,
  createVantagePolicies,
  ensureLockTable,
  eventsOf,
  fullStatusOf,
  PRIMARY_FAILED,
  promotedViewOf,
  recordDrainMaxima,
  ruleRemaining,
  startVantages,
  VANTAGES,
  type VantageService,
} from '../support/vantage-fixture.ts';

const suite = operatorProcessSuite({ clusters: ['a', 'b', 'c'] });
const MEMBERS = VANTAGES.map((v) => v.name);
const kcOf = (vantage: string): KubeConfig => suite.kcOf(VANTAGES.find((v) => v.name === vantage)?.cluster ?? 'none');

beforeAll(async () => {
  await ensureLockTable();
}, 60_000);

/** Waits for `check` on the status of one vantage's copy of the policy; the operator's log tail on failure. */
async function waitStatus(
  ns: string,
  vantage: string,
  service: VantageService,
  op: OperatorProcess | undefined,
  what: string,
  check: (s: FailoverPolicyStatus) => boolean,
  timeoutMs = 30_000,
): Promise<FailoverPolicyStatus> {
  let last: FailoverPolicyStatus | undefined;
  return eventually(
    `${vantage}: ${what}`,
    async () => {
      last = await fullStatusOf(kcOf(vantage), ns, service.name);
      return check(last) ? last : undefined;
    },
    timeoutMs,
  ).catch((err) => {
    throw new Error(`${err}\nstatus: ${JSON.stringify(last)}\noperator log:\n${op?.tail(40) ?? ''}`);
  });
}

/** A zero-latency rule on PromoteReadReplica: counts every call at the proxy, whatever the log keeps. */
async function countPromotions(): Promise<() => Promise<number>> {
  const id = await testbed().faults.add({
    service: 'rds',
    action: 'PromoteReadReplica',
    latencyMs: 0,
    times: COUNTER_TIMES,
  });
  return async () => COUNTER_TIMES - (await ruleRemaining(id));
}

describe('vantage points in three clusters', () => {
  it('partition: use1 cannot reach us-east-1, usw2 and euw1 can — no drain, no promotion, use1 reports it', async () => {
    const tb = testbed();
    const ns = await createNamespace(
      VANTAGES.map((v) => suite.kcOf(v.cluster)),
      'vantage-partition',
    );
    const service = await createService(suite, 'orders', ns.slice(-6));
    await createVantagePolicies(suite, ns, service, VANTAGES, { members: MEMBERS });
    const started = Date.now();
    const ops = startVantages(suite, ns, VANTAGES);
    for (const v of VANTAGES) {
      await waitStatus(ns, v.name, service, ops.get(v.name), 'agreement with every member, all Healthy', (s) =>
        agreesWithAll(s, 3),
      );
    }
    const agreedAfterMs = Date.now() - started;

    // Writes from here on: every weight/writer change on the zone and every promotion.
    const writes = new ProxyCallRecorder(
      (e) =>
        (e.action === 'ChangeResourceRecordSets' && (e.path ?? '').includes(service.zoneId)) ||
        e.action === 'PromoteReadReplica',
    ).start(100);
    const promotions = await countPromotions();

    // ── use1's path to us-east-1 breaks; on its route alone RDS also reports the primary failed.
    const partitionAt = Date.now();
    await tb.faults.add({ route: 'a', service: 'probe', path: '/us-east-1', reset: true });
    await tb.faults.add({ ...PRIMARY_FAILED, route: 'a' });

    const disagreeing = await waitStatus(
      ns,
      'use1',
      service,
      ops.get('use1'),
      'a disagreement on both us-east-1 zones and the region',
      (s) =>
        ['us-east-1a', 'us-east-1b', 'us-east-1'].every((name) =>
          (s.vantages?.disagreements ?? []).some(
            (d) => d.name === name && d.local === 'Impaired' && d.agreed === 'Healthy',
          ),
        ),
    );
    expect(disagreeing.vantages).toMatchObject({ self: 'use1', region: 'us-east-1', quorum: 2, agreement: 'Reached' });
    expect(disagreeing.vantages?.disagreements).toContainEqual({
      scope: 'zone',
      name: 'us-east-1a',
      region: 'us-east-1',
      local: 'Impaired',
      agreed: 'Healthy',
      reporting: ['use1'],
    });
    // status.zones are the states use1 acts on (agreed), each saying what use1 itself sees; so is its phase.
    const use1Zones = disagreeing.zones?.filter((z) => z.region === 'us-east-1') ?? [];
    expect(use1Zones.map((z) => z.state)).toEqual(['Healthy', 'Healthy']);
    for (const z of use1Zones)
      expect(z.reasons?.[0]).toMatch(/^vantage agreement: Healthy .*this vantage sees Impaired/);
    expect(disagreeing.phase).toBe('Healthy');
    // One Event per zone or region once its disagreement is confirmed: a peer published "Healthy" at least 20 s after
    // use1's own state began (DISAGREEMENT_GRACE_MS), so up to about two heartbeats and a read after the status shows it.
    const events = await eventually(
      'VantageDisagreement Events for both zones in cluster a',
      async () => {
        const found = (await eventsOf(kcOf('use1'), ns, service.name)).filter(
          (e) => e.reason === 'VantageDisagreement',
        );
        return ['us-east-1a', 'us-east-1b'].every((z) => found.some((e) => e.message?.includes(`zone ${z} `)))
          ? found
          : undefined;
      },
      60_000,
    );
    for (const e of events) {
      expect(e.type).toBe('Warning');
      expect(e.message).toMatch(
        /^vantage use1 sees (zone us-east-1[ab]|region us-east-1) (Degraded|Impaired), but the members agree on Healthy \(use1=\w+, usw2=Healthy, euw1=Healthy\): not acting on its own view/,
      );
    }
    // usw2 and euw1 have nothing to report.
    for (const name of ['usw2', 'euw1']) {
      const reasons = (await eventsOf(kcOf(name), ns, service.name)).map((e) => e.reason);
      expect(reasons, name).not.toContain('VantageDisagreement');
    }

    // ── Hold for more than a staleness bound (15 s) plus a heartbeat: still nothing moves anywhere.
    await sleep(27_000);
    await writes.stop();
    expect(writes.calls.map((e) => `${e.route} ${e.action} ${e.path}`)).toEqual([]);
    expect(await promotions()).toBe(0);
    expect(await motoWeights(suite.r53, service.zoneId)).toEqual({ 'use1-a': 100, 'use1-b': 100, usw2: 0 });
    // Nor through the data plane: no vantage published a drain verdict for any record.
    const drains = await recordDrainMaxima(`${ns}/${service.name}`, ['use1-a', 'use1-b', 'usw2']);
    expect(Object.values(drains).filter((v) => v > 0)).toEqual([]);
    expect((await motoRecordValue(suite.r53, service.zoneId, service.writer, 'CNAME'))?.value).toBe(
      service.db.primary.endpoint,
    );
    for (const v of VANTAGES) {
      const s = await fullStatusOf(kcOf(v.name), ns, service.name);
      expect(s.failover, v.name).toBeUndefined();
      expect(s.activeWriter, v.name).toEqual({ region: 'us-east-1', dbInstanceIdentifier: service.db.primary.id });
      expect(s.vantages?.agreement, v.name).toBe('Reached');
      expect(s.weights, v.name).toEqual({ 'use1-a': 100, 'use1-b': 100, usw2: 0 });
      if (v.name !== 'use1') expect(s.vantages?.disagreements, v.name).toBeUndefined();
    }
    // Nobody fell back to acting alone after start-up (at most once each, before its peers' first verdicts arrived).
    for (const v of VANTAGES) {
      const alone = (await eventsOf(kcOf(v.name), ns, service.name)).filter((e) => e.reason === 'ActingAlone');
      expect(
        alone.reduce((n, e) => n + (e.count ?? 1), 0),
        v.name,
      ).toBeLessThanOrEqual(1);
      expect(new Date(alone[0]?.lastTimestamp ?? alone[0]?.eventTime ?? 0).getTime(), v.name).toBeLessThan(partitionAt);
    }
    const use1 = await fullStatusOf(kcOf('use1'), ns, service.name);
    expect(use1.vantages?.members.find((m) => m.name === 'use1')?.impaired).toEqual(
      expect.arrayContaining(['us-east-1', 'us-east-1a', 'us-east-1b']),
    );
    // The partition was real: use1's probes of us-east-1 were reset at the proxy, the others' went through.
    const log = await tb.faults.log();
    expect(log.some((e) => e.route === 'a' && e.service === 'probe' && e.effect === 'reset')).toBe(true);
    expect(log.some((e) => e.route !== 'a' && e.service === 'probe' && e.effect === 'reset')).toBe(false);
    console.info(`partition: agreement reached ${agreedAfterMs} ms after start`);
  }, 120_000);

  it('use1, in the failing region, is killed; us-east-1 fails; usw2 and euw1 drain and promote exactly once', async () => {
    const tb = testbed();
    const ns = await createNamespace(
      VANTAGES.map((v) => suite.kcOf(v.cluster)),
      'vantage-killed',
    );
    const service = await createService(suite, 'orders', ns.slice(-6));
    await createVantagePolicies(suite, ns, service, VANTAGES, { members: MEMBERS });
    const ops = startVantages(suite, ns, VANTAGES, {
      onLine: (_v, line) => {
        // Real RDS's view of the promoted replica from the moment a promotion is answered.
        if (/^PB-\d+ performed .*started promotion of /.test(line.msg)) {
          void tb.faults.add(promotedViewOf(service.db));
        }
      },
    });
    for (const v of VANTAGES) {
      await waitStatus(ns, v.name, service, ops.get(v.name), 'agreement with every member, all Healthy', (s) =>
        agreesWithAll(s, 3),
      );
    }
    const promotions = await countPromotions();

    // ── use1 dies with its region: SIGKILL first, then us-east-1's endpoints and primary fail for everyone.
    const use1 = ops.get('use1');
    await use1?.kill('SIGKILL');
    expect(use1?.child.signalCode).toBe('SIGKILL');
    const failedAt = Date.now();
    suite.probes.answers.set('us-east-1a', 503);
    suite.probes.answers.set('us-east-1b', 503);
    await tb.faults.add(PRIMARY_FAILED);

    for (const name of ['usw2', 'euw1']) {
      await waitStatus(
        ns,
        name,
        service,
        ops.get(name),
        'us-east-1 Impaired by agreement and the replica the writer',
        (s) =>
          s.activeWriter?.dbInstanceIdentifier === service.db.replica.id &&
          (s.zones ?? []).filter((z) => z.region === 'us-east-1').every((z) => z.state === 'Impaired') &&
          s.vantages?.disagreements === undefined &&
          // The vantage that promoted ran the failover to its end; the other found the replica promoted.
          (s.failover === undefined || s.failover.phase === 'Settled'),
        60_000,
      );
    }
    const settledAfterMs = Date.now() - failedAt;
    await eventually('us-east-1 drained in moto', async () => {
      const w = await motoWeights(suite.r53, service.zoneId);
      return w['use1-a'] === 0 && w['use1-b'] === 0 && (w.usw2 ?? 0) > 0 ? w : undefined;
    });
    expect((await motoRecordValue(suite.r53, service.zoneId, service.writer, 'CNAME'))?.value).toBe(
      service.db.replica.endpoint,
    );
    expect(await promotions()).toBe(1);

    // use1's last verdict ages out; the two survivors still agree (2 fresh = quorum), neither acting alone.
    for (const name of ['usw2', 'euw1']) {
      const s = await waitStatus(ns, name, service, ops.get(name), 'use1 no longer fresh', (st) =>
        (st.vantages?.members ?? []).some((m) => m.name === 'use1' && !m.fresh),
      );
      expect(s.vantages?.agreement).toBe('Reached');
      expect(s.vantages?.members.filter((m) => m.fresh).map((m) => m.name)).toEqual(
        expect.arrayContaining(['usw2', 'euw1']),
      );
    }
    // A few more rounds with the region still down: no second promotion.
    await sleep(3_000);
    expect(await promotions()).toBe(1);
    // Who promoted is named in exactly one operator's log.
    const promoters = ['usw2', 'euw1'].filter((name) =>
      ops
        .get(name)
        ?.actionLines()
        .some((l) => /performed .*started promotion of /.test(l.msg)),
    );
    expect(promoters).toHaveLength(1);
    const settled = await fullStatusOf(kcOf(promoters[0] ?? ''), ns, service.name);
    expect(settled.failover).toMatchObject({
      phase: 'Settled',
      to: { region: 'us-west-2', dbInstanceIdentifier: service.db.replica.id },
    });
    console.info(`killed vantage: settled ${settledAfterMs} ms after us-east-1 failed; promoted by ${promoters[0]}`);
  }, 120_000);
});
