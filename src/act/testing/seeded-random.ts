// Seeded jitter for tests: the project's one seeded PRNG.
export { seededRandom } from '../../cloud/sim/sim-random.ts';
