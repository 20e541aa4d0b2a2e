// Layers that merge several inputs of the same shape.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Layer, formatSymbolicShape, type LayerArgs, type SymbolicShape } from './layer.js';

abstract class Merge extends Layer {
  protected abstract combine(a: Tensor, b: Tensor): Tensor;

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    if (shapes.length < 2) fail(this.className, `expected at least 2 inputs for layer '${this.name}', got ${shapes.length}`);
    const first = formatSymbolicShape(shapes[0].slice(1));
    for (const s of shapes) {
      if (formatSymbolicShape(s.slice(1)) !== first) {
        fail(this.className, `expected inputs of one shape for layer '${this.name}', got ${shapes.map(formatSymbolicShape).join(' and ')}`);
      }
    }
  }

  computeOutputShape(shapes: SymbolicShape[]): SymbolicShape {
    return shapes[0];
  }

  call(inputs: Tensor[]): Tensor {
    return inputs.slice(1).reduce((acc, x) => this.combine(acc, x), inputs[0]);
  }
}

/** Elementwise sum of its inputs. @example `new Add().apply([a, b])` */
export class Add extends Merge {
  readonly className = 'Add';
  constructor(args: LayerArgs = {}) {
    super(args, 'add');
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return ops.add(a, b);
  }
}

/** Elementwise product of its inputs. */
export class Multiply extends Merge {
  readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) {
    super(args, 'multiply');
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return ops.mul(a, b);
  }
}

/**
 * Joins its inputs along one axis (the last by default); every other axis must agree.
 * @example
 * ```ts
 * const a = Input({ shape: [4] });
 * const b = Input({ shape: [3] });
 * new Concatenate().apply([a, b]); // (None, 7)
 * ```
 */
export class Concatenate extends Layer {
  readonly className = 'Concatenate';
  readonly axis: number;

  constructor(args: LayerArgs & { axis?: number } = {}) {
    super(args, 'concatenate');
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) fail('Concatenate', `expected an integer axis, got ${args.axis}`);
  }

  /** The axis as a non-negative index into shapes of rank `rank`. */
  private resolve(rank: number): number {
    return this.axis < 0 ? this.axis + rank : this.axis;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    const got = () => shapes.map(formatSymbolicShape).join(' and ');
    if (shapes.length < 2) fail('Concatenate', `expected at least 2 inputs for layer '${this.name}', got ${shapes.length}`);
    const rank = shapes[0].length;
    const a = this.resolve(rank);
    if (a < 1 || a >= rank) {
      fail('Concatenate', `expected axis in [1, ${rank - 1}] or [${-(rank - 1)}, -1] (not the batch axis) for inputs of rank ${rank} in layer '${this.name}', got ${this.axis}`);
    }
    for (const s of shapes) {
      const agree = s.length === rank && s.every((d, k) => k === 0 || k === a || d === null || shapes[0][k] === null || d === shapes[0][k]);
      if (!agree) fail('Concatenate', `expected inputs that agree on every axis but ${a} for layer '${this.name}', got ${got()}`);
    }
  }

  computeOutputShape(shapes: SymbolicShape[]): SymbolicShape {
    const a = this.resolve(shapes[0].length);
    const out = shapes[0].slice();
    out[a] = shapes.some((s) => s[a] === null) ? null : shapes.reduce((n, s) => n + (s[a] as number), 0);
    return out;
  }

  call(inputs: Tensor[]): Tensor {
    return ops.concat(inputs, this.resolve(inputs[0].rank));
  }

  override getConfig() {
    return { ...super.getConfig(), axis: this.axis };
  }
}
