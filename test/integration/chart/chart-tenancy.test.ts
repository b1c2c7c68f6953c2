// Tenancy at admission (#15): the chart's ValidatingAdmissionPolicy, rendered with grants for two teams and applied
// to the real kube-apiserver, refuses a policy that names another team's AWS resources — with the field and the fix
// in the message — and admits a granted one. Every case is also put to policyGrantViolations (src/api/tenancy.ts):
// the apiserver's CEL and the operator's TypeScript must agree on each, or one of them is wrong.
//
// The admission policy is cluster-wide and default-deny, so afterAll removes it: later test files create policies.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validatePolicy } from '../../../src/api/index.ts';
import { parseGrants, policyGrantViolations, type TenancyGrants } from '../../../src/api/tenancy.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';
import { renderChart, repoRoot } from './render.ts';

const ref = { group: 'failover.io', version: 'v1alpha1', plural: 'failoverpolicies' };
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const ZONE_A = 'Z0123456789ABCDEFGHIJ';

// biome-ignore lint/suspicious/noExplicitAny: the example's spec is edited freely by the cases below
type Spec = Record<string, any>;

function examplePolicy(namespace: string, name: string, mutate: (spec: Spec) => void = () => {}) {
  const policy = parse(readFileSync(path.join(repoRoot, 'examples/two-region-rds.yaml'), 'utf8')) as {
    metadata: object;
    spec: Spec;
  };
  policy.metadata = { name, namespace };
  mutate(policy.spec);
  return policy;
}

let kc: KubeConfig;
let teamA: string;
let teamB: string;
let grants: TenancyGrants;
let rendered: KubernetesObject[] = [];

