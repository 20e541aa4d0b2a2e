// The only place that knows how SIMD is spelled. Kernels call these helpers, so the choice
// between relaxed and plain multiply-add is made once, at compile time: asc defines
// ASC_FEATURE_RELAXED_SIMD for the `relaxed` target in asconfig.json, and the branch that is
// not taken is removed.
//
// Relaxed madd may fuse (one rounding) or not (two roundings) depending on the engine and the
// CPU, so results differ from the plain build in the last bits; tests compare with tolerances.

/** Bytes in a v128. */
export const VBYTES: usize = 16;
/** f32 lanes in a v128. */
export const VLANES: i32 = 4;

/** a * b + c, lane-wise. */
// @ts-ignore: decorator
@inline export function vmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** c - a * b, lane-wise. */
// @ts-ignore: decorator
@inline export function vnmadd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_nmadd(a, b, c);
  return f32x4.sub(c, f32x4.mul(a, b));
}

/** Loads 4 f32 at byte address p (any 4-byte alignment). */
// @ts-ignore: decorator
@inline export function vload(p: usize): v128 {
  return v128.load(p);
}

/** Stores 4 f32 at byte address p. */
// @ts-ignore: decorator
@inline export function vstore(p: usize, v: v128): void {
  v128.store(p, v);
}

/** All four lanes set to x. */
// @ts-ignore: decorator
@inline export function vsplat(x: f32): v128 {
  return f32x4.splat(x);
}

/** Loads one f32 and broadcasts it to four lanes. */
// @ts-ignore: decorator
@inline export function vbroadcast(p: usize): v128 {
  return v128.load32_splat(p);
}

/** The sum of the four lanes. */
// @ts-ignore: decorator
@inline export function vhsum(v: v128): f32 {
  const pairs = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const total = f32x4.add(pairs, i32x4.shuffle(pairs, pairs, 1, 0, 3, 2));
  return f32x4.extract_lane(total, 0);
}

/** The maximum of the four lanes. */
// @ts-ignore: decorator
@inline export function vhmax(v: v128): f32 {
  const pairs = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  const total = f32x4.max(pairs, i32x4.shuffle(pairs, pairs, 1, 0, 3, 2));
  return f32x4.extract_lane(total, 0);
}

/** Byte address of element i of an f32 array at p. */
// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}
