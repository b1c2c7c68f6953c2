import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  EXAMPLES_DIR,
  INVALID_DRILLS,
  INVALID_POLICIES,
  type InvalidCase,
  loadExample,
} from './testdata/invalid-cases.ts';
import {
  applyDrillDefaults,
  applyPolicyDefaults,
  celMemoSize,
  type FieldError,
  formatFieldErrors,
  invalidSpecMessage,
  validateDrill,
  validatePolicy,
} from './validate.ts';

function expectRejected(testCase: InvalidCase, errors: FieldError[] | undefined) {
  expect(errors, `${testCase.name} was accepted`).toBeDefined();
  const expected = testCase.message ?? testCase.offline!;
  const match = errors!.find((error) => error.path === testCase.path && error.message.includes(expected));
  expect(
    match,
    `${testCase.name}: expected "${expected}" at ${testCase.path}, got\n${formatFieldErrors(errors!)}`,
  ).toBeDefined();
  expect(match!.fix.length).toBeGreaterThan(10);
}

describe('examples', () => {
  const files = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.yaml'));

  it('include the four documented examples', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'single-region-web.yaml',
        'two-region-rds.yaml',
        'drill-zone-outage.yaml',
        'drill-us-east-1-2011.yaml',
      ]),
    );
  });

  it.each(files)('%s is valid offline', (file) => {
    const object = parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
    const result = object.kind === 'FailoverPolicy' ? validatePolicy(object) : validateDrill(object);
    expect(result.ok ? [] : formatFieldErrors(result.errors)).toEqual([]);
  });
});

