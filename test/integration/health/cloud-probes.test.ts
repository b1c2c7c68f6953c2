// EC2 / RDS / control-plane probes through the REAL AWS adapters (src/cloud/aws) against moto, with the fault
// proxy in between rewriting what AWS says: a zone `impaired`, an RDS instance `rebooting`, failing status checks,
// a burst of API errors. The probes and the health model must turn each into the right zone state.

import { DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateDBInstanceCommand } from '@aws-sdk/client-rds';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.ts';
import { createApiCallStats } from '../../../src/health/api-call-stats.ts';
import { createHealthState, observeResults, resolveHealthSettings } from '../../../src/health/health-model.ts';
import type { ProbeObservation } from '../../../src/health/probe.ts';
import { createAwsApiProbe } from '../../../src/health/probe-aws-api.ts';
import { createEc2InstanceStatusProbe, createEc2ZoneStateProbe } from '../../../src/health/probe-ec2.ts';
import { createRdsStatusProbe } from '../../../src/health/probe-rds.ts';
import { createProbeScheduler } from '../../../src/health/probe-scheduler.ts';
import type { ProbeResult } from '../../../src/health/types.ts';
import { type AwsFixture, awsFixture, PRIMARY_REGION } from '../cloud/aws-fixture.ts';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const ctx = () => ({ signal: AbortSignal.timeout(10_000), now: Date.now });
const label = (name: string, obs: ProbeObservation[]): ProbeResult[] => obs.map((o) => ({ probe: name, ...o }));

let fx: AwsFixture;
const stats = createApiCallStats();

beforeEach(async () => {
  fx ??= awsFixture({ requestTimeoutMs: 5_000 });
  await fx.tb.resetMoto();
  await fx.tb.faults.clear();
});
afterAll(async () => {
  await fx?.tb.faults.clear();
  fx?.close();
});

describe('EC2 zone state probe through the AWS adapter', () => {
  it('sees a zone EC2 reports impaired, and the model impairs it after failureThreshold rounds', async () => {
    await fx.tb.faults.add({
      service: 'ec2',
      action: 'DescribeAvailabilityZones',
      rewrite: [
        {
          find: '(<zoneName>us-east-1a</zoneName>(?:(?!</item>)[\\s\\S])*?<zoneState>)available(</zoneState>)',
          replace: '$1impaired$2',
        },
      ],
    });
    const probe = createEc2ZoneStateProbe(
      { region: PRIMARY_REGION, zones: ZONES, timeoutMs: 5000 },
      { compute: fx.cloud.compute, now: Date.now },
    );
    const first = await probe.run(ctx());
    expect(first.map((r) => [r.zone, r.ok, r.severity])).toEqual([
      ['us-east-1a', false, 'down'],
      ['us-east-1b', true, undefined],
      ['us-east-1c', true, undefined],
      [undefined, true, undefined], // the call answered (region-wide)
    ]);
    expect(first[0]!.detail).toContain('state impaired');

    const settings = resolveHealthSettings({ failureThreshold: 2 });
    let state = createHealthState(settings, { regions: [{ name: PRIMARY_REGION, zones: ZONES }] });
    state = observeResults(state, settings, label('ec2', first), 5000).state;
    const second = observeResults(state, settings, label('ec2', await probe.run(ctx())), 10_000);
    expect(second.view.zones.map((z) => [z.name, z.state])).toEqual([
      ['us-east-1a', 'Impaired'],
      ['us-east-1b', 'Healthy'],
      ['us-east-1c', 'Healthy'],
    ]);
    expect(second.transitions[0]!.reasons[0]).toContain('EC2 reports the zone impaired');
    expect((await fx.tb.faults.log()).some((c) => c.action === 'DescribeAvailabilityZones')).toBe(true);
  });

  it('a hanging DescribeAvailabilityZones becomes a down result at the probe timeout (scheduler)', async () => {
    await fx.tb.faults.add({ service: 'ec2', action: 'DescribeAvailabilityZones', hang: true, times: 1 });
    const probe = createEc2ZoneStateProbe(
      { region: PRIMARY_REGION, zones: ZONES, timeoutMs: 1000 },
      { compute: fx.cloud.compute, now: Date.now },
    );
    const shutdown = new AbortController();
    const scheduler = createProbeScheduler({ clock: systemClock(), signal: shutdown.signal, jitter: 0 });
    const started = Date.now();
    const first = await new Promise<ProbeResult[]>((resolve) =>
      scheduler.subscribe({ name: 'ec2', probe, intervalMs: 5000, onResults: resolve }),
    );
    shutdown.abort();
    await scheduler.stopped();
    expect(first).toEqual([
      expect.objectContaining({
        kind: 'ec2-zone',
        region: PRIMARY_REGION,
        ok: false,
        severity: 'down',
        detail: 'timeout after 1000ms',
      }),
    ]);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('EC2 instance status probe through the AWS adapter', () => {
  it('groups tagged instances by zone and reports failing status checks', async () => {
    const ec2 = fx.sdk.ec2(PRIMARY_REGION);
    const image = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    for (const zone of ['us-east-1a', 'us-east-1b']) {
      await ec2.send(
        new RunInstancesCommand({
          ImageId: image,
          MinCount: 2,
          MaxCount: 2,
          InstanceType: 't3.micro',
          Placement: { AvailabilityZone: zone },
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'checkout' }] }],
        }),
      );
    }
    const probe = createEc2InstanceStatusProbe(
      { region: PRIMARY_REGION, tagSelector: { app: 'checkout' }, timeoutMs: 5000 },
      { compute: fx.cloud.compute, now: Date.now },
    );
    const healthy = await probe.run(ctx());
    expect(healthy.map((r) => [r.zone, r.ok])).toEqual([
      ['us-east-1a', true],
      ['us-east-1b', true],
      [undefined, true], // the call answered (region-wide)
    ]);

    await fx.tb.faults.add({
      service: 'ec2',
      action: 'DescribeInstanceStatus',
      // Both the system and the instance check of every instance fail.
      rewrite: [{ find: '<status>ok</status>', replace: '<status>impaired</status>' }],
    });
    const broken = await probe.run(ctx());
    expect(broken.map((r) => [r.zone, r.ok, r.severity])).toEqual([
      ['us-east-1a', false, 'down'],
      ['us-east-1b', false, 'down'],
      [undefined, true, undefined],
    ]);
    expect(broken[0]!.detail).toContain('0/2 instances [app=checkout] pass status checks');
  });
});

