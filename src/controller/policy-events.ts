// Events on FailoverPolicy objects (PB-11): health transitions and the executor's action trail, both written
// through the runtime's EventRecorder (aggregated, never fatal).

import type { EventSink as ActionEventSink } from '../act/trail.ts';
import { GROUP, POLICY_KIND, VERSION } from '../api/index.ts';
import { healthTransitionEvents } from '../health/health-status.ts';
import type { HealthTransition, HealthView } from '../health/types.ts';
import { type EventSpec, type InvolvedObject, splitKey } from '../runtime/index.ts';
import type { AgreementResult, VantageSettings } from '../vantage/agreement.ts';
import { agreementEvents } from '../vantage/events.ts';

export interface PolicyEventsDeps {
  recorder: { record(involved: InvolvedObject, spec: EventSpec): Promise<void> };
  /** The cached policy, for its uid (Events then follow the object, not a namesake created later). */
  getPolicy(key: string): { metadata?: { uid?: string } } | undefined;
  /** This operator's vantage name: action Events say which vantage acted (#14). */
  vantage?: string;
}

export interface PolicyEvents {
  involvedObject(key: string): InvolvedObject;
  record(key: string, spec: EventSpec): Promise<void>;
  /**
   * One Event per zone or region transition (Warning when it is not Healthy, Normal when it recovered), and
   * AllZonesHealthy when `view`, the health after them, has every zone Healthy again.
   */
  healthTransitions(key: string, transitions: readonly HealthTransition[], view: HealthView): Promise<void>;
  /** The executor's sink: ActionPerformed, ActionSkipped… each citing its rule. */
  readonly actions: ActionEventSink;
  /** VantageAgreement, VantageDisagreement, ActingAlone (src/vantage/events.ts). */
  agreement(
    key: string,
    agreement: AgreementResult,
    previous: AgreementResult | undefined,
    settings: VantageSettings,
  ): Promise<void>;
}

export function createPolicyEvents(deps: PolicyEventsDeps): PolicyEvents {
  const involvedObject = (key: string): InvolvedObject => {
    const { namespace, name } = splitKey(key);
    const uid = deps.getPolicy(key)?.metadata?.uid;
    return { apiVersion: `${GROUP}/${VERSION}`, kind: POLICY_KIND, namespace, name, ...(uid ? { uid } : {}) };
  };
  const record = (key: string, spec: EventSpec) => deps.recorder.record(involvedObject(key), spec);
  return {
    involvedObject,
    record,
    async healthTransitions(key, transitions, view) {
      await Promise.all(healthTransitionEvents(transitions, view).map((spec) => record(key, spec)));
    },
    actions: {
      emit: (key, event) =>
        record(key, {
          type: event.type,
          reason: event.reason,
          message: deps.vantage ? `${event.message} (vantage ${deps.vantage})` : event.message,
        }),
    },
    async agreement(key, agreement, previous, settings) {
      await Promise.all(agreementEvents(settings, agreement, previous).map((spec) => record(key, spec)));
    },
  };
}
