import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { FailoverDrill, FailoverPolicy } from '../../../src/api/index.ts';
import { createNamespace, testbed } from '../../env/testbed.ts';
import { applyCrds } from '../api/crds.ts';

// failoverctl as a person runs it: a child process, the kubeconfig from $KUBECONFIG, stdin not a terminal.
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const GROUP = { group: 'failover.io', version: 'v1alpha1' };
const STACK_FRAME = /\n\s+at .+:\d+:\d+/;

let kc: KubeConfig;
let objects: CustomObjectsApi;
let ns: string;
let kubeconfigPath: string;

function ctl(...args: string[]) {
  const r = spawnSync(process.execPath, ['src/cli/failoverctl.ts', '-n', ns, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 90_000,
    input: '',
    env: { ...process.env, KUBECONFIG: kubeconfigPath },
  });
  expect(r.stderr).not.toMatch(STACK_FRAME);
  return r;
}

const getPolicy = async (name: string) =>
  (await objects.getNamespacedCustomObject({
    ...GROUP,
    namespace: ns,
    plural: 'failoverpolicies',
    name,
  })) as FailoverPolicy;

async function createPolicy(name: string): Promise<void> {
  const policy = parse(readFileSync(path.join(repoRoot, 'examples/two-region-rds.yaml'), 'utf8'));
  policy.metadata = { name, namespace: ns };
  await objects.createNamespacedCustomObject({ ...GROUP, namespace: ns, plural: 'failoverpolicies', body: policy });
}

