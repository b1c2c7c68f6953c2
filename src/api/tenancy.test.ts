import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalizeDnsName,
  type ParsedGrants,
  parseGrants,
  policyGrantViolations,
  recordNameGranted,
  type TenancyGrants,
} from './tenancy.ts';
import { loadExample } from './testdata/invalid-cases.ts';
import { applyPolicyDefaults } from './validate.ts';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => `${labels.join('.')}.com.`);

const grantsOf = (doc: unknown): TenancyGrants => {
  const parsed: ParsedGrants = parseGrants(doc);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.grants;
};

// biome-ignore lint/suspicious/noExplicitAny: the cases edit the example's spec freely
type Spec = Record<string, any>;

/** The two-region example: Route 53 (with a writer record), RDS primary + replica, a launch template. */
function policy(mutate: (spec: Spec) => void = () => {}) {
  const manifest = loadExample('two-region-rds');
  mutate(manifest.spec as Spec);
  return applyPolicyDefaults(manifest);
}

describe('normalizeDnsName', () => {
  it('lower-cases, reads \\052 as * and adds one trailing dot', () => {
    expect(normalizeDnsName('API.Example.COM')).toBe('api.example.com.');
    expect(normalizeDnsName('api.example.com.')).toBe('api.example.com.');
    expect(normalizeDnsName('\\052.example.com')).toBe('*.example.com.');
  });

  it('is idempotent and ignores case and the trailing dot', () => {
    fc.assert(
      fc.property(domain, fc.boolean(), (name, upper) => {
        const variant = (upper ? name.toUpperCase() : name).replace(/\.$/, '');
        expect(normalizeDnsName(variant)).toBe(name);
        expect(normalizeDnsName(normalizeDnsName(variant))).toBe(name);
      }),
    );
  });
});

describe('recordNameGranted', () => {
  it('a *. grant covers every name below the domain, never the domain itself nor a look-alike', () => {
    expect(recordNameGranted('*.example.com.', 'api.example.com.')).toBe(true);
    expect(recordNameGranted('*.example.com.', 'a.b.example.com.')).toBe(true);
    expect(recordNameGranted('*.example.com.', '*.example.com.')).toBe(true);
    expect(recordNameGranted('*.example.com.', 'example.com.')).toBe(false);
    expect(recordNameGranted('*.example.com.', 'badexample.com.')).toBe(false);
    expect(recordNameGranted('*.example.com.', 'api.example.com.evil.com.')).toBe(false);
  });

  it('an exact grant covers only that name', () => {
    expect(recordNameGranted('api.example.com.', 'api.example.com.')).toBe(true);
    expect(recordNameGranted('api.example.com.', 'x.api.example.com.')).toBe(false);
  });

  it('property: *.D covers L.D for any label L, and never D, nor L+D glued, nor a name under another domain', () => {
    fc.assert(
      fc.property(domain, label, domain, (d, l, other) => {
        const grant = `*.${d}`;
        expect(recordNameGranted(grant, `${l}.${d}`)).toBe(true);
        expect(recordNameGranted(grant, d)).toBe(false);
        expect(recordNameGranted(grant, `${l}${d}`)).toBe(false);
        if (!`.${other}`.endsWith(`.${d}`)) expect(recordNameGranted(grant, `${l}.${other}`)).toBe(false);
      }),
    );
  });
});

