import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortOnTermination } from './termination.ts';

describe('abortOnTermination', () => {
  it('aborts on SIGTERM and stops listening once disposed', () => {
    const proc = new EventEmitter();
    const { signal, dispose } = abortOnTermination(proc as unknown as NodeJS.Process);
    expect(signal.aborted).toBe(false);
    proc.emit('SIGTERM');
    expect(signal.aborted).toBe(true);
    expect(String((signal.reason as Error).message)).toContain('SIGTERM');
    dispose();
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });
});
