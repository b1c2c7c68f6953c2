import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from './errors.ts';
import { createStatusWriterWith, type PatchStatusFn } from './status-writer.ts';

const resource = { group: 'failover.io', version: 'v1alpha1', plural: 'failoverpolicies' };
const ref = { namespace: 'shop', name: 'checkout' };

describe('status writer', () => {
  it('sends a merge patch of status only, with the resourceVersion precondition when given', async () => {
    const requests: unknown[] = [];
    const patch: PatchStatusFn = async (request) => {
      requests.push(request);
      return { metadata: { name: 'checkout', resourceVersion: '8' }, status: { phase: 'Healthy' } };
    };
    const writer = createStatusWriterWith<{ phase: string }>(resource, patch);
    const stored = await writer.patchStatus(ref, { status: { phase: 'Healthy' }, resourceVersion: '7' });
    await writer.patchStatus(ref, { status: { phase: 'Degraded' } });
    expect(stored.status?.phase).toBe('Healthy');
    expect(requests).toEqual([
      { ...resource, ...ref, body: { metadata: { resourceVersion: '7' }, status: { phase: 'Healthy' } } },
      { ...resource, ...ref, body: { status: { phase: 'Degraded' } } },
    ]);
  });

  it('turns 409 into a retryable ConflictError and 404 into NotFoundError, keeping the cause', async () => {
    const failing =
      (code: number): PatchStatusFn =>
      async () => {
        throw Object.assign(new Error(`HTTP ${code}`), { code });
      };
    const conflict = createStatusWriterWith(resource, failing(409)).patchStatus(ref, { status: {} });
    await expect(conflict).rejects.toBeInstanceOf(ConflictError);
    await expect(conflict).rejects.toHaveProperty('cause.code', 409);
    await expect(
      createStatusWriterWith(resource, failing(404)).patchStatus(ref, { status: {} }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      createStatusWriterWith(resource, failing(500)).patchStatus(ref, { status: {} }),
    ).rejects.toHaveProperty('code', 500);
  });
});
