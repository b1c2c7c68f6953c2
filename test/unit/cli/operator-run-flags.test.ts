import { describe, expect, it } from 'vitest';
import { loadKubeConfig as loadCtlKubeConfig } from '../../../src/cli/ctl/kube.ts';
import { bindAddressPort, runEnvironment, UsageError } from '../../../src/cli/failover-operator.ts';
import { ConfigError, loadKubeConfig, readConfig } from '../../../src/main.ts';

const base = { FO_TENANCY: 'Unrestricted' };

describe('failover-operator run: flags beside the environment (flags win)', () => {
  it('maps every flag onto the variable main.ts reads', () => {
    const env = runEnvironment(
      { ...base, FO_LOG_LEVEL: 'warn', FO_WATCH_NAMESPACE: 'from-env', KUBECONFIG: '/env/kubeconfig' },
      {
        kubeconfig: '/flag/kubeconfig',
        leaderElect: false,
        leaderElectionId: 'orders-failover',
        leaderElectionNamespace: 'ops',
        metricsBindAddress: ':9090',
        healthProbeBindAddress: '0.0.0.0:9091',
        watchNamespace: 'shop',
        logLevel: 'debug',
        logFormat: 'console',
        maxConcurrentReconciles: '64',
        maxConcurrentUrgentReconciles: '256',
        route53RequestsPerSecond: '1',
      },
    );
    expect(env).toMatchObject({
      KUBECONFIG: '/flag/kubeconfig',
      FO_LEADER_ELECT: 'false',
      FO_LEADER_ELECTION_ID: 'orders-failover',
      FO_LEADER_ELECTION_NAMESPACE: 'ops',
      FO_METRICS_PORT: '9090',
      FO_HEALTH_PORT: '9091',
      FO_WATCH_NAMESPACE: 'shop',
      FO_LOG_LEVEL: 'debug',
      FO_LOG_FORMAT: 'console',
      FO_MAX_CONCURRENT_RECONCILES: '64',
      FO_MAX_CONCURRENT_URGENT_RECONCILES: '256',
      FO_ROUTE53_REQUESTS_PER_SECOND: '1',
    });
    const config = readConfig(env, () => '');
    expect(config).toMatchObject({
      kubeconfigPath: '/flag/kubeconfig',
      leaderElect: false,
      leaseName: 'orders-failover',
      leaseNamespace: 'ops',
      metricsPort: 9090,
      watchNamespace: 'shop',
      logLevel: 'debug',
      logFormat: 'console',
      maxConcurrentReconciles: 64,
      maxConcurrentUrgentReconciles: 256,
      route53RequestsPerSecond: 1,
    });
    // No flags: the environment as it was.
    expect(runEnvironment({ ...base, FO_LOG_LEVEL: 'warn' }, {})).toEqual({ ...base, FO_LOG_LEVEL: 'warn' });
  });

  it('defaults: leader election on, the Lease failover-operator (what every release so far has used), JSON logs', () => {
    expect(readConfig(base, () => '')).toMatchObject({
      leaderElect: true,
      leaseName: 'failover-operator',
      logFormat: 'json',
      maxConcurrentReconciles: 16,
      maxConcurrentUrgentReconciles: 128,
      route53RequestsPerSecond: 4,
    });
    expect(readConfig({ ...base, FO_MAX_CONCURRENT_URGENT_RECONCILES: '0' }, () => '')).toMatchObject({
      maxConcurrentUrgentReconciles: 0,
    });
    for (const bad of ['-1', '2.5', 'many', '1001']) {
      expect(() => readConfig({ ...base, FO_MAX_CONCURRENT_URGENT_RECONCILES: bad }, () => '')).toThrow(
        /FO_MAX_CONCURRENT_URGENT_RECONCILES must be a whole number from 0 \(no urgent lane\) to 1000/,
      );
    }
    for (const bad of ['0', '-1', '2.5', 'many', '1001']) {
      expect(() => readConfig({ ...base, FO_MAX_CONCURRENT_RECONCILES: bad }, () => '')).toThrow(
        /FO_MAX_CONCURRENT_RECONCILES must be a whole number from 1 to 1000/,
      );
    }
    expect(() => readConfig({ ...base, FO_LEADER_ELECT: 'yes' }, () => '')).toThrow(ConfigError);
    expect(() => readConfig({ ...base, FO_LOG_FORMAT: 'pretty' }, () => '')).toThrow(/json or console/);
    expect(() => readConfig({ ...base, FO_LEADER_ELECTION_ID: 'Not_A_Name' }, () => '')).toThrow(/Lease name/);
  });

  it("takes this operator's share of the account's Route 53 rate: whole from 1 to 5, or 0.5 to 1; else names the fix", () => {
    const share = (value: string) =>
      readConfig({ ...base, FO_ROUTE53_REQUESTS_PER_SECOND: value }, () => '').route53RequestsPerSecond;
    expect(share('')).toBe(4);
    expect(share(' 2 ')).toBe(2);
    expect(share('5')).toBe(5);
    expect(share('1')).toBe(1);
    expect(share('0.8')).toBe(0.8);
    expect(share('0.5')).toBe(0.5);
    const refused = (value: string) => {
      try {
        share(value);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error(`FO_ROUTE53_REQUESTS_PER_SECOND=${value} was accepted`);
    };
    for (const bad of ['0', '-1', '0.25', 'many', '6', '10', '1.5', '4.5', 'Infinity', '0x10']) {
      expect(refused(bad)).toMatch(
        /^FO_ROUTE53_REQUESTS_PER_SECOND \(--route53-requests-per-second\) must be a whole number from 1 to 5, or from 0\.5 to 1, got "/,
      );
    }
    // Each names the fix for what was wrong.
    expect(refused('6')).toMatch(/throttles an account above 5 requests a second, whoever sends them; give at most 5/);
    expect(refused('1.5')).toMatch(/1\.5 would still send 2 in some seconds; give 1 or 2$/);
    expect(refused('0')).toMatch(/with N operators in one account give each floor\(4\/N\), 0\.5 with more than 4/);
    expect(refused('many')).toMatch(/got "many"/);
  });

  it('reads bind addresses as controller-runtime spells them, refusing 0 (cannot disable) and garbage', () => {
    expect(bindAddressPort('metrics-bind-address', ':8080')).toBe('8080');
    expect(bindAddressPort('metrics-bind-address', '8080')).toBe('8080');
    expect(bindAddressPort('metrics-bind-address', '0.0.0.0:8443')).toBe('8443');
    expect(bindAddressPort('metrics-bind-address', ':0')).toBe('0');
    expect(() => bindAddressPort('metrics-bind-address', '0')).toThrow(UsageError);
    expect(() => bindAddressPort('metrics-bind-address', 'localhost:http')).toThrow(/expected \[host\]:port/);
    expect(() => bindAddressPort('metrics-bind-address', ':70000')).toThrow(UsageError);
  });

  it('connects to a named kubeconfig, the in-cluster account, or ~/.kube/config, and otherwise refuses in one line', () => {
    const none = () => false;
    expect(() => loadKubeConfig(undefined, { HOME: '/home/x' }, none)).toThrow(
      /^no cluster to connect to: set KUBECONFIG or pass --kubeconfig <file>/,
    );
    expect(() => loadKubeConfig('/missing', {}, none)).toThrow(
      'kubeconfig /missing (--kubeconfig or KUBECONFIG) does not exist',
    );
    // In a pod without the token (automountServiceAccountToken: false) there is no cluster either.
    expect(() => loadKubeConfig(undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, none)).toThrow(/no cluster/);
  });

  it('failoverctl without any kubeconfig says so (exit 2) rather than trying http://localhost:8080', () => {
    expect(() => loadCtlKubeConfig(undefined, { HOME: '/home/x' }, () => false)).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(/^no kubeconfig: set KUBECONFIG or pass --kubeconfig/),
      }),
    );
  });
});
