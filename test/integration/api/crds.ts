// Helpers for the API integration tests: install the generated CRDs the way a user would (from the YAML files in
// crds/, not from the in-memory objects), and make raw requests where the typed client cannot (Table output,
// discovery).
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  type KubeConfig,
  loadYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CRD_FILES = ['crds/failover.io_failoverpolicies.yaml', 'crds/failover.io_failoverdrills.yaml'];

/** The CRD as a typed client model. loadYaml maps `enum`, `x-kubernetes-validations`… to the model's names; a
 * plain object would lose them in the typed client's serializer. */
export function readCrd(file: string): V1CustomResourceDefinition {
  return loadYaml<V1CustomResourceDefinition>(readFileSync(path.join(repoRoot, file), 'utf8'));
}

/** Creates or replaces each CRD from crds/ and waits until the apiserver serves it (Established). */
export async function applyCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const file of CRD_FILES) {
    const body = readCrd(file);
    const name = body.metadata!.name!;
    try {
      const existing = await api.readCustomResourceDefinition({ name });
      body.metadata!.resourceVersion = existing.metadata!.resourceVersion!;
      await api.replaceCustomResourceDefinition({ name, body });
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      await api.createCustomResourceDefinition({ body });
    }
    await waitForEstablished(api, name);
  }
}

async function waitForEstablished(api: ApiextensionsV1Api, name: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const established = crd.status?.conditions?.find((condition) => condition.type === 'Established');
    if (established?.status === 'True') return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 30 s: ${JSON.stringify(crd.status)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** GET a path on the apiserver with the kubeconfig's credentials; returns the parsed JSON body. */
export async function getRaw(kc: KubeConfig, apiPath: string, accept = 'application/json'): Promise<unknown> {
  const server = new URL(kc.getCurrentCluster()!.server);
  const options: https.RequestOptions = {
    hostname: server.hostname,
    port: server.port,
    path: apiPath,
    method: 'GET',
    headers: { Accept: accept },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const request = https.request(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        if ((response.statusCode ?? 500) >= 300)
          reject(new Error(`GET ${apiPath}: HTTP ${response.statusCode} ${body}`));
        else resolve(JSON.parse(body));
      });
    });
    request.on('error', reject);
    request.end();
  });
}

/** The apiserver's message from an ApiException (its body is the Status object as JSON). */
export function statusMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body !== 'string') return String(error);
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}
