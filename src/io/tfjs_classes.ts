// Which of kerasm's layer classes TensorFlow.js (tfjs-layers 4.22) can read back. kerasm's own
// format is the tfjs Layers format, so a saved model loads in tfjs unless it holds one of the
// others (preprocessing layers tfjs does not have).
// see: tfjs-layers/src/exports_layers.ts

import type { Layer } from '../layers/layer.js';
import type { LayerClassName } from './serialization.js';

/** For every class kerasm saves: whether tf.loadLayersModel reads it. */
export const TFJS_READS: Record<LayerClassName | 'InputLayer', boolean> = {
  InputLayer: true, Dense: true, Conv1D: true, Conv2D: true, DepthwiseConv2D: true, SeparableConv2D: true,
  MaxPooling2D: true, AveragePooling2D: true, GlobalAveragePooling2D: true, GlobalMaxPooling2D: true,
  Flatten: true, Reshape: true, Dropout: true, Activation: true, BatchNormalization: true,
  LayerNormalization: true, Embedding: true, Masking: true, SimpleRNN: true, LSTM: true, GRU: true,
  Bidirectional: true, Add: true, Average: true, Multiply: true, Concatenate: true, ZeroPadding2D: true, UpSampling2D: true,
  RandomTranslation: false, RandomRotation: false, RandomZoom: false, Normalization: false,
};

/** The layers of `layers` that TensorFlow.js cannot load, as 'name (Class)'. */
export function layersTfjsCannotRead(layers: readonly Layer[]): string[] {
  return layers
    .filter((l) => !(TFJS_READS as Record<string, boolean>)[l.className])
    .map((l) => `${l.name} (${l.className})`);
}
