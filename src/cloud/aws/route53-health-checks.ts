// HealthChecks over Route 53: the CLOUDWATCH_METRIC health checks of the data-plane path (docs/static-stability.md).
// They are created in steady state, through the Route 53 control plane (us-east-1); during an event nothing here is
// called. Each check follows one CloudWatch alarm; a record carrying the check is skipped by resolvers while the
// alarm is in ALARM.
//
// Idempotency (CallerReference). Route 53 itself answers a repeated CreateHealthCheck with the same CallerReference
// and the same settings with the check it already has. It answers HealthCheckAlreadyExists (409) when the reference
// belongs to a check with other settings, or to a check that was deleted. On that error the adapter looks the
// reference up (ListHealthChecks) and:
//   - returns the existing check's id when the check follows the alarm asked for, with the same
//     InsufficientDataHealthStatus, and is neither inverted nor disabled. Settings the service does not report are
//     not compared (real Route 53 reports all of them for a CLOUDWATCH_METRIC check; moto reports none of the alarm
//     settings);
//   - raises a terminal CloudError (code HealthCheckAlreadyExists) naming the reference, the existing check and the
//     differing settings otherwise: a record bound to a check that follows another alarm, or to an inverted or
//     disabled one, would not drain when the operator says so. The caller must use a new reference (e.g. one that
//     includes a digest of the settings) and move the record to the new check;
//   - raises the same terminal error when no check carries the reference (it was deleted: Route 53 never reuses a
//     reference, whatever the settings).
//
// Tags: after the create (new or existing check) ChangeTagsForResource sets the spec's tags, so a retry after a crash
// between the two calls repairs a check that was created untagged. Route 53 accepts at most 10 tags per request and
// per check; more is refused before anything is created, so no untaggable check is left behind.
//
// Listing: ListHealthChecks pages with Marker/NextMarker (up to 1,000 checks per page, the service maximum) over
// every check in the account; tags come from ListTagsForResources, at most 10 ids per request.

