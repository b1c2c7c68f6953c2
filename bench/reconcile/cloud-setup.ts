// What the bench arranges before the operator sees anything: the test bed (started with the project's own
// test/env/up.sh), Route 53 hosted zones with weighted record groups in moto (directly, not through the fault
// proxy, so arranging never shows up in the operator's call counts), and the FailoverPolicy bodies.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandOutput,
  type ResourceRecordSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { GROUP, POLICY_PLURAL, VERSION, validatePolicy } from '../../src/api/index.ts';
import { readTestbedState } from '../../test/env/testbed.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;
export const setIdentifierOf = (az: string) => `use1-${az.at(-1)}`;

/**
 * Brings the bed in `dir` up with test/env/up.sh (a no-op when it is up) and returns its state.json path and
 * whether this call started it (then the bench stops it at the end unless told to keep it).
 */
export function ensureTestbed(dir: string): { statePath: string; startedHere: boolean } {
  const statePath = path.join(dir, 'state.json');
  let wasUp = false;
  if (existsSync(statePath)) {
    try {
      readTestbedState(statePath);
      wasUp = true;
    } catch {
      wasUp = false;
    }
  }
  const up = spawnSync('bash', [path.join(repoRoot, 'test/env/up.sh')], {
    cwd: repoRoot,
    env: { ...process.env, FO_TESTBED_DIR: dir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (up.status !== 0) throw new Error(`test/env/up.sh failed (exit ${up.status}) for test bed ${dir}`);
  readTestbedState(statePath); // throws naming the component that is down
  return { statePath, startedHere: !wasUp };
}

export function stopTestbed(dir: string): void {
  spawnSync('bash', [path.join(repoRoot, 'test/env/down.sh')], {
    cwd: repoRoot,
    env: { ...process.env, FO_TESTBED_DIR: dir },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

export interface RecordGroup {
  index: number;
  policy: string;
  hostedZone: number;
  hostedZoneId: string;
  recordName: string;
}

const domainOf = (hz: number) => `hz${hz}.bench.failover.test.`;

/** A hosted zone whose id the CRD accepts (^Z[A-Z0-9]+$; moto sometimes hands out others). */
async function createHostedZone(r53: Route53Client, domain: string, tag: string): Promise<string> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const zone = await r53.send(
      new CreateHostedZoneCommand({ Name: domain, CallerReference: `${tag}-${domain}-${attempt}` }),
    );
    const id = (zone.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
    if (/^Z[A-Z0-9]+$/.test(id)) return id;
    await r53.send(new DeleteHostedZoneCommand({ Id: id }));
  }
  throw new Error(`moto gave no hosted zone id matching ^Z[A-Z0-9]+$ for ${domain} in 500 attempts`);
}

/**
 * `hostedZones` zones, policies spread round-robin, each policy one weighted record group (one record per AZ,
 * weight 100, as its spec says, so a healthy reconcile has nothing to write).
 */
export async function createRecordGroups(
  r53: Route53Client,
  policies: number,
  hostedZones: number,
  tag: string,
): Promise<RecordGroup[]> {
  const zoneIds: string[] = [];
  for (let hz = 0; hz < hostedZones; hz++) zoneIds.push(await createHostedZone(r53, domainOf(hz), tag));
  const groups: RecordGroup[] = [];
  for (let i = 0; i < policies; i++) {
    const hz = i % hostedZones;
    groups.push({
      index: i,
      policy: `p-${String(i).padStart(4, '0')}`,
      hostedZone: hz,
      hostedZoneId: zoneIds[hz]!,
      recordName: `svc-${i}.${domainOf(hz)}`,
    });
  }
  // ≤ 100 groups (300 records) per change batch: well under Route 53's 1,000 records per batch.
  for (let hz = 0; hz < hostedZones; hz++) {
    const mine = groups.filter((g) => g.hostedZone === hz);
    for (let start = 0; start < mine.length; start += 100) {
      const Changes = mine.slice(start, start + 100).flatMap((g) =>
        AZS.map((az, a) => ({
          Action: 'CREATE' as const,
          ResourceRecordSet: {
            Name: g.recordName,
            Type: 'A' as const,
            TTL: 60,
            SetIdentifier: setIdentifierOf(az),
            Weight: 100,
            ResourceRecords: [{ Value: `10.${hz}.${a}.${(g.index % 250) + 1}` }],
          },
        })),
      );
      await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneIds[hz]!, ChangeBatch: { Changes } }));
    }
  }
  return groups;
}

/** Every record of a hosted zone (paginated), read from moto directly. */
export async function listAllRecords(r53: Route53Client, zoneId: string): Promise<ResourceRecordSet[]> {
  const out: ResourceRecordSet[] = [];
  let next: { name?: string; type?: string; id?: string } | undefined = {};
  while (next) {
    const page: ListResourceRecordSetsCommandOutput = await r53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        MaxItems: 300,
        ...(next.name ? { StartRecordName: next.name } : {}),
        ...(next.type ? { StartRecordType: next.type as 'A' } : {}),
        ...(next.id ? { StartRecordIdentifier: next.id } : {}),
      }),
    );
    out.push(...(page.ResourceRecordSets ?? []));
    next = page.IsTruncated
      ? {
          ...(page.NextRecordName ? { name: page.NextRecordName } : {}),
          ...(page.NextRecordType ? { type: page.NextRecordType } : {}),
          ...(page.NextRecordIdentifier ? { id: page.NextRecordIdentifier } : {}),
        }
      : undefined;
  }
  return out;
}

