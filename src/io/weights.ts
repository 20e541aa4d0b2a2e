// The weights' bytes: encoding a model's weights into one little-endian buffer plus a manifest,
// and decoding (and checking) a manifest and its bytes on the way back.
//
// Layout: every weight's values, row-major, one after the other in manifest order, with no
// padding. A weight may straddle two shard files; the shards are simply concatenated.
//
//   | 'conv2d/kernel' f32 x 3*3*1*8 | 'conv2d/bias' f32 x 8 | 'dense/kernel' ... |
//   |<------------ weights.bin, or group1-shard1of2.bin, group1-shard2of2.bin ------->|
//
// see: tfjs-core/src/io/io_utils.ts (encodeWeights, decodeWeights)

import { fail } from '../ops/check.js';
import { formatShape } from '../tensor.js';
import type { Variable } from '../layers/layer.js';
import type { WeightQuantization, WeightSpec, WeightsManifestGroup } from './types.js';

/** Shard size of the TensorFlow.js converter: large models are cut into 4 MB files. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

/** Bytes per stored element of each dtype that layers models use. */
const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4, int32: 4, uint16: 2, float16: 2, uint8: 1, bool: 1,
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** 12345 -> "12,345", as in every byte count of an error message. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A weight as saved: its variable, under its Keras name and shape (same values, row-major). */
export interface KerasWeight {
  variable: Variable;
  name: string;
  shape: readonly number[];
}

/**
 * The weights as a manifest and one buffer of float32 values, in the order given.
 * @example
 * ```ts
 * const { specs, data } = encodeWeights(model.weights.map((v) => ({ variable: v, name: v.name, shape: v.shape })));
 * specs[0]; // { name: 'dense/kernel', shape: [4, 3], dtype: 'float32' }
 * ```
 */
export function encodeWeights(weights: readonly KerasWeight[], op = 'save'): { specs: WeightSpec[]; data: ArrayBuffer } {
  const seen = new Set<string>();
  for (const w of weights) {
    if (seen.has(w.name)) {
      fail(op, `expected unique weight names, got '${w.name}' twice; give the layers unique names`);
    }
    seen.add(w.name);
  }
  const total = weights.reduce((n, w) => n + w.variable.value.size, 0);
  const values = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    values.set(w.variable.read(), offset);
    offset += w.variable.value.size;
  }
  const specs = weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' }));
  return { specs, data: LITTLE_ENDIAN_HOST ? values.buffer : toLittleEndian(values) };
}

function toLittleEndian(values: Float32Array): ArrayBuffer {
  const out = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => out.setFloat32(i * 4, v, true));
  return out.buffer;
}

/** Cuts `data` into files of at most `shardBytes`: 'weights.bin' alone, or numbered shards. */
export function splitShards(data: ArrayBuffer, shardBytes = DEFAULT_SHARD_BYTES): { path: string; bytes: ArrayBuffer }[] {
  if (!(Number.isInteger(shardBytes) && shardBytes > 0)) {
    fail('save', `expected shardSizeBytes to be a positive integer, got ${shardBytes}`);
  }
  const count = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  if (count === 1) return [{ path: 'weights.bin', bytes: data }];
  return Array.from({ length: count }, (_, i) => ({
    path: `group1-shard${i + 1}of${count}.bin`,
    bytes: data.slice(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes)),
  }));
}

