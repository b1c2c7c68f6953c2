// `failoverctl approve` unblocks a `promotion: Manual` database failover end to end (issue 11, "Human paths used
// mid-incident"): the operator as a child process against the apiserver and moto behind the fault proxy, the real
// failoverctl CLI as a child process.
//
// The region outage is real evidence, not a request: the endpoint probes of both us-east-1 zones answer 503 (hard
// down, the data plane) and RDS reports the primary `failed` (a fault-proxy rewrite of DescribeDBInstances in
// us-east-1, the database), so the planner wants the promotion, and with `promotion: Manual` it asks for it in
// status.pendingApproval with the REPLICA's id, fencing nothing. `failoverctl approve` copies that id into
// spec.manual.approvalId; the failover then runs, and exactly one PromoteReadReplica reaches moto.

import type { Route53Client } from '@aws-sdk/client-route-53';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FailoverPolicy, FailoverPolicyStatus } from '../../../src/api/index.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  countActionCalls,
  createPolicy,
  createRdsPair,
  createStandbyAndWriterRecords,
  createWeightedZone,
  databasePolicyBody,
  eventually,
  failoverctl,
  leaseHolder,
  motoRecordValue,
  operatorProcessSuite,
  PROMOTED_VIEW,
  ProxyCallRecorder,
  putReplicaLag,
  type RdsPair,
  sleep,
  statusOf,
} from '../support/operator-fixture.ts';

const DOMAIN = 'fo-approve.test.';
const RECORD = `api.${DOMAIN}`;
const WRITER = `db.${DOMAIN}`;
const POLICY = 'orders';

const suite = operatorProcessSuite();
let kc: KubeConfig;
let r53: Route53Client;
let ns: string;
let zoneId: string;
let db: RdsPair;
const promotes = new ProxyCallRecorder((e) => e.action === 'PromoteReadReplica');

beforeAll(async () => {
  ({ kc, r53 } = suite);
  ns = await createNamespace(kc, 'manual-approval');
  zoneId = await createWeightedZone(r53, DOMAIN, RECORD);
  const suffix = ns.slice(-6);
  db = await createRdsPair({
    primaryRegion: 'us-east-1',
    primaryId: `orders-${suffix}`,
    replicaRegion: 'us-west-2',
    replicaId: `orders-usw2-${suffix}`,
  });
  await createStandbyAndWriterRecords(r53, {
    zoneId,
    recordName: RECORD,
    writerName: WRITER,
    writerValue: db.primary.endpoint,
    writerTtl: 1,
  });
  await putReplicaLag(db.replica.region, db.replica.id, 0);
  promotes.start();
}, 60_000);

afterAll(async () => {
  await promotes.stop();
});

const fullStatus = async (): Promise<FailoverPolicyStatus> => (await statusOf(kc, ns, POLICY)) as FailoverPolicyStatus;

const policySpec = async () =>
  (
    (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: 'failover.io',
      version: 'v1alpha1',
      plural: 'failoverpolicies',
      namespace: ns,
      name: POLICY,
    })) as FailoverPolicy
  ).spec;

