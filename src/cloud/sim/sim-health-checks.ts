// Simulated Route 53 health checks of type CLOUDWATCH_METRIC: each follows one CloudWatch alarm of the simulated
// CloudWatch (sim-cloudwatch.ts), and resolvers skip the weighted records whose check is unhealthy (sim-dns.ts).
//
// The model (sources: Route 53 API reference — CreateHealthCheck, ListHealthChecks, ChangeTagsForResource,
// ListTagsForResources, HealthCheckConfig.InsufficientDataHealthStatus; Developer Guide, "How Amazon Route 53
// determines whether a health check is healthy" — health checks that monitor CloudWatch alarms):
// - Control plane: the Route 53 API in us-east-1. CreateHealthCheck is idempotent by CallerReference: the same
//   reference and settings return the existing check; the same reference with other settings is refused with
//   HealthCheckAlreadyExists. Tags are set by a separate ChangeTagsForResource request (a check whose tagging failed
//   exists untagged until a retry tags it); more than 10 tags are refused before anything is created, as the AWS
//   adapter does (a check carries at most 10). ListHealthChecks pages (default 1,000 per page: the adapter asks for
//   the maximum MaxItems), then ListTagsForResources at most 10 ids per request. Every request is one logged,
//   faultable call and passes Route 53's account-wide throttle (shared with the record calls of sim-dns.ts). At
//   most `maxHealthChecks` checks (default 200, the account's default quota): then TooManyHealthChecks.
// - Status: Route 53 does not use the alarm's reported state; it reads the alarm's data stream and evaluates it
//   itself, so SetAlarmState does NOT change a health check. Here the check follows the state the alarm's DATA gave
//   it (SimCloudWatch.evaluatedStateAt) as it was `healthCheckDelayMs` earlier (default 30 s: our estimate of how
//   long Route 53 takes to notice a change in CloudWatch; AWS documents no figure): ALARM → unhealthy, OK →
//   healthy, INSUFFICIENT_DATA (or no such alarm) → per InsufficientDataHealthStatus: Healthy, Unhealthy, or
//   LastKnownStatus (the last OK/ALARM the alarm's data gave it; healthy when it never had one).
// - Not modelled: Route 53 checkers losing sight of an impaired CloudWatch region (the checks keep following the
//   alarm), DeleteHealthCheck and UpdateHealthCheck (so no HealthCheckAlreadyExists for a deleted check's
//   reference), disabled or inverted checks. Route 53's API reference (AlarmIdentifier.Name) says health checks
//   support alarms on standard-resolution metrics only; the simulation accepts any alarm (high-resolution, 10 s
//   periods included) and does not check that it exists.

import { CloudError } from '../errors.ts';
import { createRequestPacer } from '../request-pacer.ts';
import {
  type AlarmHealthCheckSpec,
  type CallOptions,
  type HealthChecks,
  type InsufficientDataHealthStatus,
  type ObservedHealthCheck,
  ROUTE53_CONTROL_PLANE_REGION,
} from '../types.ts';
import { type SimCallContext, simCall, simError } from './sim-call.ts';
import type { CallScope } from './sim-call-log.ts';
import type { SimCloudWatch } from './sim-cloudwatch.ts';

export interface SimHealthChecksOptions {
  /** How far behind its alarm a health check's status is (ms). Default 30 s. */
  healthCheckDelayMs?: number;
  /** Health checks per ListHealthChecks page. Default 1000 (the MaxItems the AWS adapter asks for, the maximum). */
  listPageSize?: number;
  /** The account's health check quota. Default 200. */
  maxHealthChecks?: number;
}

export const DEFAULT_HEALTH_CHECK_DELAY_MS = 30_000;
/** ListTagsForResources: resource ids per request. */
export const LIST_TAGS_MAX_IDS = 10;
/** Tags a health check carries at most. */
export const MAX_TAGS_PER_CHECK = 10;

export type HealthStatus = 'Healthy' | 'Unhealthy';

export interface SimHealthCheck {
  id: string;
  callerReference: string;
  alarm: { region: string; name: string };
  insufficientDataHealthStatus: InsufficientDataHealthStatus;
  tags: Record<string, string>;
  createdAt: number;
}

export interface SimHealthChecks extends HealthChecks {
  /** The check's status at `at` (default now); undefined for an unknown id. */
  healthStatus(id: string, at?: number): HealthStatus | undefined;
  /** healthStatus(id) === 'Healthy'; an unknown id counts as healthy (Route 53 refuses to attach one). */
  isHealthy(id: string): boolean;
  exists(id: string): boolean;
  /** Every health check, in creation order (copies). */
  checks(): SimHealthCheck[];
}

export interface SimHealthChecksDeps {
  cloudwatch: SimCloudWatch;
  /** Route 53's account-wide throttle (SimDns.admit). */
  admit: (scope: CallScope) => void;
}

const copyCheck = (c: SimHealthCheck): SimHealthCheck => ({ ...c, alarm: { ...c.alarm }, tags: { ...c.tags } });

