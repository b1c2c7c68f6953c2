// Behaving well while the Route 53 control plane fails (PB-8), end to end: the operator as a child process against
// the apiserver and moto, with the fault proxy between them.
//
// 1. ChangeResourceRecordSets answers 500 while a zone is down. Counted at the proxy: the attempts stay inside the
//    policy's write budget in every minute and thin out as the backoff grows; the status says the drain is failing
//    (FailingOver ActionFailing, Ready False) and not that the zone was drained; once Route 53 answers, the drain
//    lands and FailedOver follows what moto shows.
// 2. A Throttling storm: every Route 53 call answers Throttling for a minute. The operator's own calls stay under
//    the account limit (5/s) in every second and its writes inside the budget; FailedOver is never claimed while moto
//    shows the zone serving; once the storm ends the drain lands.
// 3. GetChange fails after ChangeResourceRecordSets accepted the change: the drain is Done (unconfirmed), not Failed,
//    and the status follows the observed weights.

import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  motoWeights,
  operatorProcessSuite,
  type PolicyStatus,
  ProxyCallRecorder,
  policyBody,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const BUDGET = 6; // guardrails.maxWritesPerMinute
const suite = operatorProcessSuite();
let kc: KubeConfig;
let r53: Route53Client;
let ns: string;

beforeAll(async () => {
  ({ kc, r53 } = suite);
  ns = await createNamespace(kc, 'route53-failing');
}, 60_000);

const condition = (s: PolicyStatus, type: string) => s.conditions?.find((c) => c.type === type);

function budgetedPolicy(name: string, zoneId: string, recordName: string): object {
  const body = policyBody(ns, name, { zoneId, recordName, probeUrl: `${suite.probes.base}/{zone}` }) as {
    spec: Record<string, unknown>;
  };
  body.spec.guardrails = { cooldownSeconds: 2, maxWritesPerMinute: BUDGET };
  return body;
}

