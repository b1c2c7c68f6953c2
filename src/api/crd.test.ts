import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALL_RULES } from './cel-rules.ts';
import { buildDrillCrd, buildPolicyCrd, type JsonSchemaProps, toOpenApi } from './crd.ts';
import {
  CHART_CRD_DIRECTORY,
  CRD_DIRECTORY,
  crdFileName,
  findDrift,
  generatedFiles,
  writeGeneratedFiles,
} from './generate-crds.ts';
import { FailoverPolicySpecSchema } from './policy-schema.ts';

type Crd = { metadata: { name: string; annotations?: Record<string, string> } } & Record<string, unknown>;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Visits every schema node with its path. */
function walk(schema: JsonSchemaProps, visit: (node: JsonSchemaProps, at: string) => void, at = ''): void {
  visit(schema, at);
  for (const [name, child] of Object.entries((schema.properties as Record<string, JsonSchemaProps>) ?? {})) {
    walk(child, visit, `${at}.${name}`);
  }
  if (schema.items) walk(schema.items as JsonSchemaProps, visit, `${at}[*]`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    walk(schema.additionalProperties as JsonSchemaProps, visit, `${at}{*}`);
  }
}

describe('generated CRD files', () => {
  it('match the schemas in src/api (run `npm run generate` after changing a schema)', async () => {
    expect(await findDrift(repoRoot)).toEqual([]);
  });

  it('are the same CRDs in crds/ and in the chart templates, which add only labels, keep and the crds.enabled gate', async () => {
    for (const crd of [buildPolicyCrd(), buildDrillCrd()]) {
      const [plain, template] = await Promise.all(
        [CRD_DIRECTORY, CHART_CRD_DIRECTORY].map((dir) => readFile(path.join(repoRoot, dir, crdFileName(crd)), 'utf8')),
      );
      const templateLines = template!.split('\n').filter((l) => l.includes('{{'));
      expect(templateLines).toEqual([
        '{{- if .Values.crds.enabled }}',
        '    {{- include "failover-operator.labels" . | nindent 4 }}',
        '  {{- if .Values.crds.keep }}',
        '  {{- end }}',
        '{{- end }}',
      ]);
      // Without its template actions, the template is the plain CRD with the keep annotation and no labels.
      const data = parse(
        template!
          .split('\n')
          .filter((l) => !l.includes('{{'))
          .join('\n')
          .replace(/^ {2}labels:\n/m, ''),
      ) as Crd;
      const expected = parse(plain!) as Crd;
      expect(data.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect({ ...data, metadata: { name: data.metadata.name } }).toEqual({
        ...expected,
        metadata: { name: expected.metadata.name },
      });
    }
  });

  describe('drift detection', () => {
    let scratch = '';
    afterAll(async () => {
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('reports an edited, a missing and no unchanged file', async () => {
      scratch = await mkdtemp(path.join(tmpdir(), 'fo-crds-'));
      await writeGeneratedFiles(scratch);
      expect(await findDrift(scratch)).toEqual([]);

      const [edited, removed] = [...generatedFiles().keys()];
      const editedPath = path.join(scratch, edited!);
      await writeFile(editedPath, (await readFile(editedPath, 'utf8')).replace('maxItems: 10', 'maxItems: 11'));
      await rm(path.join(scratch, removed!));
      expect((await findDrift(scratch)).sort()).toEqual([edited, removed].sort());
    });

    it('notices a hand edit to the chart copy only', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fo-crds-'));
      try {
        await cp(path.join(repoRoot, 'crds'), path.join(dir, 'crds'), { recursive: true });
        await writeGeneratedFiles(dir);
        const chartFile = path.join(dir, CHART_CRD_DIRECTORY, crdFileName(buildPolicyCrd()));
        await writeFile(chartFile, `${await readFile(chartFile, 'utf8')}# local tweak\n`);
        expect(await findDrift(dir)).toEqual([path.posix.join(CHART_CRD_DIRECTORY, crdFileName(buildPolicyCrd()))]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  it('parse back to the objects the generator builds', async () => {
    const text = await readFile(path.join(repoRoot, 'crds', crdFileName(buildPolicyCrd())), 'utf8');
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(buildPolicyCrd())));
  });
});

describe('FailoverPolicy CRD', () => {
  const crd = buildPolicyCrd();
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema;

  it('is namespaced failover.io/v1alpha1 with the status subresource and short name fp', () => {
    expect(crd.metadata.name).toBe('failoverpolicies.failover.io');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(version.name).toBe('v1alpha1');
    expect(version.subresources).toEqual({ status: {} });
    expect(crd.spec.names.shortNames).toEqual(['fp']);
  });

  it('prints phase, active region, degraded zones, last failover and age', () => {
    expect(version.additionalPrinterColumns.map((column) => [column.name, column.jsonPath])).toEqual([
      ['Phase', '.status.phase'],
      ['Active', '.status.activeRegion'],
      ['Degraded', '.status.degradedZones'],
      ['Last-Failover', '.status.lastFailover.startedAt'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  it('is structural: every node has a type, enums are typed, no JSON Schema-only keywords remain', () => {
    walk(root, (node, at) => {
      expect(node.type, `type at ${at}`).toBeDefined();
      for (const keyword of ['anyOf', 'const', 'patternProperties', '$id', 'fix']) {
        expect(node, `${keyword} at ${at}`).not.toHaveProperty(keyword);
      }
      if (node.exclusiveMinimum !== undefined) expect(node.exclusiveMinimum, at).toBe(true);
      if (node.additionalProperties !== undefined) expect(typeof node.additionalProperties, at).toBe('object');
    });
  });

  it('bounds every string and list under spec, so the apiserver can estimate CEL costs', () => {
    const spec = (root.properties as Record<string, JsonSchemaProps>).spec!;
    walk(spec, (node, at) => {
      if (node.type === 'string' && !node.enum) expect(node.maxLength, `maxLength at spec${at}`).toBeTypeOf('number');
      if (node.type === 'array') expect(node.maxItems, `maxItems at spec${at}`).toBeTypeOf('number');
      if (node.type === 'object' && node.additionalProperties) expect(node.maxProperties, at).toBeTypeOf('number');
    });
  });

  it('declares defaults and does not require defaulted fields', () => {
    const spec = (root.properties as Record<string, JsonSchemaProps>).spec!;
    const props = spec.properties as Record<string, JsonSchemaProps>;
    const health = props.health!.properties as Record<string, JsonSchemaProps>;
    expect(health.intervalSeconds!.default).toBe(5);
    expect(health.failureThreshold!.default).toBe(2);
    expect(health.recoveryThreshold!.default).toBe(12);
    expect(props.health!.default).toEqual({});
    const guardrails = props.guardrails!.properties as Record<string, JsonSchemaProps>;
    expect(guardrails.cooldownSeconds!.default).toBe(300);
    expect((guardrails.failback!.properties as Record<string, JsonSchemaProps>).database!.default).toBe('Manual');
    expect(spec.required).toEqual(['regions', 'probes']);
  });

  it('maps string enums, maps and exclusive bounds to their OpenAPI v3 forms', () => {
    const spec = toOpenApi(FailoverPolicySpecSchema);
    const region = ((spec.properties as Record<string, JsonSchemaProps>).regions!.items as JsonSchemaProps)
      .properties as Record<string, JsonSchemaProps>;
    expect(region.role).toMatchObject({ type: 'string', enum: ['primary', 'standby'] });
    const probe = ((spec.properties as Record<string, JsonSchemaProps>).probes!.items as JsonSchemaProps)
      .properties as Record<string, JsonSchemaProps>;
    const rate = (probe.awsApiErrors!.properties as Record<string, JsonSchemaProps>).errorRateThreshold!;
    expect(rate).toMatchObject({ type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 1 });
    const status = (root.properties as Record<string, JsonSchemaProps>).status!;
    const weights = (status.properties as Record<string, JsonSchemaProps>).weights!;
    expect(weights).toMatchObject({ type: 'object', additionalProperties: { type: 'integer', maximum: 255 } });
  });

  it('keeps conditions a list map keyed by type', () => {
    const status = (root.properties as Record<string, JsonSchemaProps>).status!;
    const conditions = (status.properties as Record<string, JsonSchemaProps>).conditions!;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
    expect((conditions.items as JsonSchemaProps).required).toEqual([
      'type',
      'status',
      'lastTransitionTime',
      'reason',
      'message',
    ]);
  });
});

describe('FailoverDrill CRD', () => {
  const crd = buildDrillCrd();
  const version = crd.spec.versions[0]!;

  it('is namespaced with the status subresource and short name fd', () => {
    expect(crd.metadata.name).toBe('failoverdrills.failover.io');
    expect(crd.spec.names.shortNames).toEqual(['fd']);
    expect(version.subresources).toEqual({ status: {} });
  });

  it('prints policy, scenario, mode, result, RTO and age', () => {
    const shown = version.additionalPrinterColumns.filter((column) => !column.priority).map((column) => column.name);
    expect(shown).toEqual(['Policy', 'Scenario', 'Mode', 'Result', 'RTO', 'Age']);
  });
});

describe('CEL rules in the CRDs', () => {
  const emitted = (crd: ReturnType<typeof buildPolicyCrd>) => {
    const rules: Array<Record<string, unknown>> = [];
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema, (node) => {
      rules.push(...((node['x-kubernetes-validations'] as Array<Record<string, unknown>>) ?? []));
    });
    return rules;
  };

  it('carry every rule written in cel-rules.ts exactly once, with only Kubernetes fields', () => {
    const all = [...emitted(buildPolicyCrd()), ...emitted(buildDrillCrd())];
    expect(all.map((rule) => rule.rule).sort()).toEqual(ALL_RULES.map((rule) => rule.rule).sort());
    for (const rule of all) {
      expect(
        Object.keys(rule).every((key) => ['rule', 'message', 'messageExpression', 'fieldPath', 'reason'].includes(key)),
      ).toBe(true);
    }
  });

  it('are each documented in docs/api.md', async () => {
    const docs = await readFile(path.join(repoRoot, 'docs/api.md'), 'utf8');
    for (const rule of ALL_RULES) expect(docs, rule.id).toContain(`\`${rule.id}\``);
  });

  it('have messages that are sentences and unique ids', () => {
    const ids = ALL_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of ALL_RULES) {
      expect(rule.message, rule.id).toMatch(/\.$/);
      expect(rule.fix, rule.id).toMatch(/\.$/);
    }
  });
});
