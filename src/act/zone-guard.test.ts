import { describe, expect, it } from 'vitest';
import { ZoneImpairedRefusal } from './errors.ts';
import { runThrough } from './testing/middleware-harness.ts';
import type { CallMeta } from './types.ts';
import { zoneGuardMiddleware } from './zone-guard.ts';

const impaired = new Set(['us-east-1a']);
const guard = zoneGuardMiddleware((_region, zone) => impaired.has(zone));

async function attempt(meta: CallMeta) {
  let called = false;
  const outcome = await runThrough([guard], meta, async () => {
    called = true;
    return 'ok';
  }).catch((e: unknown) => e);
  return { called, outcome };
}

const base = { region: 'us-east-1', write: true } as const;

describe('zone guard (PB-3)', () => {
  it.each([
    ['rds', 'RebootDBInstance'],
    ['ec2', 'RebootInstances'],
    ['ec2', 'StopInstances'],
    ['ebs', 'DetachVolume'],
    ['rds', 'RestoreDBInstanceFromDBSnapshot'],
    ['rds', 'RestoreDBInstanceToPointInTime'],
    ['rds', 'CreateDBSnapshot'],
    ['ebs', 'CreateSnapshot'],
    ['ebs', 'CreateVolume'],
    ['ec2', 'RunInstances'],
  ] as const)('refuses %s:%s in an impaired zone without calling it', async (service, operation) => {
    const { called, outcome } = await attempt({ ...base, service, operation, zone: 'us-east-1a' });
    expect(called).toBe(false);
    expect(outcome).toBeInstanceOf(ZoneImpairedRefusal);
    expect(outcome).toMatchObject({ rule: 'PB-3', zone: 'us-east-1a', region: 'us-east-1', operation });
  });

  it('lets the same write through in a healthy zone', async () => {
    const { called, outcome } = await attempt({
      ...base,
      service: 'rds',
      operation: 'RebootDBInstance',
      zone: 'us-east-1b',
    });
    expect(called).toBe(true);
    expect(outcome).toBe('ok');
  });

  it('refuses a zone-targeted write that names no zone', async () => {
    const { called, outcome } = await attempt({ ...base, service: 'rds', operation: 'RebootDBInstance' });
    expect(called).toBe(false);
    expect(outcome).toBeInstanceOf(ZoneImpairedRefusal);
  });

  it('does not guard reads or writes that are not zone-targeted', async () => {
    expect(
      (
        await attempt({
          ...base,
          service: 'ec2',
          operation: 'DescribeInstanceStatus',
          zone: 'us-east-1a',
          write: false,
        })
      ).called,
    ).toBe(true);
    expect(
      (await attempt({ ...base, service: 'rds', operation: 'PromoteReadReplica', zone: 'us-east-1a' })).called,
    ).toBe(true);
    expect((await attempt({ ...base, service: 'route53', operation: 'ChangeResourceRecordSets' })).called).toBe(true);
  });

  it("asks about the acting policy's own view of the zone (one tenant's probes never block another)", async () => {
    const asked: Array<string | undefined> = [];
    const perPolicy = zoneGuardMiddleware((_region, zone, policy) => {
      asked.push(policy);
      return zone === 'us-east-1a' && policy === 'team-a/web';
    });
    const meta = { ...base, service: 'ec2', operation: 'RebootInstances', zone: 'us-east-1a' } as const;
    await expect(runThrough([perPolicy], { ...meta, policy: 'team-a/web' }, async () => 'ok')).rejects.toBeInstanceOf(
      ZoneImpairedRefusal,
    );
    await expect(runThrough([perPolicy], { ...meta, policy: 'team-b/web' }, async () => 'ok')).resolves.toBe('ok');
    expect(asked).toEqual(['team-a/web', 'team-b/web']);
  });
});