/** The most calls in any 60-second window, by their proxy timestamps. */
function maxPerMinute(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 60_000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** A weighted zone in moto, an operator process and a budgeted policy, Healthy before the test's faults start. */
async function budgetedOperator(domain: string, operator: string, name: string) {
  suite.probes.answers.clear();
  const record = `api.${domain}`;
  const zoneId = await createWeightedZone(r53, domain, record);
  const op = suite.start(ns, operator);
  await createPolicy(kc, ns, budgetedPolicy(name, zoneId, record));
  await waitHealthy(kc, ns, name).catch((err) => {
    throw new Error(`${err}\noperator log:\n${op.tail()}`);
  });
  return { zoneId, op };
}

describe('Route 53 record changes failing', () => {
  it('stays inside the write budget, backs off, and reports the drain as failing until it lands', async () => {
    const tb = testbed();
    const { zoneId, op } = await budgetedOperator('r53-failing.test.', 'r53-failing', 'web');

    const writes = new ProxyCallRecorder((e) => e.action === 'ChangeResourceRecordSets').start();
    await tb.faults.add({
      service: 'route53',
      action: 'ChangeResourceRecordSets',
      error: { status: 500, code: 'InternalFailure', message: 'We encountered an internal error' },
    });
    suite.probes.answers.set('us-east-1b', 503);

    // The status says the drain is failing, with the real error and when it is tried next.
    const failing = await eventually(
      'FailingOver ActionFailing and Ready False',
      async () => {
        const s = await statusOf(kc, ns, 'web');
        return condition(s, 'FailingOver')?.reason === 'ActionFailing' && condition(s, 'Ready')?.status === 'False'
          ? s
          : undefined;
      },
      45_000,
    ).catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    expect(condition(failing, 'FailingOver')?.message).toMatch(/InternalFailure/);
    expect(condition(failing, 'FailingOver')?.message).toMatch(/next attempt/);
    expect(condition(failing, 'FailedOver')?.status).toBe('False'); // Route 53 shows no drain

    // Ninety seconds of a failing control plane: inside the budget in every minute, thinning out.
    await new Promise((r) => setTimeout(r, 90_000));
    await writes.poll();
    const times = writes.calls.map((c) => Date.parse(c.at));
    expect(times.length).toBeGreaterThan(0);
    expect(maxPerMinute(times)).toBeLessThanOrEqual(BUDGET);
    const start = Math.min(...times);
    const firstHalf = times.filter((t) => t - start < 45_000).length;
    const secondHalf = times.filter((t) => t - start >= 45_000).length;
    expect(secondHalf).toBeLessThanOrEqual(firstHalf);
    expect(await motoWeights(r53, zoneId)).toMatchObject({ 'use1-b': 100 });
    const still = await statusOf(kc, ns, 'web');
    expect(condition(still, 'FailedOver')?.status).toBe('False');

    // Route 53 answers again: the drain lands within the backoff cap, and the status follows moto.
    await tb.faults.clear();
    await eventually(
      'use1-b drained in moto',
      async () => ((await motoWeights(r53, zoneId))['use1-b'] === 0 ? true : undefined),
      180_000,
    ).catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    const drained = await eventually('FailedOver ZoneDrained', async () => {
      const s = await statusOf(kc, ns, 'web');
      return condition(s, 'FailedOver')?.reason === 'ZoneDrained' ? s : undefined;
    });
    expect(condition(drained, 'Ready')?.status).toBe('True');
    await writes.stop();
    suite.probes.answers.clear();
  }, 330_000);

  it('a change Route 53 accepted whose GetChange fails is Done, not Failed, and the status follows moto', async () => {
    const tb = testbed();
    suite.probes.answers.clear();
    const record = 'api.r53-getchange.test.';
    const zoneId = await createWeightedZone(r53, 'r53-getchange.test.', record);
    const op = suite.start(ns, 'r53-getchange');
    await createPolicy(kc, ns, budgetedPolicy('api', zoneId, record));
    await waitHealthy(kc, ns, 'api').catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    await tb.faults.add({
      service: 'route53',
      action: 'GetChange',
      error: { status: 500, code: 'InternalFailure', message: 'We encountered an internal error' },
    });
    suite.probes.answers.set('us-east-1a', 503);
    await eventually(
      'use1-a drained in moto',
      async () => ((await motoWeights(r53, zoneId))['use1-a'] === 0 ? true : undefined),
      45_000,
    );
    const s = await eventually('the drain journaled', async () => {
      const st = await statusOf(kc, ns, 'api');
      return st.journal?.some((e) => e.action === 'SetWeights' && e.state !== 'Pending') ? st : undefined;
    });
    const drain = s.journal?.find((e) => e.action === 'SetWeights');
    expect(drain?.state).toBe('Done');
    const settled = await eventually('FailedOver ZoneDrained', async () => {
      const st = await statusOf(kc, ns, 'api');
      return condition(st, 'FailedOver')?.reason === 'ZoneDrained' ? st : undefined;
    });
    expect(condition(settled, 'FailingOver')?.reason).not.toBe('ActionFailing');
    suite.probes.answers.clear();
  }, 120_000);

  it('a Throttling storm on every Route 53 call: under 5 calls a second, writes inside the budget, no false FailedOver', async () => {
    const tb = testbed();
    const { zoneId, op } = await budgetedOperator('r53-throttled.test.', 'r53-throttled', 'storm');

    const calls = new ProxyCallRecorder((e) => e.service === 'route53').start();
    await tb.faults.add({
      service: 'route53',
      error: { status: 400, code: 'Throttling', message: 'Rate exceeded' },
    });
    suite.probes.answers.set('us-east-1b', 503);
    const stormStart = Date.now();
    while (Date.now() - stormStart < 60_000) {
      const s = await statusOf(kc, ns, 'storm');
      if (condition(s, 'FailedOver')?.status === 'True') {
        expect(await motoWeights(r53, zoneId)).toMatchObject({ 'use1-b': 0 }); // only true if Route 53 shows it
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
    await calls.poll();
    const all = calls.calls.map((c) => Date.parse(c.at)).sort((a, b) => a - b);
    expect(all.length).toBeGreaterThan(0);
    let perSecond = 0;
    for (let i = 0, j = 0; i < all.length; i++) {
      while (all[i]! - all[j]! >= 1_000) j++;
      perSecond = Math.max(perSecond, i - j + 1);
    }
    expect(perSecond).toBeLessThanOrEqual(5);
    const writes = calls.calls.filter((c) => c.action === 'ChangeResourceRecordSets').map((c) => Date.parse(c.at));
    expect(maxPerMinute(writes)).toBeLessThanOrEqual(BUDGET);
    expect(await motoWeights(r53, zoneId)).toMatchObject({ 'use1-b': 100 });

    await tb.faults.clear();
    await eventually(
      'use1-b drained in moto after the storm',
      async () => ((await motoWeights(r53, zoneId))['use1-b'] === 0 ? true : undefined),
      180_000,
    ).catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    await eventually('FailedOver ZoneDrained', async () => {
      const s = await statusOf(kc, ns, 'storm');
      return condition(s, 'FailedOver')?.reason === 'ZoneDrained' ? s : undefined;
    });
    await calls.stop();
    suite.probes.answers.clear();
  }, 330_000);
});
