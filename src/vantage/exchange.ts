// The verdict exchange (#14, docs/vantage-points.md): one per operator process that runs as a vantage point.
//
// - Publish: the leader publishes each vantage policy's current zone and region states (verdict.ts) to CloudWatch in
//   EVERY region of the policy, once per heartbeat and at once when a state changes. Regions are written in
//   parallel and independently: a region that hangs or fails costs its own call, never the others' (the impaired
//   region is exactly the one that will not answer). A dry-run policy publishes too: a verdict changes no resource,
//   and a dry run should show the agreement it would act on.
// - Read: the peers' verdicts of a policy are read with GetMetricData from every region of the policy in parallel
//   and merged (the latest sequence per member and scope wins), so one answering region is enough. A policy is
//   read once per heartbeat while anything about it is not Healthy (its own view, or a peer's last verdict) or
//   while a peer has no fresh verdict in the last read (this vantage is alone: it looks for its peers — at start-up
//   they may not have published yet, and without this a quiet policy stayed Alone until its next resync), and
//   otherwise when its reconcile asks and the last read is older than a heartbeat — so a quiet policy whose peers
//   are all heard costs one read per resync, not one per heartbeat.
// - A read that changes what a peer says (a state, or a member turning fresh or stale) asks for a reconcile of the
//   policy (onPeersChanged), so agreement reached by the peers is acted on without waiting for the next resync.
// Every call goes through the call pipeline (rate limits, breakers, timeouts: PB-8); publishing is a leader write.

import type { Logger } from 'pino';
import type { CallPipeline } from '../act/call-pipeline.ts';
import type { FailoverPolicy } from '../api/index.ts';
import type { Clock } from '../clock.ts';
import type { RegionName, VerdictDatum, Verdicts } from '../cloud/types.ts';
import type { HealthView } from '../health/types.ts';
import type { PeerVerdicts } from './agreement.ts';
import { type OperatorVantage, staleAfterMsOf } from './settings.ts';
import {
  nextSequence,
  scopeKey,
  VANTAGE_NAMESPACE,
  type VantageVerdict,
  type VerdictMetric,
  verdictDatums,
  verdictMetric,
  verdictOf,
} from './verdict.ts';

export const DEFAULT_HEARTBEAT_MS = 10_000;
/** The fastest a policy's verdicts are published and read: with a short staleAfterSeconds, a third of it. */
export const MIN_CADENCE_MS = 5_000;

export interface VerdictExchangeDeps {
  self: OperatorVantage;
  verdicts: Verdicts;
  pipeline: CallPipeline;
  clock: Clock;
  logger: Logger;
  /** Only the leader publishes (one voice per vantage). */
  isLeader: () => boolean;
  signal: AbortSignal;
  heartbeatMs?: number;
  /** What a peer says of a policy changed: reconcile it now. */
  onPeersChanged?: (key: string) => void;
}

export interface VerdictExchange {
  readonly self: OperatorVantage;
  /**
   * The latest local view of a vantage policy, from probe results; `changed` (a transition) and the first results
   * publish it at once.
   */
  update(key: string, policy: FailoverPolicy, view: HealthView, changed: boolean): void;
  /** A policy starts being tracked: known (its peers can be read), published once it has probe results. */
  register(key: string, policy: FailoverPolicy, view: HealthView): void;
  forget(key: string): void;
  /**
   * The peers' verdicts for a policy, read now when the last read is older than `maxAgeMs` (default: the policy's cadence, the heartbeat or a third of staleAfterSeconds);
   * Infinity never reads (what the last read left).
   */
  peers(key: string, signal: AbortSignal, maxAgeMs?: number): Promise<PeerVerdicts>;
  /** One heartbeat now (tests, the simulation): publish everything, read the active policies. */
  beat(): Promise<void>;
}

interface Entry {
  key: string;
  policy: FailoverPolicy;
  view: HealthView;
  peers: PeerVerdicts;
  /** A read in flight, shared by callers. */
  reading?: Promise<PeerVerdicts>;
  /** The view holds probe results (not only the blank start state): it may be published. */
  observed: boolean;
  /** Published at least once. */
  published: boolean;
  /** When last published (clock ms). */
  publishedAt?: number;
}

