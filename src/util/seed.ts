// The global random state behind initializers, shuffling and dropout. setRandomSeed makes a
// run reproducible: two runs with the same seed give bit-identical weights.

import { Random } from './random.js';

let global: Random | null = null;

/**
 * Seeds every source of randomness in kerasm (initializers, shuffling, dropout).
 * @example
 * ```ts
 * setRandomSeed(42);
 * ```
 */
export function setRandomSeed(seed: number): void {
  if (!Number.isInteger(seed)) throw new Error(`kerasm.setRandomSeed: expected an integer seed, got ${seed}`);
  global = new Random(seed);
}

/** The global generator (seeded from Math.random if setRandomSeed was never called). */
export function globalRandom(): Random {
  if (global === null) global = new Random(Math.floor(Math.random() * 2 ** 32));
  return global;
}
