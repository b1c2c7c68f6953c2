// The default deadline of one Kubernetes API call, apart from api-timeout.ts (which needs the Kubernetes client) so
// that failoverctl can print it in its help without loading that client.

/** Default deadline of one Kubernetes API call: generous for a patch or a small list, far from forever. */
export const KUBE_API_TIMEOUT_MS = 10_000;
