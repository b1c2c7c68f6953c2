/**
 * Tenancy (#15): which AWS resources a namespace's FailoverPolicies may drive. A platform admin grants each namespace
 * its Route 53 hosted zones and record names, its RDS instances and its launch templates (the chart's
 * `tenancy.grants`, docs/tenancy.md); a policy that names anything else is refused at admission (the chart's
 * ValidatingAdmissionPolicy, whose CEL mirrors `policyGrantViolations`) and again by the operator before any AWS call.
 *
 * Default-deny: a namespace without an entry is granted nothing, so any policy naming an AWS resource is refused.
 *
 * Names are compared normalised, as Route 53 and RDS compare them: DNS names in lower case with a trailing dot and
 * Route 53's `\052` escape read as `*`; DB instance identifiers in lower case. A record-name grant is either exact or
 * `*.` + a domain, which grants every name *below* that domain (never the domain itself, never a name that merely
 * ends with the same letters: `*.example.com.` grants `api.example.com.`, not `example.com.` nor `badexample.com.`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import type { FailoverPolicy } from './policy-schema.ts';

const closed = { additionalProperties: false } as const;
const HostedZoneId = Type.String({ pattern: '^Z[A-Z0-9]+$', maxLength: 32 });
const GrantDnsName = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^(\\*\\.|\\\\052\\.)?([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z][a-zA-Z0-9-]{0,62}\\.?$',
});
const Region = Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', maxLength: 32 });

export const Route53GrantSchema = Type.Object(
  {
    hostedZoneId: HostedZoneId,
    recordNames: Type.Array(GrantDnsName, { minItems: 1, maxItems: 100 }),
  },
  closed,
);
export const RdsGrantSchema = Type.Object(
  {
    region: Region,
    dbInstanceIdentifier: Type.String({ pattern: '^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$' }),
  },
  closed,
);
export const LaunchTemplateGrantSchema = Type.Object(
  {
    launchTemplateId: Type.Optional(Type.String({ pattern: '^lt-[0-9a-f]+$' })),
    launchTemplateName: Type.Optional(Type.String({ minLength: 3, maxLength: 128, pattern: '^[a-zA-Z0-9()./_-]+$' })),
    region: Type.Optional(Region),
  },
  closed,
);
export const NamespaceGrantSchema = Type.Object(
  {
    route53: Type.Optional(Type.Array(Route53GrantSchema, { maxItems: 100 })),
    rds: Type.Optional(Type.Array(RdsGrantSchema, { maxItems: 100 })),
    launchTemplates: Type.Optional(Type.Array(LaunchTemplateGrantSchema, { maxItems: 100 })),
  },
  closed,
);
/** namespace → what it is granted (the chart's `tenancy.grants`). */
export const TenancyGrantsSchema = Type.Record(
  Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }),
  NamespaceGrantSchema,
  closed,
);

export type NamespaceGrant = Static<typeof NamespaceGrantSchema>;
export type TenancyGrants = Static<typeof TenancyGrantsSchema>;

