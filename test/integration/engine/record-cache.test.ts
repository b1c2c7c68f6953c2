// The shared Route 53 read cache end to end: the real engine stack (as src/main.ts builds it) with the AWS adapters
// against moto through the fault proxy. 100 policies on ONE hosted zone, reconciled by four workers as the controller
// does, list the zone a bounded number of times — about once per max-age window, not once or twice per policy
// (PB-8: Route 53 allows 5 requests/s for the whole account). Our own weight change is seen by the very next
// observation, because the write invalidates the zone.

import { ChangeResourceRecordSetsCommand, type Route53Client } from '@aws-sdk/client-route-53';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryJournalStore } from '../../../src/act/journal-store.ts';
import { type FailoverPolicy, validatePolicy } from '../../../src/api/index.ts';
import { systemClock } from '../../../src/clock.ts';
import { type AwsCloud, createAwsCloud } from '../../../src/cloud/aws/index.ts';
import { createEngineStack, type EngineStack } from '../../../src/engine/engine-stack.ts';
import { testbed } from '../../env/testbed.ts';
import {
  countCalls,
  createWeightedZone,
  motoRoute53,
  ProbeTarget,
  policyBody,
  sleep,
} from '../support/operator-fixture.ts';

const POLICIES = 100;
const MAX_AGE_MS = 5_000;

let r53: Route53Client;
let cloud: AwsCloud;
let stack: EngineStack;
let zoneId: string;
const stop = new AbortController();
const probes = new ProbeTarget();
const policies: Array<{ key: string; policy: FailoverPolicy }> = [];
const recordName = (i: number) => `api${i}.cache.test.`;

beforeAll(async () => {
  const tb = testbed();
  r53 = motoRoute53();
  await probes.start();
  zoneId = await createWeightedZone(r53, 'cache.test.', recordName(0));
  // 99 more weighted groups in the same hosted zone, one per policy.
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: Array.from({ length: POLICIES - 1 }, (_, n) => n + 1).flatMap((i) =>
          ['a', 'b'].map((z, j) => ({
            Action: 'CREATE' as const,
            ResourceRecordSet: {
              Name: recordName(i),
              Type: 'A' as const,
              TTL: 60,
              SetIdentifier: `use1-${z}`,
              Weight: 100,
              ResourceRecords: [{ Value: `10.1.${i}.${j + 1}` }],
            },
          })),
        ),
      },
    }),
  );
  for (let i = 0; i < POLICIES; i++) {
    const result = validatePolicy(
      policyBody('cache', `p${i}`, { zoneId, recordName: recordName(i), probeUrl: `${probes.base}/c/{zone}` }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    policies.push({ key: `cache/p${i}`, policy: result.value });
  }
  cloud = createAwsCloud({
    endpoint: tb.aws.endpoint,
    credentials: tb.aws.credentials,
    requestTimeoutMs: 10_000,
    connectionTimeoutMs: 2_000,
  });
  stack = createEngineStack({
    cloud,
    clock: systemClock(),
    logger: pino({ level: 'silent' }),
    journalStore: createInMemoryJournalStore(),
    isLeader: () => false, // plan only: the reconciles below make no writes
    signal: stop.signal,
    recordCacheMaxAgeMs: MAX_AGE_MS,
  });
}, 60_000);

afterAll(async () => {
  stop.abort();
  cloud?.destroy();
  r53?.destroy();
  await probes.stop();
});

/** Reconciles every policy once, four at a time (the controller's worker count); returns each observation. */
async function reconcileAll() {
  const queue = [...policies];
  const observed = new Map<string, Record<string, number | undefined>>();
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const out = await stack.engine.reconcile(next.key, next.policy, stop.signal);
        observed.set(
          next.key,
          Object.fromEntries((out.observation?.records ?? []).map((r) => [r.setIdentifier ?? '', r.weight])),
        );
      }
    }),
  );
  return observed;
}

describe('shared Route 53 read cache against moto', () => {
  it('lists a hosted zone shared by 100 policies about once per max-age window', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const started = Date.now();
    let reconciles = 0;
    for (let round = 0; round < 4; round++) {
      const observed = await reconcileAll();
      reconciles += observed.size;
      expect(observed.size).toBe(POLICIES);
      for (const weights of observed.values()) expect(weights).toEqual({ 'use1-a': 100, 'use1-b': 100 });
      await sleep(2_000);
    }
    const elapsed = Date.now() - started;
    const lists = countCalls(await tb.faults.log(), 'ListResourceRecordSets', zoneId);
    const windows = Math.floor(elapsed / MAX_AGE_MS) + 1;
    console.log(
      `record cache: ${reconciles} reconciles over ${elapsed} ms made ${lists} ListResourceRecordSets calls (${windows} windows)`,
    );
    // Without the cache: one call per reconcile (400). With it: at most one listing per window, each one page.
    expect(lists).toBeGreaterThanOrEqual(1);
    expect(lists).toBeLessThanOrEqual(windows);
  }, 90_000);

  it('writes our own change through to the cache: the next plan sees the new weight without listing again', async () => {
    const tb = testbed();
    const { key, policy } = policies[7]!;
    await stack.engine.reconcile(key, policy, stop.signal); // warm: a listing is cached now
    await tb.faults.clear();

    const result = await stack.executor.execute(
      key,
      policy,
      {
        actions: [
          {
            id: 'weights/test-drain-b',
            action: { kind: 'SetWeights', weights: { 'use1-a': 100, 'use1-b': 0 } },
            rule: 'PB-5',
            target: recordName(7),
            reason: 'test drained use1-b',
          },
        ],
      },
      { signal: stop.signal, dryRun: false },
    );
    expect(result.failed).toBeUndefined();

    const out = await stack.engine.reconcile(key, policy, stop.signal);
    const weights = Object.fromEntries((out.observation?.records ?? []).map((r) => [r.setIdentifier, r.weight]));
    expect(weights).toEqual({ 'use1-a': 100, 'use1-b': 0 });

    const log = (await tb.faults.log()).filter((e) => (e as { path?: string }).path?.includes(zoneId));
    const write = log.findIndex((e) => e.action === 'ChangeResourceRecordSets' && e.status === 200);
    expect(write).toBeGreaterThanOrEqual(0);
    // The executor's own pre-write read, then the write; the observation after it is answered by the cached listing
    // with our accepted change applied, and moto agrees with it.
    expect(log.slice(write + 1).some((e) => e.action === 'ListResourceRecordSets')).toBe(false);
    const inMoto = await cloud.dns.listRecords(zoneId, recordName(7), 'A');
    expect(Object.fromEntries(inMoto.map((r) => [r.setIdentifier, r.weight]))).toEqual({ 'use1-a': 100, 'use1-b': 0 });
  }, 60_000);
});