describe('validatePolicy', () => {
  it.each(INVALID_POLICIES.map((testCase) => [testCase.name, testCase] as const))('rejects %s', (_, testCase) => {
    const policy = loadExample(testCase.base);
    testCase.mutate(policy);
    const result = validatePolicy(policy);
    expectRejected(testCase, result.ok ? undefined : result.errors);
  });

  it('evaluates the CEL rules once per distinct spec: a status, finalizer or resourceVersion change reuses them', () => {
    const policy = loadExample('single-region-web');
    policy.spec.probes[0].http.url = `https://memo-${Date.now()}.example.com/{zone}`; // a spec no other test used
    const before = celMemoSize();
    expect(validatePolicy(policy).ok).toBe(true);
    expect(celMemoSize()).toBe(before + 1);
    const written = {
      ...structuredClone(policy),
      metadata: { ...policy.metadata, resourceVersion: '42', finalizers: ['failover.io/leave-aws-state'] },
      status: { observedGeneration: 1, phase: 'Healthy' },
    };
    expect(validatePolicy(written).ok).toBe(true);
    expect(celMemoSize()).toBe(before + 1);

    // A spec that breaks a CEL rule is rejected the same way from the memo, and the fixed spec is accepted again.
    const celCase = INVALID_POLICIES.find((c) => c.name === 'zone listed twice') ?? INVALID_POLICIES[0]!;
    const broken = loadExample(celCase.base);
    celCase.mutate(broken);
    broken.spec.probes[0].http.url = `https://memo-broken-${Date.now()}.example.com/{zone}`;
    const first = validatePolicy(broken);
    const again = validatePolicy({ ...structuredClone(broken), status: { phase: 'Healthy' } });
    expect(first.ok).toBe(false);
    expect(again).toEqual(first);
    expect(validatePolicy(written).ok).toBe(true);
  });

  it('covers at least 20 invalid policies, every CEL rule of the policy among them', () => {
    expect(INVALID_POLICIES.length).toBeGreaterThanOrEqual(20);
  });

  it('applies the schema defaults to what it returns, without touching its input', () => {
    const input = {
      apiVersion: 'failover.io/v1alpha1',
      kind: 'FailoverPolicy',
      metadata: { name: 'minimal' },
      spec: {
        regions: [{ name: 'eu-west-1', role: 'primary', zones: ['eu-west-1a', 'eu-west-1b'] }],
        probes: [{ name: 'api', http: { url: 'https://api.example.com/' } }],
        database: { rds: { primary: { region: 'eu-west-1', dbInstanceIdentifier: 'db' } } },
      },
    };
    const before = structuredClone(input);
    const result = validatePolicy(input);
    expect(input).toEqual(before);
    if (!result.ok) throw new Error(formatFieldErrors(result.errors));
    const spec = result.value.spec;
    expect(spec.suspend).toBe(false);
    expect(spec.dryRun).toBe(false);
    expect(spec.health).toEqual({
      intervalSeconds: 5,
      failureThreshold: 2,
      recoveryThreshold: 12,
      regionImpairedWhen: { impairedZones: 2 },
    });
    expect(spec.guardrails).toEqual({
      cooldownSeconds: 300,
      maxWritesPerMinute: 30,
      failback: { traffic: 'Automatic', database: 'Manual' },
    });
    expect(spec.probes[0]).toEqual({
      name: 'api',
      scope: 'Zone',
      http: { url: 'https://api.example.com/', timeoutSeconds: 2, allowLinkLocal: false },
    });
    expect(spec.database?.rds).toMatchObject({ maxLagSeconds: 30, promotion: 'Automatic' });
  });

  it('keeps values the user set over defaults', () => {
    const policy = loadExample('single-region-web');
    const result = validatePolicy(policy);
    if (!result.ok) throw new Error(formatFieldErrors(result.errors));
    expect(result.value.spec.health.recoveryThreshold).toBe(60);
    expect(result.value.spec.guardrails.cooldownSeconds).toBe(120);
    expect(result.value.spec.guardrails.failback).toEqual({ traffic: 'Automatic', database: 'Manual' });
  });

  it('validates the status the operator writes', () => {
    const policy = loadExample('two-region-rds');
    policy.status = {
      observedGeneration: 3,
      phase: 'FailedOver',
      activeRegion: 'us-west-2',
      degradedZones: 'us-east-1a,us-east-1b',
      conditions: [
        {
          type: 'FailedOver',
          status: 'True',
          reason: 'ReplicaPromoted',
          message: 'PB-6 promoted orders-usw2',
          lastTransitionTime: '2011-04-21T09:47:00Z',
          observedGeneration: 3,
        },
      ],
      zones: [
        {
          name: 'us-east-1a',
          region: 'us-east-1',
          state: 'Impaired',
          since: '2011-04-21T08:57:00Z',
          reasons: ['api failed 2 rounds'],
        },
      ],
      regions: [{ name: 'us-east-1', state: 'Impaired', since: '2011-04-21T09:41:00Z' }],
      activeWriter: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
      weights: { 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 100 },
      journal: [
        {
          id: 'promote/orders-usw2/1',
          action: 'PromoteReadReplica',
          target: 'orders-usw2',
          region: 'us-west-2',
          rule: 'PB-6',
          state: 'Done',
          startedAt: '2011-04-21T09:42:00Z',
          finishedAt: '2011-04-21T09:47:00Z',
        },
      ],
      lastFailover: {
        startedAt: '2011-04-21T09:41:00Z',
        detectedAt: '2011-04-21T08:57:00Z',
        completedAt: '2011-04-21T09:48:00Z',
        rpoSeconds: 4.5,
      },
    };
    expect(validatePolicy(policy).ok).toBe(true);

    policy.status.journal[0].state = 'Finished';
    policy.status.weights['use1-a'] = 256;
    const result = validatePolicy(policy);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((error) => error.path)).toEqual(['status.weights.use1-a', 'status.journal[0].state']);
  });

  it('rejects what is not a FailoverPolicy with a message, not an exception', () => {
    for (const input of [null, 'text', 42, [], { kind: 'FailoverPolicy' }]) {
      const result = validatePolicy(input);
      expect(result.ok).toBe(false);
    }
    const drill = loadExample('drill-zone-outage');
    const result = validatePolicy(drill);
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toContain('kind');
  });

  it('requires metadata.name', () => {
    const policy = loadExample('single-region-web');
    delete policy.metadata.name;
    const result = validatePolicy(policy);
    expect(result.ok ? undefined : result.errors[0]).toMatchObject({ path: 'metadata.name', message: 'is required' });
  });

  it('suggests the field or value that was probably meant', () => {
    const policy = loadExample('two-region-rds');
    policy.spec.guardrails.coolDownSeconds = 60;
    policy.spec.regions[1].role = 'Standby';
    const result = validatePolicy(policy);
    const errors = result.ok ? [] : result.errors;
    expect(errors.find((error) => error.path === 'spec.guardrails.coolDownSeconds')?.fix).toMatch(
      /^Did you mean cooldownSeconds\?/,
    );
    expect(errors.find((error) => error.path === 'spec.regions[1].role')?.fix).toMatch(/^Did you mean standby\?/);
  });

  it('skips CEL rules while a value has the wrong type or a required field is missing, as the apiserver does', () => {
    const policy = loadExample('single-region-web');
    policy.spec.health.failureThreshold = 'three';
    policy.spec.health.recoveryThreshold = 1;
    const result = validatePolicy(policy);
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['spec.health.failureThreshold']);

    const missing = loadExample('two-region-rds');
    delete missing.spec.database.rds.replicas[0].region;
    missing.spec.regions[1].role = 'primary';
    const second = validatePolicy(missing);
    expect(second.ok ? [] : second.errors.map((error) => error.path)).toEqual(['spec.database.rds.replicas[0].region']);
  });

  it('skips CEL rules when a list, string or map is over its bound, as the apiserver does (10,000 zones: fast)', () => {
    const policy = loadExample('single-region-web');
    policy.spec.regions[0].zones = Array.from({ length: 10_000 }, () => 'us-east-1a');
    const started = performance.now();
    const result = validatePolicy(policy);
    const elapsedMs = performance.now() - started;
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['spec.regions[0].zones']);
    // It took 25 s while the CEL rules compared 10,000 zones pairwise; generous bound, not a benchmark.
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it('checks metadata as the apiserver does, naming the field and the rule', () => {
    const policy = loadExample('single-region-web');
    policy.metadata.namespace = 'Shop';
    policy.metadata.labels = { 'example.com/team': 'web', 'a/b/c': 'x', ok: 'no spaces allowed' };
    policy.metadata.annotations = { 'Example.com/Note': 'fine: keys are checked lower-cased' };
    const result = validatePolicy(policy);
    const errors = result.ok ? [] : result.errors;
    expect(errors.map((error) => `${error.path}: ${error.message}`)).toEqual([
      "metadata.namespace: must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
      "metadata.labels[\"a/b/c\"]: key must be a qualified name: a name part with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      "metadata.labels[\"ok\"]: value must be empty or consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit",
    ]);
  });

  it('drops null fields and defaults them as the apiserver does; a null list item is still a type error', () => {
    const policy = loadExample('two-region-rds');
    policy.spec.dryRun = null;
    policy.spec.compute = null;
    policy.spec.guardrails.cooldownSeconds = null;
    policy.metadata.labels = { tier: null };
    const result = validatePolicy(policy);
    if (!result.ok) throw new Error(formatFieldErrors(result.errors));
    expect(result.value.spec.dryRun).toBe(false);
    expect('compute' in result.value.spec).toBe(false);
    expect(result.value.spec.guardrails.cooldownSeconds).toBe(300); // the schema default
    expect(result.value.metadata.labels).toEqual({ tier: '' });
    expect(policy.spec.dryRun).toBeNull(); // the input is left alone

    const nullZone = loadExample('single-region-web');
    nullZone.spec.regions[0].zones[1] = null;
    nullZone.spec.health = null;
    const second = validatePolicy(nullZone);
    expect(second.ok ? [] : second.errors.map((error) => `${error.path}: ${error.message}`)).toEqual([
      'spec.regions[0].zones[1]: must be a string, got null',
    ]);
  });

  it('accepts generateName instead of name, and checks it without its trailing dash', () => {
    const policy = loadExample('single-region-web');
    delete policy.metadata.name;
    policy.metadata.generateName = 'web-';
    expect(validatePolicy(policy).ok).toBe(true);
    policy.metadata.generateName = 'Web-';
    const result = validatePolicy(policy);
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual(['metadata.generateName']);
  });

  it('still runs CEL rules next to bounds and format errors, as the apiserver does', () => {
    const policy = loadExample('single-region-web');
    policy.spec.regions[0].zones[0] = 'use1-az1';
    const result = validatePolicy(policy);
    expect(result.ok ? [] : result.errors.map((error) => error.path)).toEqual([
      'spec.regions[0].zones[0]',
      'spec.traffic.route53.records',
      'spec.regions[0].zones',
    ]);
  });
});

