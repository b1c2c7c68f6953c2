// Fixtures shared by the drill tests (drill-step.test.ts, drill-reconciler.test.ts): one policy with two zones in
// us-east-1, a weighted record each, fast health settings, and the status the test gives it.

import type { FailoverPolicyStatus } from '../api/index.ts';
import type { StoredPolicy } from './policy-reconciler.ts';

export function drillPolicyObject(status: Partial<FailoverPolicyStatus> = {}): StoredPolicy {
  return {
    metadata: { name: 'web', namespace: 'team', generation: 1, uid: 'p-1' },
    ...({ apiVersion: 'failover.io/v1alpha1', kind: 'FailoverPolicy' } as object),
    spec: {
      regions: [{ name: 'us-east-1', role: 'primary', zones: ['us-east-1a', 'us-east-1b'] }],
      probes: [{ name: 'web', http: { url: 'http://127.0.0.1:1/{zone}', timeoutSeconds: 1 } }],
      health: { intervalSeconds: 1, failureThreshold: 1, recoveryThreshold: 3 },
      guardrails: { cooldownSeconds: 2 },
      traffic: {
        route53: {
          hostedZoneId: 'ZTEST1',
          recordName: 'api.test.',
          type: 'A',
          records: [
            { setIdentifier: 'use1-a', zone: 'us-east-1a', weight: 100 },
            { setIdentifier: 'use1-b', zone: 'us-east-1b', weight: 100 },
          ],
        },
      },
    },
    status,
  } as StoredPolicy;
}
