// The policy status tells what Route 53 and RDS show, not what was planned: a drain that keeps failing is
// FailingOver with the error and the next attempt and makes Ready False; FailedOver follows the observed weights;
// an unpromoted replica is never the active writer.

import { describe, expect, it } from 'vitest';
import { CloudError } from '../cloud/errors.ts';
import { plan } from '../decide/planner.ts';
import {
  cloud,
  dataPlanePolicy,
  entry,
  execute,
  health,
  input,
  NORMAL_WEIGHTS,
  observedAt,
  preparedCloud,
  primaryDb,
  replicaDb,
  SEC,
  T0,
} from '../decide/test-fixtures.ts';
import type { PlanInput } from '../decide/types.ts';
import { buildPolicyStatus } from './policy-status.ts';

const ZONE_A_DOWN = { 'us-east-1a': 'Impaired' } as const;

function status(i: PlanInput, execution?: Parameters<typeof buildPolicyStatus>[0]['execution']) {
  const p = plan(i);
  return {
    p,
    s: buildPolicyStatus({
      policy: i.policy,
      view: i.health,
      observation: i.cloud,
      plan: p,
      ...(execution ? { execution } : {}),
      journal: [],
      now: i.now,
      acted: true,
    }),
  };
}
const condition = (s: ReturnType<typeof buildPolicyStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('honest status', () => {
  it('a drain Route 53 keeps refusing: FailingOver ActionFailing with the error and next attempt, Ready False, not FailedOver', () => {
    const i = input({ health: health(ZONE_A_DOWN) });
    const drain = plan(i).actions.find((a) => a.action.kind === 'SetWeights')!;
    const error = new CloudError({
      kind: 'retryable',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'ServiceUnavailable',
      message: 'ServiceUnavailable: try again',
    });
    const { s } = status(i, {
      done: [],
      skipped: [],
      alreadyDone: [],
      deferred: [drain],
      backoff: { action: drain, attempts: 3, nextAttemptAt: T0 + 40_000, lastError: error.message },
      requeueAfterMs: 40_000,
    });
    expect(condition(s, 'FailingOver')).toMatchObject({
      status: 'True',
      reason: 'ActionFailing',
      message: expect.stringMatching(
        /SetWeights .* failed 3 time\(s\): ServiceUnavailable.*next attempt at 2026-11-23T10:00:40/,
      ),
    });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ActionFailing' });
    expect(condition(s, 'FailedOver')).toMatchObject({ status: 'False', reason: 'NoFailover' });
  });

  it('a drain that just failed names the AWS error code and when the backoff lets it try again', () => {
    const i = input({ health: health(ZONE_A_DOWN) });
    const drain = plan(i).actions.find((a) => a.action.kind === 'SetWeights')!;
    const error = new CloudError({
      kind: 'retryable',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'InternalFailure',
      message: 'We encountered an internal error',
    });
    const { s } = status(i, { done: [], skipped: [], alreadyDone: [], deferred: [], failed: { action: drain, error } });
    expect(condition(s, 'FailingOver')).toMatchObject({
      reason: 'ActionFailing',
      message: expect.stringMatching(
        /failed: InternalFailure: We encountered an internal error; next attempt at 2026-11-23T10:00:0/,
      ),
    });
    expect(condition(s, 'Ready')?.status).toBe('False');
  });

  it('a drain sent but not shown by Route 53 yet is ChangePending; once observed it is FailedOver ZoneDrained', () => {
    const i = input({ health: health(ZONE_A_DOWN) });
    const pending = status(i, { done: [], skipped: [], alreadyDone: [], deferred: [] }).s;
    expect(condition(pending, 'FailingOver')).toMatchObject({ status: 'True', reason: 'ChangePending' });
    expect(condition(pending, 'FailedOver')?.status).toBe('False');
    expect(condition(pending, 'Ready')?.status).toBe('True');

    const drained = { ...NORMAL_WEIGHTS, 'use1-a': 0, 'use1-b': 150, 'use1-c': 150 };
    const landed = status({ ...i, cloud: cloud({ weights: drained }) }).s;
    expect(condition(landed, 'FailedOver')).toMatchObject({ status: 'True', reason: 'ZoneDrained' });
    expect(condition(landed, 'FailedOver')?.message).toContain('use1-a');
  });

  it('a replica being promoted is not shown as the active writer until RDS shows it writable', () => {
    const down = { 'us-east-1a': 'Impaired', 'us-east-1b': 'Impaired' } as const;
    const promoting = input({
      health: health(down),
      cloud: cloud({ databases: [primaryDb({ status: 'unreachable' }), replicaDb({ status: 'modifying' })] }),
    });
    const before = status({
      ...promoting,
      policy: {
        ...promoting.policy,
        status: { activeWriter: { region: 'us-east-1', dbInstanceIdentifier: 'orders' } },
      },
    }).s;
    expect(before.activeWriter).toEqual({ region: 'us-east-1', dbInstanceIdentifier: 'orders' });
    const { replicaSourceId: _s, ...promoted } = replicaDb();
    const after = status({
      ...promoting,
      cloud: cloud({ databases: [primaryDb({ status: 'unreachable' }), promoted] }),
    }).s;
    expect(after.activeWriter).toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
    expect(condition(after, 'FailedOver')).toMatchObject({ status: 'True', reason: 'ReplicaPromoted' });
  });
});

describe('promotion lock held by another operator (#14)', () => {
  it('FailingOver with reason PromotionLocked naming the holder; the refused replica is not the active writer', () => {
    let i = input({
      health: health({ 'us-east-1a': 'Impaired', 'us-east-1b': 'Impaired' }),
      now: T0 + 10 * SEC,
    });
    i = execute(i, plan(i), T0 + 15 * SEC);
    i = { ...i, now: T0 + 50 * SEC };
    const promote = plan(i);
    const refusal =
      'promotion of us-west-2/orders-usw2 refused: the failover away from us-east-1/orders (db-X) was already taken by vantage op-eu for eu-west-1/orders-euw1 at 2026-12-06T03:00:00.000Z (promotion lock locks in us-east-2)';
    i = {
      ...i,
      failover: promote.failover!,
      journal: [
        ...i.journal,
        { ...entry(promote.actions[0]!, 'Skipped', i.now), rule: 'PB-6' as const, detail: refusal },
      ],
    };
    const { s } = status(observedAt(i, T0 + 2 * 60 * SEC));
    expect(condition(s, 'FailingOver')).toMatchObject({ status: 'True', reason: 'PromotionLocked' });
    expect(condition(s, 'FailingOver')?.message).toContain(
      'was already taken by vantage op-eu for eu-west-1/orders-euw1',
    );
    expect(s.activeWriter).not.toEqual({ region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' });
  });
});

describe('honest status on the data-plane path', () => {
  const dataPlaneInput = (alarms: Record<string, 'OK' | 'ALARM'>, verdicts: Record<string, 'serve' | 'drain'>) =>
    input({
      policy: dataPlanePolicy(),
      health: health(ZONE_A_DOWN),
      cloud: preparedCloud(NORMAL_WEIGHTS, verdicts, alarms),
    });
  const allOk = { 'use1-a': 'OK', 'use1-b': 'OK', 'use1-c': 'OK', usw2: 'OK' } as const;

  it('a published drain the alarm does not show yet is ChangePending, not FailedOver; once it shows, ZoneDrained', () => {
    const pending = status(dataPlaneInput(allOk, { 'use1-a': 'drain' })).s;
    expect(condition(pending, 'FailingOver')).toMatchObject({
      status: 'True',
      reason: 'ChangePending',
      message: expect.stringContaining('the verdict alarms do not show the planned change of use1-a yet'),
    });
    expect(condition(pending, 'FailedOver')?.status).toBe('False');
    expect(condition(pending, 'DataPlaneReady')).toMatchObject({
      status: 'True',
      reason: 'Prepared',
      message: expect.stringContaining('verdicts: drain use1-a (alarms in ALARM: none)'),
    });

    const shown = status(dataPlaneInput({ ...allOk, 'use1-a': 'ALARM' }, { 'use1-a': 'drain' })).s;
    expect(condition(shown, 'FailedOver')).toMatchObject({ status: 'True', reason: 'ZoneDrained' });
    expect(condition(shown, 'DataPlaneReady')?.message).toContain('verdicts: drain use1-a');
    expect(condition(shown, 'DataPlaneReady')?.message).not.toContain('alarms in ALARM');
  });

  it('no DataPlaneReady on a policy that edits records', () => {
    const i = input({ health: health(ZONE_A_DOWN) });
    i.policy.spec.traffic!.route53.dataPlane = {
      mechanism: 'RecordEdits',
      namespace: 'FailoverOperator',
      periodSeconds: 60,
      insufficientDataHealthStatus: 'LastKnownStatus',
    };
    const { s } = status(i);
    expect(condition(s, 'DataPlaneReady')).toBeUndefined();
  });
});

describe('a failing preparation of the data-plane path', () => {
  it('is told in DataPlaneReady, not as a failing failover: Ready stays True (drains still edit records)', () => {
    const i = input();
    const prepare = {
      id: 'dataplane/us-west-2/0000beef',
      action: { kind: 'PrepareDataPlane' as const, signalRegion: 'us-west-2', setIdentifiers: ['use1-a'] },
      rule: 'PB-5' as const,
      target: 'api.example.com.',
      reason: 'prepared',
    };
    const { s } = status(i, {
      done: [],
      skipped: [],
      alreadyDone: [],
      deferred: [prepare],
      backoff: {
        action: prepare,
        attempts: 2,
        nextAttemptAt: T0 + 20_000,
        lastError: 'AccessDenied: not authorized to perform route53:CreateHealthCheck',
      },
      requeueAfterMs: 20_000,
    });
    expect(condition(s, 'Ready')?.status).toBe('True');
    expect(condition(s, 'FailingOver')?.status).toBe('False');
    expect(condition(s, 'DataPlaneReady')).toMatchObject({
      status: 'False',
      reason: 'NotPrepared',
      message: expect.stringContaining('AccessDenied: not authorized to perform route53:CreateHealthCheck'),
    });
  });
});