import {
  ChangeTagsForResourceCommand,
  type CloudWatchRegion,
  CreateHealthCheckCommand,
  type HealthCheck,
  ListHealthChecksCommand,
  ListTagsForResourcesCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { CloudError } from '../errors.ts';
import { createRequestPacer } from '../request-pacer.ts';
import type {
  AlarmHealthCheckSpec,
  CallOptions,
  HealthChecks,
  InsufficientDataHealthStatus,
  ObservedHealthCheck,
} from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

const SERVICE = 'route53';

/** ListHealthChecks' ceiling per page. */
export const MAX_HEALTH_CHECK_PAGE = 1000;
/** ListTagsForResources takes at most 10 resource ids. */
export const MAX_TAGGED_IDS_PER_REQUEST = 10;
/** ChangeTagsForResource adds at most 10 tags, and a health check carries at most 10. */
export const MAX_TAGS_PER_CHECK = 10;

const INSUFFICIENT_DATA_STATUSES: ReadonlySet<string> = new Set(['Healthy', 'Unhealthy', 'LastKnownStatus']);

function toObserved(hc: HealthCheck, tags: Record<string, string>): ObservedHealthCheck {
  const config = hc.HealthCheckConfig;
  const alarm = config?.AlarmIdentifier;
  const insufficient = config?.InsufficientDataHealthStatus;
  return {
    id: hc.Id ?? '',
    callerReference: hc.CallerReference ?? '',
    type: config?.Type ?? '',
    ...(alarm?.Region !== undefined && alarm.Name !== undefined
      ? { alarm: { region: alarm.Region, name: alarm.Name } }
      : {}),
    ...(insufficient !== undefined && INSUFFICIENT_DATA_STATUSES.has(insufficient)
      ? { insufficientDataHealthStatus: insufficient as InsufficientDataHealthStatus }
      : {}),
    tags,
  };
}

/** The settings of `existing` that differ from what `spec` asks for; settings the service did not report are skipped. */
export function conflictingSettings(existing: HealthCheck, spec: AlarmHealthCheckSpec): string[] {
  const config = existing.HealthCheckConfig;
  const differences: string[] = [];
  if (config?.Type !== 'CLOUDWATCH_METRIC') differences.push(`Type ${config?.Type ?? '(none)'}`);
  const alarm = config?.AlarmIdentifier;
  if (alarm !== undefined && (alarm.Region !== spec.alarm.region || alarm.Name !== spec.alarm.name)) {
    differences.push(`AlarmIdentifier ${alarm.Region ?? '?'}/${alarm.Name ?? '?'}`);
  }
  const insufficient = config?.InsufficientDataHealthStatus;
  if (insufficient !== undefined && insufficient !== spec.insufficientDataHealthStatus) {
    differences.push(`InsufficientDataHealthStatus ${insufficient}`);
  }
  if (config?.Inverted === true) differences.push('Inverted true');
  if (config?.Disabled === true) differences.push('Disabled true');
  return differences;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function errorCode(err: unknown): string | undefined {
  return err instanceof CloudError ? err.code : undefined;
}

export function createRoute53HealthChecks(clients: AwsClients): HealthChecks {
  const r53 = (): Route53Client => clients.route53();

  /** Every health check of the account, page by page, each page in its turn (`pace`). */
  async function listAll(callOpts: CallOptions, pace: () => Promise<void>): Promise<HealthCheck[]> {
    const all: HealthCheck[] = [];
    const seenMarkers = new Set<string>();
    let marker: string | undefined;
    for (;;) {
      await pace();
      const page = await callAws(SERVICE, 'ListHealthChecks', () =>
        r53().send(
          new ListHealthChecksCommand({
            ...(marker !== undefined ? { Marker: marker } : {}),
            MaxItems: MAX_HEALTH_CHECK_PAGE,
          }),
          { abortSignal: callOpts.signal },
        ),
      );
      all.push(...(page.HealthChecks ?? []));
      const next = page.NextMarker;
      if (page.IsTruncated !== true || next === undefined || next === '') break;
      if (seenMarkers.has(next)) {
        throw new CloudError({
          kind: 'terminal',
          service: SERVICE,
          operation: 'ListHealthChecks',
          code: 'PaginationNotProgressing',
          message: `ListHealthChecks handed back marker ${next} twice`,
        });
      }
      seenMarkers.add(next);
      marker = next;
    }
    return all;
  }

  async function tagsOf(
    ids: string[],
    callOpts: CallOptions,
    pace: () => Promise<void>,
  ): Promise<Map<string, Record<string, string>>> {
    const tags = new Map<string, Record<string, string>>();
    for (const batch of chunks(ids, MAX_TAGGED_IDS_PER_REQUEST)) {
      await pace();
      const out = await callAws(SERVICE, 'ListTagsForResources', () =>
        r53().send(new ListTagsForResourcesCommand({ ResourceType: 'healthcheck', ResourceIds: batch }), {
          abortSignal: callOpts.signal,
        }),
      );
      for (const set of out.ResourceTagSets ?? []) {
        if (set.ResourceId === undefined) continue;
        const kv: Record<string, string> = {};
        for (const tag of set.Tags ?? []) {
          if (tag.Key !== undefined) kv[tag.Key] = tag.Value ?? '';
        }
        tags.set(set.ResourceId, kv);
      }
    }
    return tags;
  }

  /** After HealthCheckAlreadyExists: the existing check of this reference, if its settings are the ones asked for. */
  async function existingCheckId(
    spec: AlarmHealthCheckSpec,
    callOpts: CallOptions,
    pace: () => Promise<void>,
  ): Promise<string> {
    const existing = (await listAll(callOpts, pace)).find((hc) => hc.CallerReference === spec.callerReference);
    const conflict = (message: string) =>
      new CloudError({
        kind: 'terminal',
        service: SERVICE,
        operation: 'CreateHealthCheck',
        code: 'HealthCheckAlreadyExists',
        message,
      });
    if (existing?.Id === undefined) {
      throw conflict(
        `caller reference ${spec.callerReference} belongs to a health check that no longer exists (Route 53 never ` +
          'reuses a reference): create the check under a new caller reference',
      );
    }
    const differences = conflictingSettings(existing, spec);
    if (differences.length > 0) {
      throw conflict(
        `caller reference ${spec.callerReference} belongs to health check ${existing.Id} with other settings ` +
          `(${differences.join(', ')}; asked for alarm ${spec.alarm.region}/${spec.alarm.name}, ` +
          `InsufficientDataHealthStatus ${spec.insufficientDataHealthStatus}): create the check under a new caller ` +
          'reference',
      );
    }
    return existing.Id;
  }

  return {
    async createAlarmHealthCheck(spec: AlarmHealthCheckSpec, callOpts: CallOptions = {}): Promise<string> {
      const tagEntries = Object.entries(spec.tags);
      if (tagEntries.length > MAX_TAGS_PER_CHECK) {
        throw new CloudError({
          kind: 'terminal',
          service: SERVICE,
          operation: 'CreateHealthCheck',
          code: 'TooManyTags',
          message: `a Route 53 health check carries at most ${MAX_TAGS_PER_CHECK} tags; ${spec.callerReference} asks for ${tagEntries.length}`,
        });
      }

      const pace = createRequestPacer(callOpts);
      let id: string;
      try {
        await pace();
        const out = await callAws(SERVICE, 'CreateHealthCheck', () =>
          r53().send(
            new CreateHealthCheckCommand({
              CallerReference: spec.callerReference,
              HealthCheckConfig: {
                Type: 'CLOUDWATCH_METRIC',
                AlarmIdentifier: { Region: spec.alarm.region as CloudWatchRegion, Name: spec.alarm.name },
                InsufficientDataHealthStatus: spec.insufficientDataHealthStatus,
              },
            }),
            { abortSignal: callOpts.signal },
          ),
        );
        const created = out.HealthCheck?.Id;
        if (created === undefined || created === '') {
          throw new CloudError({
            kind: 'terminal',
            service: SERVICE,
            operation: 'CreateHealthCheck',
            code: 'MissingHealthCheckId',
            message: `CreateHealthCheck for ${spec.callerReference} answered without a health check id`,
          });
        }
        id = created;
      } catch (err) {
        if (errorCode(err) !== 'HealthCheckAlreadyExists') throw err;
        id = await existingCheckId(spec, callOpts, pace);
      }

      if (tagEntries.length > 0) {
        await pace();
        await callAws(SERVICE, 'ChangeTagsForResource', () =>
          r53().send(
            new ChangeTagsForResourceCommand({
              ResourceType: 'healthcheck',
              ResourceId: id,
              AddTags: tagEntries.map(([Key, Value]) => ({ Key, Value })),
            }),
            { abortSignal: callOpts.signal },
          ),
        );
      }
      return id;
    },

    async listHealthChecks(tagSelector: Record<string, string>, callOpts: CallOptions = {}) {
      const pace = createRequestPacer(callOpts);
      const checks = (await listAll(callOpts, pace)).filter((hc) => hc.Id !== undefined && hc.Id !== '');
      if (checks.length === 0) return [];
      const tags = await tagsOf(
        checks.map((hc) => hc.Id as string),
        callOpts,
        pace,
      );
      const wanted = Object.entries(tagSelector);
      return checks
        .map((hc) => toObserved(hc, tags.get(hc.Id as string) ?? {}))
        .filter((hc) => wanted.every(([key, value]) => hc.tags[key] === value));
    },
  };
}
