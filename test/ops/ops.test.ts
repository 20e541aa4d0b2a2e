// The ops layer: shape checks at the boundary, wiring to the kernels (each op on the wasm
// backend agrees with the same op on the reference backend), out tensors, and memory.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBackend, createReferenceBackend, getBackend, setBackend, type Backend,
} from '../../src/backend/backend.js';
import * as ops from '../../src/ops/index.js';
import { tensor, Tensor } from '../../src/tensor.js';
import { expectClose, uniform } from '../helpers/kernels.js';

function on<T>(backend: Backend, f: () => T): T {
  const previous = getBackend();
  setBackend(backend);
  try {
    return f();
  } finally {
    setBackend(previous);
  }
}

/** Runs `f` on the wasm and the reference backend with the same random inputs. */
function agree(label: string, shapes: number[][], f: (...xs: Tensor[]) => Tensor, rtol = 1e-4): void {
  const inputs = shapes.map((s, i) => uniform(s.reduce((a, b) => a * b, 1), 100 + i));
  const run = (backend: Backend) =>
    on(backend, () => f(...inputs.map((v, i) => tensor(v, shapes[i]))).dataSync());
  expectClose(run(wasm), run(reference), label, { rtol, atol: 1e-5 });
}

let wasm: Backend;
let reference: Backend;
let saved: Backend;

beforeAll(() => {
  saved = getBackend();
  wasm = createBackend({ flavor: 'simd' });
  reference = createReferenceBackend();
  setBackend(wasm);
});
afterAll(() => setBackend(saved));

describe('tensor', () => {
  it('creates from nested arrays, typed arrays and scalars', () => {
    expect(tensor([[1, 2, 3], [4, 5, 6]]).shape).toEqual([2, 3]);
    expect(Array.from(tensor(new Float32Array([1, 2]), [2, 1]).dataSync())).toEqual([1, 2]);
    expect(tensor(7).shape).toEqual([]);
    expect(tensor(7).arraySync()).toBe(7);
    expect(tensor([[1, 2], [3, 4]]).arraySync()).toEqual([[1, 2], [3, 4]]);
    const labels = tensor([0, 2, 1], [3], 'int32');
    expect(labels.dataSync()).toBeInstanceOf(Int32Array);
  });

  it('reshapes as a view, inferring one -1', () => {
    const t = tensor([1, 2, 3, 4, 5, 6]);
    const r = t.reshape([2, -1]);
    expect(r.shape).toEqual([2, 3]);
    expect(r.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(() => t.reshape([4, -1])).toThrow(
      'kerasm.reshape: expected a shape with 6 elements (one dimension may be -1), got [4, -1] for a tensor of shape [6]',
    );
  });

  it('rejects ragged arrays and wrong value counts', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array: expected length 2 at depth 1, got length 1/);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('kerasm.tensor: expected 4 values for shape [2, 2], got 3');
  });

  it('fails clearly when used after dispose', () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.dataSync()).toThrow('kerasm: tensor of shape [2] was disposed');
    expect(() => ops.relu(t)).toThrow('kerasm.relu: x (shape [2]) was disposed');
  });
});

describe('ops agree with the reference backend', () => {
  it('matmul with transposes, bias and activation', () => {
    agree('matmul', [[5, 7], [7, 3]], (a, b) => ops.matmul(a, b));
    agree('matmul tA tB', [[7, 5], [3, 7]], (a, b) => ops.matmul(a, b, { transposeA: true, transposeB: true }));
    agree('matmul bias relu', [[9, 4], [4, 6], [6]], (a, b, c) => ops.matmul(a, b, { bias: c, activation: 'relu' }));
  });

  it('convolutions and pooling', () => {
    agree('conv2d same s2', [[2, 9, 7, 3], [3, 3, 3, 5]], (x, w) => ops.conv2d(x, w, { padding: 'same', strides: 2 }));
    agree('conv2dBackpropInput', [[2, 7, 5, 5], [3, 3, 3, 5]], (dy, w) => ops.conv2dBackpropInput(dy, w, [2, 9, 7, 3]));
    agree('conv2dBackpropFilter', [[2, 9, 7, 3], [2, 7, 5, 5]], (x, dy) => ops.conv2dBackpropFilter(x, dy, [3, 3, 3, 5]));
    agree('depthwiseConv2d', [[1, 6, 6, 4], [3, 3, 4, 2]], (x, w) => ops.depthwiseConv2d(x, w, { padding: 'same' }));
    agree('maxPool', [[2, 6, 6, 5]], (x) => ops.maxPool(x, { poolSize: 2 }));
    agree('avgPool same', [[2, 5, 5, 3]], (x) => ops.avgPool(x, { poolSize: 3, strides: 2, padding: 'same' }));
    agree('maxPoolGrad', [[2, 3, 3, 5], [2, 6, 6, 5]], (dy, x) => ops.maxPoolGrad(dy, x, { poolSize: 2 }));
  });

  it('elementwise, softmax and reductions', () => {
    agree('sigmoid', [[3, 17]], (x) => ops.sigmoid(x));
    agree('add bias', [[4, 6], [6]], (a, b) => ops.add(a, b));
    agree('mul scalar', [[4, 6], [1]], (a, b) => ops.mul(a, b));
    agree('softmax', [[3, 11]], (x) => ops.softmax(x));
    agree('sum axis 1', [[3, 5, 7]], (x) => ops.sum(x, { axis: 1 }));
    agree('max all', [[3, 5, 7]], (x) => ops.max(x));
  });
});

