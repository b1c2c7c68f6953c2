import { describe, expect, it } from 'vitest';
import { lazyAdapter } from './lazy-adapter.ts';

interface Echo {
  echo(value: string): Promise<string>;
  count?(): Promise<number>;
}

describe('lazyAdapter', () => {
  it('loads the adapter on the first call only, once for concurrent calls, and forwards every listed method', async () => {
    let loads = 0;
    let calls = 0;
    const echo = lazyAdapter<Echo>(
      async () => {
        loads++;
        return {
          async echo(value) {
            calls++;
            return `${value}!`;
          },
          count: async () => calls,
        };
      },
      { echo: true, count: true },
    );
    expect(loads).toBe(0);
    expect(typeof echo.count).toBe('function'); // an optional method keeps its presence
    expect(await Promise.all([echo.echo('a'), echo.echo('b')])).toEqual(['a!', 'b!']);
    expect(await echo.count?.()).toBe(2);
    expect(loads).toBe(1);
  });

  it('tries the load again after it failed', async () => {
    let loads = 0;
    const echo = lazyAdapter<Echo>(
      async () => {
        if (++loads === 1) throw new Error('import failed');
        return { echo: async (v) => v, count: async () => 0 };
      },
      { echo: true, count: true },
    );
    await expect(echo.echo('x')).rejects.toThrow('import failed');
    expect(await echo.echo('y')).toBe('y');
    expect(loads).toBe(2);
  });
});
