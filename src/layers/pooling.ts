// Pooling layers over NHWC images.

import type { Padding } from '../backend/geometry.js';
import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { checkPadding, outputAxis, toPair, type Pair } from './convolutional.js';
import { Layer, type LayerArgs, type SymbolicShape } from './layer.js';

export interface Pooling2DArgs extends LayerArgs {
  /** Default [2, 2]. */
  poolSize?: Pair;
  /** Default: poolSize. */
  strides?: Pair;
  padding?: Padding;
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  constructor(args: Pooling2DArgs, defaultName: string) {
    super(args, defaultName);
    this.poolSize = toPair(args.poolSize, 2, `${defaultName} poolSize`);
    this.strides = args.strides === undefined ? this.poolSize : toPair(args.strides, 1, `${defaultName} strides`);
    this.padding = checkPadding(args.padding, defaultName);
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    const shape = this.expectInput(shapes, 4, 'batch, height, width, channels');
    const out = this.computeOutputShape([shape]);
    if (out[1] === 0 || out[2] === 0) {
      fail(this.className, `expected an input of at least ${this.poolSize.join('x')} pixels for layer '${this.name}', got [${shape.join(', ')}]`);
    }
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return [
      shape[0],
      outputAxis(shape[1], this.poolSize[0], this.strides[0], 1, this.padding),
      outputAxis(shape[2], this.poolSize[1], this.strides[1], 1, this.padding),
      shape[3],
    ];
  }

  override getConfig() {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** Max pooling, 2x2 by default. @example `new MaxPooling2D({ poolSize: [2, 2] })` */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'max_pooling2d');
  }
  call([x]: Tensor[]): Tensor {
    return ops.maxPool(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }
}

/** Average pooling; padding is not counted in the average. */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'average_pooling2d');
  }
  call([x]: Tensor[]): Tensor {
    return ops.avgPool(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
  }
}

abstract class GlobalPooling2D extends Layer {
  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.expectInput(shapes, 4, 'batch, height, width, channels');
  }
  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return [shape[0], shape[3]];
  }
}

/** Mean over height and width: [N, H, W, C] -> [N, C]. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  readonly className = 'GlobalAveragePooling2D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_average_pooling2d');
  }
  call([x]: Tensor[]): Tensor {
    const [n, h, w, c] = x.shape;
    return ops.mean(x.reshape([n, h * w, c]), { axis: 1 });
  }
}

/** Max over height and width: [N, H, W, C] -> [N, C]. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  readonly className = 'GlobalMaxPooling2D';
  constructor(args: LayerArgs = {}) {
    super(args, 'global_max_pooling2d');
  }
  call([x]: Tensor[]): Tensor {
    const [n, h, w, c] = x.shape;
    return ops.max(x.reshape([n, h * w, c]), { axis: 1 });
  }
}
