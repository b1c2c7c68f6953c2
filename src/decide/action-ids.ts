// Deterministic action ids. The same decision always yields the same id, so the journal can tell "already done"
// and the executor can use the id as an idempotency token (EC2 ClientToken: at most 64 ASCII characters).
//
// A database failover's steps share a failover epoch, `<trigger>-<time>`: the time the trigger was first seen (the
// region's Impaired `since`, or the request's `requestedAt`). A second failover months later has another epoch, so
// its steps are never mistaken for the first one's. Every step id of an epoch names the instances it is about, so
// the journal alone is enough to resume a failover after a restart (the target is recorded by phase 1).

export type FailoverTrigger = 'auto' | 'manual' | 'failback';
export type FailoverStep = 'fence-writer' | 'fence-weights' | 'promote' | 'writer' | 'abort-writer';

export interface ParsedFailoverId {
  epoch: string;
  trigger: FailoverTrigger;
  step: FailoverStep;
  /** The writer failed over from (fence and abort steps). */
  fromId?: string;
  /** The replica failed over to (fence, promote and writer steps). */
  toId?: string;
}

/** `2026-11-23T11:11:48.123Z` → `20261123T111148Z`: sortable, short, free of characters tokens dislike. */
export function timeToken(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z'); // whole seconds: two triggers of one policy within a second are one event
}

export function failoverEpoch(trigger: FailoverTrigger, ms: number): string {
  return `${trigger}-${timeToken(ms)}`;
}

/** The time part of an epoch (`auto-20261123T111148Z` → `20261123T111148Z`); sorts chronologically. */
export function epochTime(epoch: string): string {
  return epoch.slice(epoch.indexOf('-') + 1);
}

export const failoverIds = {
  fenceWriter: (epoch: string, fromId: string, toId: string) => `failover/${epoch}/fence-writer/${fromId}/${toId}`,
  fenceWeights: (epoch: string, fromId: string, toId: string) => `failover/${epoch}/fence-weights/${fromId}/${toId}`,
  promote: (epoch: string, toId: string) => `failover/${epoch}/promote/${toId}`,
  writer: (epoch: string, toId: string) => `failover/${epoch}/writer/${toId}`,
  abortWriter: (epoch: string, fromId: string) => `failover/${epoch}/abort-writer/${fromId}`,
};

const FAILOVER_ID =
  /^failover\/((auto|manual|failback)-[0-9TZ]+)\/(fence-writer|fence-weights|promote|writer|abort-writer)\/(.+)$/;

export function parseFailoverId(id: string): ParsedFailoverId | undefined {
  const m = FAILOVER_ID.exec(id);
  if (!m) return undefined;
  const [, epoch, trigger, step, rest] = m as unknown as [string, string, FailoverTrigger, FailoverStep, string];
  const parts = rest.split('/');
  switch (step) {
    case 'fence-writer':
    case 'fence-weights':
      return parts.length === 2 ? { epoch, trigger, step, fromId: parts[0], toId: parts[1] } : undefined;
    case 'promote':
    case 'writer':
      return { epoch, trigger, step, toId: rest };
    case 'abort-writer':
      return { epoch, trigger, step, fromId: rest };
  }
}

/**
 * A traffic change outside a failover: named by what it sets and by the last weight change it follows (so the same
 * weights set again after another change get a new id, while a retried plan keeps its id).
 */
export function weightsId(after: string, weights: Record<string, number>): string {
  return `weights/${after}/${digest(weights)}`;
}

export function launchId(region: string, epochMs: number, zone: string): string {
  return `launch/${region}/${timeToken(epochMs)}/${zone}`;
}

export function restoreId(volumeId: string, snapshotId: string): string {
  return `restore/${volumeId}/${snapshotId}`;
}

/** A short, stable fingerprint of a weight map (order of keys does not matter). */
export function digest(weights: Record<string, number>): string {
  return fingerprint(
    Object.keys(weights)
      .sort()
      .map((k) => `${k}=${weights[k]}`)
      .join(','),
  );
}

/** FNV-1a, 32 bits, as 8 hex digits. Not for security: only to keep ids short and stable. */
export function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