/** The manifest entries of every group, in order. */
export function flattenManifest(manifest: readonly WeightsManifestGroup[]): WeightSpec[] {
  return manifest.flatMap((group) => group.weights);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one manifest entry's fields; returns the bytes it occupies. */
function checkSpec(op: string, spec: unknown, index: number): number {
  if (!isObject(spec) || typeof spec.name !== 'string') {
    fail(op, `expected weight spec ${index} of the manifest to be {name, shape, dtype}, got ${JSON.stringify(spec)}`);
  }
  const { name, shape, dtype } = spec;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(op, `expected the shape of weight '${name}' in the manifest to be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const quantization = spec.quantization as WeightQuantization | undefined;
  const stored = quantization ? quantization.dtype : dtype;
  const bytes = BYTES_PER_ELEMENT[String(stored)];
  if (bytes === undefined) {
    fail(op, `expected weight '${name}' to be stored as one of ${Object.keys(BYTES_PER_ELEMENT).join(', ')}, got ${JSON.stringify(stored)}`);
  }
  if (quantization && stored !== 'float16' && !(Number.isFinite(quantization.scale) && Number.isFinite(quantization.min))) {
    fail(op, `expected numeric quantization scale and min for weight '${name}', got ${JSON.stringify(quantization)}`);
  }
  return (shape as number[]).reduce((a, b) => a * b, 1) * bytes;
}

/** Concatenates `buffers` (no copy for a single one). */
function concatenate(buffers: readonly ArrayBuffer[]): Uint8Array {
  if (buffers.length === 1) return new Uint8Array(buffers[0]);
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/** IEEE 754 half precision to a number. see: https://en.wikipedia.org/wiki/Half-precision_floating-point_format */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Reads `count` stored elements at `offset` as float32 values. */
function readValues(bytes: Uint8Array, offset: number, count: number, spec: WeightSpec): Float32Array {
  const q = spec.quantization;
  const stored = q ? q.dtype : spec.dtype;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * BYTES_PER_ELEMENT[stored]);
  const out = new Float32Array(count);
  switch (stored) {
    case 'float32':
      if (LITTLE_ENDIAN_HOST) {
        out.set(new Float32Array(bytes.slice(offset, offset + count * 4).buffer));
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      }
      return out;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    case 'uint16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
  }
  if (q && stored !== 'float16') {
    const scale = q.scale!;
    const min = q.min!;
    for (let i = 0; i < count; i++) out[i] = out[i] * scale + min;
    // Integer weights quantized as integers come back whole.
    if (q.original_dtype === 'int32') for (let i = 0; i < count; i++) out[i] = Math.round(out[i]);
  }
  return out;
}

export interface DecodedWeight {
  spec: WeightSpec;
  values: Float32Array;
}

/**
 * Checks a manifest against its bytes and decodes every weight to float32 (dequantizing
 * uint8, uint16 and float16 weights). Everything is checked before anything is decoded; errors
 * name the weight, what was expected and what was found, and where the bytes came from
 * (`source`, e.g. "weights.bin").
 * @example
 * ```ts
 * const [kernel] = decodeWeights('loadModel', artifacts.weightSpecs, [artifacts.weightData], 'weights.bin');
 * kernel.spec.name; // 'dense/kernel'
 * kernel.values;    // Float32Array
 * ```
 */
export function decodeWeights(op: string, specs: unknown, buffers: readonly ArrayBuffer[], source: string): DecodedWeight[] {
  if (!Array.isArray(specs)) fail(op, `expected the weights manifest to list weight specs, got ${JSON.stringify(specs)}`);
  const sizes = specs.map((spec, i) => checkSpec(op, spec, i));
  const checked = specs as WeightSpec[];
  const names = new Set<string>();
  for (const spec of checked) {
    if (names.has(spec.name)) fail(op, `expected unique weight names in the manifest, got '${spec.name}' twice`);
    names.add(spec.name);
  }
  const expected = sizes.reduce((a, b) => a + b, 0);
  const got = buffers.reduce((n, b) => n + b.byteLength, 0);
  if (got !== expected) {
    const rest = checked.length > 1 ? ` and the rest (${checked.length} weights)` : '';
    const first = checked.length > 0 ? ` for '${checked[0].name}'${rest}` : '';
    let detail = '';
    if (got < expected) {
      let end = 0;
      const short = checked.find((_, i) => (end += sizes[i]) > got);
      if (short) detail = `; the data ends inside '${short.name}' (shape ${formatShape(short.shape)})`;
    } else {
      detail = `; ${formatCount(got - expected)} bytes too many`;
    }
    fail(op, `expected ${formatCount(expected)} bytes of weights${first}, got ${formatCount(got)} in ${source}${detail}`);
  }
  const bytes = concatenate(buffers);
  let offset = 0;
  return checked.map((spec, i) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = readValues(bytes, offset, count, spec);
    offset += sizes[i];
    return { spec, values };
  });
}
