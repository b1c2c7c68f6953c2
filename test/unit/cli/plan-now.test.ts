// `failoverctl plan --now`: the CLI asks the leader through the policy (the preview-request annotation) and prints
// the leader's answer (status.preview) once its request id comes back; a silent operator is a clear timeout.

import { describe, expect, it } from 'vitest';
import type { FailoverPolicy, PolicyPreview } from '../../../src/api/index.ts';
import type { CtlDeps } from '../../../src/cli/ctl/context.ts';
import type { PolicyKube } from '../../../src/cli/ctl/kube.ts';
import { runFailoverctl } from '../../../src/cli/failoverctl.ts';

const ANSWER: Omit<PolicyPreview, 'requestId'> = {
  computedAt: '2026-12-06T10:00:01.000Z',
  by: 'failover-operator-5d8f-abc',
  phase: 'Degraded',
  healthAsOf: '2026-12-06T10:00:00.000Z',
  actions: [
    {
      kind: 'SetWeights',
      target: 'api.orders.example.com. A',
      rule: 'PB-5',
      region: 'us-east-1',
      zone: 'us-east-1a',
      reason: 'drain us-east-1a: Degraded',
    },
  ],
  gates: [{ kind: 'Cooldown', rule: 'PB-9', message: 'cooldown until 10:05:00' }],
};

/** A cluster whose operator answers a preview request after `answerAfterPolls` reads (never, when undefined). */
function cluster(answerAfterPolls: number | undefined) {
  let clock = Date.parse('2026-12-06T10:00:00Z');
  const patches: unknown[] = [];
  let polls = 0;
  let requestId: string | undefined;
  const policy = { metadata: { name: 'orders', namespace: 'shop' }, spec: {}, status: {} } as unknown as FailoverPolicy;
  const kube = {
    async patchPolicy(_name: string, patch: Record<string, unknown>) {
      patches.push(patch);
      requestId = (patch as { metadata: { annotations: Record<string, string> } }).metadata.annotations[
        'failover.io/preview-request'
      ];
      return policy;
    },
    async getPolicy() {
      polls++;
      const answered = answerAfterPolls !== undefined && polls > answerAfterPolls && requestId !== undefined;
      return {
        ...policy,
        // Until it answers, status.preview holds the answer to an older request.
        status: { preview: { ...ANSWER, requestId: answered ? requestId : 'now-older-1' } },
      } as FailoverPolicy;
    },
  } as unknown as PolicyKube;
  const out: string[] = [];
  const err: string[] = [];
  const deps: CtlDeps = {
    io: { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, confirm: async () => false },
    kube: () => kube,
    now: () => clock,
    randomSuffix: () => 'abc123',
    sleep: async (ms) => {
      clock += ms;
    },
  };
  const run = async (...args: string[]) => {
    const code = await runFailoverctl(['node', 'failoverctl', '-n', 'shop', ...args], deps);
    return { code, stdout: out.join(''), stderr: err.join(''), patches, polls: () => polls };
  };
  return { run };
}

describe('failoverctl plan --now', () => {
  it('asks through the preview-request annotation and prints the answer to its own request id only', async () => {
    const r = await cluster(2).run('plan', 'orders', '--now', '-o', 'json');
    expect(r.code).toBe(0);
    const id = `now-${Date.parse('2026-12-06T10:00:00Z').toString(36)}-abc123`;
    expect(r.patches).toEqual([{ metadata: { annotations: { 'failover.io/preview-request': id } } }]);
    expect(r.polls()).toBe(3); // the first two reads still show the older answer
    expect(JSON.parse(r.stdout)).toEqual({ simulated: false, ...ANSWER, requestId: id });
  });

  it('says in text where the plan came from and that nothing was executed', async () => {
    const r = await cluster(0).run('plan', 'orders', '--now');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('from operator failover-operator-5d8f-abc');
    expect(r.stdout).toContain('health as of 2026-12-06T10:00:00.000Z');
    expect(r.stdout).toContain('planned only, nothing was executed');
    expect(r.stdout).toMatch(/ 1\. SetWeights api\.orders\.example\.com\. A zone us-east-1a region us-east-1 \[PB-5\]/);
    expect(r.stdout).toContain('- Cooldown [PB-9] cooldown until 10:05:00');
  });

  it('gives up after --wait with one line naming the request and what to check, exit 1', async () => {
    const r = await cluster(undefined).run('plan', 'orders', '--now', '--wait', '5');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/the operator did not answer preview request now-\S+ for orders within 5s: is it running/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.polls()).toBeGreaterThanOrEqual(5);
  });

  it('refuses a --wait that is not a number of seconds, exit 2', async () => {
    const r = await cluster(0).run('plan', 'orders', '--now', '--wait', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--wait must be a number of seconds');
    expect(r.patches).toEqual([]);
  });
});
