// Embedding: integer ids to rows of a trainable [inputDim, outputDim] table.

import { fail } from '../ops/check.js';
import * as ops from '../ops/index.js';
import { formatShape, tensor, type Tensor } from '../tensor.js';
import { getInitializer, serializeInitializer, type InitializerLike } from './initializers.js';
import { Layer, formatSymbolicShape, type LayerArgs, type SymbolicShape, type Variable } from './layer.js';
import { getRegularizer, type RegularizerLike } from './regularizers.js';

export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: ids are in [0, inputDim). */
  inputDim: number;
  /** Length of each embedding vector. */
  outputDim: number;
  /** Default 'uniform': uniform in [-0.05, 0.05], as Keras. */
  embeddingsInitializer?: InitializerLike | 'uniform';
  embeddingsRegularizer?: RegularizerLike;
  /**
   * Treat id 0 as padding: the output then carries a mask (1 where the id is not 0) that
   * recurrent layers use to skip padded steps. Id 0 is then not a word: use inputDim =
   * vocabulary size + 1.
   */
  maskZero?: boolean;
}

/**
 * Turns integer ids of any shape [batch, ...] into vectors: the output has shape
 * [batch, ..., outputDim], row `id` of the `embeddings` table for each id. Ids may come as an
 * int32 tensor or as a float32 tensor, which is cast to integers as Keras does (by truncation).
 * An id outside [0, inputDim) is an error that names it.
 * @example
 * ```ts
 * const model = new Sequential([
 *   new Embedding({ inputDim: 1000, outputDim: 16, inputShape: [20] }), // 20 ids per sample
 *   new LSTM({ units: 16 }),
 *   new Dense({ units: 1, activation: 'sigmoid' }),
 * ]);
 * model.predict(tensor([[4, 8, 15, ...]], [1, 20], 'int32'));
 * ```
 */
export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  private readonly args: EmbeddingArgs;
  embeddings!: Variable;

  constructor(args: EmbeddingArgs) {
    super(args, 'embedding');
    for (const key of ['inputDim', 'outputDim'] as const) {
      if (!Number.isInteger(args[key]) || args[key] < 1) {
        fail('Embedding', `expected ${key} to be a positive integer, got ${args[key]}`);
      }
    }
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.maskZero = args.maskZero ?? false;
    this.args = args;
  }

  private initializer(): InitializerLike {
    const spec = this.args.embeddingsInitializer ?? 'uniform';
    return spec === 'uniform' ? 'randomUniform' : spec;
  }

  protected override checkInputShapes(shapes: SymbolicShape[]): void {
    if (shapes.length !== 1 || shapes[0].length < 1) {
      fail('Embedding', `expected one input of ids of rank >= 1 (batch first) for layer '${this.name}', got ${shapes.map(formatSymbolicShape).join(', ')}`);
    }
  }

  override build(): void {
    this.embeddings = this.addWeight('embeddings', {
      shape: [this.inputDim, this.outputDim], initializer: this.initializer(),
      regularizer: this.args.embeddingsRegularizer,
    });
  }

  computeOutputShape([shape]: SymbolicShape[]): SymbolicShape {
    return [...shape, this.outputDim];
  }

  call([x]: Tensor[]): Tensor {
    const values = x.dataSync();
    const ids = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const id = Math.trunc(values[i]);
      if (!(id >= 0 && id < this.inputDim)) {
        fail('Embedding', `expected ids in [0, ${this.inputDim - 1}] (inputDim ${this.inputDim}) for layer '${this.name}', got ${values[i]} at flat index ${i} of an input of shape ${formatShape(x.shape)}`);
      }
      ids[i] = id;
    }
    const indices = x.dtype === 'int32' ? x : tensor(ids, x.shape, 'int32');
    return ops.gather(this.embeddings.value, indices);
  }

  override computeMask([x]: Tensor[]): (Tensor | null)[] {
    if (!this.maskZero) return [null];
    const ids = x.dataSync();
    return [tensor(Float32Array.from(ids, (id) => (Math.trunc(id) !== 0 ? 1 : 0)), x.shape)];
  }

  override outputsMasked(): boolean[] {
    return [this.maskZero];
  }

  override getConfig() {
    return {
      ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, maskZero: this.maskZero,
      embeddingsInitializer: serializeInitializer(getInitializer(this.initializer())),
      embeddingsRegularizer: getRegularizer(this.args.embeddingsRegularizer)?.config() ?? null,
    };
  }
}
