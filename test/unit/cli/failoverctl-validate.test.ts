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

describe('failoverctl validate --grants (docs/tenancy.md)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fo-validate-grants-'));
  const values = join(dir, 'values.yaml');
  writeFileSync(
    values,
    [
      'tenancy:',
      '  grants:',
      '    team-web:',
      '      route53:',
      '        - hostedZoneId: Z0123456789ABCDEFGHIJ',
      '          recordNames: ["*.example.com."]',
      '      launchTemplates:',
      '        - launchTemplateId: lt-0abc1234def567890',
    ].join('\n'),
  );

  it('passes a policy its namespace is granted (chart values as the grants file)', () => {
    const r = run('validate', '-n', 'team-web', '--grants', values, 'examples/single-region-web.yaml');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('FailoverPolicy web is valid and permitted in namespace team-web');
  });

  it('refuses it in another namespace, naming each field and the fix', () => {
    const r = run('validate', '-n', 'team-b', '--grants', values, 'examples/single-region-web.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('FailoverPolicy web is not permitted in namespace team-b');
    expect(r.stderr).toContain(
      'spec.traffic.route53.hostedZoneId Z0123456789ABCDEFGHIJ is not granted to namespace team-b; a platform admin adds it under tenancy.grants.team-b.route53',
    );
    expect(r.stderr).toContain('spec.compute.ec2.replaceInHealthyZones.launchTemplate lt-0abc1234def567890');
  });

  it('refuses a grants file with an unknown field, naming it', () => {
    const bad = join(dir, 'grants.yaml');
    writeFileSync(bad, 'team-web:\n  route53s: []\n');
    const r = run('validate', '--grants', bad, 'examples/single-region-web.yaml');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `error: ${bad}: invalid grants: team-web: unknown field "route53s" (known: route53, rds, launchTemplates)\n`,
    );
  });
});