/** One AWS resource a policy names that its namespace is not granted. */
export interface GrantViolation {
  /** The policy field naming it, e.g. `spec.traffic.route53.hostedZoneId`. */
  field: string;
  /** The resource as the policy names it. */
  value: string;
  /** Field, value, namespace and the fix, as one sentence (status, Event, failoverctl). */
  message: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation and matching
// ---------------------------------------------------------------------------------------------------------------

/** A DNS name as Route 53 compares it: lower case, `\052` read as `*`, one trailing dot. */
export function normalizeDnsName(name: string): string {
  const lower = name.toLowerCase().replaceAll('\\052', '*');
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * Whether a (normalised) record-name grant covers a (normalised) name: equal, or the grant is `*.domain.` and the
 * name lies below domain. The grant's leading `*` is kept in the suffix test as its `.`, so `*.example.com.` needs
 * the name to end with `.example.com.` — `example.com.` and `badexample.com.` do not.
 */
export function recordNameGranted(grant: string, name: string): boolean {
  if (grant === name) return true;
  return grant.startsWith('*.') && name.endsWith(grant.slice(1));
}

/** The grants with every name normalised, as the chart renders them into the admission policy's CEL. */
export function normalizeGrants(grants: TenancyGrants): TenancyGrants {
  const out: TenancyGrants = {};
  for (const [namespace, grant] of Object.entries(grants)) {
    out[namespace] = {
      ...(grant.route53
        ? { route53: grant.route53.map((g) => ({ ...g, recordNames: g.recordNames.map(normalizeDnsName) })) }
        : {}),
      ...(grant.rds
        ? { rds: grant.rds.map((g) => ({ ...g, dbInstanceIdentifier: g.dbInstanceIdentifier.toLowerCase() })) }
        : {}),
      ...(grant.launchTemplates ? { launchTemplates: grant.launchTemplates.map((g) => ({ ...g })) } : {}),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------------------------

/**
 * Every AWS resource `policy` names that `namespace` is not granted, one violation per field (empty: permitted).
 * `grants` must be normalised (parseGrants and normalizeGrants do it). Pure: the operator, failoverctl and the
 * tests share it; the chart's admission policy says the same in CEL.
 */
export function policyGrantViolations(
  policy: Pick<FailoverPolicy, 'spec'>,
  namespace: string,
  grants: TenancyGrants,
): GrantViolation[] {
  const grant = Object.hasOwn(grants, namespace) ? grants[namespace]! : {};
  const out: GrantViolation[] = [];
  const deny = (field: string, value: string, what: string, valuesKey: string) =>
    out.push({
      field,
      value,
      message: `${field} ${value} is not granted to namespace ${namespace}${what}; a platform admin adds it under tenancy.grants.${namespace}.${valuesKey} in the chart values (docs/tenancy.md)`,
    });

  const route53 = policy.spec.traffic?.route53;
  if (route53) {
    const checkRecord = (zoneField: string, zoneId: string, nameField: string, name: string) => {
      const zones = (grant.route53 ?? []).filter((g) => g.hostedZoneId === zoneId);
      if (zones.length === 0) {
        deny(zoneField, zoneId, '', 'route53');
        return;
      }
      const normalized = normalizeDnsName(name);
      if (!zones.some((g) => g.recordNames.some((n) => recordNameGranted(n, normalized)))) {
        deny(nameField, normalized, ` in hosted zone ${zoneId}`, 'route53 (recordNames)');
      }
    };
    checkRecord(
      'spec.traffic.route53.hostedZoneId',
      route53.hostedZoneId,
      'spec.traffic.route53.recordName',
      route53.recordName,
    );
    const writer = route53.writerRecord;
    if (writer) {
      checkRecord(
        writer.hostedZoneId ? 'spec.traffic.route53.writerRecord.hostedZoneId' : 'spec.traffic.route53.hostedZoneId',
        writer.hostedZoneId ?? route53.hostedZoneId,
        'spec.traffic.route53.writerRecord.recordName',
        writer.recordName,
      );
    }
  }

  const rds = policy.spec.database?.rds;
  if (rds) {
    const instances = [
      { field: 'spec.database.rds.primary', ref: rds.primary },
      ...(rds.replicas ?? []).map((ref, i) => ({ field: `spec.database.rds.replicas[${i}]`, ref })),
    ];
    for (const { field, ref } of instances) {
      const id = ref.dbInstanceIdentifier.toLowerCase();
      if (!(grant.rds ?? []).some((g) => g.region === ref.region && g.dbInstanceIdentifier === id)) {
        deny(field, `${ref.region}/${id}`, '', 'rds');
      }
    }
  }

  const template = policy.spec.compute?.ec2.replaceInHealthyZones?.launchTemplate;
  if (template !== undefined) {
    // Replacements launch in any region of the policy, so the template must be granted in each of them.
    const granted = (grant.launchTemplates ?? []).filter(
      (g) => g.launchTemplateId === template || g.launchTemplateName === template,
    );
    const missing = policy.spec.regions
      .map((r) => r.name)
      .filter((region) => !granted.some((g) => g.region === undefined || g.region === region));
    if (missing.length > 0) {
      deny(
        'spec.compute.ec2.replaceInHealthyZones.launchTemplate',
        template,
        granted.length === 0 ? '' : ` in ${missing.join(', ')}`,
        'launchTemplates',
      );
    }
  }
  return out;
}

/** One message for status and Events: every violation, in field order. */
export function notPermittedMessage(violations: readonly GrantViolation[]): string {
  return violations.map((v) => v.message).join('; ');
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing a grants document (the chart's ConfigMap, `failoverctl validate --grants`)
// ---------------------------------------------------------------------------------------------------------------

export type ParsedGrants = { ok: true; grants: TenancyGrants } | { ok: false; errors: string[] };

/**
 * Checks a parsed grants document (namespace → grant) and normalises it. Errors name the field as a values path
 * (`team-a.route53[0].hostedZoneId`), so an unknown or misspelt key is found at once. Null or absent: no grants.
 */
export function parseGrants(doc: unknown): ParsedGrants {
  if (doc === null || doc === undefined) return { ok: true, grants: {} };
  if (!Value.Check(TenancyGrantsSchema, doc)) {
    const errors = [...Value.Errors(TenancyGrantsSchema, doc)].map(describeError).filter((e) => e !== undefined);
    return { ok: false, errors: [...new Set(errors)] };
  }
  const errors: string[] = [];
  for (const [namespace, grant] of Object.entries(doc)) {
    (grant.launchTemplates ?? []).forEach((g, i) => {
      if ((g.launchTemplateId === undefined) === (g.launchTemplateName === undefined)) {
        errors.push(`${namespace}.launchTemplates[${i}]: set exactly one of launchTemplateId and launchTemplateName`);
      }
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, grants: normalizeGrants(doc) };
}

function describeError(error: ValueError): string | undefined {
  const segments = error.path.split('/').slice(1);
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    // The path ends at the unknown key; its parent is the object that does not know it.
    const key = segments.pop() ?? '';
    const parent = segmentsToPath(segments);
    if (segments.length === 0) return `${JSON.stringify(key)} is not a namespace name (lower-case DNS label)`;
    const known = Object.keys((error.schema as { properties?: object }).properties ?? {});
    return `${parent}: unknown field ${JSON.stringify(key)} (known: ${known.join(', ')})`;
  }
  const path = segmentsToPath(segments) || 'the grants';
  if (error.type === ValueErrorType.ObjectRequiredProperty) return `${path}: is required`;
  if (error.value === undefined) return undefined; // said by its ObjectRequiredProperty error
  return `${path}: ${error.message}, got ${JSON.stringify(error.value)}`;
}

function segmentsToPath(segments: string[]): string {
  return segments
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc === '' ? s : `${acc}.${s}`), '');
}
