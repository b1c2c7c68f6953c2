import { describe, expect, it } from 'vitest';
import type { DnsRecord } from '../cloud/types.ts';
import { splitIntoChangeBatches } from './route53-batches.ts';

const rec = (id: string, weight: number, valueLength = 10): DnsRecord => ({
  name: 'api.example.com.',
  type: 'A',
  ttl: 60,
  values: ['x'.repeat(valueLength)],
  setIdentifier: id,
  weight,
});

describe('splitIntoChangeBatches', () => {
  it('keeps a weighted group (at most 100 records) in ONE batch', () => {
    const group = Array.from({ length: 100 }, (_, i) => rec(`r${i}`, i % 2 ? 0 : 10));
    expect(splitIntoChangeBatches(group)).toEqual([group]);
  });

  it('splits only past the limits (an UPSERT counts twice), raising weights before lowering them', () => {
    const current = new Map([
      ['drain', 100],
      ['fill', 0],
      ['other', 0],
    ]);
    const upserts = [rec('drain', 0, 9_000), rec('fill', 100, 9_000), rec('other', 50, 9_000)];
    const batches = splitIntoChangeBatches(upserts, (r) => current.get(r.setIdentifier!));
    // 2 × 9,000 chars per record: one per batch under 32,000
    expect(batches.map((b) => b.map((r) => r.setIdentifier))).toEqual([['fill'], ['other'], ['drain']]);
  });

  it('returns no batch for no change and refuses a record that can never fit', () => {
    expect(splitIntoChangeBatches([])).toEqual([]);
    expect(() => splitIntoChangeBatches([rec('huge', 1, 20_000)])).toThrow(RangeError);
  });
});
