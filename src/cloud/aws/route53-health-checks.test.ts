// The health-check adapter against an in-memory Route 53 that behaves as the service documents: the same
// CallerReference with the same settings answers with the existing check; with other settings (or after the check
// was deleted) HealthCheckAlreadyExists; ListHealthChecks pages with Marker/NextMarker; ListTagsForResources takes
// at most 10 ids. moto honours none of the CallerReference rules and does not page, so these are tested here.

import {
  ChangeTagsForResourceCommand,
  type ChangeTagsForResourceCommandInput,
  CreateHealthCheckCommand,
  type CreateHealthCheckCommandInput,
  type HealthCheck,
  type HealthCheckConfig,
  ListHealthChecksCommand,
  type ListHealthChecksCommandInput,
  ListTagsForResourcesCommand,
  type ListTagsForResourcesCommandInput,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { AlarmHealthCheckSpec } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { conflictingSettings, createRoute53HealthChecks } from './route53-health-checks.ts';

const sdkError = (name: string, status: number, message = name) =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });

interface FakeOpts {
  /** Settings compared for the same reference; `false` creates a duplicate like moto does. */
  honourReference?: boolean;
  /** Report AlarmIdentifier / InsufficientDataHealthStatus in listings (moto does not). */
  reportAlarm?: boolean;
  pageSize?: number;
  failOn?: string;
}

function fakeRoute53(opts: FakeOpts = {}) {
  const checks: HealthCheck[] = [];
  const deletedReferences = new Set<string>();
  const tags = new Map<string, Record<string, string>>();
  const sent: Array<{ op: string; input: unknown; signal: AbortSignal | undefined }> = [];
  let nextId = 1;
  const sameConfig = (a: HealthCheckConfig | undefined, b: HealthCheckConfig | undefined) =>
    JSON.stringify(a) === JSON.stringify(b);
  const listed = (hc: HealthCheck): HealthCheck => {
    if (opts.reportAlarm !== false) return hc;
    const { AlarmIdentifier: _a, InsufficientDataHealthStatus: _i, ...rest } = hc.HealthCheckConfig ?? {};
    return { ...hc, HealthCheckConfig: rest as HealthCheckConfig };
  };

  const client = {
    async send(cmd: { input: unknown }, options?: { abortSignal?: AbortSignal }) {
      const op = cmd.constructor.name.replace(/Command$/, '');
      sent.push({ op, input: cmd.input, signal: options?.abortSignal });
      if (opts.failOn === op) throw sdkError('InternalError', 500);
      if (cmd instanceof CreateHealthCheckCommand) {
        const input = cmd.input as CreateHealthCheckCommandInput;
        if (opts.honourReference !== false) {
          if (deletedReferences.has(input.CallerReference ?? '')) throw sdkError('HealthCheckAlreadyExists', 409);
          const existing = checks.find((c) => c.CallerReference === input.CallerReference);
          if (existing) {
            if (!sameConfig(existing.HealthCheckConfig, input.HealthCheckConfig)) {
              throw sdkError('HealthCheckAlreadyExists', 409);
            }
            return { $metadata: {}, HealthCheck: existing, Location: '' };
          }
        }
        const hc: HealthCheck = {
          Id: `hc-${nextId++}`,
          CallerReference: input.CallerReference,
          HealthCheckConfig: input.HealthCheckConfig,
          HealthCheckVersion: 1,
        };
        checks.push(hc);
        return { $metadata: {}, HealthCheck: hc, Location: '' };
      }
      if (cmd instanceof ListHealthChecksCommand) {
        const input = cmd.input as ListHealthChecksCommandInput;
        const size = Math.min(opts.pageSize ?? 1000, input.MaxItems ?? 100);
        const from = input.Marker === undefined ? 0 : checks.findIndex((c) => c.Id === input.Marker);
        const page = checks.slice(from, from + size);
        const next = checks[from + size];
        return {
          $metadata: {},
          HealthChecks: page.map(listed),
          Marker: input.Marker ?? '',
          IsTruncated: next !== undefined,
          MaxItems: size,
          ...(next ? { NextMarker: next.Id } : {}),
        };
      }
      if (cmd instanceof ListTagsForResourcesCommand) {
        const input = cmd.input as ListTagsForResourcesCommandInput;
        if ((input.ResourceIds ?? []).length > 10) throw sdkError('InvalidInput', 400, 'too many ids');
        return {
          $metadata: {},
          ResourceTagSets: (input.ResourceIds ?? []).map((id) => ({
            ResourceType: 'healthcheck',
            ResourceId: id,
            Tags: Object.entries(tags.get(id) ?? {}).map(([Key, Value]) => ({ Key, Value })),
          })),
        };
      }
      if (cmd instanceof ChangeTagsForResourceCommand) {
        const input = cmd.input as ChangeTagsForResourceCommandInput;
        const current = tags.get(input.ResourceId ?? '') ?? {};
        for (const t of input.AddTags ?? []) current[t.Key ?? ''] = t.Value ?? '';
        tags.set(input.ResourceId ?? '', current);
        return { $metadata: {} };
      }
      throw new Error(`unexpected command ${op}`);
    },
  };
  const clients = { route53: () => client } as unknown as AwsClients;
  return {
    clients,
    checks,
    tags,
    sent,
    deleteCheck(id: string) {
      const i = checks.findIndex((c) => c.Id === id);
      const [gone] = checks.splice(i, 1);
      deletedReferences.add(gone?.CallerReference ?? '');
    },
  };
}

