// Helpers for the chart tests: run the test bed's Helm on charts/failover-operator and parse what it renders.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const chartDir = path.join(repoRoot, 'charts/failover-operator');
const run = promisify(execFile);

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [key: string]: unknown;
}

export interface Rendered {
  /** Each document as YAML text (for client-node's loadYaml, which keeps the typed models' field names). */
  texts: string[];
  manifests: Manifest[];
}

/** `helm <args>`; rejects with Helm's stderr when it fails. */
export async function helm(helmPath: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(helmPath, args, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${stderr ?? ''}${stdout ?? ''}`);
  }
}

/**
 * The Kubernetes version `helm template` renders for unless told otherwise: the test bed's kube-apiserver's. (Helm
 * built without its release ldflags, as the test bed's is, would assume v1.20 and refuse the chart's kubeVersion.)
 */
export const DEFAULT_KUBE_VERSION = '1.34.0';

/** `helm template` with `--set` values and a values file written from `values`; CRDs included. */
export async function renderChart(
  helmPath: string,
  opts: { release: string; namespace: string; set?: Record<string, string>; values?: object; kubeVersion?: string },
): Promise<Rendered> {
  const sets = Object.entries(opts.set ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  if (opts.values) {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'fo-values-')), 'values.json');
    writeFileSync(file, JSON.stringify(opts.values)); // JSON is YAML
    sets.push('--values', file);
  }
  const out = await helm(helmPath, [
    'template',
    opts.release,
    chartDir,
    '--namespace',
    opts.namespace,
    '--include-crds',
    '--kube-version',
    opts.kubeVersion ?? DEFAULT_KUBE_VERSION,
    ...sets,
  ]);
  const texts: string[] = [];
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(out)) {
    if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Manifest | null;
    if (value === null) continue;
    manifests.push(value);
    texts.push(doc.toString());
  }
  return { texts, manifests };
}

export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
