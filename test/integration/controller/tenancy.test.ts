// Tenancy in the operator (#15), with admission off (no ValidatingAdmissionPolicy installed, as when the chart's
// admission policy is missing or a policy predates a revoked grant): `runOperator` with FO_TENANCY_GRANTS_FILE against
// the real kube-apiserver and moto behind the fault proxy. A policy naming a hosted zone, region and RDS instance its
// namespace is not granted gets Ready=False NotPermitted and a Warning, and the operator makes no AWS call for it
// (none in eu-west-1, none naming its hosted zone, in the proxy's request log); a granted policy in the same run
// works as before. Granting it in the file (re-read on change, no restart) lets the operator take it up.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validatePolicy } from '../../../src/api/index.ts';
import { testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  inProcessOperatorSuite,
  policyBody,
  sleep,
  statusOf,
} from '../support/operator-fixture.ts';

const grantsFile = path.join(mkdtempSync(path.join(tmpdir(), 'fo-tenancy-')), 'grants.yaml');
let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let grantedZone: string;
let otherZone: string;

function writeGrants(extra: object = {}): void {
  const route53 = [{ hostedZoneId: grantedZone, recordNames: ['*.granted.test.'] }];
  writeFileSync(grantsFile, stringify({ [ns]: { route53, ...extra } }));
}

const suite = inProcessOperatorSuite({
  namespace: 'tenancy',
  podName: 'tenancy-test',
  env: { FO_TENANCY: '', FO_TENANCY_GRANTS_FILE: grantsFile },
  arrange: async (arranged) => {
    ({ kc, ns, r53 } = arranged);
    grantedZone = await createWeightedZone(r53, 'granted.test.', 'api.granted.test.');
    otherZone = await createWeightedZone(r53, 'other-team.test.', 'api.other-team.test.');
    writeGrants();
  },
});
const { probe } = suite;

/** Another team's service: its hosted zone, and an RDS instance and zones in eu-west-1, where nothing else runs. */
function ungrantedPolicy() {
  const body = policyBody(ns, 'other-team', {
    zoneId: otherZone,
    recordName: 'api.other-team.test.',
    probeUrl: `${probe.base}/other/{zone}`,
  }) as { spec: Record<string, unknown> };
  body.spec.regions = [{ name: 'eu-west-1', role: 'primary', zones: ['eu-west-1a', 'eu-west-1b'] }];
  body.spec.probes = [
    { name: 'web', http: { url: `${probe.base}/other/{zone}`, timeoutSeconds: 1, expectStatus: [200] } },
    { name: 'ec2', ec2: { zoneState: true } },
    { name: 'db', scope: 'Region', rds: { instanceStatus: true, replicaLag: false } },
  ];
  (body.spec.traffic as { route53: { records: unknown[] } }).route53.records = [
    { setIdentifier: 'use1-a', zone: 'eu-west-1a', weight: 100 },
    { setIdentifier: 'use1-b', zone: 'eu-west-1b', weight: 100 },
  ];
  body.spec.database = { rds: { primary: { region: 'eu-west-1', dbInstanceIdentifier: 'other-team-db' } } };
  return body;
}

const readyOf = async (name: string) =>
  (await statusOf(kc, ns, name)).conditions?.find((c: { type: string }) => c.type === 'Ready') as
    | { status: string; reason: string; message: string }
    | undefined;

describe('tenancy in the operator (no admission policy)', () => {
  it('makes no AWS call for a policy outside its namespace grants, says NotPermitted, and runs a granted one', async () => {
    const other = ungrantedPolicy();
    expect(validatePolicy(other).ok, 'a valid spec: only tenancy refuses it').toBe(true);
    await createPolicy(kc, ns, other);
    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'granted', {
        zoneId: grantedZone,
        recordName: 'api.granted.test.',
        probeUrl: `${probe.base}/granted/{zone}`,
      }),
    );

    const ready = await eventually('Ready=False NotPermitted', async () => {
      const c = await readyOf('other-team');
      return c?.reason === 'NotPermitted' ? c : undefined;
    });
    expect(ready.status).toBe('False');
    expect(ready.message).toContain(
      `spec.traffic.route53.hostedZoneId ${otherZone} is not granted to namespace ${ns}; a platform admin adds it under tenancy.grants.${ns}.route53`,
    );
    expect(ready.message).toContain(`spec.database.rds.primary eu-west-1/other-team-db is not granted`);
    const warning = await eventually('the NotPermitted Warning Event', async () => {
      const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
        namespace: ns,
        fieldSelector: 'involvedObject.name=other-team',
      });
      return events.items.find((e) => e.reason === 'NotPermitted');
    });
    expect(warning.type).toBe('Warning');

    // The granted policy in the same run works as before: observed through Route 53, status from the engine.
    await eventually('the granted policy reconciled with its weights', async () => {
      const status = await statusOf(kc, ns, 'granted');
      return status.weights && Object.keys(status.weights).length > 0 ? status : undefined;
    });
    expect((await readyOf('granted'))?.reason).not.toBe('NotPermitted');

    await sleep(3_000); // probes run every second: room for a wrong probe or read
    const log = await testbed().faults.log();
    expect(log.some((e) => (e as { path?: string }).path?.includes(grantedZone))).toBe(true);
    const forOther = log.filter(
      (e) => e.region === 'eu-west-1' || (e as { path?: string }).path?.includes(otherZone) === true,
    );
    expect(forOther).toEqual([]);
    expect((await statusOf(kc, ns, 'other-team')).weights).toBeUndefined();
  }, 60_000);

  it('takes the policy up once the grants file grants it (re-read in place, no restart)', async () => {
    writeGrants({
      route53: [
        { hostedZoneId: grantedZone, recordNames: ['*.granted.test.'] },
        { hostedZoneId: otherZone, recordNames: ['api.other-team.test.'] },
      ],
      rds: [{ region: 'eu-west-1', dbInstanceIdentifier: 'other-team-db' }],
    });
    await eventually(
      'Ready no longer NotPermitted',
      async () => {
        const c = await readyOf('other-team');
        return c && c.reason !== 'NotPermitted' ? c : undefined;
      },
      40_000,
    );
    await eventually('an AWS call for the newly granted policy', async () => {
      const log = await testbed().faults.log();
      return log.some((e) => e.region === 'eu-west-1') ? true : undefined;
    });
  }, 60_000);
});
