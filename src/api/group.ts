/** API group, version and resource names of the failover.io custom resources: one place, used by the CRD
 * generator, the controller's clients and failoverctl. */

export const GROUP = 'failover.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

export const POLICY_KIND = 'FailoverPolicy';
export const POLICY_LIST_KIND = 'FailoverPolicyList';
export const POLICY_PLURAL = 'failoverpolicies';
export const POLICY_SINGULAR = 'failoverpolicy';
export const POLICY_SHORT_NAMES = ['fp'];

export const DRILL_KIND = 'FailoverDrill';
export const DRILL_LIST_KIND = 'FailoverDrillList';
export const DRILL_PLURAL = 'failoverdrills';
export const DRILL_SINGULAR = 'failoverdrill';
export const DRILL_SHORT_NAMES = ['fd'];

/** Category so that `kubectl get failover` lists both kinds. */
export const CATEGORY = 'failover';

/**
 * `failoverctl plan --now` asks the leader what it would do now by setting this annotation to a fresh id; the
 * leader answers in status.preview with the same requestId (planned only, never executed). An annotation, not a
 * spec field: asking never changes metadata.generation, and anyone who may patch the policy may ask.
 */
export const PREVIEW_REQUEST_ANNOTATION = `${GROUP}/preview-request`;
