// readConfig: the environment the composition root reads, for the settings of issue #15 (the metrics and health
// ports, the per-namespace drill limit).
import { describe, expect, it } from 'vitest';
import { readConfig } from './main.ts';

// Tenancy is decided explicitly (readTenancyConfig refuses to start without a decision); these tests are about other settings.
const read = (env: NodeJS.ProcessEnv) => readConfig({ FO_TENANCY: 'Unrestricted', ...env }, () => 'ns-from-file');

describe('readConfig', () => {
  it('defaults to secure metrics on 8443 (kubebuilder) and health probes on 8081', () => {
    expect(read({})).toMatchObject({
      metricsSecure: true,
      metricsPort: 8443,
      metricsCertDir: undefined,
      healthPort: 8081,
    });
    expect(read({ FO_METRICS_SECURE: 'false' })).toMatchObject({ metricsSecure: false, metricsPort: 8080 });
    expect(read({ FO_METRICS_SECURE: 'TRUE', FO_METRICS_PORT: '0', FO_HEALTH_PORT: '0' })).toMatchObject({
      metricsSecure: true,
      metricsPort: 0,
      healthPort: 0,
    });
    expect(read({ FO_METRICS_CERT_DIR: '/certs', POD_NAME: 'fo-0' })).toMatchObject({
      metricsCertDir: '/certs',
      selfSignedHosts: ['fo-0', 'localhost', '127.0.0.1'],
    });
  });

  it('refuses malformed metrics and health settings, naming the variable', () => {
    expect(() => read({ FO_METRICS_SECURE: 'yes' })).toThrow(/FO_METRICS_SECURE must be true or false/);
    expect(() => read({ FO_HEALTH_PORT: '70000' })).toThrow(/FO_HEALTH_PORT must be a port number/);
    expect(() => read({ FO_METRICS_PORT: 'x' })).toThrow(/FO_METRICS_PORT must be a port number/);
  });

  it('limits drills per namespace to 2 by default; 0 lifts the limit; a negative number is refused', () => {
    expect(read({}).drillNamespaceLimit).toBe(2);
    expect(read({ FO_DRILL_NAMESPACE_LIMIT: '5' }).drillNamespaceLimit).toBe(5);
    expect(read({ FO_DRILL_NAMESPACE_LIMIT: '0' }).drillNamespaceLimit).toBeUndefined();
    expect(() => read({ FO_DRILL_NAMESPACE_LIMIT: '-1' })).toThrow(/FO_DRILL_NAMESPACE_LIMIT must be a whole number/);
  });

  it('reads the promotion lock: table and regions together, or neither (no lock)', () => {
    expect(read({}).promotionLock).toBeUndefined();
    expect(
      read({
        FO_PROMOTION_LOCK_TABLE: 'failover-promotion-lock',
        FO_PROMOTION_LOCK_REGIONS: 'us-east-2, us-west-2,eu-west-1',
      }).promotionLock,
    ).toEqual({ table: 'failover-promotion-lock', regions: ['us-east-2', 'us-west-2', 'eu-west-1'] });
    expect(() => read({ FO_PROMOTION_LOCK_TABLE: 'locks' })).toThrow(/FO_PROMOTION_LOCK_REGIONS is required/);
    expect(() => read({ FO_PROMOTION_LOCK_REGIONS: 'us-east-2' })).toThrow(/without FO_PROMOTION_LOCK_TABLE/);
    expect(() => read({ FO_PROMOTION_LOCK_TABLE: 'a b', FO_PROMOTION_LOCK_REGIONS: 'us-east-2' })).toThrow(
      /FO_PROMOTION_LOCK_TABLE must be a DynamoDB table name/,
    );
    expect(() => read({ FO_PROMOTION_LOCK_TABLE: 'locks', FO_PROMOTION_LOCK_REGIONS: 'us-east-2,,useast' })).toThrow(
      /FO_PROMOTION_LOCK_REGIONS must be comma-separated AWS region names, got "", "useast"/,
    );
  });
});
