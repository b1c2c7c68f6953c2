// test/env/up.sh itself: idempotent (a second run is a quick no-op), self-healing (a dead server comes back on
// its port, alone), and one clear line when a tool is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readTestbedState, type TestbedState, testbedStatePath } from '../../env/testbed.ts';

const upSh = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../env/up.sh');
const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

function runUp(env: NodeJS.ProcessEnv) {
  const start = performance.now();
  const result = spawnSync(bash, [upSh], { encoding: 'utf8', env, timeout: 180_000 });
  return { ...result, ms: performance.now() - start };
}

const pids = (s: TestbedState) => ({
  etcd: s.etcd.pid,
  apiserver: s.apiserver.pid,
  apiserverB: s.clusters?.b?.pid,
  moto: s.moto.pid,
  proxy: s.proxy.pid,
});

describe('test/env/up.sh', () => {
  const statePath = testbedStatePath();
  const bedEnv = { ...process.env, FO_TESTBED_DIR: path.dirname(statePath) };

  it('is a quick no-op when everything is already up: same pids, same ports, state untouched', () => {
    const before = readTestbedState(statePath);
    const mtime = statSync(statePath).mtimeMs;
    const run = runUp(bedEnv);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^test bed: already up \(\d+ ms\)/);
    expect(run.ms).toBeLessThan(5_000);
    const after = readTestbedState(statePath);
    expect(pids(after)).toEqual(pids(before));
    expect(after.aws.endpoint).toBe(before.aws.endpoint);
    expect(statSync(statePath).mtimeMs).toBe(mtime);
  });

  it('restarts only a server that died, on the same port', async () => {
    const before = readTestbedState(statePath);
    process.kill(-before.proxy.pid, 'SIGKILL'); // its own process group: up.sh started it with setsid
    await new Promise((r) => setTimeout(r, 200));
    const run = runUp(bedEnv);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/started: fault-proxy\)/);
    const after = readTestbedState(statePath);
    expect(after.proxy.pid).not.toBe(before.proxy.pid);
    expect(after.proxy.port).toBe(before.proxy.port);
    expect({ ...pids(after), proxy: 0 }).toEqual({ ...pids(before), proxy: 0 });
    const health = await fetch(`${after.proxy.control}/health`);
    expect(await health.json()).toEqual({ ok: true, upstream: after.moto.url });
  });

  describe('with tools missing', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'fo-up-tools-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    // A PATH with every tool up.sh may need except the named ones, and an empty cache, so it would need go.
    function withoutTools(missing: string[]) {
      const bin = mkdtempSync(path.join(scratch, 'bin-'));
      const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
      const found: Record<string, string> = { python3: python.stdout.trim() };
      for (const tool of ['curl', 'setsid', 'flock', 'openssl', 'etcd', 'apt-get', 'go']) {
        found[tool] = spawnSync(bash, ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      }
      for (const [tool, target] of Object.entries(found)) {
        if (target && !missing.includes(tool)) symlinkSync(target, path.join(bin, tool));
      }
      const cache = path.join(bin, 'empty-cache');
      const bed = path.join(bin, 'bed');
      mkdirSync(cache);
      return { env: { HOME: process.env.HOME, PATH: bin, FO_CACHE_DIR: cache, FO_TESTBED_DIR: bed }, bed };
    }

    it('says in one line that go is missing and what to install, and starts nothing', () => {
      const { env, bed } = withoutTools(['go']);
      const run = runUp(env);
      expect(run.status).toBe(3);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^test bed: cannot start, install first: go 1\.24\+ \(needed once to build kube-apiserver/,
      );
      expect(existsSync(path.join(bed, 'logs'))).toBe(false);
    });

    it('names every missing tool on that one line', () => {
      const { env } = withoutTools(['go', 'openssl', 'curl']);
      const run = runUp(env);
      expect(run.status).toBe(3);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('curl (apt-get install curl)');
      expect(lines[0]).toContain('openssl (apt-get install openssl)');
      expect(lines[0]).toContain('go 1.24+');
    });

    it('passes the check when the only thing missing is go but nothing needs building', () => {
      // The real cache has kube-apiserver and helm, so go is not needed: up.sh must not demand it.
      const { env } = withoutTools(['go']);
      const realCache = path.resolve(path.dirname(upSh), '../../.cache');
      const state = JSON.parse(readFileSync(statePath, 'utf8')) as { dir: string };
      // Past the check up.sh uses coreutils; add the system dirs (go lives elsewhere, e.g. /usr/local/go/bin).
      const run = runUp({
        ...env,
        PATH: `${env.PATH}:/usr/bin:/bin`,
        FO_CACHE_DIR: realCache,
        FO_TESTBED_DIR: state.dir,
      });
      expect(run.stderr).not.toContain('cannot start');
      expect(run.status, run.stderr).toBe(0);
    });
  });
});
