// Events on FailoverDrill objects (PB-11, PB-12): one per step of a drill — started, outage detected, traffic
// shifted, outage ended, finished, aborted — written through the runtime's EventRecorder (aggregated, never fatal).

import { DRILL_KIND, GROUP, Reason, VERSION } from '../api/index.ts';
import { type EventSpec, type InvolvedObject, splitKey } from '../runtime/index.ts';

/**
 * Event reasons of the drill steps that have no condition reason in src/api/conditions.ts (started, passed, failed
 * and aborted use Reason.Drill*).
 */
export const DrillEventReason = {
  Started: Reason.DrillStarted,
  Pending: Reason.DrillPending,
  Passed: Reason.DrillPassed,
  Failed: Reason.DrillFailed,
  Aborted: Reason.DrillAborted,
  Refused: Reason.DrillRefused,
  OutageDetected: Reason.DrillOutageDetected,
  TrafficShifted: Reason.DrillTrafficShifted,
  OutageEnded: Reason.DrillOutageEnded,
  WeightsRestored: Reason.DrillWeightsRestored,
} as const;
export type DrillEventReason = (typeof DrillEventReason)[keyof typeof DrillEventReason];

export interface DrillEventsDeps {
  recorder: { record(involved: InvolvedObject, spec: EventSpec): Promise<void> };
  /** The cached drill, for its uid (Events then follow the object, not a namesake created later). */
  getDrill(key: string): { metadata?: { uid?: string } } | undefined;
}

export interface DrillEvents {
  record(key: string, spec: EventSpec): Promise<void>;
}

export function createDrillEvents(deps: DrillEventsDeps): DrillEvents {
  const involvedObject = (key: string): InvolvedObject => {
    const { namespace, name } = splitKey(key);
    const uid = deps.getDrill(key)?.metadata?.uid;
    return { apiVersion: `${GROUP}/${VERSION}`, kind: DRILL_KIND, namespace, name, ...(uid ? { uid } : {}) };
  };
  return { record: (key, spec) => deps.recorder.record(involvedObject(key), spec) };
}
