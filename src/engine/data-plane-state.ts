// What the engine knows of the data-plane path (docs/static-stability.md), shared by every policy of the process:
//
// - the health-check inventory: ONE listing of the operator's health checks (by the managed-by tag) serves every
//   policy, reused for `inventoryMaxAgeMs` (default 5 min). Route 53's 5 requests/s are account-wide (PB-8), and
//   the checks change only when this operator prepares a policy, which updates the inventory as it goes
//   (write-through). A failed listing keeps the last one: during an event the Route 53 API may be the thing that
//   is down, and the checks it listed an hour ago are still attached;
// - alarm states, per alarm, reused for `alarmMaxAgeMs` (default 60 s): they say whether a prepared policy's alarms
//   exist, and which verdict is in force after a restart;
// - the verdict ledger: what this process last published per policy and record. It, not the alarm, is the verdict
//   in force for the planner, because the alarm shows a new verdict only a period (and an evaluation) later and
//   the planner would otherwise publish it again on every reconcile in between.
//
// Writes go through wrappers of the cloud's HealthChecks and Verdicts (like the record cache's write-through), so
// the executor needs to know nothing of this.

import type { CallPipeline } from '../act/call-pipeline.ts';
import type { FailoverPolicy } from '../api/index.ts';
import type { AlarmState, Cloud, HealthChecks, ObservedHealthCheck, RegionName, Verdicts } from '../cloud/types.ts';
import { ROUTE53_CONTROL_PLANE_REGION } from '../cloud/types.ts';
import { MANAGED_BY, TAG_MANAGED_BY, verdictResources } from '../decide/data-plane.ts';
import { plannerSettingsFrom } from '../decide/policy-view.ts';
import type { DataPlaneObservation, Verdict } from '../decide/types.ts';

export interface DataPlaneStateDeps {
  cloud: Pick<Cloud, 'healthChecks' | 'verdicts'>;
  pipeline: CallPipeline;
  now: () => number;
  inventoryMaxAgeMs?: number;
  alarmMaxAgeMs?: number;
}

export interface DataPlaneState {
  /** The cloud's health checks and verdicts, wrapped so that this state follows our own writes. */
  healthChecks?: HealthChecks;
  verdicts?: Verdicts;
  /**
   * The data-plane observation of one policy; undefined when it did not ask for the path or the cloud lacks it.
   * `steady: false` (a zone of the policy is not Healthy) reuses the last health-check listing whatever its age:
   * during an event the path must not depend on Route 53's control plane, reads included.
   */
  observe(
    policyKey: string,
    policy: FailoverPolicy,
    signal: AbortSignal,
    opts?: { steady?: boolean },
  ): Promise<DataPlaneObservation | undefined>;
  /** Forgets a deleted policy's ledger. */
  forget(policyKey: string): void;
}

export const DEFAULT_INVENTORY_MAX_AGE_MS = 5 * 60_000;
export const DEFAULT_ALARM_MAX_AGE_MS = 60_000;

