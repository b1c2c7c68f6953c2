// listRecords' pagination against an in-memory Route 53 that pages the way the real service documents it (sorted by
// name with labels reversed, then type, then set identifier; Next* point at the first record of the next page;
// wildcard names come back as `\052`). moto ignores StartRecordIdentifier, so in-group paging is only testable here.

import {
  ChangeResourceRecordSetsCommand,
  type ChangeResourceRecordSetsCommandInput,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { DnsRecord } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { createRoute53Dns, normalizeDnsName } from './route53.ts';

interface StoredRecord {
  name: string; // as the caller wrote it, '*' unescaped
  type: string;
  id?: string;
  weight?: number;
  healthCheckId?: string;
}

const reversed = (name: string) => name.replace(/\.$/, '').split('.').reverse().join('.');
const toWireName = (name: string) => name.replace(/\*/g, '\\052');

/** A fake Route 53 that honours StartRecordName/Type/Identifier (or, like moto, ignores the identifier). */
function fakeRoute53(records: StoredRecord[], opts: { honourIdentifier?: boolean } = {}) {
  const sorted = [...records].sort((a, b) => {
    const byName = reversed(a.name).localeCompare(reversed(b.name));
    if (byName !== 0) return byName;
    if (a.type !== b.type) return a.type < b.type ? -1 : 1;
    return (a.id ?? '').localeCompare(b.id ?? '');
  });
  const requests: ListResourceRecordSetsCommandInput[] = [];
  const changes: ChangeResourceRecordSetsCommandInput[] = [];

  function list(input: ListResourceRecordSetsCommandInput): ListResourceRecordSetsCommandOutput {
    requests.push(input);
    const startName = reversed(normalizeDnsName(input.StartRecordName ?? ''));
    const startType = input.StartRecordType ?? '';
    const startId = opts.honourIdentifier === false ? '' : (input.StartRecordIdentifier ?? '');
    const from = sorted.findIndex((r) => {
      const n = reversed(r.name).localeCompare(startName);
      if (n !== 0) return n > 0;
      if (r.type !== startType) return r.type > startType;
      return (r.id ?? '').localeCompare(startId) >= 0;
    });
    const rest = from === -1 ? [] : sorted.slice(from);
    const max = input.MaxItems ?? 300;
    const page = rest.slice(0, max);
    const next = rest[max];
    const toWire = (r: StoredRecord): ResourceRecordSet => ({
      Name: toWireName(r.name),
      Type: r.type as ResourceRecordSet['Type'],
      TTL: 60,
      ResourceRecords: [{ Value: '192.0.2.1' }],
      ...(r.id !== undefined ? { SetIdentifier: r.id, Weight: r.weight ?? 0 } : {}),
      ...(r.healthCheckId !== undefined ? { HealthCheckId: r.healthCheckId } : {}),
    });
    return {
      $metadata: {},
      ResourceRecordSets: page.map(toWire),
      IsTruncated: next !== undefined,
      MaxItems: max,
      ...(next
        ? {
            NextRecordName: toWireName(next.name),
            NextRecordType: next.type as ResourceRecordSet['Type'],
            ...(next.id !== undefined ? { NextRecordIdentifier: next.id } : {}),
          }
        : {}),
    };
  }

  const client = {
    async send(cmd: unknown) {
      if (cmd instanceof ListResourceRecordSetsCommand) return list(cmd.input);
      if (cmd instanceof ChangeResourceRecordSetsCommand) {
        changes.push(cmd.input);
        return { $metadata: {}, ChangeInfo: { Id: '/change/C42', Status: 'PENDING', SubmittedAt: new Date(0) } };
      }
      throw new Error('unexpected command');
    },
  };
  const clients = { route53: () => client } as unknown as AwsClients;
  return { clients, requests, changes };
}

describe('normalizeDnsName', () => {
  it.each([
    ['api.example.com', 'api.example.com.'],
    ['api.example.com.', 'api.example.com.'],
    ['API.Example.COM.', 'api.example.com.'],
    ['\\052.example.com.', '*.example.com.'],
    ['*.example.com', '*.example.com.'],
    ['a\\100b.example.com.', 'a@b.example.com.'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeDnsName(input)).toBe(expected);
  });
});

describe('listRecords', () => {
  const group = Array.from({ length: 7 }, (_, i) => ({
    name: 'api.example.com.',
    type: 'A',
    id: `use1-${i}`,
    weight: i,
  }));
  const neighbours: StoredRecord[] = [
    { name: 'api.example.com.', type: 'AAAA', id: 'v6' },
    { name: 'api.example.com.', type: 'CNAME' },
    { name: 'b.api.example.com.', type: 'A', id: 'x' },
    { name: 'example.com.', type: 'A' },
    ...Array.from({ length: 120 }, (_, i) => ({ name: 'other.example.com.', type: 'A', id: `o${i}` })),
  ];

  it('follows NextRecordIdentifier across pages and stops at the end of the group', async () => {
    const { clients, requests } = fakeRoute53([...group, ...neighbours]);
    const dns = createRoute53Dns(clients, { pageSize: 3 });
    const got = await dns.listRecords('Z1', 'api.example.com', 'A');
    expect(got.map((r) => r.setIdentifier).sort()).toEqual(group.map((r) => r.id).sort());
    expect(got.every((r) => r.name === 'api.example.com.' && r.type === 'A')).toBe(true);
    expect(got.find((r) => r.setIdentifier === 'use1-3')?.weight).toBe(3);
    expect(requests.map((r) => r.StartRecordIdentifier)).toEqual([undefined, 'use1-3', 'use1-6']);
  });

  it('returns wildcard records under their decoded name', async () => {
    const { clients } = fakeRoute53([
      { name: '*.example.com.', type: 'A', id: 'w1', weight: 10 },
      { name: '*.example.com.', type: 'A', id: 'w2', weight: 20 },
      ...neighbours,
    ]);
    const got = await createRoute53Dns(clients, { pageSize: 1 }).listRecords('Z1', '\\052.example.com.', 'A');
    expect(got).toEqual([
      { name: '*.example.com.', type: 'A', ttl: 60, values: ['192.0.2.1'], setIdentifier: 'w1', weight: 10 },
      { name: '*.example.com.', type: 'A', ttl: 60, values: ['192.0.2.1'], setIdentifier: 'w2', weight: 20 },
    ]);
  });

  it('returns the HealthCheckId of a record that has one, and no healthCheckId key on one that does not', async () => {
    const { clients } = fakeRoute53([
      { name: 'api.example.com.', type: 'A', id: 'a', weight: 1, healthCheckId: 'hc-a' },
      { name: 'api.example.com.', type: 'A', id: 'b', weight: 1 },
    ]);
    const got = await createRoute53Dns(clients).listRecords('Z1', 'api.example.com.', 'A');
    expect(got.find((r) => r.setIdentifier === 'a')?.healthCheckId).toBe('hc-a');
    expect(got.find((r) => r.setIdentifier === 'b')).not.toHaveProperty('healthCheckId');
  });

  it('returns nothing, after one request, for a group that does not exist', async () => {
    const { clients, requests } = fakeRoute53(neighbours);
    await expect(createRoute53Dns(clients).listRecords('Z1', 'nope.example.com.', 'A')).resolves.toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it('refuses to loop when the service ignores StartRecordIdentifier (as moto does)', async () => {
    const { clients, requests } = fakeRoute53([...group, ...neighbours], { honourIdentifier: false });
    const err = await createRoute53Dns(clients, { pageSize: 3 })
      .listRecords('Z1', 'api.example.com.', 'A')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'terminal', code: 'PaginationNotProgressing' });
    expect(requests).toHaveLength(2);
  });

  it('returns exactly the (name, type) group for any zone and page size', async () => {
    const names = ['example.com.', 'api.example.com.', 'b.api.example.com.', '*.example.com.', 'zz.example.com.'];
    const types = ['A', 'AAAA', 'CNAME'];
    const recordArb = fc.record({
      name: fc.constantFrom(...names),
      type: fc.constantFrom(...types),
      id: fc.option(fc.stringMatching(/^[a-z0-9-]{1,6}$/), { nil: undefined }),
      weight: fc.integer({ min: 0, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(recordArb, { selector: (r) => `${r.name}|${r.type}|${r.id ?? ''}`, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(...names),
        fc.constantFrom(...types),
        async (records, pageSize, name, type) => {
          const { clients } = fakeRoute53(records);
          const got = await createRoute53Dns(clients, { pageSize }).listRecords('Z1', name, type);
          const key = (r: { id?: string | undefined; setIdentifier?: string | undefined }) =>
            r.id ?? r.setIdentifier ?? '';
          const expected = records.filter((r) => r.name === name && r.type === type).map(key);
          expect(got.map(key).sort()).toEqual(expected.sort());
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('listRecordsPage', () => {
  it('pages through every record of the zone exactly once, for any zone and page size', async () => {
    const names = ['example.com.', 'api.example.com.', 'b.api.example.com.', '*.example.com.', 'zz.example.com.'];
    const recordArb = fc.record({
      name: fc.constantFrom(...names),
      type: fc.constantFrom('A', 'AAAA', 'CNAME'),
      id: fc.option(fc.stringMatching(/^[a-z0-9-]{1,6}$/), { nil: undefined }),
      weight: fc.integer({ min: 0, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(recordArb, { selector: (r) => `${r.name}|${r.type}|${r.id ?? ''}`, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        async (records, pageSize) => {
          const { clients, requests } = fakeRoute53(records);
          const dns = createRoute53Dns(clients, { pageSize });
          const got: DnsRecord[] = [];
          let page = await dns.listRecordsPage('Z1', undefined);
          got.push(...page.records);
          while (page.next) {
            page = await dns.listRecordsPage('Z1', page.next);
            got.push(...page.records);
          }
          const key = (r: {
            name: string;
            type: string;
            id?: string | undefined;
            setIdentifier?: string | undefined;
          }) => `${normalizeDnsName(r.name)}|${r.type}|${r.id ?? r.setIdentifier ?? ''}`;
          expect(got.map(key).sort()).toEqual(records.map(key).sort());
          expect(requests).toHaveLength(Math.max(1, Math.ceil(records.length / pageSize)));
          expect(requests[0]?.StartRecordName).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('upsertRecords', () => {
  const records: DnsRecord[] = [
    { name: 'api.example.com', type: 'A', ttl: 60, values: ['10.0.0.1'], setIdentifier: 'a', weight: 0 },
    { name: 'api.example.com.', type: 'A', ttl: 60, values: ['10.0.0.2'], setIdentifier: 'b', weight: 255 },
  ];

  it('sends every record as an UPSERT in one change batch and returns the bare change id', async () => {
    const { clients, changes } = fakeRoute53([]);
    const id = await createRoute53Dns(clients).upsertRecords('Z1', records, 'PB-5 drained us-east-1a');
    expect(id).toBe('C42');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toEqual({
      HostedZoneId: 'Z1',
      ChangeBatch: {
        Comment: 'PB-5 drained us-east-1a',
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'api.example.com.',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '10.0.0.1' }],
              SetIdentifier: 'a',
              Weight: 0,
            },
          },
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'api.example.com.',
              Type: 'A',
              TTL: 60,
              ResourceRecords: [{ Value: '10.0.0.2' }],
              SetIdentifier: 'b',
              Weight: 255,
            },
          },
        ],
      },
    });
  });

  it('carries HealthCheckId on the records that have one (an UPSERT without it would detach the check)', async () => {
    const { clients, changes } = fakeRoute53([]);
    await createRoute53Dns(clients).upsertRecords(
      'Z1',
      [{ ...records[0]!, healthCheckId: 'hc-a' }, records[1]!],
      'attach the data-plane check',
    );
    const sets = changes[0]?.ChangeBatch?.Changes?.map((c) => c.ResourceRecordSet);
    expect(sets?.[0]).toMatchObject({ SetIdentifier: 'a', HealthCheckId: 'hc-a' });
    expect(sets?.[1]).not.toHaveProperty('HealthCheckId');
  });

  it('rejects an empty batch without calling Route 53', async () => {
    const { clients, changes } = fakeRoute53([]);
    await expect(createRoute53Dns(clients).upsertRecords('Z1', [], 'nothing')).rejects.toMatchObject({
      kind: 'terminal',
      code: 'EmptyChangeBatch',
    });
    expect(changes).toHaveLength(0);
  });
});
