import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { FailoverPolicy } from '../../api/index.ts';
import { drillName } from './drill-commands.ts';
import { CtlError, type RequestContext, toCtlError } from './kube.ts';
import { approvalIdFor, checkTargetRegion, manualMergePatch, manualRequestId } from './manual-request.ts';

const policy = {
  metadata: { name: 'orders', namespace: 'shop' },
  spec: { regions: [{ name: 'us-east-1' }, { name: 'us-west-2' }] },
} as unknown as FailoverPolicy;

describe('spec.manual requests', () => {
  it('makes ids that match the schema pattern and differ per suffix', () => {
    const a = manualRequestId('Failover', 1_700_000_000_000, 'abc123');
    expect(a).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(manualRequestId('Failover', 1_700_000_000_000, 'abc124'));
  });

  it('clears the fields of a previous request in the merge patch', () => {
    const patch = manualMergePatch({ id: 'x', action: 'Approve', approvalId: 'p1', allowDataLoss: false });
    expect(patch.spec.manual).toEqual({
      id: 'x',
      action: 'Approve',
      approvalId: 'p1',
      allowDataLoss: false,
      targetRegion: null,
      includeDatabase: null,
      requestedBy: null,
      reason: null,
    });
  });

  it('rejects a target region the policy does not have', () => {
    expect(() => checkTargetRegion(policy, 'us-west-2')).not.toThrow();
    expect(() => checkTargetRegion(policy, 'eu-west-1')).toThrow(/eu-west-1 is not one of .*us-east-1, us-west-2/);
  });

  it('approves the given id, else the pending one, else says nothing is pending', () => {
    const pending = { ...policy, status: { pendingApproval: { id: 'p9' } } } as unknown as FailoverPolicy;
    expect(approvalIdFor(pending, undefined)).toBe('p9');
    expect(approvalIdFor(pending, 'other')).toBe('other');
    expect(() => approvalIdFor(policy, undefined)).toThrow(
      /nothing is pending approval on FailoverPolicy shop\/orders/,
    );
  });

  it('names drills within 63 characters', () => {
    expect(drillName('orders', 'zone-outage', 'a1b2c3')).toBe('orders-zone-outage-a1b2c3');
    expect(drillName('x'.repeat(70), 'zone-outage', 'a1b2c3')).toHaveLength(63);
  });
});

describe('kube error mapping', () => {
  const ctx: RequestContext = {
    verb: 'get',
    resource: 'failoverpolicies',
    namespace: 'shop',
    name: 'orders',
    kind: 'FailoverPolicy',
    server: 'https://k:6443',
  };
  const api = (code: number, body: unknown) => new ApiException(code, 'HTTP', body, {});

  it('tells a missing object from a missing CRD', () => {
    const notFound = toCtlError(api(404, JSON.stringify({ reason: 'NotFound', details: { name: 'orders' } })), ctx);
    expect([notFound.message, notFound.exitCode]).toEqual(['FailoverPolicy shop/orders not found', 1]);
    const noCrd = toCtlError(api(404, '404 page not found'), { ...ctx, verb: 'list', name: undefined });
    expect([noCrd.message, noCrd.exitCode]).toEqual([
      'the FailoverPolicy CRD is not installed: kubectl apply -f crds/',
      2,
    ]);
  });

  it('maps 403 to permission denied with verb, resource and namespace', () => {
    const e = toCtlError(api(403, '{}'), { ...ctx, verb: 'patch' });
    expect([e.message, e.exitCode]).toEqual(['permission denied: patch failoverpolicies in shop', 2]);
  });

  it('maps a network failure to the cannot-reach line with the socket reason', () => {
    const e = toCtlError(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }), ctx);
    expect(e).toBeInstanceOf(CtlError);
    expect(e.message).toBe(
      'cannot reach the Kubernetes API at https://k:6443: connect ECONNREFUSED 127.0.0.1:1; check your kubeconfig/context',
    );
    expect(e.exitCode).toBe(2);
  });
});
