// Layers that change the spatial size of NHWC images: ZeroPadding2D and UpSampling2D.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { toPair, type Pair } from './convolutional.js';
import { Layer, type LayerArgs, type SymbolicShape } from './layer.js';

/** [[top, bottom], [left, right]] */
export type Padding2D = [[number, number], [number, number]];

export interface ZeroPadding2DArgs extends LayerArgs {
  /**
   * Rows and columns of zeros to add: one number for all four sides, [h, w] for symmetric
   * padding, or [[top, bottom], [left, right]]. Default 1.
   */
  padding?: number | [number, number] | Padding2D;
}

function toPadding(value: ZeroPadding2DArgs['padding']): Padding2D {
  const bad = () => fail('ZeroPadding2D', `expected padding as a number, [h, w] or [[top, bottom], [left, right]] of non-negative integers, got ${JSON.stringify(value)}`);
  const p = value ?? 1;
  let pads: Padding2D;
  if (typeof p === 'number') pads = [[p, p], [p, p]];
  else if (Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number')) {
    const [h, w] = p as [number, number];
    pads = [[h, h], [w, w]];
  } else if (Array.isArray(p) && p.length === 2 && p.every((v) => Array.isArray(v) && v.length === 2)) {
    pads = [[...(p[0] as [number, number])], [...(p[1] as [number, number])]];
  } else {
    return bad();
  }
  if (!pads.flat().every((v) => Number.isInteger(v) && v >= 0)) bad();
  return pads;
}

const plus = (d: number | null, n: number) => (d === null ? null : d + n);
const times = (d: number | null, n: number) => (d === null ? null : d * n);

/**
 * Adds rows and columns of zeros around NHWC images.
 * @example
 * ```ts
 * new ZeroPadding2D({ padding: 1 })                  // [N, 28, 28, C] -> [N, 30, 30, C]
 * new ZeroPadding2D({ padding: [[0, 1], [0, 1]] })   // bottom and right only
 * ```
 */
export class ZeroPadding2D extends Layer {
  readonly className = 'ZeroPadding2D';
  readonly padding: Padding2D;

  constructor(args: ZeroPadding2DArgs = {}) {
    super(args, 'zero_padding2d');
    this.padding = toPadding(args.padding);
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.expectInput(shapes, 4, 'batch, height, width, channels');
  }

  computeOutputShape([[n, h, w, c]]: SymbolicShape[]): SymbolicShape {
    const [[top, bottom], [left, right]] = this.padding;
    return [n, plus(h, top + bottom), plus(w, left + right), c];
  }

  call([x]: Tensor[]): Tensor {
    const [rows, cols] = this.padding;
    return ops.pad(x, [[0, 0], rows, cols, [0, 0]]);
  }

  override getConfig() {
    return { ...super.getConfig(), padding: this.padding };
  }
}

export interface UpSampling2DArgs extends LayerArgs {
  /** Repeats along height and width; default [2, 2]. */
  size?: Pair;
  /** Only 'nearest' is supported. */
  interpolation?: 'nearest';
}

/**
 * Nearest-neighbour upsampling of NHWC images: each pixel becomes a size[0] x size[1] block.
 * @example
 * ```ts
 * new UpSampling2D({ size: [2, 2] }) // [N, 7, 7, C] -> [N, 14, 14, C]
 * ```
 */
export class UpSampling2D extends Layer {
  readonly className = 'UpSampling2D';
  readonly size: [number, number];

  constructor(args: UpSampling2DArgs = {}) {
    super(args, 'up_sampling2d');
    this.size = toPair(args.size, 2, 'UpSampling2D size');
    if (args.interpolation !== undefined && args.interpolation !== 'nearest') {
      fail('UpSampling2D', `expected interpolation 'nearest' (the only one supported), got '${String(args.interpolation)}'`);
    }
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    this.expectInput(shapes, 4, 'batch, height, width, channels');
  }

  computeOutputShape([[n, h, w, c]]: SymbolicShape[]): SymbolicShape {
    return [n, times(h, this.size[0]), times(w, this.size[1]), c];
  }

  call([x]: Tensor[]): Tensor {
    return ops.upSampling2d(x, this.size);
  }

  override getConfig() {
    return { ...super.getConfig(), size: this.size, interpolation: 'nearest' };
  }
}