describe('policyGrantViolations', () => {
  const full = grantsOf({
    orders: {
      route53: [{ hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordNames: ['*.example.com.'] }],
      rds: [
        { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
        { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
      ],
      launchTemplates: [{ launchTemplateId: 'lt-0abc1234def567890' }],
    },
  });

  it('permits a policy that names only what its namespace is granted', () => {
    expect(policyGrantViolations(policy(), 'orders', full)).toEqual([]);
  });

  it('default-deny: a namespace without an entry is refused every resource, each named by field', () => {
    const fields = policyGrantViolations(policy(), 'team-b', full).map((v) => v.field);
    expect(fields).toEqual([
      'spec.traffic.route53.hostedZoneId',
      'spec.traffic.route53.hostedZoneId', // the writer record lives in the same zone
      'spec.database.rds.primary',
      'spec.database.rds.replicas[0]',
      'spec.compute.ec2.replaceInHealthyZones.launchTemplate',
    ]);
  });

  it('names the field, the value, the namespace and the values key to add it under', () => {
    const [v] = policyGrantViolations(policy(), 'team-b', full);
    expect(v?.message).toBe(
      'spec.traffic.route53.hostedZoneId Z0123456789ABCDEFGHIJ is not granted to namespace team-b; a platform admin adds it under tenancy.grants.team-b.route53 in the chart values (docs/tenancy.md)',
    );
  });

  it('refuses a record name outside the granted names of a granted zone, and the writer record separately', () => {
    const grants = grantsOf({
      orders: {
        route53: [{ hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordNames: ['API.orders.example.com'] }],
        rds: [
          { region: 'us-east-1', dbInstanceIdentifier: 'ORDERS' },
          { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
        ],
        launchTemplates: [{ launchTemplateId: 'lt-0abc1234def567890' }],
      },
    });
    const violations = policyGrantViolations(policy(), 'orders', grants);
    expect(violations.map((v) => [v.field, v.value])).toEqual([
      ['spec.traffic.route53.writerRecord.recordName', 'db.orders.example.com.'],
    ]);
    expect(violations[0]?.message).toContain('in hosted zone Z0123456789ABCDEFGHIJ');
  });

  it('checks a writer record in its own hosted zone against that zone', () => {
    const p = policy((spec) => {
      spec.traffic.route53.writerRecord.hostedZoneId = 'ZOTHER';
    });
    expect(policyGrantViolations(p, 'orders', full).map((v) => [v.field, v.value])).toEqual([
      ['spec.traffic.route53.writerRecord.hostedZoneId', 'ZOTHER'],
    ]);
  });

  it('matches RDS instances by region and identifier (case-insensitive); the same name elsewhere is not granted', () => {
    const p = policy((spec) => {
      spec.database.rds.replicas = [{ region: 'eu-west-1', dbInstanceIdentifier: 'orders-usw2' }];
      spec.regions.push({ name: 'eu-west-1', role: 'standby', zones: ['eu-west-1a'] });
    });
    expect(policyGrantViolations(p, 'orders', full).map((v) => [v.field, v.value])).toEqual([
      ['spec.database.rds.replicas[0]', 'eu-west-1/orders-usw2'],
    ]);
  });

  it('needs a launch template granted in every region of the policy', () => {
    const p = policy((spec) => {
      spec.compute = {
        ec2: {
          tagSelector: { app: 'orders' },
          replaceInHealthyZones: { launchTemplate: 'orders-lt', minHealthyInstances: 2 },
        },
      };
    });
    const only = (launchTemplates: unknown[]) =>
      policyGrantViolations(p, 'orders', grantsOf({ orders: { ...structuredClone(raw), launchTemplates } }));
    const raw = {
      route53: [{ hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordNames: ['*.example.com.'] }],
      rds: [
        { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
        { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
      ],
    };
    expect(only([{ launchTemplateName: 'orders-lt' }])).toEqual([]);
    expect(only([{ launchTemplateName: 'orders-lt', region: 'us-east-1' }]).map((v) => v.message)).toEqual([
      expect.stringContaining(
        'spec.compute.ec2.replaceInHealthyZones.launchTemplate orders-lt is not granted to namespace orders in us-west-2',
      ),
    ]);
    expect(only([{ launchTemplateId: 'lt-0abc1234def567890' }]).map((v) => v.field)).toEqual([
      'spec.compute.ec2.replaceInHealthyZones.launchTemplate',
    ]);
  });

  it('a policy naming no AWS resource needs no grant', () => {
    const p = policy((spec) => {
      delete spec.traffic;
      delete spec.database;
      delete spec.compute;
    });
    expect(policyGrantViolations(p, 'anyone', {})).toEqual([]);
  });

  it('an own-property lookup: a namespace called like an Object prototype key is granted nothing', () => {
    expect(policyGrantViolations(policy(), 'constructor', full)).not.toEqual([]);
  });
});

describe('parseGrants', () => {
  it('null or empty is no grants', () => {
    expect(parseGrants(null)).toEqual({ ok: true, grants: {} });
    expect(parseGrants({})).toEqual({ ok: true, grants: {} });
  });

  it('names an unknown or misspelt field and where it is', () => {
    const parsed = parseGrants({
      orders: { route53: [{ hostedZoneId: 'Z1', recordName: ['a.example.com.'] }], rdss: [] },
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toContain('orders: unknown field "rdss" (known: route53, rds, launchTemplates)');
    expect(parsed.errors).toContain('orders.route53[0]: unknown field "recordName" (known: hostedZoneId, recordNames)');
    expect(parsed.errors).toContain('orders.route53[0].recordNames: is required');
  });

  it('refuses a bad value, a bad namespace name and a launch template without exactly one of ID and name', () => {
    const errorsOf = (doc: unknown) => {
      const parsed = parseGrants(doc);
      return parsed.ok ? [] : parsed.errors;
    };
    expect(errorsOf({ orders: { route53: [{ hostedZoneId: '/hostedzone/Z1', recordNames: ['a.com.'] }] } })).toEqual([
      expect.stringMatching(/^orders\.route53\[0\]\.hostedZoneId: .*got "\/hostedzone\/Z1"$/),
    ]);
    expect(errorsOf({ Team_B: {} })).toEqual(['"Team_B" is not a namespace name (lower-case DNS label)']);
    expect(errorsOf({ orders: { launchTemplates: [{ region: 'us-east-1' }] } })).toEqual([
      'orders.launchTemplates[0]: set exactly one of launchTemplateId and launchTemplateName',
    ]);
    expect(errorsOf([])).toEqual([expect.stringMatching(/^the grants: /)]);
  });
});
