// The rds.connect probes' connector in a simulation: a connection attempt to a simulated database
// (SimCloud.probeDatabase: reachability, status and IO latency as the scenario set them), told in the probe's terms.

import type { SimCloud } from '../cloud/sim/sim-cloud.ts';
import type { DatabaseConnector } from '../health/probe-rds-connect.ts';

export function simDatabaseConnector(sim: Pick<SimCloud, 'probeDatabase'>): DatabaseConnector {
  return async (region, id, opts) => {
    const answer = await sim.probeDatabase(region, id, opts);
    const outcome = answer.ok
      ? 'answered'
      : answer.status !== 0
        ? 'answered-with-error'
        : answer.latencyMs >= opts.timeoutMs
          ? 'no-answer'
          : 'refused';
    return {
      outcome,
      latencyMs: answer.latencyMs,
      detail: answer.detail,
      ...(answer.instanceStatus === undefined ? {} : { instanceStatus: answer.instanceStatus }),
    };
  };
}
