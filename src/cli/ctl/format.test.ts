import { describe, expect, it } from 'vitest';
import type { FailoverPolicy } from '../../api/index.ts';
import {
  formatPendingApproval,
  formatPolicyDetail,
  formatPolicyTable,
  formatTable,
  formatWeights,
  policySummary,
  summarizeConditions,
} from './format.ts';

const policy = (status?: FailoverPolicy['status']): FailoverPolicy =>
  ({
    apiVersion: 'failover.io/v1alpha1',
    kind: 'FailoverPolicy',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: { regions: [{ name: 'us-east-1', role: 'primary', zones: ['us-east-1a'] }] },
    ...(status ? { status } : {}),
  }) as unknown as FailoverPolicy;

describe('failoverctl formatting', () => {
  it('summarises conditions with the reason of the true ones only', () => {
    expect(
      summarizeConditions([
        { type: 'Ready', status: 'False', reason: 'Degraded', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
        {
          type: 'Degraded',
          status: 'True',
          reason: 'ZoneDrained',
          message: '',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ]),
    ).toBe('Ready=False, Degraded=True (ZoneDrained)');
    expect(summarizeConditions(undefined)).toBe('-');
  });

  it('prints weights sorted by record', () => {
    expect(formatWeights({ b: 0, a: 100 })).toBe('a=100 b=0');
    expect(formatWeights({})).toBe('-');
  });

  it('aligns table columns', () => {
    expect(
      formatTable(
        ['A', 'B'],
        [
          ['long-value', 'x'],
          ['s', 'y'],
        ],
      ),
    ).toBe(['A            B', 'long-value   x', 's            y'].join('\n'));
  });

  it('lists a policy with no status as Unknown, and one with status by its fields', () => {
    const table = formatPolicyTable([
      policy(),
      policy({
        phase: 'FailedOver',
        activeRegion: 'us-west-2',
        activeWriter: { region: 'us-west-2', dbInstanceIdentifier: 'db2' },
      }),
    ]);
    const [, first, second] = table.split('\n');
    expect(first).toMatch(/^orders\s+Unknown\s+-\s+-\s+-\s+-$/);
    expect(second).toMatch(/^orders\s+FailedOver\s+us-west-2\s+db2 \(us-west-2\)\s+-\s+-$/);
    expect(formatPolicyTable([])).toBe('No FailoverPolicies found.');
  });

  it('shows a pending approval with the command that approves it', () => {
    const p = policy({
      pendingApproval: {
        id: 'promote-1',
        action: 'PromoteReadReplica',
        target: 'db2',
        rule: 'PB-6',
        reason: 'promotion is Manual',
        requestedAt: '2026-01-01T00:00:00Z',
        lagSeconds: 4,
      },
    });
    expect(formatPendingApproval(p)).toBe(
      'promote-1: PromoteReadReplica db2 [PB-6] promotion is Manual, lag 4s (failoverctl approve orders)',
    );
    expect(formatPolicyDetail(p)).toContain('Pending approval: promote-1');
  });

  it('shows the vantage points: agreement, each member heard how long ago, and disagreements (#14)', () => {
    const p = policy({
      vantages: {
        self: 'use1',
        quorum: 2,
        fresh: 2,
        agreement: 'Reached',
        members: [
          { name: 'use1', self: true, fresh: true, ageSeconds: 0, impaired: ['us-east-1a', 'us-east-1'] },
          { name: 'usw2', fresh: true, ageSeconds: 7 },
          { name: 'euw1', fresh: false, ageSeconds: 95 },
        ],
        disagreements: [
          {
            scope: 'zone',
            name: 'us-east-1a',
            region: 'us-east-1',
            local: 'Impaired',
            agreed: 'Healthy',
            reporting: ['use1'],
          },
        ],
      },
    });
    expect(formatPolicyDetail(p)).toContain(
      'Vantages:         Reached (quorum 2, 2 of 3 fresh) — use1 (self): 0s ago, Impaired us-east-1a,us-east-1 | usw2: 7s ago | euw1: 95s ago, stale\n  disagrees on zone us-east-1a: sees Impaired, agreed Healthy (as bad: use1)',
    );
    expect(policySummary(p).vantages?.agreement).toBe('Reached');
  });

  it('gives the JSON summary stable keys, splitting degraded zones', () => {
    expect(policySummary(policy({ degradedZones: 'us-east-1a, us-east-1b' }))).toMatchObject({
      name: 'orders',
      namespace: 'shop',
      phase: null,
      degradedZones: ['us-east-1a', 'us-east-1b'],
      weights: {},
      pendingApproval: null,
    });
  });
});
