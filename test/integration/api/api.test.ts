// The failover.io API against the real kube-apiserver: the generated CRDs install, every example is accepted and
// defaulted exactly as the offline validator defaults it, the table of invalid manifests is refused by the
// apiserver and by the offline validator at the same field, transition rules hold on update, and `kubectl get`
// columns and short names work.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ApiextensionsV1Api, CustomObjectsApi, dumpYaml, type KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DRILL_KIND,
  DRILL_PLURAL,
  type FieldError,
  formatFieldErrors,
  GROUP,
  POLICY_PLURAL,
  VERSION,
  validateDrill,
  validatePolicy,
} from '../../../src/api/index.ts';
import {
  type ExampleName,
  INVALID_DRILL_UPDATES,
  INVALID_DRILLS,
  INVALID_POLICIES,
  type InvalidCase,
  loadExample,
  type Manifest,
} from '../../../src/api/testdata/invalid-cases.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds, CRD_FILES, getRaw, statusMessage } from './crds.ts';

const EXAMPLES: ExampleName[] = ['single-region-web', 'two-region-rds', 'drill-zone-outage', 'drill-us-east-1-2011'];
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

let kc: KubeConfig;
let objects: CustomObjectsApi;
let namespace: string;
let sequence = 0;

beforeAll(async () => {
  kc = testbed().kubeConfig();
  await applyCrds(kc);
  objects = kc.makeApiClient(CustomObjectsApi);
  namespace = await createNamespace(kc, 'api');
});

const pluralOf = (manifest: Manifest) => (manifest.kind === DRILL_KIND ? DRILL_PLURAL : POLICY_PLURAL);
const validate = (manifest: Manifest) =>
  manifest.kind === DRILL_KIND ? validateDrill(manifest) : validatePolicy(manifest);

/** Creates the object as kubectl would (fieldValidation=Strict), under a fresh name. */
async function create(manifest: Manifest): Promise<Manifest> {
  manifest.metadata.name = `${manifest.metadata.name}-${++sequence}`;
  return (await objects.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: pluralOf(manifest),
    body: manifest,
    fieldValidation: 'Strict',
  })) as Manifest;
}

async function createRejected(manifest: Manifest): Promise<string> {
  try {
    await create(manifest);
  } catch (error) {
    expect((error as { code?: number }).code, statusMessage(error)).toBeOneOf([400, 422]);
    return statusMessage(error);
  }
  throw new Error(`the apiserver accepted ${manifest.kind} ${manifest.metadata.name}`);
}

describe('CRDs', () => {
  it('are stored exactly as generated', async () => {
    const api = kc.makeApiClient(ApiextensionsV1Api);
    for (const file of CRD_FILES) {
      const generated = parse(readFileSync(path.resolve(import.meta.dirname, '../../..', file), 'utf8'));
      const stored = parse(dumpYaml(await api.readCustomResourceDefinition({ name: generated.metadata.name })));
      delete stored.spec.conversion; // defaulted by the apiserver
      expect(isDeepStrictEqual(stored.spec, generated.spec), `${file} changed on the way in`).toBe(true);
    }
  });

  it('are discoverable with short names fp and fd, the failover category and a status subresource', async () => {
    const discovery = (await getRaw(kc, `/apis/${GROUP}/${VERSION}`)) as {
      resources: Array<{ name: string; shortNames?: string[]; categories?: string[]; namespaced: boolean }>;
    };
    const byName = new Map(discovery.resources.map((resource) => [resource.name, resource]));
    expect(byName.get(POLICY_PLURAL)).toMatchObject({ shortNames: ['fp'], categories: ['failover'], namespaced: true });
    expect(byName.get(DRILL_PLURAL)).toMatchObject({ shortNames: ['fd'], categories: ['failover'], namespaced: true });
    expect(byName.has(`${POLICY_PLURAL}/status`)).toBe(true);
    expect(byName.has(`${DRILL_PLURAL}/status`)).toBe(true);
  });
});

describe('examples', () => {
  it.each(EXAMPLES)('%s is accepted and defaulted as the offline validator defaults it', async (name) => {
    const manifest = loadExample(name);
    const offline = validate(manifest);
    if (!offline.ok) throw new Error(formatFieldErrors(offline.errors));
    const stored = await create(manifest);
    expect(stored.spec).toEqual(offline.value.spec);
  });
});

// What the apiserver does with null (prune-nulls.ts): a null field is dropped and then defaulted like a missing one;
// the offline validator returns exactly what the apiserver stores.
const NULLS: Array<[string, (manifest: Manifest) => void]> = [
  [
    'dryRun: null (default false)',
    (p) => {
      p.spec.dryRun = null;
    },
  ],
  [
    'guardrails: null (an object with defaults)',
    (p) => {
      p.spec.guardrails = null;
    },
  ],
  [
    'guardrails.cooldownSeconds: null',
    (p) => {
      p.spec.guardrails.cooldownSeconds = null;
    },
  ],
  [
    'compute: null (optional, no default)',
    (p) => {
      p.spec.compute = null;
    },
  ],
  [
    'probes[0].http.timeoutSeconds: null',
    (p) => {
      p.spec.probes[0].http.timeoutSeconds = null;
    },
  ],
  [
    'database.rds.replicas: null',
    (p) => {
      p.spec.database.rds.replicas = null;
    },
  ],
  [
    'metadata.labels: null and a null label value',
    (p) => {
      p.metadata.labels = { tier: null };
      p.metadata.annotations = null;
    },
  ],
];

