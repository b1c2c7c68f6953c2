// The database failover survives SIGKILL in every phase of its state machine (status.failover, issue 11), end to
// end: the operator as a real child process against the apiserver and moto behind the fault proxy, a primary in
// us-east-1 and a read replica in us-west-2 whose identifiers are 60 characters long, a Route 53 writer CNAME.
//
// One manual failover (`failoverctl failover --to us-west-2`) is walked through its phases by five processes; each
// is killed once the status says the failover reached the phase under test, with a fault holding it there:
//
//   Fencing               ChangeResourceRecordSets hangs: the writer fence is in flight, not applied
//   AwaitingPropagation   GetChange answers PENDING: the fence is applied but not known INSYNC
//   Promoting             PromoteReadReplica is held 8 s in the proxy: the process dies before the answer, the
//                         call still reaches moto (the "sent, answer lost" case a resend would double)
//   Repointing            DescribeDBInstances shows the replica promoted but `modifying`: the writer waits
//
// The next process must wait for the dead leader's Lease, then resume from status.failover. At the end the failover
// is Settled, the writer CNAME points at the replica, moto has the replica promoted, and across all five processes
// exactly one PromoteReadReplica reached moto.
//
// moto 5.2.5 keeps ReadReplicaSourceDBInstanceIdentifier after PromoteReadReplica (test/env/README.md), so once
// moto has answered the promotion the test scripts real RDS's post-promotion view with a rewrite rule.

import { randomBytes } from 'node:crypto';
import { StopDBInstanceCommand } from '@aws-sdk/client-rds';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailoverPhase, FailoverPolicyStatus } from '../../../src/api/index.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  clearFaultRules,
  countActionCalls,
  createPolicy,
  createRdsPair,
  createStandbyAndWriterRecords,
  createWeightedZone,
  databasePolicyBody,
  eventually,
  failoverctl,
  leaseHolder,
  motoRds,
  motoRecordValue,
  type OperatorProcess,
  operatorProcessSuite,
  PROMOTED_VIEW,
  ProxyCallRecorder,
  putReplicaLag,
  type RdsPair,
  sleep,
  statusOf,
} from '../support/operator-fixture.ts';

const DOMAIN = 'fo-crash.test.';
const RECORD = `api.${DOMAIN}`;
const WRITER = `db.${DOMAIN}`;
const WRITER_TTL = 1;
const POLICY = 'orders';

/** An RDS identifier of exactly `length` characters (letters, digits, single hyphens), unique per run. */
function longIdentifier(stem: string, length = 60): string {
  const id = `${stem}-${randomBytes(3).toString('hex')}-`.padEnd(length, 'x');
  if (id.length !== length) throw new Error(`stem too long for ${length} characters: ${stem}`);
  return id;
}

const suite = operatorProcessSuite();
let kc: KubeConfig;
let r53: Route53Client;
let ns: string;
let zoneId: string;
let db: RdsPair;
/** Every PromoteReadReplica through the proxy, kept across all processes (the proxy log is bounded). */
const promotes = new ProxyCallRecorder((e) => e.action === 'PromoteReadReplica');

beforeAll(async () => {
  ({ kc, r53 } = suite);
  ns = await createNamespace(kc, 'failover-crash');
  zoneId = await createWeightedZone(r53, DOMAIN, RECORD);
  db = await createRdsPair({
    primaryRegion: 'us-east-1',
    primaryId: longIdentifier('orders-primary-database-in-us-east-1'),
    replicaRegion: 'us-west-2',
    replicaId: longIdentifier('orders-replica-database-in-us-west-2'),
  });
  // The standby region's record (no traffic yet) and the writer CNAME at the primary, with a short TTL.
  await createStandbyAndWriterRecords(r53, {
    zoneId,
    recordName: RECORD,
    writerName: WRITER,
    writerValue: db.primary.endpoint,
    writerTtl: WRITER_TTL,
  });
  await putReplicaLag(db.replica.region, db.replica.id, 0);
  promotes.start();
}, 60_000);

afterAll(async () => {
  await promotes.stop();
});

const policyBody = () =>
  databasePolicyBody({
    ns,
    name: POLICY,
    zoneId,
    recordName: RECORD,
    writerName: WRITER,
    writerTtl: WRITER_TTL,
    probeBase: suite.probes.base,
    db,
    promotion: 'Automatic',
  });

const fullStatus = async (): Promise<FailoverPolicyStatus> => (await statusOf(kc, ns, POLICY)) as FailoverPolicyStatus;

