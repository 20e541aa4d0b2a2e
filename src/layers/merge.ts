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