export function createVerdictExchange(deps: VerdictExchangeDeps): VerdictExchange {
  const { clock, logger } = deps;
  const heartbeatMs = deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const entries = new Map<string, Entry>();
  let sequence: number | undefined;

  const regionsOf = (policy: FailoverPolicy): RegionName[] => policy.spec.regions.map((r) => r.name);
  const peersOf = (policy: FailoverPolicy): string[] =>
    (policy.spec.vantagePoints?.members ?? []).filter((m) => m !== deps.self.name);

  /** The metrics of every peer's verdicts on a policy, in a stable order. */
  function peerMetrics(key: string, policy: FailoverPolicy): VerdictMetric[] {
    const out: VerdictMetric[] = [];
    for (const peer of peersOf(policy)) {
      for (const r of policy.spec.regions) {
        for (const z of r.zones) out.push(verdictMetric(key, peer, 'zone', r.name, z));
        out.push(verdictMetric(key, peer, 'region', r.name));
      }
    }
    return out;
  }

  async function publish(list: Entry[]): Promise<void> {
    if (list.length === 0 || !deps.isLeader() || deps.signal.aborted) return;
    list = list.filter((e) => e.observed);
    if (list.length === 0) return;
    sequence = nextSequence(sequence, clock.now());
    const byRegion = new Map<RegionName, VerdictDatum[]>();
    for (const e of list) {
      e.published = true;
      e.publishedAt = clock.now();
      const data = verdictDatums(e.key, deps.self.name, e.view, sequence);
      for (const region of regionsOf(e.policy)) {
        const bucket = byRegion.get(region) ?? [];
        bucket.push(...data);
        byRegion.set(region, bucket);
      }
    }
    await Promise.all(
      [...byRegion].map(async ([region, data]) => {
        try {
          await deps.pipeline.call(
            {
              service: 'cloudwatch',
              operation: 'PutMetricData',
              region,
              write: true,
              idempotent: true,
              signal: deps.signal,
            },
            // Batches of 1,000 metrics, each request with its own grant.
            (signal, nextRequest) =>
              deps.verdicts.publishVerdicts(region, VANTAGE_NAMESPACE, data, { signal, nextRequest }),
          );
        } catch (err) {
          logger.warn(
            { region, verdicts: data.length, err: String(err), vantage: deps.self.name },
            'could not publish vantage verdicts in this region; peers read them from the other regions',
          );
        }
      }),
    );
  }

  async function readNow(e: Entry, signal: AbortSignal): Promise<PeerVerdicts> {
    const metrics = peerMetrics(e.key, e.policy);
    const now = clock.now();
    const staleAfterMs = staleAfterMsOf(e.policy.spec);
    // Twice the staleness bound: enough to show a stale member's last verdict and its age, not just "none".
    const range = { fromMs: now - 2 * staleAfterMs, toMs: now + 60_000 };
    const errors: string[] = [];
    const latest = new Map<string, VantageVerdict>();
    await Promise.all(
      regionsOf(e.policy).map(async (region) => {
        try {
          const maxima = await deps.pipeline.call(
            {
              service: 'cloudwatch',
              operation: 'GetMetricData',
              region,
              write: false,
              policy: e.key,
              signal,
            },
            // Batches of 500 metrics, page by page, each request with its own grant.
            (s, nextRequest) =>
              deps.verdicts.readMaxima(region, VANTAGE_NAMESPACE, metrics, range, { signal: s, nextRequest }),
          );
          maxima.forEach((max, i) => {
            const metric = metrics[i];
            if (max === undefined || !metric) return;
            const v = verdictOf(metric, max, clock.now());
            if (!v) return;
            const k = `${v.vantage}|${scopeKey(v.scope, v.region, v.zone)}`;
            const seen = latest.get(k);
            if (!seen || v.sequence > seen.sequence) latest.set(k, v);
          });
        } catch (err) {
          errors.push(`${region}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
    const allFailed = errors.length === regionsOf(e.policy).length;
    const verdicts = allFailed ? e.peers.verdicts : [...latest.values()];
    const peers: PeerVerdicts = {
      verdicts,
      readAt: clock.now(),
      ...(allFailed ? { readError: errors.join('; ').slice(0, 1000) } : {}),
    };
    if (allFailed) {
      logger.warn(
        { policy: e.key, vantage: deps.self.name, errors },
        "could not read the peers' vantage verdicts in any region of the policy; the last ones read age out",
      );
    }
    const before = summary(e.peers, now, staleAfterMs);
    e.peers = peers;
    if (summary(peers, clock.now(), staleAfterMs) !== before) deps.onPeersChanged?.(e.key);
    return peers;
  }

  function read(e: Entry, signal: AbortSignal): Promise<PeerVerdicts> {
    if (!e.reading) {
      e.reading = readNow(e, signal).finally(() => {
        delete e.reading;
      });
    }
    return e.reading;
  }

  /** Some peer has no fresh verdict in the last read (never read, not yet published, silent, or gone). */
  const missingPeer = (e: Entry) => {
    const staleAfterMs = staleAfterMsOf(e.policy.spec);
    const now = clock.now();
    return peersOf(e.policy).some(
      (peer) => !e.peers.verdicts.some((v) => v.vantage === peer && now - v.at <= staleAfterMs),
    );
  };

  const isActive = (e: Entry) =>
    e.view.zones.some((z) => z.state !== 'Healthy') ||
    e.view.regions.some((r) => r.state !== 'Healthy') ||
    e.peers.verdicts.some((v) => v.state !== 'Healthy') ||
    missingPeer(e);

  /**
   * How often a policy's verdicts are published and, while it is active, read: the heartbeat, or a third of its
   * staleAfterSeconds when that is shorter (never under MIN_CADENCE_MS). A verdict is then at most about two
   * cadences old when a reconcile uses it (one since it was published, one since it was read), plus CloudWatch's
   * delay, which keeps a short staleness bound from making peers flap between fresh and stale.
   */
  const cadenceOf = (e: Entry) => Math.max(MIN_CADENCE_MS, Math.min(heartbeatMs, staleAfterMsOf(e.policy.spec) / 3));
  // A tick is due a little early rather than a whole cadence late.
  const SLACK_MS = 250;

  async function beat(): Promise<void> {
    const now = clock.now();
    const list = [...entries.values()];
    const publishing = list.filter(
      (e) => e.publishedAt === undefined || now - e.publishedAt >= cadenceOf(e) - SLACK_MS,
    );
    // Only the leader reads on the heartbeat: followers act on nothing.
    const reads = deps.isLeader()
      ? list.filter(
          (e) => isActive(e) && (e.peers.readAt === undefined || now - e.peers.readAt >= cadenceOf(e) - SLACK_MS),
        )
      : [];
    await Promise.all([publish(publishing), ...reads.map((e) => read(e, deps.signal).catch(() => undefined))]);
  }

  const nextTickMs = () => Math.min(heartbeatMs, ...[...entries.values()].map(cadenceOf));

  void (async () => {
    while (!deps.signal.aborted) {
      try {
        await clock.sleep(nextTickMs(), deps.signal);
      } catch {
        return;
      }
      await beat().catch((err) => logger.warn({ err: String(err) }, 'vantage heartbeat failed'));
    }
  })();

  return {
    self: deps.self,
    update(key, policy, view, changed) {
      const e = entries.get(key);
      const entry = e ?? { key, policy, view, peers: { verdicts: [] }, observed: false, published: false };
      if (!e) entries.set(key, entry);
      entry.policy = policy;
      entry.view = view;
      entry.observed = true;
      // A transition, or the first results: published now (peers should not wait a heartbeat to hear of us).
      if ((changed || !entry.published) && deps.isLeader()) {
        void publish([entry]);
        void read(entry, deps.signal).catch(() => undefined);
      }
    },
    register(key, policy, view) {
      const e = entries.get(key);
      if (e) e.policy = policy;
      else entries.set(key, { key, policy, view, peers: { verdicts: [] }, observed: false, published: false });
    },
    forget(key) {
      entries.delete(key);
    },
    async peers(key, signal, maxAgeMs) {
      const e = entries.get(key);
      if (!e) return { verdicts: [] };
      if (maxAgeMs === Number.POSITIVE_INFINITY) return e.peers;
      const maxAge = maxAgeMs ?? cadenceOf(e);
      if (e.peers.readAt !== undefined && clock.now() - e.peers.readAt < maxAge) return e.peers;
      return read(e, signal);
    },
    beat,
  };
}

/** What agreement depends on: each verdict's state and whether it is fresh, in a stable order. */
function summary(peers: PeerVerdicts, now: number, staleAfterMs: number): string {
  return peers.verdicts
    .map(
      (v) => `${v.vantage}|${scopeKey(v.scope, v.region, v.zone)}=${v.state}${now - v.at <= staleAfterMs ? '' : '~'}`,
    )
    .sort()
    .join(',');
}
