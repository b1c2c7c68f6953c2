// The image runs the esbuild bundle (scripts/build.ts), not the sources the other tests import: this builds it into a
// temporary directory, with only package.json beside it (no node_modules: the bundle needs none), and runs what
// the image runs — the CLI, the controller's entry, failoverctl, and the DryRun drill's worker thread — so a change
// that breaks the bundle (an `import.meta.url` that no longer finds its file, an entry module moved into a shared
// chunk where `import.meta.main` is false, a worker that does not load) fails here rather than in a cluster.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicies } from '../../../src/cli/failover-operator.ts';
import { createWorkerDrillSimulator } from '../../../src/controller/drill-simulator.ts';
import { loadScenario } from '../../../src/scenarios/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
let root = '';
let dist = '';

const run = (file: string, args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [path.join(dist, file), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', HOME: root, ...env },
  });

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'fo-bundle-'));
  dist = path.join(root, 'dist');
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(root, 'package.json'));
  const build = spawnSync(process.execPath, ['scripts/build.ts', '--outdir', dist], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(build.stderr).toBe('');
  expect(build.status).toBe(0);
}, 130_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the bundle the image runs (scripts/build.ts)', () => {
  it('lays out the entry points the Dockerfile, the chart and drill-simulator.ts name', () => {
    expect(existsSync(path.join(dist, 'cli/failover-operator.js'))).toBe(true);
    expect(existsSync(path.join(dist, 'cli/failoverctl.js'))).toBe(true);
    expect(existsSync(path.join(dist, 'controller/drill-simulation-worker.js'))).toBe(true);
    expect(readdirSync(path.join(dist, 'scenarios/builtin')).sort()).toEqual(
      readdirSync(path.join(repoRoot, 'src/scenarios/builtin')).sort(),
    );
    // The controller finds its worker beside where its own module would be built: dist/controller/.
    const chunks = readdirSync(path.join(dist, 'cli')).filter((f) => f.endsWith('.js'));
    const withSimulator = chunks.filter((f) =>
      readFileSync(path.join(dist, 'cli', f), 'utf8').includes('drill-simulation-worker'),
    );
    expect(withSimulator).toHaveLength(1);
    expect(readFileSync(path.join(dist, 'cli', withSimulator[0]!), 'utf8')).toContain(
      'new URL("../controller/drill-simulator.js",import.meta.url)',
    );
  });

  it('runs the CLI: the version from package.json, the built-in scenarios, a simulation', () => {
    const version = run('cli/failover-operator.js', ['--version']);
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(run('cli/failoverctl.js', ['--version']).stdout.trim()).toBe(pkg.version);

    const scenarios = run('cli/failover-operator.js', ['scenarios', '-o', 'json']);
    expect(scenarios.status).toBe(0);
    expect((JSON.parse(scenarios.stdout) as Array<{ name: string }>).map((s) => s.name)).toContain('zone-outage');

    const simulated = run('cli/failover-operator.js', [
      'simulate',
      'examples/two-region-rds.yaml',
      '--scenario',
      'zone-outage',
      '-o',
      'json',
    ]);
    expect(simulated.stderr).toBe('');
    expect(simulated.status).toBe(0);
    expect((JSON.parse(simulated.stdout) as { passed: boolean }).passed).toBe(true);
  }, 60_000);

  it("loads run's controller: without a cluster it stops with a usage error, not a missing module", () => {
    const missing = path.join(root, 'missing');
    const result = run('cli/failover-operator.js', ['run', '--kubeconfig', missing], { FO_TENANCY: 'Unrestricted' });
    expect(result.stderr).toBe(`error: kubeconfig ${missing} (--kubeconfig or KUBECONFIG) does not exist\n`);
    expect(result.status).toBe(2);
  });

  it('runs a DryRun drill in the built worker thread', async () => {
    const simulate = createWorkerDrillSimulator({
      workerUrl: pathToFileURL(path.join(dist, 'controller/drill-simulation-worker.js')),
    });
    const [policy] = readPolicies([path.join(repoRoot, 'examples/two-region-rds.yaml')]);
    const out = await simulate({
      policy: policy!,
      scenario: loadScenario('zone-outage'),
      seed: 1,
      signal: new AbortController().signal,
    });
    expect(out.report.passed).toBe(true);
    expect(out.timeline.length).toBeGreaterThan(0);
  }, 60_000);
});
