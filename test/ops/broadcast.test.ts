// Binary ops broadcast as NumPy does: every pair of shapes that broadcast together, against a
// plain index-arithmetic reference, with the tape's gradients checked by finite differences.

import { describe, expect, it } from 'vitest';
import { ops, tensor, type Tensor } from '../../src/index.js';
import { broadcastShapes } from '../../src/ops/elementwise.js';
import { withTape } from '../../src/autodiff/tape.js';
import { expectTapeMatchesDifferences } from '../helpers/gradients.js';

/** Deterministic, non-round values (away from 0 so that div is well behaved). */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 + ((i * 37 + seed * 11) % 23) / 10);
}

/** The reference: out[i] = f(a[index of i in a], b[index of i in b]), shapes aligned on the right. */
function reference(f: (x: number, y: number) => number, a: Tensor, b: Tensor): { shape: number[]; data: number[] } {
  const rank = Math.max(a.rank, b.rank);
  const pad = (s: readonly number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, k) => Math.max(d, sb[k]));
  const av = a.dataSync();
  const bv = b.dataSync();
  const size = shape.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let i = 0; i < size; i++) {
    let rest = i;
    let ia = 0;
    let ib = 0;
    let strideA = 1;
    let strideB = 1;
    for (let k = rank - 1; k >= 0; k--) {
      const index = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
      ia += (sa[k] === 1 ? 0 : index) * strideA;
      ib += (sb[k] === 1 ? 0 : index) * strideB;
      strideA *= sa[k];
      strideB *= sb[k];
    }
    data.push(Math.fround(f(av[ia], bv[ib])));
  }
  return { shape, data };
}

const PAIRS: [number[], number[]][] = [
  [[2, 3], [2, 3]], // same shapes
  [[2, 3], [3]], // a bias
  [[2, 3], []], // a scalar
  [[3], [2, 3]], // a is the smaller one
  [[2, 1, 3], [4, 1]], // both expand
  [[2, 3, 1], [2, 1, 4]],
  [[5, 1], [1, 6]],
  [[1], [2, 3]],
  [[4, 2, 3], [4, 1, 3]], // a middle axis
  [[3, 1], [3, 5]], // a [rows, 1] column against its rows (a step mask)
];
const OPS = {
  add: [ops.add, (x: number, y: number) => x + y],
  sub: [ops.sub, (x: number, y: number) => x - y],
  mul: [ops.mul, (x: number, y: number) => x * y],
  div: [ops.div, (x: number, y: number) => x / y],
  maximum: [ops.maximum, Math.max],
} as const;

describe('binary ops broadcast as NumPy does', () => {
  for (const [sa, sb] of PAIRS) {
    for (const [name, [op, f]] of Object.entries(OPS)) {
      it(`${name} [${sa}] with [${sb}]`, () => {
        const a = tensor(values(sa.reduce((p, d) => p * d, 1), 1), sa);
        const b = tensor(values(sb.reduce((p, d) => p * d, 1), 2), sb);
        const out = op(a, b);
        const want = reference(f, a, b);
        expect(out.shape).toEqual(want.shape);
        const got = Array.from(out.dataSync());
        got.forEach((v, i) => expect(v, `element ${i}`).toBeCloseTo(want.data[i], 5));
      });
    }
    it(`gradients of mul and div [${sa}] with [${sb}] match finite differences`, () => {
      const a = tensor(values(sa.reduce((p, d) => p * d, 1), 3), sa);
      const b = tensor(values(sb.reduce((p, d) => p * d, 1), 4), sb);
      // A weighted sum, so that every output element has its own weight in the gradient.
      const shape = broadcastShapes('test', sa, sb);
      const w = tensor(values(shape.reduce((p, d) => p * d, 1), 5), shape);
      for (const op of [ops.mul, ops.div, ops.sub]) {
        expectTapeMatchesDifferences(`${op.name} [${sa}] [${sb}]`, () => ops.sum(ops.mul(op(a, b), w)), [a, b]);
      }
    });
  }

  it('add and mul take a bias or scalar given first in one kernel pass, without expanding it', () => {
    const x = tensor(values(6, 1), [2, 3]);
    for (const [op, first] of [[ops.add, tensor([1, 2, 3])], [ops.mul, tensor([2])], [ops.sub, tensor([1, 2, 3])]] as const) {
      const { tape } = withTape([x, first], () => op(first, x));
      const recorded = tape.entries.map((e) => e.op);
      expect(recorded, op.name).toEqual(op === ops.sub ? ['broadcastTo', 'binary'] : ['binary']);
    }
  });

  it('names both shapes when they do not broadcast', () => {
    expect(() => ops.mul(tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(4), [2, 2]))).toThrow(
      'kerasm.mul: expected shapes that broadcast together (aligned on the right, each pair of axes equal or one of them 1), got a [2, 3] and b [2, 2]');
  });

  it('checks out against the broadcast shape', () => {
    const out = tensor(new Float32Array(6), [2, 3]);
    ops.add(tensor([[1], [2]]), tensor([10, 20, 30]), { out });
    expect(out.arraySync()).toEqual([[11, 21, 31], [12, 22, 32]]);
    expect(() => ops.add(tensor([[1], [2]]), tensor([10, 20, 30]), { out: tensor([0, 0]) })).toThrow('kerasm.add: expected out of shape [2, 3], got [2]');
  });
});
