import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readTenancyConfig } from '../../../src/main.ts';

describe('tenancy configuration of `failover-operator run` (docs/tenancy.md)', () => {
  it('enforces grants from FO_TENANCY_GRANTS_FILE, or runs Unrestricted only when told so', () => {
    expect(readTenancyConfig({ FO_TENANCY_GRANTS_FILE: '/etc/g.yaml' })).toEqual({
      mode: 'Grants',
      grantsFile: '/etc/g.yaml',
    });
    expect(readTenancyConfig({ FO_TENANCY: 'Unrestricted' })).toEqual({ mode: 'Unrestricted' });
    expect(() => readTenancyConfig({ FO_TENANCY: 'Unrestricted', FO_TENANCY_GRANTS_FILE: '/g' })).toThrow(/not both/);
    expect(() => readTenancyConfig({ FO_TENANCY: 'off' })).toThrow(/FO_TENANCY must be Unrestricted or unset/);
  });

  it('refuses to start without a decision, in one line naming both options', () => {
    const r = spawnSync(process.execPath, ['src/cli/failover-operator.ts', 'run'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^error: no tenancy decision: set FO_TENANCY_GRANTS_FILE .* or FO_TENANCY=Unrestricted .*\n$/,
    );
  }, 60_000);
});
