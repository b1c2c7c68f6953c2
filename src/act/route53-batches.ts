// Route 53 change batches (AWS-FACTS): at most 1,000 records and 32,000 characters of values per batch, and an
// UPSERT counts twice towards both. A weighted group has at most 100 records, so one batch is the rule and a split
// only happens for unusually large values. When it does, the batch is no longer atomic, so records whose weight
// rises go first: the group never passes through "every weight 0", which Route 53 answers by spreading traffic
// across ALL records — the drained ones included.

import type { DnsRecord } from '../cloud/types.ts';

export const ROUTE53_MAX_RECORDS_PER_BATCH = 1_000;
export const ROUTE53_MAX_VALUE_CHARS_PER_BATCH = 32_000;

/** Route 53's control plane lives in us-east-1 (AWS-FACTS); its calls are keyed there for breaker and metrics. */
import { ROUTE53_CONTROL_PLANE_REGION } from '../cloud/types.ts';

export { ROUTE53_CONTROL_PLANE_REGION };

const UPSERT_WEIGHT = 2;

export interface ChangeBatchLimits {
  maxRecords: number;
  maxChars: number;
}

export const ROUTE53_BATCH_LIMITS: ChangeBatchLimits = {
  maxRecords: ROUTE53_MAX_RECORDS_PER_BATCH,
  maxChars: ROUTE53_MAX_VALUE_CHARS_PER_BATCH,
};

/** What UPSERTs of these records count towards a change batch's limits (an UPSERT counts twice). */
export function changeBatchSize(upserts: readonly DnsRecord[]): { records: number; chars: number } {
  let records = 0;
  let chars = 0;
  for (const r of upserts) {
    records += Math.max(1, r.values.length) * UPSERT_WEIGHT;
    chars += r.values.reduce((n, v) => n + v.length, 0) * UPSERT_WEIGHT;
  }
  return { records, chars };
}

/** Splits UPSERTs into as few batches as the limits allow; one batch when they fit. */
export function splitIntoChangeBatches(
  upserts: readonly DnsRecord[],
  currentWeight: (record: DnsRecord) => number | undefined = () => undefined,
  limits: ChangeBatchLimits = ROUTE53_BATCH_LIMITS,
): DnsRecord[][] {
  const size = (r: DnsRecord) => changeBatchSize([r]);
  const total = changeBatchSize(upserts);
  if (total.records <= limits.maxRecords && total.chars <= limits.maxChars) return upserts.length ? [[...upserts]] : [];

  const rising = (r: DnsRecord) => (r.weight ?? 0) > (currentWeight(r) ?? 0);
  const ordered = [...upserts.filter(rising), ...upserts.filter((r) => !rising(r))];
  const batches: DnsRecord[][] = [];
  let batch: DnsRecord[] = [];
  let used = { records: 0, chars: 0 };
  for (const record of ordered) {
    const s = size(record);
    if (s.records > limits.maxRecords || s.chars > limits.maxChars) {
      throw new RangeError(`record ${record.name} ${record.setIdentifier ?? ''} alone exceeds a Route 53 change batch`);
    }
    if (batch.length && (used.records + s.records > limits.maxRecords || used.chars + s.chars > limits.maxChars)) {
      batches.push(batch);
      batch = [];
      used = { records: 0, chars: 0 };
    }
    batch.push(record);
    used = { records: used.records + s.records, chars: used.chars + s.chars };
  }
  if (batch.length) batches.push(batch);
  return batches;
}
