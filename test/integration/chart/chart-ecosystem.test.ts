// What Helm users expect of an operator chart (#17), with the test bed's Helm: `helm lint --strict` and `helm
// template` for several value sets and Kubernetes versions, the kubeVersion floor, the recommended labels on the
// pod template, an image digest, `global` for subchart use, and the CRDs as templates (cert-manager's upgrade path)
// rendering exactly what crds/ holds.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { testbed } from '../../env/testbed.ts';
import { chartDir, helm, type Manifest, only, type Rendered, renderChart, repoRoot } from './render.ts';

type Deployment = Manifest & {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<{ image: string }> } };
  };
};

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** The value sets every check below runs with. */
const VALUE_SETS: Record<string, Record<string, string>> = {
  defaults: {},
  'tenancy off': { 'tenancy.enforce': 'false' },
  'secure metrics off': { 'metrics.secure': 'false', 'metrics.port': '8080', 'metrics.service.port': '8080' },
  'NetworkPolicy on': { 'networkPolicy.enabled': 'true' },
  digest: { 'image.digest': DIGEST },
  'crds disabled': { 'crds.enabled': 'false' },
  'crds not kept': { 'crds.keep': 'false' },
  'global (subchart)': { 'global.imageRegistry': 'registry.example.com' },
};

const setArgs = (set: Record<string, string>) => Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
const chart = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as {
  kubeVersion: string;
  appVersion: string;
};

let helmPath: string;
beforeAll(() => {
  helmPath = testbed().helmPath;
});

describe('helm lint --strict', () => {
  it.each(Object.entries(VALUE_SETS))('passes with %s', async (_name, set) => {
    await helm(helmPath, ['lint', '--strict', chartDir, '--kube-version', '1.34.0', ...setArgs(set)]);
  });

  it('refuses an image digest that is not sha256:<64 hex>', async () => {
    await expect(helm(helmPath, ['lint', chartDir, '--set', 'image.digest=latest'])).rejects.toThrow(/digest/);
  });
});

describe('Kubernetes versions', () => {
  it('requires 1.30 (admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy) in Chart.yaml', () => {
    expect(chart.kubeVersion).toBe('>=1.30.0-0');
  });

  it('refuses to render for 1.29 with a message naming the required version', async () => {
    await expect(renderChart(helmPath, { release: 'fo', namespace: 'fo', kubeVersion: '1.29.8' })).rejects.toThrow(
      /chart requires kubeVersion: >=1\.30\.0-0 which is incompatible with Kubernetes v1\.29/,
    );
  });

  it.each(['1.30.0', '1.34.0'])('renders for %s with every value set', async (kubeVersion) => {
    for (const set of Object.values(VALUE_SETS)) {
      const r = await renderChart(helmPath, { release: 'fo', namespace: 'fo', kubeVersion, set });
      expect(r.manifests.filter((m) => m.kind === 'Deployment')).toHaveLength(1);
      const policies = r.manifests.filter((m) => m.kind === 'ValidatingAdmissionPolicy');
      expect(policies.every((m) => m.apiVersion === 'admissionregistration.k8s.io/v1')).toBe(true);
    }
  });
});

describe('labels and image', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart(helmPath, { release: 'fo', namespace: 'failover-system' });
  });

  it('puts the recommended app.kubernetes.io labels on the pod template, selecting by name and instance only', () => {
    const deployment = only(r.manifests, 'Deployment') as Deployment;
    expect(deployment.spec.template.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'failover-operator',
      'app.kubernetes.io/instance': 'fo',
      'app.kubernetes.io/version': chart.appVersion,
      'app.kubernetes.io/component': 'controller',
      'app.kubernetes.io/part-of': 'failover-operator',
      'app.kubernetes.io/managed-by': 'Helm',
    });
    expect(deployment.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'failover-operator',
      'app.kubernetes.io/instance': 'fo',
    });
    for (const m of r.manifests) {
      expect(m.metadata.labels?.['app.kubernetes.io/component'], `${m.kind} ${m.metadata.name}`).toBe('controller');
      expect(m.metadata.labels?.['helm.sh/chart'], `${m.kind} ${m.metadata.name}`).toMatch(/^failover-operator-/);
    }
  });

  it('runs repository:appVersion by default, repository:tag with a tag, repository@digest with a digest', async () => {
    const image = async (set: Record<string, string>) =>
      (
        only(
          (await renderChart(helmPath, { release: 'fo', namespace: 'fo', set })).manifests,
          'Deployment',
        ) as Deployment
      ).spec.template.spec.containers[0]!.image;
    expect(await image({})).toBe(`ghcr.io/failover-operator/failover-operator:${chart.appVersion}`);
    expect(await image({ 'image.tag': '9.9.9' })).toBe('ghcr.io/failover-operator/failover-operator:9.9.9');
    expect(await image({ 'image.tag': '9.9.9', 'image.digest': DIGEST })).toBe(
      `ghcr.io/failover-operator/failover-operator@${DIGEST}`,
    );
    expect(await image({ 'image.repository': 'registry.example.com/fo', 'image.digest': DIGEST })).toBe(
      `registry.example.com/fo@${DIGEST}`,
    );
  });
});

describe('CRDs as templates (upgraded with the release)', () => {
  const crdsOf = (r: Rendered) => r.manifests.filter((m) => m.kind === 'CustomResourceDefinition');

  it('ships no crds/ folder, which Helm would install once and never upgrade', () => {
    expect(() => readFileSync(path.join(chartDir, 'crds', 'failover.io_failoverpolicies.yaml'))).toThrow();
  });

  it('renders exactly the CRDs of crds/, with the chart labels and helm.sh/resource-policy: keep', async () => {
    const r = await renderChart(helmPath, { release: 'fo', namespace: 'fo' });
    const rendered = crdsOf(r);
    expect(rendered.map((m) => m.metadata.name).sort()).toEqual([
      'failoverdrills.failover.io',
      'failoverpolicies.failover.io',
    ]);
    for (const crd of rendered) {
      const plain = parse(
        readFileSync(path.join(repoRoot, 'crds', `failover.io_${crd.metadata.name.split('.')[0]}.yaml`), 'utf8'),
      ) as Manifest;
      expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
      expect(crd.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'failover-operator',
        'app.kubernetes.io/instance': 'fo',
        'app.kubernetes.io/managed-by': 'Helm',
      });
      const { metadata: _m, ...spec } = crd;
      const { metadata: _p, ...plainSpec } = plain;
      expect(spec).toEqual(plainSpec);
    }
  });

  it('crds.keep=false: no keep annotation; crds.enabled=false: no CRDs', async () => {
    const notKept = await renderChart(helmPath, { release: 'fo', namespace: 'fo', set: { 'crds.keep': 'false' } });
    expect(crdsOf(notKept).map((m) => m.metadata.annotations)).toEqual([undefined, undefined]);
    const disabled = await renderChart(helmPath, { release: 'fo', namespace: 'fo', set: { 'crds.enabled': 'false' } });
    expect(crdsOf(disabled)).toEqual([]);
    expect(disabled.manifests.filter((m) => m.kind === 'Deployment')).toHaveLength(1);
  });
});