function grantsFor(a: string, b: string, aGranted = true) {
  return {
    ...(aGranted
      ? {
          [a]: {
            route53: [
              {
                hostedZoneId: ZONE_A,
                recordNames: ['API.orders.example.com', 'db.orders.example.com.', '*.internal.orders.example.com.'],
              },
            ],
            rds: [
              { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
              { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
            ],
            launchTemplates: [{ launchTemplateId: 'lt-0abc1234def567890' }],
          },
        }
      : {}),
    [b]: { route53: [{ hostedZoneId: 'ZBBBBBBBBBB', recordNames: ['*.b.example.com.'] }] },
  };
}

/** Renders the chart with `values` and creates (or replaces) its tenancy admission policy and binding. */
async function installTenancyPolicy(values: object): Promise<void> {
  const out = await renderChart(testbed().helmPath, { release: 'fo-tenancy', namespace: 'fo-tenancy', values });
  const objects = kc.makeApiClient(KubernetesObjectApi);
  rendered = [];
  for (const text of out.texts) {
    const object = loadYaml<KubernetesObject>(text);
    if (!object.kind?.startsWith('ValidatingAdmissionPolicy') || !object.metadata?.name?.endsWith('-tenancy-grants'))
      continue;
    rendered.push(object);
    try {
      const existing = await objects.read(object as KubernetesObject & { metadata: { name: string } });
      object.metadata!.resourceVersion = existing.metadata?.resourceVersion;
      await objects.replace(object);
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await objects.create(object);
    }
  }
  expect(rendered.map((o) => o.kind)).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
}

/** A dry-run create: undefined when admitted, else the apiserver's message. */
async function admission(policy: ReturnType<typeof examplePolicy>): Promise<string | undefined> {
  const namespace = (policy.metadata as { namespace: string }).namespace;
  try {
    await kc
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({ ...ref, namespace, body: policy, dryRun: 'All' });
    return undefined;
  } catch (error) {
    const { code, body } = error as { code?: number; body?: unknown };
    if (code === undefined) throw error;
    return `${code} ${typeof body === 'string' ? body : JSON.stringify(body)}`;
  }
}

/** The apiserver loads admission policies asynchronously: ask until `check` holds. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  kc = testbed().kubeConfig();
  await applyCrds(kc);
  teamA = await createNamespace(kc, 'tenancy-a');
  teamB = await createNamespace(kc, 'tenancy-b');
  const parsed = parseGrants(grantsFor(teamA, teamB));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  grants = parsed.grants;
  await installTenancyPolicy({ tenancy: { grants: grantsFor(teamA, teamB) } });
  await eventually(async () => (await admission(examplePolicy(teamB, 'probe'))) !== undefined, 'the admission policy');
}, 60_000);

afterAll(async () => {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  for (const object of rendered.reverse()) await objects.delete(object).catch(() => {});
});

describe('tenancy admission policy (chart)', () => {
  it("refuses team B's policy naming team A's hosted zone, naming the field, the namespace and the fix", async () => {
    const message = await admission(examplePolicy(teamB, 'orders'));
    expect(message).toMatch(/^403 /); // reason Forbidden
    expect(message).toContain(
      `spec.traffic.route53.hostedZoneId ${ZONE_A} is not granted to namespace ${teamB}; a platform admin adds it under tenancy.grants.${teamB}.route53 in the chart values (docs/tenancy.md)`,
    );
  });

  it("admits team A's policy naming only what team A is granted", async () => {
    expect(await admission(examplePolicy(teamA, 'orders'))).toBeUndefined();
  });

  const cases: Array<{ name: string; team: 'A' | 'B'; mutate: (spec: Spec) => void; admitted: boolean }> = [
    {
      name: 'a name below a *. grant, upper case, no trailing dot',
      team: 'A',
      admitted: true,
      mutate: (s) => {
        s.traffic.route53.recordName = 'X.Internal.orders.example.com';
      },
    },
    {
      name: 'a wildcard record below a *. grant',
      team: 'A',
      admitted: true,
      mutate: (s) => {
        s.traffic.route53.recordName = '*.internal.orders.example.com.';
      },
    },
    {
      name: 'the domain of a *. grant itself',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.traffic.route53.recordName = 'internal.orders.example.com.';
      },
    },
    {
      name: 'a look-alike of a *. grant',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.traffic.route53.recordName = 'x.badinternal.orders.example.com.';
      },
    },
    {
      name: 'a record name not granted in a granted zone',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.traffic.route53.recordName = 'orders.example.com.';
      },
    },
    {
      name: 'the writer record in another hosted zone',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.traffic.route53.writerRecord.hostedZoneId = 'ZBBBBBBBBBB';
      },
    },
    {
      name: 'a writer record name not granted',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.traffic.route53.writerRecord.recordName = 'db2.orders.example.com.';
      },
    },
    {
      name: 'the RDS primary in upper case',
      team: 'A',
      admitted: true,
      mutate: (s) => {
        s.database.rds.primary.dbInstanceIdentifier = 'ORDERS';
      },
    },
    {
      name: 'an RDS primary not granted',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.database.rds.primary.dbInstanceIdentifier = 'payments';
      },
    },
    {
      name: 'an RDS replica not granted',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.database.rds.replicas[0].dbInstanceIdentifier = 'payments-usw2';
      },
    },
    {
      name: 'a launch template not granted',
      team: 'A',
      admitted: false,
      mutate: (s) => {
        s.compute.ec2.replaceInHealthyZones.launchTemplate = 'lt-0999999999999999a';
      },
    },
    {
      name: 'team B in its own zone, without database and compute',
      team: 'B',
      admitted: true,
      mutate: (s) => {
        s.traffic.route53.hostedZoneId = 'ZBBBBBBBBBB';
        s.traffic.route53.recordName = 'api.b.example.com.';
        delete s.traffic.route53.writerRecord;
        delete s.database;
        delete s.compute;
        s.probes = s.probes.filter((p: Spec) => !p.rds);
      },
    },
    {
      name: 'team B naming team A’s RDS primary',
      team: 'B',
      admitted: false,
      mutate: (s) => {
        s.traffic.route53.hostedZoneId = 'ZBBBBBBBBBB';
        s.traffic.route53.recordName = 'api.b.example.com.';
        delete s.traffic.route53.writerRecord;
        delete s.compute;
        delete s.database.rds.replicas;
      },
    },
  ];

  it.each(cases)(
    'agrees with policyGrantViolations: $name (admitted: $admitted)',
    async ({ team, mutate, admitted }) => {
      const namespace = team === 'A' ? teamA : teamB;
      const policy = examplePolicy(namespace, 'case', mutate);
      const validated = validatePolicy(policy);
      expect(validated.ok, 'the case must be a valid spec, so only tenancy can refuse it').toBe(true);
      if (!validated.ok) return;
      const violations = policyGrantViolations(validated.value, namespace, grants);
      const message = await admission(policy);
      expect(violations.length === 0, 'policyGrantViolations').toBe(admitted);
      expect(message === undefined, `admission: ${message}`).toBe(admitted);
      if (message === undefined) return;
      // Same field and value; the replica's index is TypeScript's only.
      expect(message).toContain(violations[0]!.field.replace(/\[\d+\]$/, ''));
      expect(message).toContain(violations[0]!.value);
      expect(message).toContain(`tenancy.grants.${namespace}.`);
    },
  );

  it('after a grant is revoked, metadata updates (finalizers, labels) still pass but a spec change is refused', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({ ...ref, namespace: teamA, body: examplePolicy(teamA, 'kept') });
    await installTenancyPolicy({ tenancy: { grants: grantsFor(teamA, teamB, false) } });
    const specPatch = () =>
      custom.patchNamespacedCustomObject(
        { ...ref, namespace: teamA, name: 'kept', dryRun: 'All', body: { spec: { dryRun: true } } },
        mergePatch,
      );
    await eventually(
      () =>
        specPatch().then(
          () => false,
          () => true,
        ),
      'the revoked grant to take effect',
    );
    await custom.patchNamespacedCustomObject(
      {
        ...ref,
        namespace: teamA,
        name: 'kept',
        body: { metadata: { labels: { touched: 'yes' }, finalizers: ['x.io/y'] } },
      },
      mergePatch,
    );
    await custom.patchNamespacedCustomObject(
      { ...ref, namespace: teamA, name: 'kept', body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    await custom.deleteNamespacedCustomObject({ ...ref, namespace: teamA, name: 'kept' });
  });
});