async function writeStatus(name: string, status: Record<string, unknown>): Promise<void> {
  await objects.patchNamespacedCustomObjectStatus(
    { ...GROUP, namespace: ns, plural: 'failoverpolicies', name, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const tb = testbed();
  kubeconfigPath = tb.kubeconfigPath;
  kc = tb.kubeConfig();
  objects = kc.makeApiClient(CustomObjectsApi);
  await applyCrds(kc);
  ns = await createNamespace(kc, 'failoverctl');
  await createPolicy('orders');
});

describe('failoverctl against the apiserver', () => {
  it('status lists the policy, shows its status fields, and --output json parses', async () => {
    await writeStatus('orders', {
      phase: 'Degraded',
      activeRegion: 'us-east-1',
      degradedZones: 'us-east-1a',
      activeWriter: { region: 'us-east-1', dbInstanceIdentifier: 'orders-db' },
      weights: { 'orders-use1a': 0, 'orders-use1b': 50 },
    });
    const list = ctl('status');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/orders\s+Degraded\s+us-east-1\s+orders-db \(us-east-1\)\s+us-east-1a/);

    const detail = ctl('status', 'orders');
    expect(detail.status).toBe(0);
    expect(detail.stdout).toContain('orders-use1a=0 orders-use1b=50');

    const json = ctl('status', '--output', 'json');
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout) as Array<{ name: string; phase: string; degradedZones: string[] }>;
    expect(parsed).toEqual([
      expect.objectContaining({ name: 'orders', phase: 'Degraded', degradedZones: ['us-east-1a'] }),
    ]);
  });

  it('approve writes spec.manual with the pending approval id, and says so when nothing is pending', async () => {
    await createPolicy('approvals');
    const nothing = ctl('approve', 'approvals');
    expect(nothing.status).toBe(1);
    expect(nothing.stderr).toContain('nothing is pending approval');

    await writeStatus('approvals', {
      pendingApproval: {
        id: 'promote-orders-replica',
        action: 'PromoteReadReplica',
        target: 'orders-replica-usw2',
        region: 'us-west-2',
        rule: 'PB-6',
        reason: 'promotion is Manual',
        requestedAt: '2026-11-23T12:00:00Z',
      },
    });
    const r = ctl('approve', 'approvals');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manual = (await getPolicy('approvals')).spec.manual;
    expect(manual).toMatchObject({
      action: 'Approve',
      approvalId: 'promote-orders-replica',
      requestedBy: expect.any(String),
    });
  });

  it('failover --yes writes a Failover request; a later approve replaces it whole', async () => {
    await createPolicy('moving');
    const r = ctl('failover', 'moving', '--to', 'us-west-2', '--yes', '--reason', 'drill by hand');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manual = (await getPolicy('moving')).spec.manual;
    expect(manual).toMatchObject({
      action: 'Failover',
      targetRegion: 'us-west-2',
      allowDataLoss: false,
      reason: 'drill by hand',
    });
    expect(manual?.id).toMatch(/^failover-/);

    const again = ctl('approve', 'moving', 'some-approval', '--output', 'json');
    expect(again.status).toBe(0);
    const replaced = (await getPolicy('moving')).spec.manual;
    expect(replaced?.action).toBe('Approve');
    expect(replaced?.targetRegion).toBeUndefined();
    expect(replaced?.id).not.toBe(manual?.id);
  });

  it('failover without --yes and without a terminal refuses and changes nothing', async () => {
    await createPolicy('careful');
    const r = ctl('failover', 'careful', '--to', 'us-west-2');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('pass --yes');
    expect((await getPolicy('careful')).spec.manual).toBeUndefined();
  });

  it('failover to a region the policy does not have is refused', () => {
    const r = ctl('failover', 'orders', '--to', 'eu-west-1', '--yes');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('region eu-west-1 is not one of');
  });

  it('drill start creates a DryRun FailoverDrill the apiserver accepts; drill abort sets spec.abort', async () => {
    const r = ctl(
      'drill',
      'start',
      'orders',
      '--scenario',
      'zone-outage',
      '--zone',
      'us-east-1a',
      '--mode',
      'DryRun',
      '--name',
      'd1',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const get = async () =>
      (await objects.getNamespacedCustomObject({
        ...GROUP,
        namespace: ns,
        plural: 'failoverdrills',
        name: 'd1',
      })) as FailoverDrill;
    const created = await get();
    expect(created.spec).toMatchObject({
      policyRef: { name: 'orders' },
      scenario: { type: 'zone-outage', zone: 'us-east-1a' },
      mode: 'DryRun',
      abort: false,
    });

    const status = ctl('drill', 'status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/d1\s+orders\s+zone-outage\s+DryRun/);

    const abort = ctl('drill', 'abort', 'd1');
    expect(abort.status).toBe(0);
    expect((await get()).spec.abort).toBe(true);
  });

  it('drill start takes a built-in scenario name as a replay of it; drill report prints a finished drill in every format', async () => {
    const r = ctl('drill', 'start', 'orders', '--scenario', 'us-east-1-2011', '--name', 'replayed', '-o', 'yaml');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect((parse(r.stdout) as FailoverDrill).spec.scenario).toMatchObject({
      type: 'replay',
      timeline: 'us-east-1-2011',
    });

    const early = ctl('drill', 'report', 'replayed');
    expect(early.status).toBe(2);
    expect(early.stderr).toContain('has not finished');

    await objects.patchNamespacedCustomObjectStatus(
      {
        ...GROUP,
        namespace: ns,
        plural: 'failoverdrills',
        name: 'replayed',
        body: {
          status: {
            phase: 'Failed',
            result: 'Failed',
            passed: false,
            startedAt: '2026-01-01T00:00:00Z',
            completedAt: '2026-01-01T00:30:00Z',
            detectionSeconds: 12,
            rtoSeconds: 420,
            violations: [{ objective: 'rto', message: 'RTO 420s exceeds 300s' }],
            summary: 'RTO 420s (objective 300s)',
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const text = ctl('drill', 'report', 'replayed');
    expect(text.status).toBe(1); // the drill failed
    expect(text.stdout).toContain('RTO                420s');
    const json = ctl('drill', 'report', 'replayed', '-o', 'json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'replayed',
      result: 'Failed',
      passed: false,
      rtoSeconds: 420,
    });
    const yaml = ctl('drill', 'report', 'replayed', '-o', 'yaml');
    expect(parse(yaml.stdout)).toEqual(JSON.parse(json.stdout));
  });

  it('status -o yaml and -o wide', async () => {
    await writeStatus('orders', { phase: 'Healthy', activeRegion: 'us-east-1', weights: { blue: 100 } });
    const yaml = ctl('status', '-o', 'yaml');
    expect(yaml.status).toBe(0);
    expect(parse(yaml.stdout)).toEqual(JSON.parse(ctl('status', '-o', 'json').stdout));
    const wide = ctl('status', '-o', 'wide');
    expect(wide.stdout).toMatch(
      /^NAME\s+PHASE\s+ACTIVE\s+WRITER\s+DEGRADED\s+PENDING APPROVAL\s+WEIGHTS\s+LAST FAILOVER\s+CONDITIONS/,
    );
    expect(wide.stdout).toContain('blue=100');
  });

  it('drill start checks the drill locally and sends nothing when it is invalid', async () => {
    const r = ctl('drill', 'start', 'orders', '--scenario', 'zone-outage', '--name', 'no-zone');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('nothing was sent');
    const list = (await objects.listNamespacedCustomObject({ ...GROUP, namespace: ns, plural: 'failoverdrills' })) as {
      items: FailoverDrill[];
    };
    expect(list.items.map((d) => d.metadata.name)).not.toContain('no-zone');
  });

  it('plan fetches the policy and prints what the engine would do against the simulated cloud', () => {
    const r = ctl('plan', 'orders');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('simulated cloud, nothing was changed');
    // The example drains through health checks: prepared in steady state, then one verdict publication.
    expect(r.stdout).toMatch(/PrepareDataPlane .*region us-west-2 \[PB-5\]/);
    expect(r.stdout).toMatch(/SetVerdicts .*region us-west-2 \[PB-5\]/);

    const json = ctl('plan', 'orders', '--scenario', 'zone-outage', '--output', 'json');
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout) as { simulated: boolean; actions: Array<{ kind: string }> };
    expect(parsed.simulated).toBe(true);
    expect(parsed.actions.map((a) => a.kind)).toContain('SetVerdicts');
    expect(parsed.actions.map((a) => a.kind)).not.toContain('SetWeights');
  });

  it('plan with an unknown scenario names the built-in ones', () => {
    const r = ctl('plan', 'orders', '--scenario', 'no-such-scenario');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('zone-outage');
  });

  it('a missing policy exits 1 naming it', () => {
    const r = ctl('status', 'nope');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`error: FailoverPolicy ${ns}/nope not found`);
  });

  it('an unreachable apiserver gives one line and exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'failoverctl-'));
    const file = path.join(dir, 'kubeconfig');
    const server = `https://127.0.0.1:${await closedPort()}`;
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "${server}"}}]`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const r = ctl('status', '--kubeconfig', file);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`cannot reach the Kubernetes API at ${server}: `);
    expect(r.stderr).toContain('check your kubeconfig/context');
  });

  it('a bad flag exits non-zero with a help hint', () => {
    const r = ctl('status', '--frobnicate');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
    expect(r.stderr).toContain('--help');
  });
});
