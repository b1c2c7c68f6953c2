// Baseline: a k8gb-style GSLB controller. k8gb (https://www.k8gb.io) runs in each cluster, reconciles its Gslb
// resources on a fixed requeue (reconcileRequeueSeconds, default 30 s), judges each cluster's service by the
// readiness of the application's endpoints, and writes the answers its own CoreDNS serves (dnsTtlSeconds: clients
// keep the old answer that long). One cluster per zone here, so a zone's endpoint is a cluster's service.
//
// The model: every requeue (seeded phase) the controller looks once at each zone's endpoint — the same endpoint our
// probes reach, judged by a kubelet readiness probe's default 1 s timeout — and takes a zone out of its answers as
// soon as that look fails; its CoreDNS answers without it at once. Real k8gb is slower still: the kubelet marks a
// pod unready only after failureThreshold (default 3) failed readiness probes, 10 s apart; the model leaves that
// out, in k8gb's favour. Also not modelled, noted for the reader: k8gb's clusters learn each other's health over
// DNS, so a network partition between clusters that leaves both serving users can make each drop the other (a
// false failover); no scenario here partitions clusters from one another. k8gb moves DNS only: it promotes no
// database.

import { conditionCursor, requestFails } from './endpoint-replay.ts';
import type { CheckReplay } from './route53-health-check.ts';

export interface K8gbSettings {
  /** Seconds between reconciles (k8gb's reconcileRequeueSeconds). */
  requeueSeconds: number;
  /** What one look at an endpoint waits at most (a readiness probe's timeoutSeconds, default 1 s). */
  readinessTimeoutMs: number;
}

export const K8GB_DEFAULTS: K8gbSettings = { requeueSeconds: 30, readinessTimeoutMs: 1_000 };

/**
 * Clock ms of the first reconcile at or after `fromMs` that finds the zone's endpoint failing (and so takes the zone
 * out of the answers); undefined if none by `untilMs`. `phaseMs`: where in its requeue period the controller runs.
 */
export function k8gbUnhealthyAt(replay: CheckReplay, settings: K8gbSettings & { phaseMs: number }): number | undefined {
  const periodMs = settings.requeueSeconds * 1000;
  const conditionAt = conditionCursor(replay.history);
  // The first reconcile at or after fromMs on the controller's grid (startMs + phase + k × period).
  const first = replay.startMs + settings.phaseMs;
  const skip = Math.max(0, Math.ceil((replay.fromMs - first) / periodMs));
  for (let at = first + skip * periodMs; at <= replay.untilMs; at += periodMs) {
    if (requestFails(conditionAt(at), replay.random, settings.readinessTimeoutMs)) return at;
  }
  return undefined;
}
