// Seeded randomness for the simulated cloud. Each purpose draws from its own stream, keyed by a name (e.g.
// "fault:ec2/CreateVolume/us-east-1/us-east-1a"), so adding a probe or a call elsewhere does not shift the dice of
// an unrelated stream: the same seed and the same calls give the same outcomes.

export interface RandomSource {
  /** The next number in [0, 1) of the named stream. */
  next(stream: string): number;
}

/** FNV-1a, 32 bit: turns the seed and a stream name into a stream's initial state. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for fault dice (not for anything secret). */
function mulberry32(state: number): () => number {
  let a = state;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createRandomSource(seed: number | string): RandomSource {
  const streams = new Map<string, () => number>();
  return {
    next(stream) {
      let gen = streams.get(stream);
      if (!gen) {
        gen = mulberry32(hash32(`${seed}\u0000${stream}`));
        streams.set(stream, gen);
      }
      return gen();
    },
  };
}

/** One seeded stream as a plain `() => number`: jitter in the simulation, benchmarks and tests. */
export function seededRandom(seed: number | string, stream = 'default'): () => number {
  return mulberry32(hash32(`${seed}\u0000${stream}`));
}
