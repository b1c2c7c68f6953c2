// Dns over Route 53. Weighted records are read per (name, type) group and written as UPSERTs in one change batch
// (Route 53 applies a batch atomically), never DELETEd: draining a zone is weight 0 (PB-5).
//
// Names: Route 53 returns names fully qualified with a trailing dot, lowercased, and with special characters as
// three-digit octal escapes — a wildcard comes back as `\052.example.com.`. We compare and return names decoded
// (`*.example.com.`), which is also the form Route 53 accepts in requests.

import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
  type RRType,
} from '@aws-sdk/client-route-53';
import { CloudError } from '../errors.ts';
import type { CallOptions, Dns, DnsChangeStatus, DnsListCursor, DnsRecord } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

const SERVICE = 'route53';

/** Route 53's ceiling for ListResourceRecordSets; a weighted group (≤100 members) fits in one page. */
export const MAX_LIST_PAGE_SIZE = 300;

/** Decodes `\ddd` octal escapes (`\052` → `*`), lowercases, and ensures the trailing dot. */
export function normalizeDnsName(name: string): string {
  const decoded = name.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
  const lower = decoded.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function toDnsRecord(rr: ResourceRecordSet): DnsRecord {
  return {
    name: normalizeDnsName(rr.Name ?? ''),
    type: rr.Type ?? '',
    ...(rr.TTL !== undefined ? { ttl: rr.TTL } : {}),
    values: (rr.ResourceRecords ?? []).flatMap((r) => (r.Value !== undefined ? [r.Value] : [])),
    ...(rr.SetIdentifier !== undefined ? { setIdentifier: rr.SetIdentifier } : {}),
    ...(rr.Weight !== undefined ? { weight: rr.Weight } : {}),
    ...(rr.HealthCheckId !== undefined ? { healthCheckId: rr.HealthCheckId } : {}),
  };
}

function toResourceRecordSet(record: DnsRecord): ResourceRecordSet {
  return {
    Name: normalizeDnsName(record.name),
    Type: record.type as RRType,
    ...(record.ttl !== undefined ? { TTL: record.ttl } : {}),
    ResourceRecords: record.values.map((Value) => ({ Value })),
    ...(record.setIdentifier !== undefined ? { SetIdentifier: record.setIdentifier } : {}),
    ...(record.weight !== undefined ? { Weight: record.weight } : {}),
    // An UPSERT without HealthCheckId detaches the record's check: callers carry it over from what they listed.
    ...(record.healthCheckId !== undefined ? { HealthCheckId: record.healthCheckId } : {}),
  };
}

/** Route 53 change ids come back as `/change/C123…`; we keep the bare id. */
function bareChangeId(id: string): string {
  return id.replace(/^\/?change\//, '');
}

export function createRoute53Dns(clients: AwsClients, opts: { pageSize?: number } = {}): Dns {
  const pageSize = Math.min(Math.max(opts.pageSize ?? MAX_LIST_PAGE_SIZE, 1), MAX_LIST_PAGE_SIZE);
  const r53 = (): Route53Client => clients.route53();

  return {
    /**
     * Lists from (name, type) onwards; Route 53 orders by name, then type, then set identifier, so the group ends at
     * the first record of another name or type. Pages continue with NextRecordName/Type/Identifier while they still
     * point inside the group.
     */
    async listRecords(hostedZoneId: string, name: string, type: string, callOpts: CallOptions = {}) {
      const wantName = normalizeDnsName(name);
      const found = new Map<string, DnsRecord>();
      let start: { name: string; type: string; identifier?: string } = { name: wantName, type };

      for (;;) {
        const page = await callAws(SERVICE, 'ListResourceRecordSets', () =>
          r53().send(
            new ListResourceRecordSetsCommand({
              HostedZoneId: hostedZoneId,
              StartRecordName: start.name,
              StartRecordType: start.type as RRType,
              ...(start.identifier !== undefined ? { StartRecordIdentifier: start.identifier } : {}),
              MaxItems: pageSize,
            }),
            { abortSignal: callOpts.signal },
          ),
        );

        let added = 0;
        let leftGroup = false;
        for (const rr of page.ResourceRecordSets ?? []) {
          const record = toDnsRecord(rr);
          if (record.name !== wantName || record.type !== type) {
            leftGroup = true;
            break;
          }
          const key = record.setIdentifier ?? '';
          if (!found.has(key)) added++;
          found.set(key, record);
        }

        const next = page.NextRecordName;
        const nextInGroup =
          page.IsTruncated === true &&
          next !== undefined &&
          normalizeDnsName(next) === wantName &&
          page.NextRecordType === type;
        if (leftGroup || !nextInGroup) break;
        if (added === 0) {
          // The service handed back the same page again (e.g. an emulator ignoring StartRecordIdentifier). Stop
          // rather than loop forever, and say so: a partial group would mislead the planner.
          throw new CloudError({
            kind: 'terminal',
            service: SERVICE,
            operation: 'ListResourceRecordSets',
            code: 'PaginationNotProgressing',
            message: `listing ${wantName} ${type} in ${hostedZoneId} returned a page with no new records`,
          });
        }
        start = {
          name: next,
          type: page.NextRecordType as string,
          ...(page.NextRecordIdentifier !== undefined ? { identifier: page.NextRecordIdentifier } : {}),
        };
      }
      return [...found.values()];
    },

    async listRecordsPage(hostedZoneId: string, start: DnsListCursor | undefined, callOpts: CallOptions = {}) {
      const page = await callAws(SERVICE, 'ListResourceRecordSets', () =>
        r53().send(
          new ListResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ...(start !== undefined
              ? {
                  StartRecordName: start.name,
                  StartRecordType: start.type as RRType,
                  ...(start.identifier !== undefined ? { StartRecordIdentifier: start.identifier } : {}),
                }
              : {}),
            MaxItems: pageSize,
          }),
          { abortSignal: callOpts.signal },
        ),
      );
      const records = (page.ResourceRecordSets ?? []).map(toDnsRecord);
      const next = page.NextRecordName;
      if (page.IsTruncated !== true || next === undefined || page.NextRecordType === undefined) return { records };
      return {
        records,
        next: {
          name: next,
          type: page.NextRecordType,
          ...(page.NextRecordIdentifier !== undefined ? { identifier: page.NextRecordIdentifier } : {}),
        },
      };
    },

    async upsertRecords(hostedZoneId: string, records: DnsRecord[], comment: string, callOpts: CallOptions = {}) {
      if (records.length === 0) {
        throw new CloudError({
          kind: 'terminal',
          service: SERVICE,
          operation: 'ChangeResourceRecordSets',
          code: 'EmptyChangeBatch',
          message: 'a change batch needs at least one record',
        });
      }
      const out = await callAws(SERVICE, 'ChangeResourceRecordSets', () =>
        r53().send(
          new ChangeResourceRecordSetsCommand({
            HostedZoneId: hostedZoneId,
            ChangeBatch: {
              Comment: comment,
              Changes: records.map((record) => ({ Action: 'UPSERT', ResourceRecordSet: toResourceRecordSet(record) })),
            },
          }),
          { abortSignal: callOpts.signal },
        ),
      );
      return bareChangeId(out.ChangeInfo?.Id ?? '');
    },

    async getChangeStatus(changeId: string, callOpts: CallOptions = {}): Promise<DnsChangeStatus> {
      const out = await callAws(SERVICE, 'GetChange', () =>
        r53().send(new GetChangeCommand({ Id: changeId }), { abortSignal: callOpts.signal }),
      );
      return out.ChangeInfo?.Status === 'INSYNC' ? 'INSYNC' : 'PENDING';
    },
  };
}
