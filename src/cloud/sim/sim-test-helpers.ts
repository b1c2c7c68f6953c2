// Shared by the simulated cloud's tests: a fresh sim on a virtual clock with the default topology.
import { createVirtualClock, type VirtualClock } from '../../clock.ts';
import { createSimCloud, type SimCloudOptions } from './sim-cloud.ts';
import { defaultTopology } from './sim-topology.ts';

export const START = Date.UTC(2011, 3, 21, 7, 55);

export function newSim(overrides: Partial<SimCloudOptions> = {}) {
  const clock: VirtualClock = createVirtualClock(START);
  const sim = createSimCloud({ clock, seed: 7, topology: defaultTopology(), ...overrides });
  return { clock, sim };
}

/** Settles a promise without letting an expected rejection go unhandled while the clock runs. */
export function settle<T>(p: Promise<T>): {
  readonly value: T | undefined;
  readonly error: unknown;
  readonly done: boolean;
} {
  const state = { value: undefined as T | undefined, error: undefined as unknown, done: false };
  p.then(
    (v) => {
      state.value = v;
      state.done = true;
    },
    (e) => {
      state.error = e;
      state.done = true;
    },
  );
  return state;
}
