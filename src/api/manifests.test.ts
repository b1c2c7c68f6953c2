import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from './manifests.ts';
import { EXAMPLES_DIR } from './testdata/invalid-cases.ts';
import { formatFieldErrors } from './validate.ts';

describe('loadManifests', () => {
  it('dispatches each document on its kind and validates ours', () => {
    const text = [
      readFileSync(path.join(EXAMPLES_DIR, 'two-region-rds.yaml'), 'utf8'),
      '---',
      readFileSync(path.join(EXAMPLES_DIR, 'drill-us-east-1-2011.yaml'), 'utf8'),
      '---',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: orders}',
      '---',
      '',
    ].join('\n');
    const loaded = loadManifests(text, 'bundle.yaml');
    expect(loaded.map((manifest) => manifest.type)).toEqual(['FailoverPolicy', 'FailoverDrill', 'Other']);
    const [policy, drill, other] = loaded;
    expect(policy?.type === 'FailoverPolicy' && policy.result.ok && policy.name).toBe('orders');
    expect(drill?.type === 'FailoverDrill' && drill.result.ok && drill.result.value.spec.scenario.timeline).toBe(
      'us-east-1-2011',
    );
    expect(other).toMatchObject({ type: 'Other', kind: 'Namespace', source: { file: 'bundle.yaml', index: 2 } });
  });

  it('reports YAML syntax errors with line and column instead of throwing', () => {
    const text = 'apiVersion: failover.io/v1alpha1\nkind: FailoverPolicy\nspec:\n  regions: [us-east-1\n  probes: []\n';
    const [manifest] = loadManifests(text, 'broken.yaml');
    expect(manifest?.type).toBe('Invalid');
    if (manifest?.type !== 'Invalid') return;
    expect(manifest.errors[0]!.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(manifest.errors[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('reports duplicate keys, which the apiserver would also refuse', () => {
    const [manifest] = loadManifests('apiVersion: failover.io/v1alpha1\nkind: FailoverDrill\nkind: FailoverDrill\n');
    expect(manifest?.type).toBe('Invalid');
  });

  it('points each validation error at its line in the file', () => {
    const text = readFileSync(path.join(EXAMPLES_DIR, 'two-region-rds.yaml'), 'utf8').replace(
      'zones: [us-west-2a, us-west-2b]',
      'zones: [us-west-2a, us-east-1b]',
    );
    const [manifest] = loadManifests(text, 'two-region-rds.yaml');
    if (manifest?.type !== 'FailoverPolicy' || manifest.result.ok) throw new Error('expected a rejected policy');
    const error = manifest.result.errors.find((e) => e.path === 'spec.regions[1].zones');
    const expectedLine = text.split('\n').findIndex((line) => line.includes('us-east-1b]')) + 1;
    expect(error?.line).toBe(expectedLine);
    expect(formatFieldErrors(manifest.result.errors, { file: 'two-region-rds.yaml' })).toContain(
      `two-region-rds.yaml:${expectedLine}: spec.regions[1].zones: zone us-east-1b does not belong to region us-west-2`,
    );
  });

  it('points a missing field at its parent', () => {
    const text = [
      'apiVersion: failover.io/v1alpha1',
      'kind: FailoverDrill',
      'metadata: {name: d}',
      'spec:',
      '  policyRef: {name: web}',
      '  scenario:',
      '    type: zone-outage',
    ].join('\n');
    const [manifest] = loadManifests(text);
    if (manifest?.type !== 'FailoverDrill' || manifest.result.ok) throw new Error('expected a rejected drill');
    expect(manifest.result.errors).toEqual([expect.objectContaining({ path: 'spec.scenario.zone', line: 7 })]);
  });

  it('rejects an unknown failover.io kind and a document that is not a mapping', () => {
    const loaded = loadManifests('apiVersion: failover.io/v1alpha1\nkind: FailoverPlan\n---\n- a\n- b\n');
    expect(loaded.map((manifest) => manifest.type)).toEqual(['Invalid', 'Invalid']);
    const [unknownKind] = loaded;
    expect(unknownKind?.type === 'Invalid' && unknownKind.errors[0]).toMatchObject({
      path: 'kind',
      message: 'is not a kind of failover.io',
    });
  });

  it('refuses an alias bomb and an alias to no anchor per document, and still reports the other documents', () => {
    const web = readFileSync(path.join(EXAMPLES_DIR, 'single-region-web.yaml'), 'utf8');
    const bomb = [
      'apiVersion: failover.io/v1alpha1',
      'kind: FailoverPolicy',
      'metadata: {name: lol}',
      'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    ].join('\n');
    const dangling = 'apiVersion: failover.io/v1alpha1\nkind: FailoverPolicy\nmetadata: {name: *nowhere}\n';
    const loaded = loadManifests([bomb, '---', dangling, '---', web].join('\n'), 'hostile.yaml');
    expect(loaded.map((manifest) => manifest.type)).toEqual(['Invalid', 'Invalid', 'FailoverPolicy']);
    const messages = loaded.map((manifest) => (manifest.type === 'Invalid' ? manifest.errors[0]?.message : ''));
    expect(messages[0]).toMatch(/^document 1 of hostile\.yaml: its aliases expand to too many nodes/);
    expect(messages[1]).toMatch(
      /^document 2 of hostile\.yaml: an alias names no anchor defined before it \(\*nowhere\)/,
    );
    expect(loaded[2]?.type === 'FailoverPolicy' && loaded[2].result.ok).toBe(true);
  });

  it('reads YAML 1.1 booleans (yes, on, y …) as kubectl does: booleans, even in a string field', () => {
    const web = readFileSync(path.join(EXAMPLES_DIR, 'single-region-web.yaml'), 'utf8');
    // A boolean field: dryRun: yes is true, as kubectl sends it.
    const [yes] = loadManifests(web.replace('spec:\n', 'spec:\n  dryRun: yes\n  suspend: Off\n'));
    expect(
      yes?.type === 'FailoverPolicy' && yes.result.ok && [yes.result.value.spec.dryRun, yes.result.value.spec.suspend],
    ).toEqual([true, false]);
    // A string field: kubectl sends the boolean true for a plain on, and the apiserver refuses it; quoted, it is a string.
    const [on] = loadManifests(web.replace('- name: web\n', '- name: on\n'));
    expect(on?.type === 'FailoverPolicy' && !on.result.ok && formatFieldErrors(on.result.errors)).toContain(
      'spec.probes[0].name: must be a string, got boolean true',
    );
    const [quoted] = loadManifests(web.replace('- name: web\n', '- name: "on"\n'));
    expect(quoted?.type === 'FailoverPolicy' && quoted.result.ok).toBe(true);
    // Integers as go-yaml v2 reads them: a leading 0 is octal, '_' is dropped.
    const [octal] = loadManifests(
      web.replace('timeoutSeconds: 2', 'timeoutSeconds: 010').replace('intervalSeconds: 5', 'intervalSeconds: 1_0'),
    );
    const spec = octal?.type === 'FailoverPolicy' && octal.result.ok ? octal.result.value.spec : undefined;
    expect([spec?.probes[0]?.http?.timeoutSeconds, spec?.health.intervalSeconds]).toEqual([8, 10]);
    // Not YAML 1.1 in everything: a timestamp stays a string and 1:30 is not sexagesimal 90, as in go-yaml v2.
    const [other] = loadManifests('apiVersion: v1\nkind: ConfigMap\ndata: {at: 2011-04-21, t: 1:30}\n');
    expect(other?.type === 'Other' && other.object).toMatchObject({ data: { at: '2011-04-21', t: '1:30' } });
  });
});