export function createSimHealthChecks(
  ctx: SimCallContext,
  deps: SimHealthChecksDeps,
  options: SimHealthChecksOptions = {},
): SimHealthChecks {
  const delay = options.healthCheckDelayMs ?? DEFAULT_HEALTH_CHECK_DELAY_MS;
  const pageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
  const maxChecks = options.maxHealthChecks ?? 200;
  const checks = new Map<string, SimHealthCheck>();
  const byReference = new Map<string, SimHealthCheck>();

  const scope = (operation: string, target?: string): CallScope => ({
    service: 'route53',
    operation,
    region: ROUTE53_CONTROL_PLANE_REGION,
    ...(target ? { target } : {}),
  });
  const call = <T>(s: CallScope, opts: CallOptions | undefined, operation: () => T) =>
    simCall(ctx, s, opts, operation, { preflight: () => deps.admit(s) });

  function sameSettings(c: SimHealthCheck, spec: AlarmHealthCheckSpec): boolean {
    return (
      c.alarm.region === spec.alarm.region &&
      c.alarm.name === spec.alarm.name &&
      c.insufficientDataHealthStatus === spec.insufficientDataHealthStatus
    );
  }

  function create(s: CallScope, spec: AlarmHealthCheckSpec): string {
    const ref = spec.callerReference;
    if (ref.length < 1 || ref.length > 64) {
      throw simError(s, 'terminal', 'InvalidInput', `CallerReference must be 1 to 64 characters, got ${ref.length}`);
    }
    const existing = byReference.get(ref);
    if (existing) {
      if (sameSettings(existing, spec)) return existing.id;
      throw simError(
        s,
        'terminal',
        'HealthCheckAlreadyExists',
        `A health check with CallerReference ${ref} exists already with other settings (${existing.id})`,
      );
    }
    if (checks.size >= maxChecks) {
      throw simError(s, 'terminal', 'TooManyHealthChecks', `This account has ${maxChecks} health checks already`);
    }
    const check: SimHealthCheck = {
      id: `hc-${String(checks.size + 1).padStart(4, '0')}`,
      callerReference: ref,
      alarm: { ...spec.alarm },
      insufficientDataHealthStatus: spec.insufficientDataHealthStatus,
      tags: {},
      createdAt: ctx.clock.now(),
    };
    checks.set(check.id, check);
    byReference.set(ref, check);
    return check.id;
  }

  function statusOf(check: SimHealthCheck, at: number): HealthStatus {
    const seen = at - delay;
    const { region, name } = check.alarm;
    const state = deps.cloudwatch.evaluatedStateAt(region, name, seen);
    if (state === 'ALARM') return 'Unhealthy';
    if (state === 'OK') return 'Healthy';
    switch (check.insufficientDataHealthStatus) {
      case 'Healthy':
        return 'Healthy';
      case 'Unhealthy':
        return 'Unhealthy';
      default:
        return deps.cloudwatch.lastKnownStateAt(region, name, seen) === 'ALARM' ? 'Unhealthy' : 'Healthy';
    }
  }

  const matches = (tags: Record<string, string>, selector: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => tags[k] === v);

  const healthChecks: SimHealthChecks = {
    async createAlarmHealthCheck(spec, opts) {
      const tagCount = Object.keys(spec.tags).length;
      if (tagCount > MAX_TAGS_PER_CHECK) {
        throw new CloudError({
          kind: 'terminal',
          service: 'route53',
          operation: 'CreateHealthCheck',
          code: 'TooManyTags',
          message: `a Route 53 health check carries at most ${MAX_TAGS_PER_CHECK} tags; ${spec.callerReference} asks for ${tagCount}`,
        });
      }
      const pace = createRequestPacer(opts);
      const s = scope('CreateHealthCheck', spec.callerReference);
      await pace();
      const id = await call(s, opts, () => create(s, spec));
      if (Object.keys(spec.tags).length > 0) {
        await pace();
        await call(scope('ChangeTagsForResource', id), opts, () => {
          Object.assign(checks.get(id)!.tags, spec.tags);
        });
      }
      return id;
    },

    async listHealthChecks(tagSelector, opts) {
      const listed: SimHealthCheck[] = [];
      const pace = createRequestPacer(opts);
      // One ListHealthChecks request per page (at least one, even when there is none), in creation order.
      for (let start = 0, more = true; more; start += pageSize) {
        await pace();
        const page = await call(scope('ListHealthChecks'), opts, () => {
          const all = [...checks.values()];
          more = start + pageSize < all.length;
          return all.slice(start, start + pageSize);
        });
        listed.push(...page);
      }
      const tagged: Array<{ check: SimHealthCheck; tags: Record<string, string> }> = [];
      for (let start = 0; start < listed.length; start += LIST_TAGS_MAX_IDS) {
        const batch = listed.slice(start, start + LIST_TAGS_MAX_IDS);
        await pace();
        const tags = await call(scope('ListTagsForResources'), opts, () => batch.map((c) => ({ ...c.tags })));
        for (const [i, check] of batch.entries()) tagged.push({ check, tags: tags[i]! });
      }
      return tagged
        .filter(({ tags }) => matches(tags, tagSelector))
        .map(
          ({ check, tags }): ObservedHealthCheck => ({
            id: check.id,
            callerReference: check.callerReference,
            type: 'CLOUDWATCH_METRIC',
            alarm: { ...check.alarm },
            insufficientDataHealthStatus: check.insufficientDataHealthStatus,
            tags,
          }),
        );
    },

    healthStatus(id, at = ctx.clock.now()) {
      const check = checks.get(id);
      return check ? statusOf(check, at) : undefined;
    },

    isHealthy: (id) => healthChecks.healthStatus(id) !== 'Unhealthy',
    exists: (id) => checks.has(id),
    checks: () => [...checks.values()].map(copyCheck),
  };
  return healthChecks;
}