const spec = (over: Partial<AlarmHealthCheckSpec> = {}): AlarmHealthCheckSpec => ({
  callerReference: 'fo-orders-api-use1-a-v1',
  alarm: { region: 'us-west-2', name: 'failover-operator-orders-api-use1-a' },
  insufficientDataHealthStatus: 'LastKnownStatus',
  tags: { 'failover.io/policy': 'orders', 'failover.io/record': 'use1-a' },
  ...over,
});

describe('createAlarmHealthCheck', () => {
  it('creates a CLOUDWATCH_METRIC check bound to the alarm, then tags it; passes the abort signal', async () => {
    const fake = fakeRoute53();
    const signal = new AbortController().signal;
    const turns: number[] = [];
    const nextRequest = async () => void turns.push(fake.sent.length);
    const id = await createRoute53HealthChecks(fake.clients).createAlarmHealthCheck(spec(), { signal, nextRequest });
    expect(id).toBe('hc-1');
    expect(fake.sent.map((s) => s.op)).toEqual(['CreateHealthCheck', 'ChangeTagsForResource']);
    expect(turns).toEqual([1]); // the tags waited for their own grant, after the check was created
    expect(fake.sent[0]?.input).toEqual({
      CallerReference: 'fo-orders-api-use1-a-v1',
      HealthCheckConfig: {
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Region: 'us-west-2', Name: 'failover-operator-orders-api-use1-a' },
        InsufficientDataHealthStatus: 'LastKnownStatus',
      },
    });
    expect(fake.sent[1]?.input).toEqual({
      ResourceType: 'healthcheck',
      ResourceId: 'hc-1',
      AddTags: [
        { Key: 'failover.io/policy', Value: 'orders' },
        { Key: 'failover.io/record', Value: 'use1-a' },
      ],
    });
    expect(fake.sent.every((s) => s.signal === signal)).toBe(true);
  });

  it('returns the same check for the same reference and settings (Route 53 answers with it), and re-tags it', async () => {
    const fake = fakeRoute53();
    const hc = createRoute53HealthChecks(fake.clients);
    const first = await hc.createAlarmHealthCheck(spec());
    const second = await hc.createAlarmHealthCheck(spec({ tags: { 'failover.io/policy': 'orders', extra: 'x' } }));
    expect(second).toBe(first);
    expect(fake.checks).toHaveLength(1);
    expect(fake.tags.get(first)).toEqual({
      'failover.io/policy': 'orders',
      'failover.io/record': 'use1-a',
      extra: 'x',
    });
  });

  it('on HealthCheckAlreadyExists returns the check of that reference when it follows the same alarm', async () => {
    // The service refused (e.g. a setting we do not send differs), but the check found is the one we want.
    const fake = fakeRoute53({ pageSize: 2 });
    const hc = createRoute53HealthChecks(fake.clients);
    for (let i = 0; i < 3; i++) await hc.createAlarmHealthCheck(spec({ callerReference: `other-${i}`, tags: {} }));
    const id = await hc.createAlarmHealthCheck(spec());
    // The stored check differs in a setting the adapter does not compare (HealthCheckVersion-like noise).
    const stored = fake.checks.find((c) => c.Id === id);
    stored!.HealthCheckConfig = { ...stored!.HealthCheckConfig!, MeasureLatency: false } as HealthCheckConfig;
    fake.sent.length = 0;
    await expect(hc.createAlarmHealthCheck(spec())).resolves.toBe(id);
    expect(fake.sent.map((s) => s.op)).toEqual([
      'CreateHealthCheck',
      'ListHealthChecks',
      'ListHealthChecks',
      'ChangeTagsForResource',
    ]);
  });

  it('on HealthCheckAlreadyExists with another alarm, raises a terminal error naming the reference and the check', async () => {
    const fake = fakeRoute53();
    const hc = createRoute53HealthChecks(fake.clients);
    const id = await hc.createAlarmHealthCheck(spec());
    const err = await hc
      .createAlarmHealthCheck(spec({ alarm: { region: 'us-west-2', name: 'failover-operator-other' } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'terminal', code: 'HealthCheckAlreadyExists', operation: 'CreateHealthCheck' });
    expect((err as Error).message).toContain('fo-orders-api-use1-a-v1');
    expect((err as Error).message).toContain(id);
    expect((err as Error).message).toContain('AlarmIdentifier us-west-2/failover-operator-orders-api-use1-a');
    expect(fake.checks).toHaveLength(1);
  });

  it('on HealthCheckAlreadyExists for a deleted check, raises a terminal error saying the reference is spent', async () => {
    const fake = fakeRoute53();
    const hc = createRoute53HealthChecks(fake.clients);
    fake.deleteCheck(await hc.createAlarmHealthCheck(spec()));
    await expect(hc.createAlarmHealthCheck(spec())).rejects.toMatchObject({
      kind: 'terminal',
      code: 'HealthCheckAlreadyExists',
      message: expect.stringContaining('no longer exists'),
    });
  });

  it('refuses more than 10 tags before creating anything', async () => {
    const fake = fakeRoute53();
    const tags = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    await expect(createRoute53HealthChecks(fake.clients).createAlarmHealthCheck(spec({ tags }))).rejects.toMatchObject({
      kind: 'terminal',
      code: 'TooManyTags',
    });
    expect(fake.sent).toEqual([]);
  });

  it('skips ChangeTagsForResource when there are no tags', async () => {
    const fake = fakeRoute53();
    await createRoute53HealthChecks(fake.clients).createAlarmHealthCheck(spec({ tags: {} }));
    expect(fake.sent.map((s) => s.op)).toEqual(['CreateHealthCheck']);
  });

  it('reports service failures as CloudError of the failing operation', async () => {
    const fake = fakeRoute53({ failOn: 'ChangeTagsForResource' });
    await expect(createRoute53HealthChecks(fake.clients).createAlarmHealthCheck(spec())).rejects.toMatchObject({
      kind: 'retryable',
      service: 'route53',
      operation: 'ChangeTagsForResource',
    });
  });
});

