import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Runs the real CLI as a child process, as a person would.
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['src/cli/failoverctl.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('failoverctl validate', () => {
  it('accepts every shipped example', () => {
    const r = run(
      'validate',
      'examples/single-region-web.yaml',
      'examples/two-region-rds.yaml',
      'examples/drill-zone-outage.yaml',
      'examples/drill-us-east-1-2011.yaml',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('FailoverPolicy orders is valid');
  });

  it('rejects a bad policy naming the field, the value and the fix, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fo-validate-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: failover.io/v1alpha1',
        'kind: FailoverPolicy',
        'metadata: {name: bad}',
        'spec:',
        '  regions:',
        '    - {name: us-east-1, role: primary, zones: [us-west-2a]}',
        '  probes:',
        '    - {name: api, http: {url: "https://api-{zone}.example.com/healthz"}}',
      ].join('\n'),
    );
    const r = run('validate', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('spec.regions[0].zones');
    expect(r.stderr).toContain('us-west-2a');
    expect(r.stderr).toContain('fix:');
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
  });

  it('says clearly when a file cannot be read', () => {
    const r = run('validate', 'no-such-file.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no-such-file.yaml: cannot read the file (ENOENT)');
  });
});
