// The Route 53 adapter with the real SDK client against moto (through the fault proxy).

import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudError } from '../../../src/cloud/errors.ts';
import type { DnsRecord } from '../../../src/cloud/types.ts';
import { type AwsFixture, awsFixture } from './aws-fixture.ts';

const ZONE = 'example.test.';
const API = 'api.example.test.';

let fx: AwsFixture;
let zoneId: string;

const weighted = (setIdentifier: string, weight: number, value: string): DnsRecord => ({
  name: API,
  type: 'A',
  ttl: 60,
  values: [value],
  setIdentifier,
  weight,
});

const group = [
  weighted('use1-a', 100, '10.0.1.1'),
  weighted('use1-b', 100, '10.0.2.1'),
  weighted('use1-c', 100, '10.0.3.1'),
  weighted('usw2-a', 0, '10.1.1.1'),
  weighted('usw2-b', 0, '10.1.2.1'),
];

async function arrange() {
  const zone = await fx.sdk.route53.send(
    new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `ref-${Date.now()}-${Math.random()}` }),
  );
  zoneId = zone.HostedZone?.Id ?? '';
  // Neighbours the listing must not pick up: the same name with other types, and 120 other names that sort after
  // it (more than one default page of 100).
  await fx.sdk.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: API,
              Type: 'AAAA',
              TTL: 60,
              SetIdentifier: 'v6',
              Weight: 1,
              ResourceRecords: [{ Value: '2001:db8::1' }],
            },
          },
          {
            Action: 'CREATE',
            ResourceRecordSet: { Name: API, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"owner=platform"' }] },
          },
          ...Array.from({ length: 120 }, (_, i) => ({
            Action: 'CREATE' as const,
            ResourceRecordSet: {
              Name: `host-${String(i).padStart(3, '0')}.${ZONE}`,
              Type: 'A' as const,
              TTL: 300,
              ResourceRecords: [{ Value: `10.9.0.${i}` }],
            },
          })),
        ],
      },
    }),
  );
}

beforeEach(async () => {
  await fx?.tb.resetMoto();
  fx ??= awsFixture();
  fx.calls.length = 0;
  await arrange();
});
afterAll(() => fx?.close());

const bySetId = (records: DnsRecord[]) =>
  [...records].sort((a, b) => (a.setIdentifier ?? '').localeCompare(b.setIdentifier ?? ''));

describe('Route 53 adapter against moto', () => {
  it('creates weighted records in one batch and lists exactly that group back', async () => {
    const changeId = await fx.cloud.dns.upsertRecords(zoneId, group, 'failover-operator test: initial weights');
    expect(changeId).toMatch(/^[A-Z0-9]+$/);

    const listed = await fx.cloud.dns.listRecords(zoneId, 'api.example.test', 'A');
    expect(bySetId(listed)).toEqual(bySetId(group));
    const changes = fx.calls.filter((c) => c.operation === 'ChangeResourceRecordSets');
    expect(changes).toEqual([expect.objectContaining({ service: 'route53', region: 'us-east-1', ok: true })]);
  });

  it('changes all weights in one change batch, never deleting, and the change reaches INSYNC', async () => {
    await fx.cloud.dns.upsertRecords(zoneId, group, 'initial');
    const since = new Date().toISOString();

    // PB-5: drain us-east-1a, rescale the rest. Records are UPSERTed, including the one going to weight 0.
    const drained = [
      weighted('use1-a', 0, '10.0.1.1'),
      weighted('use1-b', 150, '10.0.2.1'),
      weighted('use1-c', 105, '10.0.3.1'),
    ];
    const changeId = await fx.cloud.dns.upsertRecords(zoneId, drained, 'PB-5 drained us-east-1a');

    let status = await fx.cloud.dns.getChangeStatus(changeId);
    for (let i = 0; status !== 'INSYNC' && i < 30; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await fx.cloud.dns.getChangeStatus(changeId);
    }
    expect(status).toBe('INSYNC');

    const weights = Object.fromEntries(
      (await fx.cloud.dns.listRecords(zoneId, API, 'A')).map((r) => [r.setIdentifier, r.weight]),
    );
    // The two us-west-2 records were not in the batch and are untouched: nothing was deleted.
    expect(weights).toEqual({ 'use1-a': 0, 'use1-b': 150, 'use1-c': 105, 'usw2-a': 0, 'usw2-b': 0 });

    const proxied = (await fx.tb.faults.log()).filter(
      (e) => e.at >= since && e.service === 'route53' && e.action === 'ChangeResourceRecordSets',
    );
    expect(proxied).toHaveLength(1);
    expect(proxied[0]).toMatchObject({ status: 200, effect: 'pass' });
  });

  it('reads and writes wildcard names whichever way they are spelled', async () => {
    const wildcard: DnsRecord[] = [
      { name: '*.example.test', type: 'A', ttl: 30, values: ['10.5.0.1'], setIdentifier: 'w1', weight: 10 },
      { name: '\\052.example.test.', type: 'A', ttl: 30, values: ['10.5.0.2'], setIdentifier: 'w2', weight: 20 },
    ];
    await fx.cloud.dns.upsertRecords(zoneId, wildcard, 'wildcards');
    for (const spelling of ['*.example.test.', '\\052.example.test', '*.EXAMPLE.test']) {
      const listed = await fx.cloud.dns.listRecords(zoneId, spelling, 'A');
      expect(bySetId(listed).map((r) => [r.name, r.setIdentifier, r.weight])).toEqual([
        ['*.example.test.', 'w1', 10],
        ['*.example.test.', 'w2', 20],
      ]);
    }
  });

  it('stops at the end of the group when a page is truncated inside the zone', async () => {
    await fx.cloud.dns.upsertRecords(zoneId, group.slice(0, 2), 'two members');
    const paged = awsFixture({ route53PageSize: 3 });
    try {
      // A page of 3 holds the 2 members plus the next name's record; moto marks it truncated.
      const listed = await paged.cloud.dns.listRecords(zoneId, API, 'A');
      expect(listed.map((r) => r.setIdentifier).sort()).toEqual(['use1-a', 'use1-b']);
      expect(paged.calls.filter((c) => c.operation === 'ListResourceRecordSets')).toHaveLength(1);
    } finally {
      paged.close();
    }
  });

  it('refuses a partial group when the server does not page by set identifier (moto ignores it)', async () => {
    await fx.cloud.dns.upsertRecords(zoneId, group, 'five members');
    const paged = awsFixture({ route53PageSize: 2 });
    try {
      const err = await paged.cloud.dns.listRecords(zoneId, API, 'A').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CloudError);
      expect(err).toMatchObject({ kind: 'terminal', code: 'PaginationNotProgressing' });
    } finally {
      paged.close();
    }
  });

  it('reports an unknown hosted zone as not-found, keeping Route 53 message', async () => {
    const err = await fx.cloud.dns.listRecords('ZNOSUCHZONE', API, 'A').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'not-found', code: 'NoSuchHostedZone' });
    expect((err as CloudError).message).toContain('ZNOSUCHZONE');
  });

  it('surfaces InvalidChangeBatch as terminal with the service message', async () => {
    const err = await fx.cloud.dns
      .upsertRecords(zoneId, [{ ...weighted('bad', 1, '10.0.0.1'), name: 'api.elsewhere.test.' }], 'wrong zone')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect((err as CloudError).kind).toBe('terminal');
    expect((err as CloudError).message.length).toBeGreaterThan(0);
    expect(fx.calls.at(-1)).toMatchObject({ operation: 'ChangeResourceRecordSets', ok: false });
  });
});