/**
 * A realistic single-region web policy: three zones, an HTTP probe per zone (templated on {zone}; all policies of
 * a hosted zone share the same three targets, which the probe scheduler dedupes), the DESIGN defaults for health
 * (5 s interval, 2 failed rounds to Degraded, 12 good rounds to recover) and guardrails. Validated here with the
 * operator's own schema so a bad body fails fast with the field named.
 */
export function policyBody(ns: string, g: RecordGroup, probeBase: string): object {
  const body = {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'FailoverPolicy',
    metadata: { name: g.policy, namespace: ns, labels: { 'bench.failover.io/hosted-zone': `hz${g.hostedZone}` } },
    spec: {
      regions: [{ name: 'us-east-1', role: 'primary', zones: [...AZS] }],
      probes: [
        {
          name: 'web',
          http: { url: `${probeBase}/hz${g.hostedZone}/{zone}`, timeoutSeconds: 2, expectStatus: [200] },
        },
      ],
      health: { intervalSeconds: 5, failureThreshold: 2, recoveryThreshold: 12 },
      traffic: {
        route53: {
          hostedZoneId: g.hostedZoneId,
          recordName: g.recordName,
          type: 'A',
          records: AZS.map((az) => ({ setIdentifier: setIdentifierOf(az), zone: az, weight: 100 })),
        },
      },
      guardrails: { cooldownSeconds: 300, maxWritesPerMinute: 30 },
    },
  };
  const checked = validatePolicy(body);
  if (!checked.ok) {
    throw new Error(
      `bench policy ${g.policy} is invalid: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    );
  }
  return body;
}

/**
 * Creates one FailoverPolicy per record group (policyBody), `concurrency` at a time; `onCreated` hears each one as the
 * apiserver returns it, in completion order.
 */
export async function createPolicies(
  api: CustomObjectsApi,
  ns: string,
  groups: readonly RecordGroup[],
  probeBase: string,
  concurrency: number,
  onCreated: (g: RecordGroup, created: unknown) => void = () => {},
): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(
    groups.map((g) =>
      limit(async () => {
        const created = await api.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: POLICY_PLURAL,
          namespace: ns,
          body: policyBody(ns, g, probeBase),
        });
        onCreated(g, created);
      }),
    ),
  );
}
