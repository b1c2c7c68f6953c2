// `failoverctl plan --now` end to end: the real CLI asks the real operator (in-process, leading) through the
// apiserver — the preview-request annotation — and prints what the leader would do now from its own health. A zone
// that fails its probe shows up as the drain the leader plans, before that same reconcile performs it.

import { describe, expect, it } from 'vitest';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  failoverctl,
  inProcessOperatorSuite,
  policyBody,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const RECORD = 'plan-now.test.';
let zoneId = '';

const suite = inProcessOperatorSuite({
  namespace: 'plan-now',
  podName: 'plan-now-op',
  arrange: async (s) => {
    zoneId = await createWeightedZone(s.r53, 'plan-now.test.', RECORD);
  },
});

interface NowJson {
  simulated: boolean;
  requestId: string;
  by: string;
  phase: string;
  healthAsOf?: string;
  actions: Array<{ kind: string; zone?: string; rule: string }>;
  gates: unknown[];
}

describe('failoverctl plan --now against a running operator', () => {
  it('answers from the leader: nothing to do while healthy; the drain of a failing zone once it fails', async () => {
    const { kc, ns, probe } = suite;
    await createPolicy(kc, ns, policyBody(ns, 'web', { zoneId, recordName: RECORD, probeUrl: `${probe.base}/{zone}` }));
    await waitHealthy(kc, ns, 'web');

    const healthy = await failoverctl(ns, 'plan', 'web', '--now', '-o', 'json');
    expect(healthy.stderr).toBe('');
    expect(healthy.code).toBe(0);
    const quiet = JSON.parse(healthy.stdout) as NowJson;
    expect(quiet).toMatchObject({ simulated: false, phase: 'Healthy', actions: [] });
    expect(quiet.by).toMatch(/^plan-now-op-/); // the leader's identity: POD_NAME plus its suffix
    expect(Date.parse(quiet.healthAsOf ?? '')).toBeGreaterThan(Date.now() - 60_000);

    // us-east-1a fails its probe; once the leader sees it Degraded, ask again (a fresh request id each time).
    probe.answers.set('us-east-1a', 503);
    await eventually('us-east-1a not Healthy in status', async () => {
      const s = await statusOf(kc, ns, 'web');
      return s.zones?.some((z) => z.name === 'us-east-1a' && z.state !== 'Healthy') ? s : undefined;
    });
    const degraded = await failoverctl(ns, 'plan', 'web', '--now', '-o', 'json');
    expect(degraded.code).toBe(0);
    const answer = JSON.parse(degraded.stdout) as NowJson;
    expect(answer.requestId).not.toBe(quiet.requestId);
    expect(answer.phase).not.toBe('Healthy');
    // Planned from the leader's health: the drain of us-east-1a (or, already drained, nothing left to do).
    const drains = answer.actions.filter((a) => a.kind === 'SetWeights');
    const status = await statusOf(kc, ns, 'web');
    if (drains.length === 0) expect(status.weights?.['use1-a']).toBe(0);
    else expect(drains[0]).toMatchObject({ rule: 'PB-5' });
  }, 120_000);
});
