// Seeded inputs, so that every implementation (and the relaxed-SIMD child process) sees the
// same numbers and a mismatch can be reproduced.

// see: mulberry32, a 32-bit generator by Tommy Ettinger; plenty for test data.
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from a workload's name (FNV-1a), stable across runs and processes. */
export function seedFrom(name) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** n floats uniform in [-1, 1). */
export function uniform(random, n) {
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = random() * 2 - 1;
  return values;
}
