import { describe, expect, it } from 'vitest';
import { planComputeReplacement, spreadEvenly } from './compute-replacement.ts';
import { buildContext } from './plan-context.ts';
import { cloud, health, input, T0 } from './test-fixtures.ts';

describe('spreadEvenly', () => {
  it.each([
    [
      3,
      [
        { zone: 'b', count: 2 },
        { zone: 'c', count: 1 },
      ],
      { b: 1, c: 2 },
    ],
    [
      4,
      [
        { zone: 'b', count: 0 },
        { zone: 'c', count: 0 },
      ],
      { b: 2, c: 2 },
    ],
    [
      1,
      [
        { zone: 'c', count: 0 },
        { zone: 'b', count: 0 },
      ],
      { b: 1, c: 0 },
    ],
    [
      2,
      [
        { zone: 'b', count: 5 },
        { zone: 'c', count: 0 },
      ],
      { b: 0, c: 2 },
    ],
  ])('%i over %j', (count, existing, expected) => {
    expect(Object.fromEntries(spreadEvenly(count, existing))).toEqual(expected);
  });
});

describe('planComputeReplacement (PB-4)', () => {
  const instances = [
    { region: 'us-east-1', zone: 'us-east-1a', healthy: 2, unhealthyIds: ['i-1'] },
    { region: 'us-east-1', zone: 'us-east-1b', healthy: 2 },
    { region: 'us-east-1', zone: 'us-east-1c', healthy: 1 },
  ];

  it('launches only into healthy zones, evenly, up to minHealthyInstances (impaired-zone instances do not count)', () => {
    const ctx = buildContext(
      input({
        policyOptions: { compute: { minHealthyInstances: 6 } },
        health: health({ 'us-east-1a': 'Impaired' }),
        cloud: cloud({ instances }),
      }),
    );
    const d = planComputeReplacement(ctx);
    expect(d.actions.map((a) => a.action)).toEqual([
      { kind: 'LaunchReplacements', region: 'us-east-1', zone: 'us-east-1b', count: 1, launchTemplateId: 'lt-0abc' },
      { kind: 'LaunchReplacements', region: 'us-east-1', zone: 'us-east-1c', count: 2, launchTemplateId: 'lt-0abc' },
    ]);
    expect(d.actions.map((a) => a.id)).toEqual([
      'launch/us-east-1/20261123T100000Z/us-east-1b',
      'launch/us-east-1/20261123T100000Z/us-east-1c',
    ]);
    expect(d.actions.every((a) => a.rule === 'PB-4')).toBe(true);
  });

  it('does not launch blind: unknown instance counts skip the launch with a reason (PB-4, PB-8)', () => {
    const ctx = buildContext(
      input({
        policyOptions: { compute: { minHealthyInstances: 6 } },
        health: health({ 'us-east-1a': 'Impaired' }),
        cloud: cloud({}),
      }),
    );
    const out = planComputeReplacement(ctx);
    expect(out.actions).toEqual([]);
    expect(out.skipped).toEqual([expect.objectContaining({ kind: 'LaunchReplacements', rule: 'PB-4' })]);
    expect(out.skipped[0]!.reason).toContain('instance counts unknown');
  });

  it('does not launch into a degraded zone', () => {
    const ctx = buildContext(
      input({
        policyOptions: { compute: { minHealthyInstances: 6 } },
        health: health({ 'us-east-1a': 'Impaired', 'us-east-1b': 'Degraded' }),
        cloud: cloud({ instances }),
      }),
    );
    const zones = planComputeReplacement(ctx).actions.map((a) =>
      a.action.kind === 'LaunchReplacements' ? a.action.zone : '',
    );
    expect(zones).toEqual(['us-east-1c']);
  });

  it('does nothing without an impaired zone or when capacity suffices', () => {
    const opts = { policyOptions: { compute: { minHealthyInstances: 3 } }, cloud: cloud({ instances }) };
    expect(planComputeReplacement(buildContext(input(opts))).actions).toEqual([]);
    expect(
      planComputeReplacement(buildContext(input({ ...opts, health: health({ 'us-east-1a': 'Impaired' }) }))).actions,
    ).toEqual([]);
  });

  it('restores volumes of the impaired zone from the newest completed snapshot into a healthy zone', () => {
    const ctx = buildContext(
      input({
        policyOptions: { compute: { minHealthyInstances: 0, restoreVolumesFromSnapshots: true } },
        health: health({ 'us-east-1a': 'Impaired' }),
        cloud: cloud({
          volumes: [
            { id: 'vol-1', region: 'us-east-1', zone: 'us-east-1a' },
            { id: 'vol-2', region: 'us-east-1', zone: 'us-east-1b' },
            { id: 'vol-3', region: 'us-east-1', zone: 'us-east-1a' },
          ],
          snapshots: [
            { id: 'snap-old', region: 'us-east-1', volumeId: 'vol-1', startTime: T0 - 7200_000, state: 'completed' },
            { id: 'snap-new', region: 'us-east-1', volumeId: 'vol-1', startTime: T0 - 3600_000, state: 'completed' },
            { id: 'snap-running', region: 'us-east-1', volumeId: 'vol-1', startTime: T0 - 60_000, state: 'pending' },
            { id: 'snap-2', region: 'us-east-1', volumeId: 'vol-2', startTime: T0 - 60_000, state: 'completed' },
          ],
        }),
      }),
    );
    const d = planComputeReplacement(ctx);
    expect(d.actions.map((a) => [a.id, a.action])).toEqual([
      [
        'restore/vol-1/snap-new',
        { kind: 'RestoreVolume', region: 'us-east-1', zone: 'us-east-1b', snapshotId: 'snap-new' },
      ],
    ]);
    expect(d.skipped.filter((s) => s.kind === 'RestoreVolume')).toEqual([
      {
        kind: 'RestoreVolume',
        target: 'vol-3',
        region: 'us-east-1',
        rule: 'PB-4',
        reason: 'PB-4 skipped RestoreVolume on vol-3: no completed snapshot',
      },
    ]);
  });

  it('records a Skipped RestoreVolume naming why when a region’s volumes are unknown, and restores elsewhere', () => {
    const volumes = cloud({
      volumes: [{ id: 'vol-w', region: 'us-west-2', zone: 'us-west-2a' }],
      snapshots: [{ id: 'snap-w', region: 'us-west-2', volumeId: 'vol-w', startTime: T0 - 60_000, state: 'completed' }],
      volumesUnknown: [{ region: 'us-east-1', reason: 'DescribeVolumes failed: RequestLimitExceeded' }],
    });
    const impaired = health({ 'us-east-1a': 'Impaired', 'us-west-2a': 'Impaired' });
    const d = planComputeReplacement(
      buildContext(
        input({
          policyOptions: { compute: { minHealthyInstances: 0, restoreVolumesFromSnapshots: true } },
          health: impaired,
          cloud: volumes,
        }),
      ),
    );
    const restoreSkips = (out: { skipped: Array<{ kind: string }> }) =>
      out.skipped.filter((x) => x.kind === 'RestoreVolume');
    expect(restoreSkips(d)).toEqual([
      {
        kind: 'RestoreVolume',
        target: 'us-east-1',
        region: 'us-east-1',
        rule: 'PB-4',
        reason:
          'PB-4 skipped RestoreVolume in us-east-1: volumes unknown (DescribeVolumes failed: RequestLimitExceeded)',
      },
    ]);
    expect(d.actions.map((a) => [a.target, a.region])).toEqual([['vol-w', 'us-west-2']]);

    // Nothing to report where the policy restores no volumes, or where no zone is Impaired.
    const noRestore = input({
      policyOptions: { compute: { minHealthyInstances: 0 } },
      health: impaired,
      cloud: volumes,
    });
    expect(restoreSkips(planComputeReplacement(buildContext(noRestore)))).toEqual([]);
    const quiet = input({
      policyOptions: { compute: { minHealthyInstances: 0, restoreVolumesFromSnapshots: true } },
      health: health({ 'us-west-2a': 'Impaired' }),
      cloud: volumes,
    });
    expect(restoreSkips(planComputeReplacement(buildContext(quiet)))).toEqual([]);
  });
});
