// Both command lines as kubectl, cmctl and `kubectl cnpg` users expect them: --version, -o on every command that
// prints (parsed here as JSON and YAML), global options in every subcommand's help, exit codes 0/1/2, shell
// completion from the command tree, and a reader that closes the pipe early ending the program quietly.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CtlDeps } from '../../../src/cli/ctl/context.ts';
import { buildProgram as operatorProgram, runFailoverOperator } from '../../../src/cli/failover-operator.ts';
import { buildProgram as ctlProgram, runFailoverctl } from '../../../src/cli/failoverctl.ts';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

function ctlDeps() {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CtlDeps = {
    io: { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, confirm: async () => false },
    kube: () => {
      throw new Error('no cluster in unit tests');
    },
    now: () => 0,
    randomSuffix: () => 'abc123',
  };
  return { deps, out, err };
}

async function ctl(...args: string[]) {
  const { deps, out, err } = ctlDeps();
  const code = await runFailoverctl(['node', 'failoverctl', ...args], deps);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function operator(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runFailoverOperator(['node', 'failover-operator', ...args], {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    isTTY: false,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function commandPaths(cmd: Command, path: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...path, c.name()], ...commandPaths(c, [...path, c.name()])]);
}

describe('CLI conventions', () => {
  it('--version prints the package version, exit 0, on both CLIs', async () => {
    expect(await ctl('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await operator('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  }, 60_000);

  it("every failoverctl subcommand's help shows the global options and the exit codes", async () => {
    const paths = commandPaths(ctlProgram(ctlDeps().deps));
    expect(paths.map((p) => p.join(' '))).toEqual(
      expect.arrayContaining(['status', 'plan', 'drill start', 'drill report', 'validate', 'scenarios', 'completion']),
    );
    for (const path of paths) {
      const r = await ctl(...path, '--help');
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toContain('Global Options:');
      for (const flag of ['--output <format>', '--namespace <namespace>', '--kubeconfig <path>', '--version']) {
        expect(r.stdout, `${path.join(' ')} ${flag}`).toContain(flag);
      }
      expect(r.stdout, path.join(' ')).toMatch(/Exit codes:\n {2}0 .*\n {2}1 [\s\S]*\n {2}2 {2}usage or input error/);
    }
  }, 60_000);

  it('failover-operator run --help lists each flag beside its environment variable', async () => {
    const r = await operator('run', '--help');
    expect(r.code).toBe(0);
    for (const [flag, env] of [
      ['--kubeconfig', 'KUBECONFIG'],
      ['--leader-elect', 'FO_LEADER_ELECT'],
      ['--leader-election-id', 'FO_LEADER_ELECTION_ID'],
      ['--leader-election-namespace', 'FO_LEADER_ELECTION_NAMESPACE'],
      ['--metrics-bind-address', 'FO_METRICS_PORT'],
      ['--health-probe-bind-address', 'FO_HEALTH_PORT'],
      ['--watch-namespace', 'FO_WATCH_NAMESPACE'],
      ['--log-level', 'FO_LOG_LEVEL'],
      ['--log-format', 'FO_LOG_FORMAT'],
      ['--max-concurrent-reconciles', 'FO_MAX_CONCURRENT_RECONCILES'],
      ['--max-concurrent-urgent-reconciles', 'FO_MAX_CONCURRENT_URGENT_RECONCILES'],
      ['--route53-requests-per-second', 'FO_ROUTE53_REQUESTS_PER_SECOND'],
    ]) {
      expect(r.stdout).toContain(flag);
      expect(r.stdout).toContain(`[${env}`);
    }
    expect(r.stdout).toContain('Exit codes:');
    const formatted = await operator('run', '-o', 'json');
    expect(formatted.code).toBe(2);
    expect(formatted.stderr).toBe(
      'error: run prints logs, not a report: -o json does not apply; use --log-format json|console\n',
    );
  }, 60_000);

  it('a usage error exits 2 on both CLIs: unknown option, unknown format, missing argument', async () => {
    for (const r of [
      await ctl('--bogus'),
      await ctl('status', '-o', 'xml'),
      await ctl('drill', 'report'),
      await operator('simulate', '--nope'),
      await operator('scenarios', '-o', 'toml'),
      await operator('run', '--leader-elect', 'maybe'),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
    }
  }, 60_000);

  it('validate and scenarios print JSON and YAML that parse, on both CLIs', async () => {
    for (const format of ['json', 'yaml'] as const) {
      const read = (text: string): unknown => (format === 'json' ? JSON.parse(text) : parse(text));
      const valid = await ctl('validate', 'examples/two-region-rds.yaml', '-o', format);
      expect(valid.code).toBe(0);
      expect(read(valid.stdout)).toEqual([
        expect.objectContaining({ file: 'examples/two-region-rds.yaml', passed: true }),
      ]);

      const scenarios = await ctl('scenarios', '-o', format);
      expect(read(scenarios.stdout)).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'zone-outage' })]),
      );
      const same = await operator('scenarios', '-o', format);
      expect(read(same.stdout)).toEqual(read(scenarios.stdout));
    }
    const invalid = await ctl('validate', 'package.json', '-o', 'json');
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout)).toEqual([expect.objectContaining({ passed: false })]);
  }, 60_000);

  it('completion prints a bash, zsh and fish script naming every command, and refuses an output format', async () => {
    for (const [run, program] of [
      [ctl, ctlProgram(ctlDeps().deps)],
      [operator, operatorProgram({ out: () => {}, err: () => {}, isTTY: false })],
    ] as const) {
      for (const shell of ['bash', 'zsh', 'fish']) {
        const r = await run('completion', shell);
        expect(r.code).toBe(0);
        for (const path of commandPaths(program)) expect(r.stdout, `${shell} ${path.join(' ')}`).toContain(path.at(-1));
        expect(r.stdout).toContain(shell === 'fish' ? '-l output' : '--output');
      }
    }
    const bash = (await ctl('completion', 'bash')).stdout;
    expect(bash).toContain("'drill')");
    expect(bash).toContain('start status report abort');
    expect(bash).toContain('complete -o default -F _failoverctl_completion failoverctl');
    expect((await ctl('completion', 'powershell')).code).toBe(2);
    const formatted = await ctl('completion', 'bash', '-o', 'json');
    expect(formatted.code).toBe(2);
    expect(formatted.stderr).toBe('error: completion prints a shell script; -o json does not apply to it\n');
  }, 60_000);

  it("answers kubectl's plugin completion (cobra's __complete): candidates, then the directive", async () => {
    expect((await ctl('__complete', 'dr')).stdout).toBe('drill\n:4\n');
    expect((await ctl('__complete', '-n', 'shop', 'drill', '')).stdout).toBe('start\nstatus\nreport\nabort\n:4\n');
    expect((await ctl('__complete', 'status', '-o', '')).stdout).toBe('text\njson\nyaml\nwide\n:4\n');
    expect((await ctl('__complete', 'validate', 'examples/')).stdout).toBe(':0\n'); // files: the shell's own
  }, 60_000);

  it('bash completion completes subcommands, nested subcommands and option values', () => {
    const script = spawnSync(process.execPath, ['src/cli/failoverctl.ts', 'completion', 'bash'], { encoding: 'utf8' });
    const complete = (line: string) => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `${script.stdout}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _failoverctl_completion; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: 'utf8' },
      );
      return r.stdout.trim();
    };
    expect(complete('failoverctl dr')).toBe('drill');
    expect(complete('failoverctl -n shop drill re')).toBe('report');
    expect(complete('failoverctl status -o ""')).toBe('text json yaml wide');
  }, 60_000);
});

describe('the programs as installed (bin/)', () => {
  it('ends quietly with exit 0 when the reader closes the pipe early (| head)', async () => {
    const child = spawn(
      process.execPath,
      ['bin/failover-operator.mjs', 'simulate', 'examples/single-region-web.yaml', '--scenario', 'zone-outage'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.destroy(); // the reader goes away before the first line
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 60_000);

  it("the README's JSON commands print JSON only: the bin shims and npm run --silent", () => {
    const commands: string[][] = [
      [
        'bin/failover-operator.mjs',
        'simulate',
        'examples/single-region-web.yaml',
        '--scenario',
        'zone-outage',
        '--output',
        'json',
      ],
      [
        'bin/failoverctl.mjs',
        'validate',
        'examples/two-region-rds.yaml',
        'examples/drill-zone-outage.yaml',
        '-o',
        'json',
      ],
      ['bin/kubectl-failover.mjs', 'scenarios', '-o', 'json'],
    ];
    for (const argv of commands) {
      const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, argv.join(' ')).toBe(0);
      expect(() => JSON.parse(r.stdout), argv.join(' ')).not.toThrow();
    }
    const npm = spawnSync(
      'npm',
      [
        'run',
        '--silent',
        'operator',
        '--',
        'simulate',
        'examples/single-region-web.yaml',
        '--scenario',
        'zone-outage',
        '-o',
        'json',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(npm.status).toBe(0);
    expect((JSON.parse(npm.stdout) as { scenario: string }).scenario).toBe('zone-outage');
  }, 120_000);

  // The machine's own Node, when it is older than 24 (the test bed's images have Node 20): the shim hands the program
  // to the Node 24 that npm ci installed, exit code and output unchanged.
  const olderNode = ['/usr/bin/node', '/usr/local/bin/node'].find((node) => {
    const r = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    return r.status === 0 && Number(r.stdout.split('.')[0]) < 24;
  });
  it.runIf(olderNode !== undefined)(
    'on an older Node, runs on the Node 24 npm ci installed',
    () => {
      const ok = spawnSync(olderNode!, ['bin/failoverctl.mjs', 'scenarios', '-o', 'json'], { encoding: 'utf8' });
      expect(ok.status).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'zone-outage' })]));
      const usage = spawnSync(olderNode!, ['bin/failover-operator.mjs', 'simulate', '--nope'], { encoding: 'utf8' });
      expect(usage.status).toBe(2);
    },
    60_000,
  );

  it('kubectl-failover is failoverctl under the name kubectl shows', () => {
    const r = spawnSync(process.execPath, ['bin/kubectl-failover.mjs', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kubectl failover \[options\] \[command\]/);
    const bash = spawnSync(process.execPath, ['bin/kubectl-failover.mjs', 'completion', 'bash'], { encoding: 'utf8' });
    expect(bash.stdout).toContain('complete -o default -F _kubectl_failover_completion kubectl-failover');
  }, 60_000);

  it('run without a cluster exits 2 with one line naming KUBECONFIG and --kubeconfig, no stack trace', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['bin/failover-operator.mjs', 'run', ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home', FO_TENANCY: 'Unrestricted' },
      });
    const none = run();
    expect(none.status).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^error: no cluster to connect to: set KUBECONFIG or pass --kubeconfig <file>.*\n$/);
    const missing = run('--kubeconfig', '/nonexistent/kubeconfig');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      'error: kubeconfig /nonexistent/kubeconfig (--kubeconfig or KUBECONFIG) does not exist\n',
    );
    const port = run('--kubeconfig', '/nonexistent/kubeconfig', '--metrics-bind-address', '0');
    expect(port.status).toBe(2);
    expect(port.stderr).toMatch(/^error: --metrics-bind-address 0: /);
  }, 60_000);
});
