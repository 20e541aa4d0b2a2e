// Shared by the io tests: a save/load round trip through memory, seeded inputs, and exact
// comparisons of predictions and weights (a loaded model runs the same kernels on the same
// float32 weights, so its predictions are bit-identical).

import { expect } from 'vitest';
import { io, loadModel, tensor, type Model, type ModelArtifacts, type Tensor } from '../../src/index.js';
import { Random } from '../../src/util/random.js';

/** Saves `model` to memory and returns what was saved. */
export async function saveToMemory(model: Model, options?: Parameters<typeof io.saveModel>[2]): Promise<ModelArtifacts> {
  let saved: ModelArtifacts | undefined;
  await io.saveModel(model, io.withSaveHandler((artifacts) => {
    saved = artifacts;
  }), options);
  expect(saved, 'the save handler was called').toBeDefined();
  return saved!;
}

/** Saves to memory and loads back. */
export async function roundTrip(model: Model): Promise<{ copy: Model; artifacts: ModelArtifacts }> {
  const artifacts = await saveToMemory(model);
  return { copy: await loadModel(io.fromMemory(artifacts)), artifacts };
}

/** A batch of `n` samples of `shape`: floats in [-1, 1), or integer ids in [0, ids). */
export function sampleBatch(n: number, shape: readonly number[], seed: number, ids?: number): Tensor {
  const rng = new Random(seed);
  const size = n * shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size).map(() => (ids ? Math.floor(rng.uniform() * ids) : rng.uniformRange(-1, 1)));
  return tensor(values, [n, ...shape]);
}

/** One batch for every input of `model`. */
export function inputsFor(model: Model, n: number, seed: number, ids?: number): Tensor[] {
  return model.inputs.map((t, i) => sampleBatch(n, t.shape.slice(1) as number[], seed + i, ids));
}

export function outputsOf(model: Model, xs: Tensor[]): Float32Array[] {
  const y = model.predict(xs.length === 1 ? xs[0] : xs);
  return (Array.isArray(y) ? y : [y]).map((t) => t.dataSync() as Float32Array);
}

/**
 * Bit-identical float32 arrays (NaNs included), naming the first difference; a loop rather
 * than toEqual, which is slow on millions of elements.
 */
export function expectSameValues(got: Float32Array, expected: Float32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(expected.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) expect.fail(`${what}[${i}]: got ${got[i]}, expected ${expected[i]}`);
  }
}

/** Same weights (names, shapes, values) and bit-identical predictions. */
export function expectSameModel(original: Model, copy: Model, xs: Tensor[]): void {
  expect(copy.className).toBe(original.className);
  expect(copy.weights.map((w) => [w.name, [...w.shape]])).toEqual(original.weights.map((w) => [w.name, [...w.shape]]));
  const a = original.getWeights();
  const b = copy.getWeights();
  a.forEach((w, i) => expectSameValues(b[i].dataSync() as Float32Array, w.dataSync() as Float32Array, `weight ${original.weights[i].name}`));
  const ya = outputsOf(original, xs);
  const yb = outputsOf(copy, xs);
  expect(yb.length).toBe(ya.length);
  ya.forEach((y, i) => {
    expect(y.every(Number.isFinite), `output ${i} is finite`).toBe(true);
    expectSameValues(yb[i], y, `output ${i}`);
  });
}

/** Expects `promise` to reject with a message matching every pattern. */
export async function expectRejects(promise: Promise<unknown>, ...patterns: (string | RegExp)[]): Promise<string> {
  let message = '';
  try {
    await promise;
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message, 'expected an error').not.toBe('');
  for (const p of patterns) expect(message).toMatch(p);
  return message;
}
