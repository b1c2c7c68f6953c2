import { describe, expect, it } from 'vitest';
import { listBuiltinScenarios, loadScenario, parseScenario, ScenarioError } from './scenario-loader.ts';
import { SCENARIO_LIMITS } from './scenario-schema.ts';

function issuesOf(yaml: string) {
  try {
    parseScenario(yaml, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as ScenarioError).issues;
  }
  throw new Error('expected the scenario to be rejected');
}

const minimal = (effect: string, extra = '') =>
  `name: t\n${extra}events:\n  - at: 1\n    effects:\n      - ${effect}\n`;

describe('loading scenarios', () => {
  it('ships the sixteen built-ins, each loading cleanly with machine-checkable expectations', () => {
    const names = listBuiltinScenarios().map((s) => s.name);
    expect(names).toEqual([
      'control-plane-brownout',
      'ec2-metadata-only',
      'flapping-zone',
      'gray-latency',
      'region-outage',
      'replica-lag-negative',
      'replica-lag-stale',
      'route53-writes-failing-7h',
      'route53-writes-failing',
      'slow-replica',
      'standby-unobservable',
      'us-east-1-2011',
      'vantage-in-failing-region',
      'vantage-partition',
      'vantage-region-outage',
      'zone-outage',
    ]);
    for (const name of names) {
      const s = loadScenario(name);
      expect(s.expect?.length).toBeGreaterThan(0);
      expect(s.expect?.every((e) => typeof e !== 'string' && e.text)).toBe(true);
    }
  });

  it('keeps the 2011 timeline: 15 events from minute 0 to 1800, sorted', () => {
    const s = loadScenario('us-east-1-2011');
    expect(s.events.map((e) => e.at)).toEqual([0, 46, 53, 114, 130, 194, 251, 364, 405, 437, 580, 695, 773, 820, 1800]);
    expect(s.durationMinutes).toBe(1830);
  });

  it('accepts durations such as 2m25s and prose-only expectations, and sorts events', () => {
    const s = parseScenario(
      'name: t\nevents:\n  - {at: 2m25s, effects: [{zone: us-east-1a, endpoints: ok}]}\n  - {at: 1, effects: [{zone: us-east-1a, endpoints: down}]}\nexpect: [just prose]\n',
      'inline',
    );
    expect(s.events.map((e) => e.at)).toEqual([1, 2 + 25 / 60]);
    expect(s.durationMinutes).toBeCloseTo(2 + 25 / 60 + 30);
  });

  it('names the field, what is wrong and the fix for a value out of range', () => {
    const [issue] = issuesOf(minimal('{zone: us-east-1a, service: ebs, apiErrorRate: 1.5}'));
    expect(issue!.path).toBe('events[0].effects[0].apiErrorRate');
    expect(issue!.message).toMatch(/1\.5/);
    expect(issue!.fix).toMatch(/between 0 and 1/);
  });

  it('reports an unknown field with the allowed ones', () => {
    const [issue] = issuesOf(minimal('{zone: us-east-1a, service: ebs, apiErorRate: 0.5}'));
    expect(issue!.path).toBe('events[0].effects[0].apiErorRate');
    expect(issue!.message).toMatch(/unknown field/);
    expect(issue!.fix).toMatch(/apiErrorRate/);
  });

  it('rejects unknown operations, fields of the wrong service, and effects without a scope or an outcome', () => {
    expect(
      issuesOf(minimal('{zone: us-east-1a, service: ec2, api: [RebootInstances, RebootInstance], hangs: true}'))[0],
    ).toMatchObject({
      path: 'events[0].effects[0].api[1]',
      fix: expect.stringContaining('RebootInstances'),
    });
    expect(issuesOf(minimal('{zone: us-east-1a, service: ebs, ioLatencyMs: 5}'))[0]).toMatchObject({
      path: 'events[0].effects[0].ioLatencyMs',
    });
    expect(issuesOf(minimal('{service: rds, apiErrorRate: 0.1}'))[0]!.message).toMatch(/neither a zone nor a region/);
    expect(issuesOf(minimal('{zone: us-east-1a, service: rds}'))[0]!.message).toMatch(/not what happens/);
    expect(issuesOf(minimal('{zone: us-east-1a, endpoints: slow}'))[0]!.message).toMatch(/needs latencyMs/);
  });

  it('checks zones against the declared ones and expectations for their parameters', () => {
    expect(issuesOf(minimal('{zone: us-east-1d, endpoints: down}', 'zones: [us-east-1a]\n'))[0]).toMatchObject({
      path: 'events[0].effects[0].zone',
    });
    const yaml = `${minimal('{zone: us-east-1a, endpoints: down}')}expect:\n  - {check: drain, text: drain it}\n`;
    expect(issuesOf(yaml)[0]).toMatchObject({ path: 'expect[0]', message: 'check drain needs zones' });
  });

  it('reports YAML syntax errors with line and column, and never throws anything but ScenarioError', () => {
    const [issue] = issuesOf('name: t\nevents:\n  - at: 1\n    effects: [{zone: us-east-1a\n');
    expect(issue!.path).toMatch(/^line \d+, column \d+$/);
    expect(issuesOf('- just a list\n')[0]!.message).toMatch(/not a YAML mapping/);
    expect(issuesOf('name: t\n')[0]).toMatchObject({ path: 'events', message: 'is required' });
  });

  it('explains an unknown built-in name', () => {
    expect(() => loadScenario('zone-outtage')).toThrow(ScenarioError);
    try {
      loadScenario('zone-outtage');
    } catch (err) {
      expect((err as ScenarioError).message).toMatch(/no built-in scenario named zone-outtage/);
      expect((err as ScenarioError).issues[0]!.fix).toMatch(/zone-outage/);
    }
  });

  it('caps the duration, the number of events and the file size, naming the field and the cap', () => {
    expect(issuesOf(minimal('{zone: us-east-1a, endpoints: down}', 'durationMinutes: 1e9\n'))[0]).toMatchObject({
      path: 'durationMinutes',
      fix: expect.stringContaining('at most 10080 (a week)'),
    });
    expect(
      issuesOf('name: t\nevents:\n  - {at: 99999h, effects: [{zone: us-east-1a, endpoints: down}]}\n')[0],
    ).toMatchObject({
      path: 'events[0].at',
      message: expect.stringContaining('past the longest simulation (10080 minutes, a week)'),
    });
    const event = '  - {at: 1, effects: [{zone: us-east-1a, endpoints: down}]}\n';
    const started = performance.now();
    expect(issuesOf(`name: t\nevents:\n${event.repeat(SCENARIO_LIMITS.events + 1)}`)[0]).toMatchObject({
      path: 'events',
      message: expect.stringContaining(`${SCENARIO_LIMITS.events}`),
    });
    const tooBig = `name: t\nevents:\n${event.repeat(20_000)}`;
    expect(issuesOf(tooBig)[0]!.message).toMatch(/more than the 1048576 a scenario may have/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses an alias bomb and an alias to no anchor, and reads yes/on as kubectl does', () => {
    const bomb = [
      'name: t',
      'x: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]',
      'y: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'z: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'events: []',
    ].join('\n');
    expect(issuesOf(bomb)[0]!.message).toMatch(/aliases expand to too many nodes/);
    expect(issuesOf(minimal('{zone: *z, endpoints: down}'))[0]!.message).toMatch(/names no anchor/);
    const s = parseScenario(minimal('{zone: us-east-1a, service: rds, hangs: yes}'), 'inline');
    expect(s.events[0]!.effects![0]!.hangs).toBe(true);
  });

  it('vantage events: partition, heal and vantageDown, with forMinutes healing by itself', () => {
    const s = parseScenario(
      [
        'name: t',
        'vantages: [{name: use1, region: us-east-1}]',
        'events:',
        '  - {at: 2, partition: {vantage: use1, regions: [us-east-1], scope: endpoints, forMinutes: 5}}',
        '  - {at: 3, vantageDown: {vantage: usw2}}',
      ].join('\n'),
      'inline',
    );
    expect(s.events.map((e) => [e.at, e.partition?.vantage, e.heal?.vantage, e.vantageDown?.vantage])).toEqual([
      [2, 'use1', undefined, undefined],
      [3, undefined, undefined, 'usw2'],
      [7, undefined, 'use1', undefined],
    ]);
    expect(s.events[2]!.heal?.regions).toEqual(['us-east-1']);
    // The heal does not move the default duration: 30 minutes after the last event given.
    expect(s.durationMinutes).toBe(33);
  });

  it('names the field of a wrong vantage event: unknown scope, missing regions, an event that does nothing, a vantage placed twice', () => {
    const scope = issuesOf(
      'name: t\nevents:\n  - {at: 1, partition: {vantage: use1, regions: [us-east-1], scope: dns}}\n',
    );
    expect(scope[0]!.path).toBe('events[0].partition.scope');
    expect(scope[0]!.fix).toContain('endpoints, aws, all');
    const regions = issuesOf('name: t\nevents:\n  - {at: 1, partition: {vantage: use1}}\n');
    expect(regions[0]!.path).toBe('events[0].partition.regions');
    const nothing = issuesOf('name: t\nevents:\n  - {at: 1, note: quiet}\n');
    expect(nothing[0]).toMatchObject({ path: 'events[0]', message: expect.stringContaining('does nothing') });
    const twice = issuesOf(
      'name: t\nvantages: [{name: a1, region: us-east-1}, {name: a1, region: us-west-2}]\nevents:\n  - {at: 1, vantageDown: {vantage: a1}}\n',
    );
    expect(twice[0]!.path).toBe('vantages[1].name');
    const unknown = issuesOf('name: t\nevents:\n  - {at: 1, heal: {vantage: use1, region: us-east-1}}\n');
    expect(unknown[0]).toMatchObject({ path: 'events[0].heal.region', message: 'unknown field "region"' });
  });
});