describe('nulls', () => {
  it.each(NULLS)('%s: stored as the offline validator returns it', async (_name, mutate) => {
    const manifest = loadExample('two-region-rds');
    mutate(manifest);
    const offline = validate(structuredClone(manifest));
    if (!offline.ok) throw new Error(formatFieldErrors(offline.errors));
    const stored = await create(manifest);
    expect(stored.spec).toEqual(offline.value.spec);
    expect(stored.metadata.labels).toEqual(offline.value.metadata.labels);
    expect(stored.metadata.annotations).toEqual(offline.value.metadata.annotations);
  });
});

function expectOfflineRejection(testCase: InvalidCase, errors: FieldError[] | undefined) {
  const expected = testCase.message ?? testCase.offline!;
  expect(errors, `offline validation accepted "${testCase.name}"`).toBeDefined();
  expect(
    errors!.some((error) => error.path === testCase.path && error.message.includes(expected)),
    `offline: expected "${expected}" at ${testCase.path}, got\n${formatFieldErrors(errors!)}`,
  ).toBe(true);
}

describe.each([
  ['policies', INVALID_POLICIES],
  ['drills', INVALID_DRILLS],
])('invalid %s', (_, cases) => {
  it.each(cases.map((testCase) => [testCase.name, testCase] as const))(
    '%s: rejected by the apiserver and offline at the same field',
    async (_name, testCase) => {
      const manifest = loadExample(testCase.base);
      testCase.mutate(manifest);

      const message = await createRejected(structuredClone(manifest));
      expect(message).toContain(testCase.serverPath ?? testCase.path);
      expect(message).toContain(testCase.message ?? testCase.server!);

      const offline = validate(manifest);
      expectOfflineRejection(testCase, offline.ok ? undefined : offline.errors);
    },
  );
});

describe('drill updates', () => {
  async function createDrill(base: ExampleName, change?: (drill: Manifest) => void): Promise<Manifest> {
    const drill = loadExample(base);
    change?.(drill);
    return create(drill);
  }

  async function replace(drill: Manifest): Promise<Manifest> {
    return (await objects.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: DRILL_PLURAL,
      name: drill.metadata.name,
      body: drill,
      fieldValidation: 'Strict',
    })) as Manifest;
  }

  it.each(INVALID_DRILL_UPDATES.map((update) => [update.name, update] as const))('refuses %s', async (_, testCase) => {
    const stored = await createDrill(testCase.base, testCase.create);
    testCase.update(stored);
    await expect(replace(stored)).rejects.toSatisfy((error: unknown) => {
      expect(statusMessage(error)).toContain(testCase.message);
      return true;
    });
  });

  it('accepts abort: true and other mutable fields on an existing drill', async () => {
    const stored = await createDrill('drill-zone-outage');
    stored.spec.abort = true;
    stored.spec.autoFailback = false;
    const updated = await replace(stored);
    expect(updated.spec).toMatchObject({ abort: true, autoFailback: false });
  });
});

