/** Deterministic PRNG (mulberry32) for seeded test and benchmark inputs: the app's own. */
export { seededRandom as rng } from '../../src/core/rng.ts';
