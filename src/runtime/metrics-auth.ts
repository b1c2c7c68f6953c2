// Who may read /metrics, as controller-runtime's filters.WithAuthenticationAndAuthorization decides it: the bearer
// token is checked with a TokenReview (authentication.k8s.io/v1), then the user it names with a
// SubjectAccessReview (authorization.k8s.io/v1) for the non-resource URL `/metrics`, verb `get` — so the
// ClusterRole `metrics-reader` (nonResourceURLs ["/metrics"], verbs ["get"]) is what grants a scraper access.
//
// Answers: 401 without a bearer token or with one the apiserver does not authenticate, 403 for a user it does not
// authorize, 200 otherwise. Decisions are cached by a hash of the token (never the token itself) so a scrape every
// few seconds costs two apiserver calls a minute, not two per scrape: an allowed decision for `allowedTtlMs`
// (default 60 s), a refusal for `deniedTtlMs` (default 10 s, so a newly bound role takes effect soon). At most
// `maxEntries` tokens are remembered (oldest dropped first). A review that fails (the apiserver unreachable) is
// answered 500 and not cached: the next scrape asks again.

import { createHash } from 'node:crypto';
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { withRequestTimeout } from './api-timeout.ts';

/** The user a token belongs to, as the TokenReview reports it. */
export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two reviews, against the apiserver (createKubeAccessReviews) or a fake in tests. */
export interface AccessReviews {
  /** The token's user, or undefined when the apiserver does not authenticate it. */
  authenticate(token: string): Promise<{ user?: ReviewedUser; error?: string }>;
  /** Whether `user` may `verb` the non-resource `path`. */
  authorize(user: ReviewedUser, path: string, verb: string): Promise<{ allowed: boolean; reason?: string }>;
}

export function createKubeAccessReviews(kubeConfig: KubeConfig): AccessReviews {
  const authn = kubeConfig.makeApiClient(AuthenticationV1Api);
  const authz = kubeConfig.makeApiClient(AuthorizationV1Api);
  const timeout = withRequestTimeout();
  return {
    async authenticate(token) {
      const review = await authn.createTokenReview({ body: { spec: { token } } }, timeout);
      const status = review.status;
      if (!status?.authenticated || !status.user?.username) return { error: status?.error ?? 'not authenticated' };
      const u = status.user;
      return {
        user: {
          username: u.username ?? '',
          ...(u.uid ? { uid: u.uid } : {}),
          ...(u.groups ? { groups: u.groups } : {}),
          ...(u.extra ? { extra: u.extra } : {}),
        },
      };
    },
    async authorize(user, path, verb) {
      const review = await authz.createSubjectAccessReview(
        {
          body: {
            spec: {
              user: user.username,
              ...(user.uid ? { uid: user.uid } : {}),
              ...(user.groups ? { groups: user.groups } : {}),
              ...(user.extra ? { extra: user.extra } : {}),
              nonResourceAttributes: { path, verb },
            },
          },
        },
        timeout,
      );
      return {
        allowed: review.status?.allowed === true,
        ...(review.status?.reason ? { reason: review.status.reason } : {}),
      };
    },
  };
}

export interface MetricsAccessDecision {
  status: 200 | 401 | 403 | 500;
  /** Why, for the response body and the log (never the token). */
  reason: string;
  user?: string;
}

export interface MetricsAuthorizerOptions {
  reviews: AccessReviews;
  now: () => number;
  allowedTtlMs?: number;
  deniedTtlMs?: number;
  maxEntries?: number;
}

export const METRICS_AUTH_DEFAULTS = { allowedTtlMs: 60_000, deniedTtlMs: 10_000, maxEntries: 1024 } as const;

/** Decides a request from its Authorization header: `(header) => decision`, cached per token. */
export function createMetricsAuthorizer(
  opts: MetricsAuthorizerOptions,
): (authorization: string | undefined, path: string) => Promise<MetricsAccessDecision> {
  const allowedTtlMs = opts.allowedTtlMs ?? METRICS_AUTH_DEFAULTS.allowedTtlMs;
  const deniedTtlMs = opts.deniedTtlMs ?? METRICS_AUTH_DEFAULTS.deniedTtlMs;
  const maxEntries = opts.maxEntries ?? METRICS_AUTH_DEFAULTS.maxEntries;
  const cache = new Map<string, { decision: MetricsAccessDecision; expiresAt: number }>();

  const remember = (key: string, decision: MetricsAccessDecision): MetricsAccessDecision => {
    if (decision.status === 500) return decision;
    cache.delete(key);
    cache.set(key, { decision, expiresAt: opts.now() + (decision.status === 200 ? allowedTtlMs : deniedTtlMs) });
    while (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return decision;
  };

  return async (authorization, path) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return { status: 401, reason: 'no bearer token' };
    const key = `${path} ${createHash('sha256')
      .update(match[1] as string)
      .digest('hex')}`;
    const cached = cache.get(key);
    if (cached && cached.expiresAt > opts.now()) return cached.decision;
    let user: ReviewedUser | undefined;
    try {
      const authn = await opts.reviews.authenticate(match[1] as string);
      if (!authn.user) return remember(key, { status: 401, reason: `token not authenticated: ${authn.error}` });
      user = authn.user;
      const authz = await opts.reviews.authorize(user, path, 'get');
      if (!authz.allowed) {
        const why = authz.reason ? `: ${authz.reason}` : '';
        return remember(key, {
          status: 403,
          reason: `user ${user.username} may not get ${path}${why}`,
          user: user.username,
        });
      }
      return remember(key, { status: 200, reason: 'allowed', user: user.username });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return {
        status: 500,
        reason: `could not review the token with the apiserver: ${why}`,
        ...(user ? { user: user.username } : {}),
      };
    }
  };
}
