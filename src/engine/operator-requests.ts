// Maps the one-shot request a person wrote into spec.manual (via `failoverctl failover|failback|approve`) to the
// planner's OperatorRequests, and reports what became of it in status.manual.

import type { FailoverPolicy, FailoverPolicyStatus, ManualRequestStatus } from '../api/index.ts';
import type { OperatorRequests } from '../decide/types.ts';

/** Requests the planner should honour now. `requestedAt` is stable across reconciles (taken from status). */
export function operatorRequestsFor(policy: FailoverPolicy, now: number): OperatorRequests {
  const manual = policy.spec.manual;
  if (!manual) return {};
  const previous = policy.status?.manual;
  if (previous && previous.id === manual.id && previous.state !== 'Accepted') return {}; // already handled
  const requestedAt = previous && previous.id === manual.id ? Date.parse(previous.updatedAt) : now;
  switch (manual.action) {
    case 'Failover':
      return manual.targetRegion === undefined
        ? {}
        : { failoverTo: { region: manual.targetRegion, force: manual.allowDataLoss, requestedAt } };
    case 'Failback':
      // Traffic only unless the request says otherwise: a database failback re-seeds the old region (PB-10).
      return { failback: { requestedAt, includeDatabase: manual.includeDatabase === true } };
    case 'Approve':
      return manual.approvalId === undefined
        ? {}
        : { approvePromotion: { dbInstanceIdentifier: manual.approvalId, approvedAt: requestedAt } };
    default:
      return {};
  }
}

/** What status.manual should say about the current request after this reconcile. */
export function manualRequestStatus(
  policy: FailoverPolicy,
  status: Pick<FailoverPolicyStatus, 'phase' | 'activeRegion' | 'pendingApproval'>,
  nowIso: string,
): ManualRequestStatus | undefined {
  const manual = policy.spec.manual;
  if (!manual) return policy.status?.manual;
  const previous = policy.status?.manual;
  if (previous && previous.id === manual.id && previous.state !== 'Accepted') return previous;
  const accepted = (message: string): ManualRequestStatus => ({
    id: manual.id,
    action: manual.action,
    state: 'Accepted',
    message,
    updatedAt: previous && previous.id === manual.id ? previous.updatedAt : nowIso,
  });
  const completed = (message: string): ManualRequestStatus => ({
    id: manual.id,
    action: manual.action,
    state: 'Completed',
    message,
    updatedAt: nowIso,
  });
  const regions = policy.spec.regions.map((r) => r.name);
  switch (manual.action) {
    case 'Failover':
    case 'Failback': {
      const target =
        manual.targetRegion ?? policy.spec.regions.find((r) => r.role === 'primary')?.name ?? regions[0] ?? '';
      if (!regions.includes(target)) {
        return { ...completed(`region ${target} is not one of the policy's regions`), state: 'Rejected' };
      }
      return status.activeRegion === target
        ? completed(`${manual.action.toLowerCase()} to ${target} completed`)
        : accepted(`${manual.action.toLowerCase()} to ${target} in progress`);
    }
    case 'Approve':
      return status.pendingApproval?.id === manual.approvalId
        ? accepted(`approval of ${manual.approvalId} handed to the planner`)
        : completed(`approval ${manual.approvalId} applied or no longer pending`);
    default:
      return previous;
  }
}