describe('status subresource and kubectl get columns', () => {
  const policyStatus = {
    observedGeneration: 1,
    phase: 'FailedOver',
    activeRegion: 'us-west-2',
    degradedZones: 'us-east-1a,us-east-1b',
    conditions: [
      {
        type: 'FailedOver',
        status: 'True',
        reason: 'ReplicaPromoted',
        message: 'PB-6 promoted orders-usw2 in us-west-2',
        lastTransitionTime: '2011-04-21T09:47:00Z',
        observedGeneration: 1,
      },
    ],
    zones: [
      {
        name: 'us-east-1a',
        region: 'us-east-1',
        state: 'Impaired',
        since: '2011-04-21T08:57:00Z',
        reasons: ['api failed'],
      },
    ],
    regions: [{ name: 'us-east-1', state: 'Impaired', since: '2011-04-21T09:41:00Z' }],
    activeWriter: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
    weights: { 'use1-a': 0, 'use1-b': 0, 'use1-c': 0, usw2: 100 },
    journal: [
      {
        id: 'promote/orders-usw2/1',
        action: 'PromoteReadReplica',
        target: 'orders-usw2',
        region: 'us-west-2',
        rule: 'PB-6',
        state: 'Done',
        startedAt: '2011-04-21T09:42:00Z',
        finishedAt: '2011-04-21T09:47:00Z',
        requestToken: 'promote-orders-usw2-1',
      },
    ],
    lastFailover: {
      startedAt: '2011-04-21T09:41:00Z',
      detectedAt: '2011-04-21T08:57:00Z',
      completedAt: '2011-04-21T09:48:00Z',
      rpoSeconds: 4.5,
    },
  };

  async function writeStatus(plural: string, stored: Manifest, status: unknown): Promise<Manifest> {
    return (await objects.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      name: stored.metadata.name,
      body: { ...stored, status },
    })) as Manifest;
  }

  async function table(plural: string, name: string): Promise<Record<string, unknown>> {
    const result = (await getRaw(kc, `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`, TABLE)) as {
      columnDefinitions: Array<{ name: string; priority: number }>;
      rows: Array<{ cells: unknown[]; object: { metadata: { name: string } } }>;
    };
    const row = result.rows.find((candidate) => candidate.object.metadata.name === name);
    if (!row) throw new Error(`${name} is not listed`);
    return Object.fromEntries(
      result.columnDefinitions
        .map((column, index) => [column, row.cells[index]] as const)
        .filter(([column]) => column.priority === 0)
        .map(([column, cell]) => [column.name, cell]),
    );
  }

  it('FailoverPolicy: phase, active region, degraded zones, last failover, age', async () => {
    const stored = await create(loadExample('two-region-rds'));
    expect(validatePolicy({ ...stored, status: policyStatus }).ok).toBe(true);
    const updated = await writeStatus(POLICY_PLURAL, stored, policyStatus);
    expect(updated.status).toEqual(policyStatus);

    const row = await table(POLICY_PLURAL, stored.metadata.name);
    expect(Object.keys(row)).toEqual(['Name', 'Phase', 'Active', 'Degraded', 'Last-Failover', 'Age']);
    expect(row).toMatchObject({ Phase: 'FailedOver', Active: 'us-west-2', Degraded: 'us-east-1a,us-east-1b' });
    expect(row['Last-Failover']).toMatch(/^\d+y/); // 2011: years ago
  });

  it('FailoverDrill: policy, scenario, mode, result, RTO, age', async () => {
    const stored = await create(loadExample('drill-us-east-1-2011'));
    const report = {
      phase: 'Succeeded',
      startedAt: '2026-01-01T00:00:00Z',
      completedAt: '2026-01-01T00:30:00Z',
      detectionSeconds: 55,
      trafficShiftedSeconds: 240,
      rtoSeconds: 412.5,
      rpoSeconds: 3,
      actions: [
        {
          kind: 'SetWeights',
          target: 'api.orders.example.com.',
          zone: 'us-east-1a',
          rule: 'PB-5',
          at: '2026-01-01T00:01:00Z',
        },
      ],
      skipped: [
        {
          kind: 'RebootDBInstance',
          target: 'orders',
          zone: 'us-east-1a',
          rule: 'PB-3',
          reason: 'zone us-east-1a impaired',
        },
      ],
      violations: [],
      timeline: [{ at: '2026-01-01T00:00:55Z', message: 'us-east-1a Degraded (api, control-plane)', rule: 'PB-1' }],
      passed: true,
      result: 'Passed',
    };
    expect(validateDrill({ ...stored, status: report }).ok).toBe(true);
    await writeStatus(DRILL_PLURAL, stored, report);

    const row = await table(DRILL_PLURAL, stored.metadata.name);
    expect(Object.keys(row)).toEqual(['Name', 'Policy', 'Scenario', 'Mode', 'Result', 'RTO', 'Age']);
    expect(row).toMatchObject({ Policy: 'orders', Scenario: 'replay', Mode: 'DryRun', Result: 'Passed', RTO: 412.5 });
  });

  it('refuses a status that breaks the schema, and the offline validator agrees', async () => {
    const stored = await create(loadExample('two-region-rds'));
    const status = structuredClone(policyStatus);
    status.weights['use1-a'] = 300;
    status.journal[0]!.rule = 'PB-13';
    await expect(writeStatus(POLICY_PLURAL, stored, status)).rejects.toSatisfy((error: unknown) => {
      const message = statusMessage(error);
      expect(message).toContain('status.weights.use1-a');
      expect(message).toContain('status.journal[0].rule');
      return true;
    });
    const offline = validatePolicy({ ...stored, status });
    expect(offline.ok ? [] : offline.errors.map((error) => error.path)).toEqual([
      'status.weights.use1-a',
      'status.journal[0].rule',
    ]);
  });

  it('keeps the journal bounded at 50 entries', async () => {
    const stored = await create(loadExample('two-region-rds'));
    const entry = policyStatus.journal[0]!;
    const journal = Array.from({ length: 51 }, (_, index) => ({ ...entry, id: `a-${index}` }));
    await expect(writeStatus(POLICY_PLURAL, stored, { ...policyStatus, journal })).rejects.toSatisfy(
      (error: unknown) => {
        expect(statusMessage(error)).toContain('status.journal: Too many: 51: must have at most 50 items');
        return true;
      },
    );
  });
});
