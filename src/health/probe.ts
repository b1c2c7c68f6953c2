// What every probe kind implements, and the small helpers they share. A probe observes ONE target (a zone, a region
// or a set of zones reported by one AWS call) and returns observations; the scheduler (probe-scheduler.ts) runs it
// on an interval, enforces its timeout and fans its observations out to every policy that names the same target.

import type { RegionName, ZoneName } from '../cloud/types.ts';
import type { ProbeKind, ProbeResult } from './types.ts';

/** A ProbeResult before it is labelled with the name a subscribing policy gave the probe. */
export type ProbeObservation = Omit<ProbeResult, 'probe'>;

export interface ProbeRunContext {
  /** Aborted when the probe's timeout expires or the scheduler shuts down; pass it to every I/O call. */
  signal: AbortSignal;
  /** Injected clock: probes stamp results with it, never with Date.now(). */
  now: () => number;
  /**
   * The caller aborts `signal` when the run's timeout expires (the scheduler does, on the injected clock). A probe
   * run on its own enforces its timeout itself with a wall-clock timer — which is wrong under a virtual clock and
   * costs a timer per run, hence this flag.
   */
  timeoutEnforcedByCaller?: boolean;
}

export interface Probe {
  /**
   * Identity for sharing: two probes with the same key observe the same thing (same kind and resolved
   * URL / address / zone / region / selector), so the scheduler runs only one of them per interval.
   */
  readonly key: string;
  readonly kind: ProbeKind;
  readonly region: RegionName;
  /** Absent for region-wide probes (one AWS call that reports every zone, or a regional endpoint). */
  readonly zone?: ZoneName;
  /** What the probe observes within its target (ProbeResult.subject), e.g. a DB instance identifier. */
  readonly subject?: string;
  /** Upper bound on one run; the scheduler aborts the run and records a `down` result past it. */
  readonly timeoutMs: number;
  run(ctx: ProbeRunContext): Promise<ProbeObservation[]>;
}

/** The operator's own vantage point, used unless an external signal is configured. */
export const OPERATOR_SOURCE = 'operator';

/** Expands `{zone}` and `{region}` in a URL or host template. Unknown placeholders are left as they are. */
export function expandTemplate(template: string, target: { region: RegionName; zone?: ZoneName }): string {
  return template.replaceAll('{region}', target.region).replaceAll('{zone}', target.zone ?? target.region);
}

/** Stable JSON for probe keys: object keys sorted so `{a,b}` and `{b,a}` selectors share a key. */
export function stableKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/**
 * A `down` observation for the probe's own target, used for timeouts (`timedOut`: nothing answered within the
 * probe's timeout) and thrown errors (`callFailed`: the probe's own call failed).
 */
export function failedObservation(
  probe: Probe,
  at: number,
  detail: string,
  options: { source?: string; cause?: 'timeout' | 'error' } = {},
): ProbeObservation {
  return {
    kind: probe.kind,
    region: probe.region,
    ...(probe.zone === undefined ? {} : { zone: probe.zone }),
    ...(probe.subject === undefined ? {} : { subject: probe.subject }),
    ok: false,
    severity: 'down',
    at,
    detail,
    source: options.source ?? OPERATOR_SOURCE,
    ...(options.cause === 'timeout' ? { timedOut: true, timeoutMs: probe.timeoutMs, latencyMs: probe.timeoutMs } : {}),
    ...(options.cause === 'error' ? { callFailed: true } : {}),
  };
}