describe('shape checks name the op, the expected and the actual shape', () => {
  const cases: [string, () => unknown, string][] = [
    ['matmul inner', () => ops.matmul(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [4, 2])),
      "kerasm.matmul: expected b of shape [3, *] to match a's inner dimension 3, got [4, 2]"],
    ['matmul rank', () => ops.matmul(tensor(new Float32Array(6), [6]), tensor(new Float32Array(6), [6, 1])),
      'kerasm.matmul: expected a of shape [*, *], got [6]'],
    ['matmul bias', () => ops.matmul(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [3, 2]), { bias: tensor([1, 2, 3]) }),
      'kerasm.matmul: expected bias of shape [2], got [3]'],
    ['conv2d channels', () => ops.conv2d(tensor(new Float32Array(48), [1, 4, 4, 3]), tensor(new Float32Array(36), [3, 3, 4, 1])),
      'kerasm.conv2d: expected filter of shape [*, *, 3, *], got [3, 3, 4, 1]'],
    ['conv2d too small', () => ops.conv2d(tensor(new Float32Array(4), [1, 2, 2, 1]), tensor(new Float32Array(9), [3, 3, 1, 1])),
      'kerasm.conv2d: expected an input at least as large as the (dilated) kernel 3x3'],
    ['maxPool rank', () => ops.maxPool(tensor(new Float32Array(16), [4, 4])),
      'kerasm.maxPool: expected x of shape [*, *, *, *], got [4, 4]'],
    ['add broadcast', () => ops.add(tensor(new Float32Array(6), [2, 3]), tensor([1, 2])),
      'kerasm.add: expected shapes that broadcast together (aligned on the right, each pair of axes equal or one of them 1), got a [2, 3] and b [2]'],
    ['out shape', () => ops.relu(tensor([1, 2, 3]), { out: tensor([0, 0]) }),
      'kerasm.relu: expected out of shape [3], got [2]'],
    ['reduce axis', () => ops.sum(tensor(new Float32Array(6), [2, 3]), { axis: 2 }),
      'kerasm.sum: expected axis in [-2, 1] for x of shape [2, 3], got 2'],
    ['sparse labels', () => ops.sparseSoftmaxCrossEntropy(tensor(new Float32Array(6), [2, 3]), tensor([0, 3], [2], 'int32')),
      'kerasm.sparseSoftmaxCrossEntropy: expected labels in [0, 2], got 3 at index 1'],
    ['labels dtype', () => ops.sparseSoftmaxCrossEntropy(tensor(new Float32Array(6), [2, 3]), tensor([0, 1])),
      'kerasm.sparseSoftmaxCrossEntropy: expected labels of dtype int32, got float32'],
    ['adam slots', () => ops.adamUpdate(tensor([1, 2]), tensor([1, 2]), { learningRate: 0.1, step: 1, m: tensor([0]), v: tensor([0, 0]) }),
      'kerasm.adamUpdate: expected m of shape [2], got [1]'],
    ['activation', () => ops.matmul(tensor([[1]]), tensor([[1]]), { activation: 'rleu' as never }),
      "kerasm.matmul: expected an activation among linear, relu"],
  ];
  for (const [name, f, message] of cases) {
    it(name, () => expect(f).toThrow(message));
  }
});

describe('out tensors and memory', () => {
  it('writes into out and accumulates with beta', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const out = tensor([[1, 1], [1, 1]]);
    const c = ops.matmul(a, a, { out, beta: 1 });
    expect(c).toBe(out);
    expect(c.arraySync()).toEqual([[8, 11], [16, 23]]);
  });

  it('repeated ops with out tensors keep the heap flat', () => {
    const x = tensor(uniform(8 * 12 * 12 * 4, 1), [8, 12, 12, 4]);
    const w = tensor(uniform(3 * 3 * 4 * 8, 2), [3, 3, 4, 8]);
    const y = ops.conv2d(x, w);
    const p = ops.maxPool(y);
    const before = wasm.heap.byteLength;
    const inUse = wasm.heap.bytesInUse;
    for (let i = 0; i < 200; i++) {
      ops.conv2d(x, w, { out: y, activation: 'relu' });
      ops.maxPool(y, { out: p });
      ops.conv2dBackpropFilter(x, y, [3, 3, 4, 8]).dispose();
    }
    expect(wasm.heap.byteLength).toBe(before);
    expect(wasm.heap.bytesInUse).toBe(inUse);
  });

  it('an out-of-memory op throws a clear error and leaves the heap usable', () => {
    const small = createBackend({ flavor: 'simd', initialPages: 2, maxPages: 32 });
    on(small, () => {
      const a = tensor(new Float32Array(100));
      expect(() => ops.relu(tensor(new Float32Array(1 << 20)))).toThrow(/out of WebAssembly memory: requested 4\.0 MiB/);
      expect(Array.from(ops.relu(a).dataSync()).length).toBe(100);
    });
  });
});

describe('tidy', () => {
  it('frees intermediates and keeps what is returned', async () => {
    const { tidy } = await import('../../src/tensor.js');
    const x = tensor(uniform(1000, 9), [10, 100]);
    const inUse = wasm.heap.bytesInUse;
    const kept = tidy(() => {
      const a = ops.relu(x);
      const b = ops.add(a, x);
      return { result: ops.mul(b, b), note: 'n' };
    });
    expect(kept.result.isDisposed).toBe(false);
    expect(wasm.heap.bytesInUse).toBe(inUse + Math.ceil(4000 / 64) * 64);
    kept.result.dispose();
    expect(wasm.heap.bytesInUse).toBe(inUse);
  });
});