describe('conflictingSettings', () => {
  const base: HealthCheck = {
    Id: 'hc-1',
    CallerReference: 'r',
    HealthCheckVersion: 1,
    HealthCheckConfig: {
      Type: 'CLOUDWATCH_METRIC',
      AlarmIdentifier: { Region: 'us-west-2', Name: 'failover-operator-orders-api-use1-a' },
      InsufficientDataHealthStatus: 'LastKnownStatus',
    },
  };
  it('finds nothing to object to in the check asked for, nor in one that reports no alarm settings (moto)', () => {
    expect(conflictingSettings(base, spec())).toEqual([]);
    expect(
      conflictingSettings({ ...base, HealthCheckConfig: { Type: 'CLOUDWATCH_METRIC', Inverted: false } }, spec()),
    ).toEqual([]);
  });
  it('names every setting that would stop the record from draining as the operator says', () => {
    const other: HealthCheck = {
      ...base,
      HealthCheckConfig: {
        Type: 'CLOUDWATCH_METRIC',
        AlarmIdentifier: { Region: 'us-east-1', Name: 'x' },
        InsufficientDataHealthStatus: 'Healthy',
        Inverted: true,
        Disabled: true,
      },
    };
    expect(conflictingSettings(other, spec())).toEqual([
      'AlarmIdentifier us-east-1/x',
      'InsufficientDataHealthStatus Healthy',
      'Inverted true',
      'Disabled true',
    ]);
    expect(conflictingSettings({ ...base, HealthCheckConfig: { Type: 'HTTP' } }, spec())).toEqual(['Type HTTP']);
  });
});

