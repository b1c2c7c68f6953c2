// Deterministic action ids. The same decision always yields the same id, so the journal can tell "already done"
// and the executor can use the id as an idempotency token (EC2 ClientToken: at most 64 ASCII characters).
//
// A database failover's steps share a failover epoch, `<trigger>-<time>`: the time the trigger was first seen (the
// region's Impaired `since`, or the request's `requestedAt`). A second failover months later has another epoch, so
// its steps are never mistaken for the first one's. What a failover has done and what is due next is kept in its
// durable state machine (status.failover, database-failover.ts), not read back from these ids: the journal is
// bounded and its old entries are trimmed. Ids are bounded too: long identifiers are shortened with a hash.

export type FailoverTrigger = 'auto' | 'manual' | 'failback';

/** Journal ids are at most this long (status.journal[].id, and the Route 53 change comment they travel in). */
export const MAX_ACTION_ID_LENGTH = 128;
/** An identifier inside an id is kept whole up to this length, else shortened with a hash (RDS allows 63). */
const MAX_ID_PART = 36;

/**
 * An identifier as it appears inside an action id: whole when short, else its first characters, `~` and a hash of
 * the whole (`orders-primary-database-in-us-east-1-with-a-long-name` → `orders-primary-database-in-u~1a2b3c4d`), so
 * two long identifiers that share a prefix still get different ids and every id fits its 128 characters.
 */
export function idPart(identifier: string): string {
  if (identifier.length <= MAX_ID_PART) return identifier;
  return `${identifier.slice(0, MAX_ID_PART - 9)}~${fingerprint(identifier)}`;
}

/** Any id bounded to MAX_ACTION_ID_LENGTH: a longer one keeps its start and ends with a hash of the whole. */
export function boundId(id: string): string {
  if (id.length <= MAX_ACTION_ID_LENGTH) return id;
  return `${id.slice(0, MAX_ACTION_ID_LENGTH - 9)}~${fingerprint(id)}`;
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

/**
 * The journal ids of a failover's steps. The failover's state machine (status.failover) says which step is due;
 * these ids only let the journal tell a step already Done and give AWS a stable idempotency token. A promotion is
 * numbered by attempt: a second attempt exists only after observation disproved the first (database-failover.ts).
 */
export const failoverIds = {
  fenceWriter: (epoch: string, fromId: string, toId: string) =>
    boundId(`failover/${epoch}/fence-writer/${idPart(fromId)}/${idPart(toId)}`),
  fenceWeights: (epoch: string, fromId: string, toId: string) =>
    boundId(`failover/${epoch}/fence-weights/${idPart(fromId)}/${idPart(toId)}`),
  promote: (epoch: string, toId: string, attempt = 1) =>
    boundId(`failover/${epoch}/promote/${idPart(toId)}${attempt > 1 ? `/${attempt}` : ''}`),
  writer: (epoch: string, toId: string) => boundId(`failover/${epoch}/writer/${idPart(toId)}`),
  abortWriter: (epoch: string, fromId: string) => boundId(`failover/${epoch}/abort-writer/${idPart(fromId)}`),
};

/**
 * A traffic change outside a failover: named by what it sets and by the last weight change it follows (so the same
 * weights set again after another change get a new id, while a retried plan keeps its id).
 */
export function weightsId(after: string, weights: Record<string, number>): string {
  return boundId(`weights/${after}/${digest(weights)}`);
}

export function launchId(region: string, epochMs: number, zone: string): string {
  return boundId(`launch/${region}/${timeToken(epochMs)}/${zone}`);
}

export function restoreId(volumeId: string, snapshotId: string): string {
  return boundId(`restore/${volumeId}/${snapshotId}`);
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
