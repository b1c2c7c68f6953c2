import { describe, expect, it } from 'vitest';
import { createResourceIdMemory } from './resource-id-memory.ts';

type Observed = { region: string; id: string; status: string; resourceId?: string };

describe('resource id memory', () => {
  it("keeps a writer's DbiResourceId through observations that could not describe it, and follows a new incarnation", () => {
    const memory = createResourceIdMemory();
    const seen: Observed = { region: 'us-east-1', id: 'orders', status: 'available', resourceId: 'db-FIRST' };
    const unreachable: Observed = { region: 'us-east-1', id: 'orders', status: 'unreachable' };
    expect(memory.fill([seen])).toEqual([seen]);
    expect(memory.fill([unreachable])).toEqual([{ ...unreachable, resourceId: 'db-FIRST' }]);
    expect(memory.fill([{ ...seen, resourceId: 'db-SECOND' }])[0]?.resourceId).toBe('db-SECOND');
    expect(memory.fill([unreachable])[0]?.resourceId).toBe('db-SECOND');
    expect(
      memory.fill<Observed>([{ region: 'us-west-2', id: 'orders', status: 'unreachable' }])[0]?.resourceId,
    ).toBeUndefined();
  });
});
