import { describe, expect, it } from 'vitest';
import type { FailoverDrill } from '../../../src/api/index.ts';
import { drillScenario } from '../../../src/cli/ctl/drill-commands.ts';
import { drillReport } from '../../../src/cli/ctl/format.ts';
import type { CtlError } from '../../../src/cli/ctl/kube.ts';

const builtins = ['zone-outage', 'region-outage', 'us-east-1-2011', 'flapping-zone'];

describe('--scenario in drill start: one vocabulary with simulate and plan', () => {
  it('takes a drill type as is, and a built-in timeline as its replay', () => {
    expect(drillScenario('zone-outage', undefined, builtins)).toEqual({ type: 'zone-outage' });
    expect(drillScenario('manual-failover', undefined, builtins)).toEqual({ type: 'manual-failover' });
    expect(drillScenario('us-east-1-2011', undefined, builtins)).toEqual({
      type: 'replay',
      timeline: 'us-east-1-2011',
    });
    // The old spelling keeps working (the command prints a deprecation note).
    expect(drillScenario('replay', 'us-east-1-2011', builtins)).toEqual({ type: 'replay', timeline: 'us-east-1-2011' });
  });

  it('refuses a file (the operator replays only its built-ins) and an unknown name, exit 2', () => {
    const refused = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err as CtlError;
      }
      throw new Error('not refused');
    };
    const file = refused(() => drillScenario('./my-outage.yaml', undefined, builtins));
    expect(file.exitCode).toBe(2);
    expect(file.message).toMatch(/replays only the operator's built-in timelines .* failoverctl plan/);
    const unknown = refused(() => drillScenario('meteor', undefined, builtins));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toContain('us-east-1-2011');
    expect(refused(() => drillScenario('flapping-zone', 'us-east-1-2011', builtins)).message).toContain(
      'drop --timeline',
    );
  });
});

describe('drill report', () => {
  const drill = (status?: FailoverDrill['status']) =>
    ({
      apiVersion: 'failover.io/v1alpha1',
      kind: 'FailoverDrill',
      metadata: { name: 'orders-zone-outage-abc123', namespace: 'shop' },
      spec: { policyRef: { name: 'orders' }, scenario: { type: 'zone-outage', zone: 'us-east-1a' }, mode: 'DryRun' },
      ...(status ? { status } : {}),
    }) as unknown as FailoverDrill;

  it('has no report until the drill has finished', () => {
    expect(drillReport(drill())).toBeUndefined();
    expect(drillReport(drill({ phase: 'Running' }))).toBeUndefined();
  });

  it("is the finished drill's measures and lists, with passed from its result", () => {
    const report = drillReport(
      drill({ phase: 'Failed', result: 'Failed', rtoSeconds: 42, violations: [], summary: 'RTO 42s' } as never),
    );
    expect(report).toMatchObject({
      name: 'orders-zone-outage-abc123',
      policy: 'orders',
      result: 'Failed',
      passed: false,
      rtoSeconds: 42,
      rpoSeconds: null,
      actions: [],
      summary: 'RTO 42s',
    });
  });
});