describe('validateDrill', () => {
  it.each(INVALID_DRILLS.map((testCase) => [testCase.name, testCase] as const))('rejects %s', (_, testCase) => {
    const drill = loadExample(testCase.base);
    testCase.mutate(drill);
    const result = validateDrill(drill);
    expectRejected(testCase, result.ok ? undefined : result.errors);
  });

  it('defaults mode to DryRun, timeScale to 60, autoFailback to true and abort to false', () => {
    const drill = applyDrillDefaults({
      apiVersion: 'failover.io/v1alpha1',
      kind: 'FailoverDrill',
      metadata: { name: 'd' },
      spec: { policyRef: { name: 'orders' }, scenario: { type: 'region-outage', region: 'us-east-1' } },
    });
    expect(drill.spec).toMatchObject({ mode: 'DryRun', timeScale: 60, autoFailback: true, abort: false });
    expect(validateDrill(drill).ok).toBe(true);
  });
});

describe('round trip', () => {
  it.each(['single-region-web', 'two-region-rds', 'drill-zone-outage', 'drill-us-east-1-2011'] as const)(
    '%s: YAML → typed object → YAML → typed object is stable',
    (name) => {
      const validate = name.startsWith('drill') ? validateDrill : validatePolicy;
      const first = validate(loadExample(name));
      if (!first.ok) throw new Error(formatFieldErrors(first.errors));
      const yaml = stringify(first.value);
      const second = validate(parse(yaml));
      if (!second.ok) throw new Error(formatFieldErrors(second.errors));
      expect(second.value).toEqual(first.value);
      expect(stringify(second.value)).toBe(yaml);
    },
  );

  it('defaulting is idempotent', () => {
    const once = applyPolicyDefaults(loadExample('two-region-rds'));
    expect(applyPolicyDefaults(once)).toEqual(once);
  });
});

