import { describe, expect, it } from 'vitest';
import { findSamples, parseExposition, sampleValue } from './parse-exposition.ts';

const TEXT = `# HELP x_total A counter.
# TYPE x_total counter
x_total{policy="ns/a",detail="say \\"hi\\"\\nback\\\\slash"} 3
x_total{policy="ns/b"} 4 1700000000000
up 1
h_bucket{le="+Inf"} 7
`;

describe('parseExposition', () => {
  it('reads names, unescaped label values and values, skipping comments and timestamps', () => {
    const samples = parseExposition(TEXT);
    expect(samples).toEqual([
      { name: 'x_total', labels: { policy: 'ns/a', detail: 'say "hi"\nback\\slash' }, value: 3 },
      { name: 'x_total', labels: { policy: 'ns/b' }, value: 4 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
  });

  it('matches samples by a subset of labels and refuses an ambiguous single value', () => {
    const samples = parseExposition(TEXT);
    expect(findSamples(samples, 'x_total', {})).toHaveLength(2);
    expect(sampleValue(samples, 'x_total', { policy: 'ns/b' })).toBe(4);
    expect(sampleValue(samples, 'x_total', { policy: 'ns/c' })).toBeUndefined();
    expect(() => sampleValue(samples, 'x_total', {})).toThrow(/2 samples/);
  });

  it('rejects a line that is not a sample', () => {
    expect(() => parseExposition('x_total{policy="a"}')).toThrow(/not a sample line/);
  });
});
