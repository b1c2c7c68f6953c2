// The one-shot request failoverctl writes into spec.manual (read by src/engine/operator-requests.ts). Pure.

import type { FailoverPolicy, ManualRequest } from '../../api/index.ts';
import { CtlError } from './errors.ts';

const MANUAL_FIELDS = [
  'id',
  'action',
  'targetRegion',
  'approvalId',
  'includeDatabase',
  'allowDataLoss',
  'requestedBy',
  'reason',
] as const satisfies readonly (keyof ManualRequest)[];

/**
 * Request id: unique per request (the operator acts once per id), sortable by time, and within the schema's
 * pattern and 64 characters.
 */
export function manualRequestId(action: ManualRequest['action'], now: number, suffix: string): string {
  return `${action.toLowerCase()}-${now.toString(36)}-${suffix}`.slice(0, 64);
}

/**
 * A JSON merge patch that replaces spec.manual whole: a merge patch merges nested objects, so fields of the previous
 * request that this one does not set are deleted explicitly (null), or an old approvalId would ride along.
 */
export function manualMergePatch(request: ManualRequest): { spec: { manual: Record<string, unknown> } } {
  const manual: Record<string, unknown> = {};
  for (const field of MANUAL_FIELDS) manual[field] = request[field] ?? null;
  return { spec: { manual } };
}

/** The region to fail over to, checked against the policy so a typo is caught here and not in status.manual. */
export function checkTargetRegion(policy: FailoverPolicy, region: string): void {
  const names = policy.spec.regions.map((r) => r.name);
  if (!names.includes(region)) {
    throw new CtlError(
      `region ${region} is not one of FailoverPolicy ${policy.metadata.namespace}/${policy.metadata.name}'s regions (${names.join(', ')})`,
      1,
    );
  }
}

/** The approval id to send: the one given, else the pending one; an error when nothing is pending. */
export function approvalIdFor(policy: FailoverPolicy, given: string | undefined): string {
  const pending = policy.status?.pendingApproval;
  if (given !== undefined) return given;
  if (!pending) {
    throw new CtlError(
      `nothing is pending approval on FailoverPolicy ${policy.metadata.namespace}/${policy.metadata.name} (status.pendingApproval is empty)`,
      1,
    );
  }
  return pending.id;
}