describe('invalidSpecMessage', () => {
  it('lists every error on one line for the InvalidSpec condition, with the first fix', () => {
    const policy = loadExample('two-region-rds');
    policy.spec.regions[1].role = 'primary';
    policy.spec.health.failureThreshold = 0;
    const result = validatePolicy(policy);
    if (result.ok) throw new Error('expected errors');
    const message = invalidSpecMessage(result.errors);
    // Making us-west-2 primary also makes it the primary region the example publishes its verdicts in.
    expect(message).toMatch(/^3 validation errors, no action is taken until fixed: /);
    expect(message).toContain('spec.health.failureThreshold: must be at least 1');
    expect(message).toContain('dataPlane.signalRegion us-west-2 is the primary region');
    expect(message).toContain('spec.regions: regions must contain exactly one region with role primary');
    expect(message).not.toContain('\n');
    expect(invalidSpecMessage(result.errors, 60)).toHaveLength(60);
  });
});

describe('formatFieldErrors', () => {
  it('prints path, message, value and fix, one error per block', () => {
    const text = formatFieldErrors(
      [
        {
          path: 'spec.health.failureThreshold',
          value: 0,
          message: 'must be at least 1',
          fix: 'Use 1 or more.',
          line: 12,
        },
        { path: 'spec.regions', message: 'is required', fix: 'Add regions.' },
      ],
      { file: 'policy.yaml' },
    );
    expect(text).toBe(
      [
        'policy.yaml:12: spec.health.failureThreshold: must be at least 1 (value: 0)',
        '    fix: Use 1 or more.',
        'policy.yaml:1: spec.regions: is required',
        '    fix: Add regions.',
      ].join('\n'),
    );
  });

  it('does not repeat a value the message already names', () => {
    const text = formatFieldErrors([
      {
        path: 'spec.regions[0].zones[1]',
        value: 'us-west-2b',
        message: 'zone us-west-2b does not belong',
        fix: 'Move it.',
      },
    ]);
    expect(text).not.toContain('(value:');
  });
});
