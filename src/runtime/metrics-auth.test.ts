// The metrics authorizer against fake reviews: the answers (401, 403, 200, 500), what is asked of the apiserver,
// and the cache (per token, allowed longer than denied, bounded, errors never cached).
import { describe, expect, it } from 'vitest';
import { type AccessReviews, createMetricsAuthorizer, type ReviewedUser } from './metrics-auth.ts';

function fakeReviews(users: Record<string, ReviewedUser>, readers: Set<string>) {
  const calls: string[] = [];
  let failing = false;
  const reviews: AccessReviews = {
    async authenticate(token) {
      calls.push(`TokenReview ${token.slice(0, 4)}`);
      if (failing) throw new Error('connect ECONNREFUSED');
      const user = users[token];
      return user ? { user } : { error: 'invalid bearer token' };
    },
    async authorize(user, path, verb) {
      calls.push(`SubjectAccessReview ${user.username} ${verb} ${path}`);
      return readers.has(user.username) ? { allowed: true } : { allowed: false, reason: 'no RBAC policy matched' };
    },
  };
  return { reviews, calls, fail: (on: boolean) => (failing = on) };
}

const users = {
  'tok-reader': { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts'] },
  'tok-other': { username: 'system:serviceaccount:team:app' },
};
const readers = new Set(['system:serviceaccount:monitoring:prometheus']);

describe('createMetricsAuthorizer', () => {
  it('401 without a bearer token or with one the apiserver rejects, 403 without the role, 200 with it', async () => {
    const { reviews, calls } = fakeReviews(users, readers);
    const authorize = createMetricsAuthorizer({ reviews, now: () => 0 });
    expect(await authorize(undefined, '/metrics')).toEqual({ status: 401, reason: 'no bearer token' });
    expect(await authorize('Basic dXNlcjpwYXNz', '/metrics')).toMatchObject({ status: 401 });
    expect(await authorize('Bearer tok-bogus', '/metrics')).toEqual({
      status: 401,
      reason: 'token not authenticated: invalid bearer token',
    });
    expect(await authorize('Bearer tok-other', '/metrics')).toEqual({
      status: 403,
      reason: 'user system:serviceaccount:team:app may not get /metrics: no RBAC policy matched',
      user: 'system:serviceaccount:team:app',
    });
    expect(await authorize('bearer tok-reader', '/metrics')).toEqual({
      status: 200,
      reason: 'allowed',
      user: 'system:serviceaccount:monitoring:prometheus',
    });
    expect(calls).toEqual([
      'TokenReview tok-',
      'TokenReview tok-',
      'SubjectAccessReview system:serviceaccount:team:app get /metrics',
      'TokenReview tok-',
      'SubjectAccessReview system:serviceaccount:monitoring:prometheus get /metrics',
    ]);
  });

  it('caches an allowed token for a minute and a refused one for 10 s, then asks again', async () => {
    let now = 0;
    const { reviews, calls } = fakeReviews(users, readers);
    const authorize = createMetricsAuthorizer({ reviews, now: () => now });
    for (let i = 0; i < 5; i++) {
      expect((await authorize('Bearer tok-reader', '/metrics')).status).toBe(200);
      expect((await authorize('Bearer tok-other', '/metrics')).status).toBe(403);
    }
    expect(calls).toHaveLength(4);
    now = 10_001;
    await authorize('Bearer tok-reader', '/metrics');
    await authorize('Bearer tok-other', '/metrics');
    expect(calls).toHaveLength(6); // the refusal was asked again, the allowed token not
    now = 60_001;
    await authorize('Bearer tok-reader', '/metrics');
    expect(calls).toHaveLength(8);
  });

  it('answers 500 when the apiserver cannot be asked, and does not cache it', async () => {
    const { reviews, calls, fail } = fakeReviews(users, readers);
    const authorize = createMetricsAuthorizer({ reviews, now: () => 0 });
    fail(true);
    expect(await authorize('Bearer tok-reader', '/metrics')).toMatchObject({
      status: 500,
      reason: 'could not review the token with the apiserver: connect ECONNREFUSED',
    });
    fail(false);
    expect((await authorize('Bearer tok-reader', '/metrics')).status).toBe(200);
    expect(calls.filter((c) => c.startsWith('TokenReview'))).toHaveLength(2);
  });

  it('remembers at most maxEntries tokens, dropping the oldest', async () => {
    const many: Record<string, ReviewedUser> = {};
    for (let i = 0; i < 5; i++) many[`tok-${i}`] = { username: `u${i}` };
    const { reviews, calls } = fakeReviews(many, new Set(['u0', 'u1', 'u2', 'u3', 'u4']));
    const authorize = createMetricsAuthorizer({ reviews, now: () => 0, maxEntries: 3 });
    for (let i = 0; i < 5; i++) await authorize(`Bearer tok-${i}`, '/metrics');
    calls.length = 0;
    await authorize('Bearer tok-4', '/metrics'); // cached
    await authorize('Bearer tok-0', '/metrics'); // dropped: asked again
    expect(calls).toEqual(['TokenReview tok-', 'SubjectAccessReview u0 get /metrics']);
  });
});