describe('RDS status probe through the AWS adapter', () => {
  it('sees the primary `failed` (rewritten by the fault proxy) as down in its zone; `rebooting` is a planned change', async () => {
    await fx.sdk.rds(PRIMARY_REGION).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders',
        Engine: 'postgres',
        DBInstanceClass: 'db.t3.micro',
        AllocatedStorage: 20,
        MasterUsername: 'orders',
        MasterUserPassword: 'not-a-secret-1',
        AvailabilityZone: 'us-east-1b',
      }),
    );
    const probe = createRdsStatusProbe(
      { instance: { region: PRIMARY_REGION, dbInstanceIdentifier: 'orders' }, timeoutMs: 5000 },
      { databases: fx.cloud.databases, now: Date.now },
    );
    expect((await probe.run(ctx()))[0]).toMatchObject({ kind: 'rds', zone: 'us-east-1b', ok: true });

    await fx.tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      times: 1,
      rewrite: [
        {
          find: '<DBInstanceStatus>available</DBInstanceStatus>',
          replace: '<DBInstanceStatus>rebooting</DBInstanceStatus>',
        },
      ],
    });
    // A promotion reboots the replica: that must not make its zone look failed.
    expect((await probe.run(ctx()))[0]).toMatchObject({
      ok: true,
      zone: 'us-east-1b',
      detail: 'DescribeDBInstances: primary orders status rebooting (a planned change, not a zone failure)',
    });

    await fx.tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      rewrite: [
        {
          find: '<DBInstanceStatus>available</DBInstanceStatus>',
          replace: '<DBInstanceStatus>failed</DBInstanceStatus>',
        },
      ],
    });
    const [r] = await probe.run(ctx());
    expect(r).toMatchObject({
      ok: false,
      severity: 'down',
      zone: 'us-east-1b',
      detail: 'DescribeDBInstances: primary orders status failed',
    });
  });
});

describe('control-plane signal from the adapters’ own calls (PB-1)', () => {
  it('turns a burst of EC2 API errors into a degraded region result', async () => {
    // The composition root wires the adapters' call recorder into the stats, as here.
    const seen = fx.calls.length;
    await fx.tb.faults.add({
      service: 'ec2',
      action: 'DescribeAvailabilityZones',
      error: { status: 503, code: 'Unavailable' },
      times: 8,
    });
    for (let i = 0; i < 12; i++) await fx.cloud.compute.describeZones(PRIMARY_REGION).catch(() => undefined);
    for (const call of fx.calls.slice(seen)) stats.record(call);
    const now = Date.now();
    const probe = createAwsApiProbe(
      { region: PRIMARY_REGION, zones: ZONES, services: ['ec2'], errorRateThreshold: 0.2 },
      { stats, now: () => now },
    );
    const out = await probe.run({ signal: AbortSignal.timeout(1000), now: () => now });
    expect(out).toHaveLength(1); // region-wide only: the adapters' calls are not zone-targeted
    expect(out[0]).toMatchObject({ kind: 'aws-api', ok: false, severity: 'degraded' });
    expect(out[0]!.detail).toContain('8/12 calls failed');
  });
});