describe('failoverctl approve and a Manual promotion', () => {
  it('holds the promotion for a person, and `failoverctl approve` lets exactly one through', async () => {
    const tb = testbed();
    const op = suite.start(ns, 'fo-approve');
    let lastStatus: FailoverPolicyStatus | undefined;
    const withLog = (err: unknown): never => {
      throw new Error(`${err}\nstatus: ${JSON.stringify(lastStatus)}\noperator log:\n${op.tail(40)}`);
    };
    const waitStatus = (what: string, check: (s: FailoverPolicyStatus) => boolean, timeoutMs = 30_000) =>
      eventually(
        what,
        async () => {
          lastStatus = await fullStatus();
          return check(lastStatus) ? lastStatus : undefined;
        },
        timeoutMs,
      ).catch(withLog);

    await createPolicy(
      kc,
      ns,
      databasePolicyBody({
        ns,
        name: POLICY,
        zoneId,
        recordName: RECORD,
        writerName: WRITER,
        writerTtl: 1,
        probeBase: suite.probes.base,
        db,
        promotion: 'Manual',
        extraProbes: [{ name: 'database', scope: 'Region', rds: { instanceStatus: true, replicaLag: false } }],
      }),
    );
    await waitStatus(
      'the operator leading, every zone Healthy, the primary the writer',
      (s) =>
        s.activeWriter?.dbInstanceIdentifier === db.primary.id &&
        (s.zones ?? []).length === 4 &&
        (s.zones ?? []).every((z) => z.state === 'Healthy'),
    );
    expect(await leaseHolder(kc, ns)).toBe(op.identity());

    // Nothing to approve yet: the CLI says so and changes nothing.
    const early = await failoverctl(ns, 'approve', POLICY);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/nothing is pending approval/);
    expect((await policySpec()).manual).toBeUndefined();

    // ── us-east-1 goes down: both zones' endpoints hard-down, and RDS reports the primary failed.
    suite.probes.answers.set('us-east-1a', 503);
    suite.probes.answers.set('us-east-1b', 503);
    await tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      region: 'us-east-1',
      rewrite: [
        {
          find: '<DBInstanceStatus>available</DBInstanceStatus>',
          replace: '<DBInstanceStatus>failed</DBInstanceStatus>',
        },
      ],
    });
    const pending = await waitStatus(
      'a promotion waiting in status.pendingApproval',
      (s) => s.pendingApproval !== undefined,
    );
    // The id to approve is the replica's, the one the planner accepts.
    expect(pending.pendingApproval).toMatchObject({ id: db.replica.id, region: 'us-west-2' });

    // Held for a person: nothing fenced, nothing promoted, no failover started.
    await sleep(4_000);
    const held = await fullStatus();
    expect(held.pendingApproval?.id).toBe(db.replica.id);
    expect(held.failover).toBeUndefined();
    expect((await motoRecordValue(r53, zoneId, WRITER, 'CNAME'))?.value).toBe(db.primary.endpoint);
    await promotes.poll();
    expect(countActionCalls(promotes.calls, 'PromoteReadReplica')).toBe(0);

    // ── A person approves with the real CLI (no id given: the pending one).
    const approved = await failoverctl(ns, 'approve', POLICY);
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/Approve requested on FailoverPolicy/);
    expect((await policySpec()).manual).toMatchObject({ action: 'Approve', approvalId: db.replica.id });

    // The failover runs: fenced, promoted once.
    await waitStatus('the failover started by the approval', (s) => s.failover !== undefined);
    expect(lastStatus?.failover).toMatchObject({
      trigger: 'auto',
      from: { region: 'us-east-1', dbInstanceIdentifier: db.primary.id },
      to: { region: 'us-west-2', dbInstanceIdentifier: db.replica.id },
    });
    await eventually(
      'the promotion reaching moto',
      async () => {
        await promotes.poll();
        return countActionCalls(promotes.calls, 'PromoteReadReplica', { status: 200 }) > 0 ? true : undefined;
      },
      30_000,
    ).catch(withLog);
    // From here RDS shows the replica promoted (moto keeps its source; real RDS drops it).
    await tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      region: 'us-west-2',
      rewrite: [PROMOTED_VIEW],
    });

    const settled = await waitStatus('the failover Settled', (s) => s.failover?.phase === 'Settled');
    expect(settled.failover?.promotion?.attempts).toBe(1);
    expect((await motoRecordValue(r53, zoneId, WRITER, 'CNAME'))?.value).toBe(db.replica.endpoint);

    // A few more rounds with the region still down: no second promotion, nothing pending again.
    await sleep(3_000);
    const final = await fullStatus();
    expect(final.failover?.phase).toBe('Settled');
    // status.manual reports the approval used (the reconciler computed no pending approval any more).
    expect(final.manual).toMatchObject({ action: 'Approve', state: 'Completed' });
    expect(final.activeWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: db.replica.id });
    // …and nothing is offered for approval any more (the reconciler clears the field it no longer sets).
    expect(final.pendingApproval).toBeUndefined();
    await promotes.poll();
    expect(countActionCalls(promotes.calls, 'PromoteReadReplica', { region: 'us-west-2', status: 200 })).toBe(1);
    expect(countActionCalls(promotes.calls, 'PromoteReadReplica')).toBe(1);
  }, 120_000);
});
