// Crash safety end to end (DESIGN "The journal makes it crash-safe"): the operator runs as a real child process,
// records the intent of a drain (journal entry Pending) and is SIGKILLed while Route 53 ChangeResourceRecordSets
// hangs in the fault proxy. A new process takes the Lease once the dead leader's expires, resumes from the stored
// journal, and the weight change lands in moto exactly once, its one journal entry ending Done.

import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  countCalls,
  createPolicy,
  createWeightedZone,
  eventually,
  motoWeights,
  operatorProcessSuite,
  policyBody,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const RECORD = 'api.crash.test.';
let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const suite = operatorProcessSuite();
const { probes } = suite;

beforeAll(async () => {
  ({ kc, r53 } = suite);
  ns = await createNamespace(kc, 'engine-crash');
  zoneId = await createWeightedZone(r53, 'crash.test.', RECORD);
}, 60_000);

describe('operator crash and restart mid-action', () => {
  it('resumes a Pending SetWeights after SIGKILL and lands the change exactly once', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const first = suite.start(ns, 'crash-first');
    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'web', { zoneId, recordName: RECORD, probeUrl: `${probes.base}/{zone}` }),
    );
    await waitHealthy(kc, ns, 'web').catch((err) => {
      throw new Error(`${err}\nfirst operator log:\n${first.tail()}`);
    });

    // Every weight change hangs from now on; then us-east-1b starts failing its probe.
    await tb.faults.add({ service: 'route53', action: 'ChangeResourceRecordSets', hang: true });
    probes.answers.set('us-east-1b', 503);

    const pending = await eventually('a Pending SetWeights in status.journal', async () => {
      const s = await statusOf(kc, ns, 'web');
      return s.journal?.find((e) => e.action === 'SetWeights' && e.state === 'Pending');
    });
    // The intent is stored and the write is in flight (held by the proxy), not yet answered.
    await eventually('the hung ChangeResourceRecordSets in the proxy log', async () => {
      const log = await tb.faults.log();
      return log.find((e) => e.action === 'ChangeResourceRecordSets' && e.effect === 'hang');
    });
    await first.kill('SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(first.actionLines().filter((l) => /performed/.test(l.msg))).toEqual([]);
    expect(await motoWeights(r53, zoneId)).toEqual({ 'use1-a': 100, 'use1-b': 100 });

    // Faults off, log emptied: from here the proxy log holds only the second process's calls.
    await tb.faults.clear();
    const second = suite.start(ns, 'crash-second');

    // The dead leader's Lease (15 s) must expire before the second process may act.
    const weights = await eventually(
      'use1-b drained in moto by the second process',
      async () => {
        const w = await motoWeights(r53, zoneId);
        return w['use1-b'] === 0 ? w : undefined;
      },
      45_000,
    ).catch((err) => {
      throw new Error(`${err}\nsecond operator log:\n${second.tail()}`);
    });
    expect(weights['use1-a']).toBeGreaterThan(0);

    const journal = await eventually('the SetWeights entry Done', async () => {
      const s = await statusOf(kc, ns, 'web');
      return s.journal?.find((e) => e.id === pending.id)?.state === 'Done' ? s.journal : undefined;
    });
    const setWeights = journal.filter((e) => e.action === 'SetWeights');
    expect(setWeights).toHaveLength(1);
    expect(setWeights[0]?.id).toBe(pending.id);
    expect(setWeights[0]?.attempts).toBe(2); // the intent of the killed process, then the resumed one

    // Let a wrongly re-planning operator have a few reconcile rounds, then count the writes that reached moto.
    await new Promise((r) => setTimeout(r, 3_000));
    const log = await tb.faults.log();
    expect(countCalls(log, 'ChangeResourceRecordSets', zoneId, 200)).toBe(1);
    expect(countCalls(log, 'ChangeResourceRecordSets', zoneId)).toBe(1);
    expect(second.actionLines().filter((l) => /^PB-5 performed SetWeights/.test(l.msg))).toHaveLength(1);
  }, 90_000);
});