/** Waits until status.failover is in `phase` and `also` holds; the operator's log tail on failure. */
async function waitPhase(
  op: OperatorProcess,
  phase: FailoverPhase,
  also: (s: FailoverPolicyStatus) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<FailoverPolicyStatus> {
  return eventually(
    `status.failover.phase ${phase}`,
    async () => {
      const s = await fullStatus();
      return s.failover?.phase === phase && also(s) ? s : undefined;
    },
    timeoutMs,
  ).catch(async (err) => {
    throw new Error(
      `${err}\nstatus.failover: ${JSON.stringify((await fullStatus()).failover)}\noperator log:\n${op.tail(40)}`,
    );
  });
}

/** SIGKILLs the leader; asserts it died by the signal. */
async function killLeader(op: OperatorProcess): Promise<void> {
  await op.kill('SIGKILL');
  expect(op.child.signalCode).toBe('SIGKILL');
}

/** Starts the next process and checks that it does not take over before the dead leader's Lease has expired. */
async function startSuccessor(podName: string, dead: OperatorProcess): Promise<OperatorProcess> {
  const deadIdentity = dead.identity();
  expect(deadIdentity).toBeDefined();
  const next = suite.start(ns, podName);
  await sleep(4_000);
  expect(await leaseHolder(kc, ns)).toBe(deadIdentity);
  return next;
}

describe('database failover killed in every phase', () => {
  it('finishes exactly once after SIGKILL in Fencing, AwaitingPropagation, Promoting and Repointing', async () => {
    const tb = testbed();
    const phasesSeen: Array<{ phase: FailoverPhase; by: string }> = [];

    // ── At rest: the first operator leads and the writer is the primary.
    const first = suite.start(ns, 'fo-crash-1');
    await createPolicy(kc, ns, policyBody());
    await eventually('the first operator leading and reporting the writer', async () => {
      const s = await fullStatus();
      return s.activeWriter?.dbInstanceIdentifier === db.primary.id && (await leaseHolder(kc, ns)) ? s : undefined;
    }).catch((err) => {
      throw new Error(`${err}\noperator log:\n${first.tail()}`);
    });
    expect((await fullStatus()).failover).toBeUndefined();

    // ── Fencing: every Route 53 write hangs, then a person asks for the failover.
    await tb.faults.add({ service: 'route53', action: 'ChangeResourceRecordSets', hang: true });
    const asked = await failoverctl(ns, 'failover', POLICY, '--to', 'us-west-2', '--reason', 'crash test', '--yes');
    expect(asked.stderr).toBe('');
    expect(asked.code).toBe(0);
    const fencing = await waitPhase(first, 'Fencing');
    expect(fencing.failover).toMatchObject({
      trigger: 'manual',
      from: { region: 'us-east-1', dbInstanceIdentifier: db.primary.id },
      to: { region: 'us-west-2', dbInstanceIdentifier: db.replica.id },
      fence: { previousValue: db.primary.endpoint, previousTtlSeconds: WRITER_TTL },
    });
    const epoch = fencing.failover?.epoch ?? '';
    await eventually('the fence write hung in the proxy', async () =>
      (await tb.faults.log()).find((e) => e.action === 'ChangeResourceRecordSets' && e.effect === 'hang'),
    );
    phasesSeen.push({ phase: 'Fencing', by: 'fo-crash-1' });
    await killLeader(first);
    expect((await motoRecordValue(r53, zoneId, WRITER, 'CNAME'))?.value).toBe(db.primary.endpoint);

    // ── AwaitingPropagation: the fence lands, but Route 53 never says INSYNC.
    await clearFaultRules();
    await tb.faults.add({
      service: 'route53',
      action: 'GetChange',
      rewrite: [{ find: '<Status>INSYNC</Status>', replace: '<Status>PENDING</Status>' }],
    });
    const second = await startSuccessor('fo-crash-2', first);
    const awaiting = await waitPhase(second, 'AwaitingPropagation', (s) => s.failover?.fence?.changeId !== undefined);
    expect(awaiting.failover?.epoch).toBe(epoch);
    expect(awaiting.failover?.fence?.inSyncAt).toBeUndefined();
    expect(awaiting.failover?.promotion).toBeUndefined();
    expect((await motoRecordValue(r53, zoneId, WRITER, 'CNAME'))?.value).toBe(db.replica.endpoint);
    phasesSeen.push({ phase: 'AwaitingPropagation', by: 'fo-crash-2' });
    await killLeader(second);
    expect(countActionCalls(promotes.calls, 'PromoteReadReplica')).toBe(0);

    // ── Promoting: INSYNC now; the promotion is held in the proxy long enough to kill the sender mid-call.
    await clearFaultRules();
    await tb.faults.add({ service: 'rds', action: 'PromoteReadReplica', latencyMs: 8_000 });
    const third = await startSuccessor('fo-crash-3', second);
    const promoting = await waitPhase(third, 'Promoting', (s) =>
      (s.journal ?? []).some((e) => e.action === 'PromoteReplica' && e.state === 'Pending'),
    );
    // Never promoted before the fence was INSYNC and the longer TTL plus the margin had passed.
    const inSyncAt = Date.parse(promoting.failover?.fence?.inSyncAt ?? '');
    const sentAt = Date.parse(promoting.failover?.promotion?.lastAttemptAt ?? '');
    expect(sentAt - inSyncAt).toBeGreaterThanOrEqual((WRITER_TTL + 5) * 1000);
    expect(promoting.failover?.promotion).toMatchObject({ attempts: 1, lagSeconds: 0 });
    await sleep(2_000); // the executor describes the replica, then sends; the proxy holds the call for 8 s
    phasesSeen.push({ phase: 'Promoting', by: 'fo-crash-3' });
    await killLeader(third);
    await clearFaultRules();
    // The held call reaches moto although its sender is dead: sent, answer lost.
    await eventually(
      'the promotion reaching moto after its sender died',
      async () => {
        await promotes.poll();
        return countActionCalls(promotes.calls, 'PromoteReadReplica', { status: 200 }) === 1 ? true : undefined;
      },
      15_000,
    );

    // ── Repointing: RDS shows the promotion (no source any more) but still `modifying`.
    await tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      region: db.replica.region,
      rewrite: [
        PROMOTED_VIEW,
        {
          find: '<DBInstanceStatus>available</DBInstanceStatus>',
          replace: '<DBInstanceStatus>modifying</DBInstanceStatus>',
        },
      ],
    });
    const fourth = await startSuccessor('fo-crash-4', third);
    const repointing = await waitPhase(fourth, 'Repointing');
    expect(repointing.failover?.promotion?.attempts).toBe(1);
    expect(repointing.failover?.promotedAt).toBeDefined();
    phasesSeen.push({ phase: 'Repointing', by: 'fo-crash-4' });
    await killLeader(fourth);

    // ── Settled: the replica is an available primary.
    await clearFaultRules();
    await tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      region: db.replica.region,
      rewrite: [PROMOTED_VIEW],
    });
    const fifth = await startSuccessor('fo-crash-5', fourth);
    const settled = await waitPhase(fifth, 'Settled');
    expect(settled.failover).toMatchObject({
      epoch,
      phase: 'Settled',
      to: { region: 'us-west-2', dbInstanceIdentifier: db.replica.id },
      promotion: { attempts: 1 },
    });
    expect(settled.failover?.finishedAt).toBeDefined();
    expect(phasesSeen.map((p) => p.phase)).toEqual(['Fencing', 'AwaitingPropagation', 'Promoting', 'Repointing']);

    // Give a wrongly re-planning operator a few reconcile rounds.
    await sleep(3_000);
    const final = await fullStatus();
    expect(final.failover?.phase).toBe('Settled');
    expect(final.activeWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: db.replica.id });
    expect((await motoRecordValue(r53, zoneId, WRITER, 'CNAME'))?.value).toBe(db.replica.endpoint);
    for (const entry of final.journal ?? []) expect(entry.id.length).toBeLessThanOrEqual(128);
    expect((final.journal ?? []).filter((e) => e.action === 'PromoteReplica')).toHaveLength(1);

    // Exactly one PromoteReadReplica reached moto across the five processes, and none other was even tried.
    await promotes.poll();
    expect(countActionCalls(promotes.calls, 'PromoteReadReplica', { region: 'us-west-2', status: 200 })).toBe(1);
    expect(countActionCalls(promotes.calls, 'PromoteReadReplica')).toBe(1);

    // moto has the replica promoted: it refuses StopDBInstance for a replica (the last operator is stopped first).
    await fifth.kill('SIGKILL');
    const west = motoRds(db.replica.region);
    try {
      await expect(
        west.send(new StopDBInstanceCommand({ DBInstanceIdentifier: db.replica.id })),
      ).resolves.toBeDefined();
    } finally {
      west.destroy();
    }
  }, 240_000);
});
