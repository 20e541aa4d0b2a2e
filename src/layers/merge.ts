// Layers that merge several inputs of the same shape.
//
// Masks (1 keep, 0 skip; shaped as the input without its last axis) merge as in tf.keras and
// TensorFlow.js: a merge over the features keeps a position only where every masked input
// keeps it, and an input without a mask counts as all ones. Keras 3 ORs them instead (and its
// Add, Multiply drop them when any input has none); the AND never lets a padded step of one
// input reach an RNN.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Layer, checkMaskShape, formatSymbolicShape, type LayerArgs, type SymbolicShape } from './layer.js';

/** Throws unless each given mask has its input's shape without the last axis. */
function checkMasks(layer: Layer, inputs: readonly Tensor[], masks: readonly (Tensor | null)[]): void {
  masks.forEach((m, i) => m && checkMaskShape(layer, inputs[i], m, i));
}

/** The AND of the masks that are present (a product of 0/1 tensors); null if none is. */
function allOf(masks: readonly (Tensor | null)[]): Tensor | null {
  const present = masks.filter((m): m is Tensor => m !== null);
  if (present.length === 0) return null;
  return present.slice(1).reduce((acc, m) => ops.mul(acc, m), present[0]);
}

abstract class Merge extends Layer {
  override readonly supportsMasking = true;
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

  override computeMask(inputs: Tensor[], masks: readonly (Tensor | null)[]): (Tensor | null)[] {
    const given = inputs.map((_, i) => masks[i] ?? null);
    checkMasks(this, inputs, given);
    return [allOf(given)];
  }

  override outputsMasked(inputsMasked: readonly boolean[]): boolean[] {
    return [inputsMasked.some(Boolean)];
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
 * Elementwise mean of its inputs (Keras's Average), as in a model that averages the predictions
 * of several branches.
 * @example `new Average().apply([softmaxA, softmaxB])`
 */
export class Average extends Merge {
  readonly className = 'Average';
  constructor(args: LayerArgs = {}) {
    super(args, 'average');
  }
  protected combine(a: Tensor, b: Tensor): Tensor {
    return ops.add(a, b);
  }
  override call(inputs: Tensor[]): Tensor {
    return ops.scaleShift(super.call(inputs), 1 / inputs.length);
  }
}

/**
 * Joins its inputs along one axis (the last by default); every other axis must agree.
 * Masks: joined along the features (last axis), a position is kept where every masked input
 * keeps it; joined along another axis (the steps of [batch, steps, features]), the masks are
 * joined along it too, with ones for an input that has none.
 * @example
 * ```ts
 * const a = Input({ shape: [4] });
 * const b = Input({ shape: [3] });
 * new Concatenate().apply([a, b]); // (None, 7)
 * ```
 */
export class Concatenate extends Layer {
  readonly className = 'Concatenate';
  override readonly supportsMasking = true;
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

  override computeMask(inputs: Tensor[], masks: readonly (Tensor | null)[]): (Tensor | null)[] {
    const given = inputs.map((_, i) => masks[i] ?? null);
    if (given.every((m) => m === null)) return [null];
    checkMasks(this, inputs, given);
    const rank = inputs[0].rank;
    const a = this.resolve(rank);
    // The masks lack the last axis; every other axis of theirs lines up with the inputs'.
    if (a === rank - 1) return [allOf(given)];
    return [ops.concat(given.map((m, i) => m ?? ops.ones(inputs[i].shape.slice(0, -1))), a)];
  }

  override outputsMasked(inputsMasked: readonly boolean[]): boolean[] {
    return [inputsMasked.some(Boolean)];
  }

  override getConfig() {
    return { ...super.getConfig(), axis: this.axis };
  }
}
