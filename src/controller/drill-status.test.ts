import { describe, expect, it } from 'vitest';
import { DRILL_LIMITS } from '../api/index.ts';
import { boundedTimeline, preDrillWeightsEntry, timelineEntry } from './drill-status.ts';

describe('pre-drill weights in the timeline', () => {
  it('lists them sorted, and stays within the message bound however many records there are', () => {
    expect(preDrillWeightsEntry(0, { 'use1-b': 100, 'use1-a': 50 }).message).toBe(
      'recorded the pre-drill Route 53 weights (restored on abort): use1-a=50 use1-b=100',
    );
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`record-with-a-long-name-${i}`, 255]));
    const line = preDrillWeightsEntry(0, many).message;
    expect(line).toHaveLength(1024);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('boundedTimeline', () => {
  it('keeps the first entries and says how many were left out', () => {
    const entries = Array.from({ length: 250 }, (_, i) => timelineEntry(i * 1000, `entry ${i}`));
    const bounded = boundedTimeline(entries);
    expect(bounded).toHaveLength(DRILL_LIMITS.timeline);
    expect(bounded[0]?.message).toBe('entry 0');
    expect(bounded.at(-1)?.message).toContain('51 more timeline entries not shown');
  });
});
