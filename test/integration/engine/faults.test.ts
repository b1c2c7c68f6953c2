// The executor's PB-8 guardrails end to end, with faults injected by the proxy between the operator (a child process)
// and moto: a drain survives throttling and a 503 through spaced-out retries; and one policy's hanging Route 53
// write does not hold up another policy's drain.
//
// The proxy matches calls by service/action/region only, not by hosted zone, so a hang cannot be scoped to one
// policy. The isolation test therefore uses a one-shot hang (times: 1): the first policy's ChangeResourceRecordSets
// takes it (checked by the hosted zone in the logged path) and stays hung until the SDK's 10 s request timeout,
// while the second policy's calls, made after the rule expired, pass through.

import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRE_WRITE_READ_JOIN_WITHIN_MS } from '../../../src/engine/engine-stack.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  motoWeights,
  operatorProcessSuite,
  policyBody,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

let kc: KubeConfig;
let r53: Route53Client;
const suite = operatorProcessSuite();
const { probes } = suite;

type ProxyLog = Awaited<ReturnType<ReturnType<typeof testbed>['faults']['log']>>;
const forZone = (log: ProxyLog, action: string, zoneId: string) =>
  log.filter((e) => e.action === action && (e as { path?: string }).path?.includes(zoneId) === true);

beforeAll(() => {
  ({ kc, r53 } = suite);
});

async function drained(zoneId: string, timeoutMs = 30_000): Promise<Record<string, number>> {
  return eventually(
    `use1-b drained in ${zoneId}`,
    async () => {
      const w = await motoWeights(r53, zoneId);
      return w['use1-b'] === 0 ? w : undefined;
    },
    timeoutMs,
  );
}

describe('AWS faults between the operator and Route 53', () => {
  it('completes a drain through Throttling and a 503, retrying with backoff', async () => {
    const tb = testbed();
    const ns = await createNamespace(kc, 'engine-faults');
    const record = 'api.throttle.test.';
    const zoneId = await createWeightedZone(r53, 'throttle.test.', record);
    await tb.faults.clear();
    const op = suite.start(ns, 'faults');
    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'web', { zoneId, recordName: record, probeUrl: `${probes.base}/t/{zone}` }),
    );
    await waitHealthy(kc, ns, 'web').catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    // The drain's read before its write is served by a listing that started within PRE_WRITE_READ_JOIN_WITHIN_MS
    // (the one the first reconcile made, with 1 s probes): let that pass, so the drain lists the zone itself and
    // meets the 503.
    await new Promise((resolve) => setTimeout(resolve, PRE_WRITE_READ_JOIN_WITHIN_MS + 250));

    await tb.faults.clear();
    await tb.faults.add({
      service: 'route53',
      action: 'ChangeResourceRecordSets',
      error: { status: 400, code: 'Throttling', message: 'Rate exceeded' },
      times: 2,
    });
    await tb.faults.add({
      service: 'route53',
      action: 'ListResourceRecordSets',
      error: { status: 503, code: 'ServiceUnavailable', message: 'try again' },
      times: 1,
    });
    probes.answers.set('t/us-east-1b', 503);

    const weights = await drained(zoneId).catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    expect(weights['use1-a']).toBeGreaterThan(0);

    const log = await tb.faults.log();
    const writes = forZone(log, 'ChangeResourceRecordSets', zoneId);
    expect(writes.map((e) => [e.status, e.effect])).toEqual([
      [400, 'error'],
      [400, 'error'],
      [200, 'pass'],
    ]);
    // Throttled retries wait (full jitter on a 1 s, then 2 s cap), not back to back.
    const times = writes.map((e) => Date.parse(e.at));
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(10);
    const reads = forZone(log, 'ListResourceRecordSets', zoneId);
    const failedRead = reads.findIndex((e) => e.status === 503);
    expect(failedRead).toBeGreaterThanOrEqual(0);
    expect(reads.slice(failedRead + 1).some((e) => e.status === 200)).toBe(true);

    // The retries stayed inside one action: one intent, Done.
    const status = await eventually('SetWeights Done', async () => {
      const s = await statusOf(kc, ns, 'web');
      return s.journal?.some((e) => e.action === 'SetWeights' && e.state === 'Done') ? s : undefined;
    });
    const entries = status.journal?.filter((e) => e.action === 'SetWeights') ?? [];
    expect(entries.map((e) => [e.state, e.attempts])).toEqual([['Done', 1]]);
  }, 90_000);

  it("does not hold one policy's drain behind another policy's hanging Route 53 write", async () => {
    const tb = testbed();
    const ns = await createNamespace(kc, 'engine-isolation');
    const slowZone = await createWeightedZone(r53, 'slow.test.', 'api.slow.test.');
    const fastZone = await createWeightedZone(r53, 'fast.test.', 'api.fast.test.');
    await tb.faults.clear();
    const op = suite.start(ns, 'isolation');
    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'slow', { zoneId: slowZone, recordName: 'api.slow.test.', probeUrl: `${probes.base}/s/{zone}` }),
    );
    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'fast', { zoneId: fastZone, recordName: 'api.fast.test.', probeUrl: `${probes.base}/f/{zone}` }),
    );
    await Promise.all([waitHealthy(kc, ns, 'slow'), waitHealthy(kc, ns, 'fast')]).catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });

    // The next weight change hangs (the SDK gives up after 10 s); the slow policy's drain takes it.
    await tb.faults.clear();
    await tb.faults.add({ service: 'route53', action: 'ChangeResourceRecordSets', hang: true, times: 1 });
    probes.answers.set('s/us-east-1b', 503);
    const hung = await eventually('the slow policy write hung in the proxy', async () =>
      forZone(await tb.faults.log(), 'ChangeResourceRecordSets', slowZone).find((e) => e.effect === 'hang'),
    );
    const hungAt = Date.parse(hung.at);

    // Now the fast policy's zone fails: its drain must land while the slow write is still hanging.
    probes.answers.set('f/us-east-1b', 503);
    await drained(fastZone, 9_000);
    const fastDoneAt = Date.now();
    expect(fastDoneAt - hungAt).toBeLessThan(10_000);
    expect((await motoWeights(r53, slowZone))['use1-b']).toBe(100);
    const slowJournal = (await statusOf(kc, ns, 'slow')).journal ?? [];
    expect(slowJournal.filter((e) => e.action === 'SetWeights').map((e) => e.state)).toEqual(['Pending']);

    // The slow policy recovers after its call times out and is retried.
    await drained(slowZone, 40_000);
    const slowWrites = forZone(await tb.faults.log(), 'ChangeResourceRecordSets', slowZone);
    expect(slowWrites.map((e) => e.effect)).toEqual(['hang', 'pass']);
    expect(Date.parse(slowWrites[1]!.at) - hungAt).toBeGreaterThanOrEqual(9_000);
    const fastWrites = forZone(await tb.faults.log(), 'ChangeResourceRecordSets', fastZone);
    expect(fastWrites.map((e) => [e.status, e.effect])).toEqual([[200, 'pass']]);
  }, 90_000);
});