describe('listHealthChecks', () => {
  it('pages ListHealthChecks, fetches tags 10 ids at a time, and keeps the checks carrying every selector tag', async () => {
    const fake = fakeRoute53({ pageSize: 7 });
    const hc = createRoute53HealthChecks(fake.clients);
    for (let i = 0; i < 23; i++) {
      await hc.createAlarmHealthCheck(
        spec({
          callerReference: `ref-${i}`,
          alarm: { region: 'us-west-2', name: `failover-operator-${i}` },
          tags: { 'failover.io/policy': i % 2 === 0 ? 'orders' : 'billing', 'failover.io/record': `r${i}` },
        }),
      );
    }
    fake.sent.length = 0;
    const signal = new AbortController().signal;
    const turns: number[] = [];
    const nextRequest = async () => void turns.push(fake.sent.length);
    const got = await hc.listHealthChecks({ 'failover.io/policy': 'orders' }, { signal, nextRequest });
    // 4 pages and 3 tag reads: every request after the first waited for its own grant, right before it went out.
    expect(turns).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got.map((c) => c.callerReference)).toEqual(Array.from({ length: 12 }, (_, i) => `ref-${i * 2}`));
    expect(got[0]).toEqual({
      id: 'hc-1',
      callerReference: 'ref-0',
      type: 'CLOUDWATCH_METRIC',
      alarm: { region: 'us-west-2', name: 'failover-operator-0' },
      insufficientDataHealthStatus: 'LastKnownStatus',
      tags: { 'failover.io/policy': 'orders', 'failover.io/record': 'r0' },
    });
    const lists = fake.sent.filter((s) => s.op === 'ListHealthChecks');
    expect(lists.map((s) => (s.input as ListHealthChecksCommandInput).Marker)).toEqual([
      undefined,
      'hc-8',
      'hc-15',
      'hc-22',
    ]);
    const tagCalls = fake.sent.filter((s) => s.op === 'ListTagsForResources');
    expect(tagCalls.map((s) => (s.input as ListTagsForResourcesCommandInput).ResourceIds?.length)).toEqual([10, 10, 3]);
    expect(tagCalls.every((s) => (s.input as ListTagsForResourcesCommandInput).ResourceType === 'healthcheck')).toBe(
      true,
    );
    expect(fake.sent.every((s) => s.signal === signal)).toBe(true);
  });

  it('returns checks without the alarm fields when the service does not report them (moto)', async () => {
    const fake = fakeRoute53({ reportAlarm: false });
    const hc = createRoute53HealthChecks(fake.clients);
    await hc.createAlarmHealthCheck(spec());
    const [only] = await hc.listHealthChecks({ 'failover.io/record': 'use1-a' });
    expect(only).toEqual({
      id: 'hc-1',
      callerReference: 'fo-orders-api-use1-a-v1',
      type: 'CLOUDWATCH_METRIC',
      tags: { 'failover.io/policy': 'orders', 'failover.io/record': 'use1-a' },
    });
  });

  it('makes one request and no tag request when the account has no checks', async () => {
    const fake = fakeRoute53();
    await expect(createRoute53HealthChecks(fake.clients).listHealthChecks({ a: 'b' })).resolves.toEqual([]);
    expect(fake.sent.map((s) => s.op)).toEqual(['ListHealthChecks']);
  });
});