export function createDataPlaneState(deps: DataPlaneStateDeps): DataPlaneState {
  const inventoryMaxAgeMs = deps.inventoryMaxAgeMs ?? DEFAULT_INVENTORY_MAX_AGE_MS;
  const alarmMaxAgeMs = deps.alarmMaxAgeMs ?? DEFAULT_ALARM_MAX_AGE_MS;
  const baseChecks = deps.cloud.healthChecks;
  const baseVerdicts = deps.cloud.verdicts;

  let inventory: { at: number; checks: ObservedHealthCheck[] } | undefined;
  let listing: Promise<ObservedHealthCheck[]> | undefined;
  const alarms = new Map<string, { at: number; state: AlarmState | undefined }>();
  /** policy → record → verdict, as this process last published it. */
  const ledger = new Map<string, Map<string, Verdict>>();
  const alarmKey = (region: RegionName, name: string) => `${region}\u0000${name}`;

  async function listInventory(signal: AbortSignal, steady: boolean): Promise<ObservedHealthCheck[]> {
    if (!baseChecks) return [];
    if (inventory && (!steady || deps.now() - inventory.at < inventoryMaxAgeMs)) return inventory.checks;
    listing ??= deps.pipeline
      .call(
        {
          service: 'route53',
          operation: 'ListHealthChecks',
          region: ROUTE53_CONTROL_PLANE_REGION,
          write: false,
          signal,
        },
        // Pages of 100 checks, then tag reads of 10 checks each: each request waits for its own grant.
        (s, nextRequest) => baseChecks.listHealthChecks({ [TAG_MANAGED_BY]: MANAGED_BY }, { signal: s, nextRequest }),
      )
      .then((checks) => {
        inventory = { at: deps.now(), checks };
        return checks;
      })
      .finally(() => {
        listing = undefined;
      });
    return listing;
  }

  async function alarmStates(
    region: RegionName,
    names: string[],
    policyKey: string,
    signal: AbortSignal,
    expected: (name: string) => AlarmState | undefined,
  ): Promise<Map<string, AlarmState | undefined>> {
    const out = new Map<string, AlarmState | undefined>();
    const stale = names.filter((n) => {
      const known = alarms.get(alarmKey(region, n));
      // Read again while the alarm does not yet show the verdict we published: that is when the status needs it.
      const settled = expected(n) === undefined || known?.state === expected(n);
      if (known && settled && deps.now() - known.at < alarmMaxAgeMs) {
        out.set(n, known.state);
        return false;
      }
      return true;
    });
    if (stale.length > 0 && baseVerdicts) {
      const found = await deps.pipeline.call(
        { service: 'cloudwatch', operation: 'DescribeAlarms', region, write: false, policy: policyKey, signal },
        (s) => baseVerdicts.describeAlarms(region, stale, { signal: s }),
      );
      const byName = new Map(found.map((a) => [a.name, a.state]));
      for (const n of stale) {
        const state = byName.get(n);
        alarms.set(alarmKey(region, n), { at: deps.now(), state });
        out.set(n, state);
      }
    }
    return out;
  }

  const healthChecks: HealthChecks | undefined = baseChecks && {
    listHealthChecks: (selector, opts) => baseChecks.listHealthChecks(selector, opts),
    async createAlarmHealthCheck(spec, opts) {
      const id = await baseChecks.createAlarmHealthCheck(spec, opts);
      // Never listed yet: listed at the next observation (in steady state), with this one already known.
      inventory ??= { at: Number.NEGATIVE_INFINITY, checks: [] };
      if (!inventory.checks.some((c) => c.id === id)) {
        inventory.checks = [
          ...inventory.checks,
          {
            id,
            callerReference: spec.callerReference,
            type: 'CLOUDWATCH_METRIC',
            alarm: spec.alarm,
            insufficientDataHealthStatus: spec.insufficientDataHealthStatus,
            tags: spec.tags,
          },
        ];
      }
      return id;
    },
  };

  const verdicts: Verdicts | undefined = baseVerdicts && {
    describeAlarms: (region, names, opts) => baseVerdicts.describeAlarms(region, names, opts),
    readMaxima: (region, namespace, metrics, range, opts) =>
      baseVerdicts.readMaxima(region, namespace, metrics, range, opts),
    async putVerdictAlarm(spec, opts) {
      await baseVerdicts.putVerdictAlarm(spec, opts);
      const known = alarms.get(alarmKey(spec.region, spec.name));
      // A new alarm exists now (its state is INSUFFICIENT_DATA until data arrives); an existing one keeps its state.
      alarms.set(alarmKey(spec.region, spec.name), { at: deps.now(), state: known?.state ?? 'INSUFFICIENT_DATA' });
    },
    async publishVerdicts(region, namespace, data, opts) {
      await baseVerdicts.publishVerdicts(region, namespace, data, opts);
      for (const d of data) {
        const policy = d.dimensions.Policy;
        const record = d.dimensions.Record;
        if (policy === undefined || record === undefined) continue;
        let published = ledger.get(policy);
        if (!published) {
          published = new Map();
          ledger.set(policy, published);
        }
        published.set(record, d.value >= 1 ? 'drain' : 'serve');
      }
    },
  };

  return {
    ...(healthChecks ? { healthChecks } : {}),
    ...(verdicts ? { verdicts } : {}),
    async observe(policyKey, policy, signal, opts = {}) {
      const settings = plannerSettingsFrom(policy).traffic;
      const dp = settings?.dataPlane;
      if (!settings || !dp || !baseChecks || !baseVerdicts) return undefined;
      const unknown: string[] = [];
      const names = new Map(
        settings.records.map((r) => [r.setIdentifier, verdictResources(policyKey, r.setIdentifier, dp)]),
      );

      // A failed read keeps the last known answer, and says so in `unknown`.
      const orLastKnown = async <T>(read: Promise<T>, what: string, lastKnown: () => T): Promise<T> => {
        try {
          return await read;
        } catch (err) {
          unknown.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
          return lastKnown();
        }
      };

      const checks: Record<string, string> = {};
      const listed = await orLastKnown(
        listInventory(signal, opts.steady ?? true),
        'ListHealthChecks',
        () => inventory?.checks ?? [],
      );
      for (const [id, res] of names) {
        // By caller reference: the tags say whose it is, the reference says it was made for these settings.
        const found = listed.find((c) => c.callerReference === res.callerReference);
        if (found) checks[id] = found.id;
      }

      const published = ledger.get(policyKey);
      const recordOfAlarm = new Map([...names].map(([id, res]) => [res.alarmName, id]));
      const alarmNames = [...names.values()].map((r) => r.alarmName);
      const states = await orLastKnown(
        alarmStates(dp.signalRegion, alarmNames, policyKey, signal, (name) => {
          const verdict = published?.get(recordOfAlarm.get(name) ?? '');
          return verdict === undefined ? undefined : verdict === 'drain' ? 'ALARM' : 'OK';
        }),
        `DescribeAlarms in ${dp.signalRegion}`,
        () => new Map(alarmNames.map((n) => [n, alarms.get(alarmKey(dp.signalRegion, n))?.state])),
      );
      const alarmStateById: Record<string, AlarmState> = {};
      for (const [id, res] of names) {
        const state = states.get(res.alarmName);
        if (state !== undefined) alarmStateById[id] = state;
      }

      const inForce: Record<string, Verdict> = {};
      for (const id of names.keys()) {
        const mine = published?.get(id);
        if (mine !== undefined) inForce[id] = mine;
        else if (alarmStateById[id] === 'ALARM') inForce[id] = 'drain';
        else if (alarmStateById[id] === 'OK') inForce[id] = 'serve';
      }
      return {
        checks,
        alarms: alarmStateById,
        verdicts: inForce,
        ...(unknown.length > 0 ? { unknown } : {}),
      };
    },
    forget(policyKey) {
      ledger.delete(policyKey);
    },
  };
}
