// Every layer class. Saving and loading (src/io/serialization.ts) derives its table of class
// names from these exports, so a layer exported here without a save/load entry does not compile.
export {
  Layer, Variable, SymbolicTensor, type LayerArgs, type CallContext, type SymbolicShape, type ApplyOptions,
} from './layer.js';
export { Input, InputLayer, Dense, Flatten, Reshape, Dropout, ActivationLayer as Activation, Masking } from './core.js';
export { Conv2D, Conv1D, DepthwiseConv2D, SeparableConv2D } from './convolutional.js';
export { BatchNormalization, LayerNormalization } from './normalization.js';
export { Add, Average, Multiply, Concatenate } from './merge.js';
export { SimpleRNN, LSTM, GRU, Bidirectional } from './recurrent.js';
export { Embedding } from './embedding.js';
export { ZeroPadding2D, UpSampling2D } from './reshaping.js';
export {
  RandomTranslation, RandomRotation, RandomZoom, Normalization, type RandomTranslationArgs, type RandomRotationArgs,
  type RandomZoomArgs, type NormalizationArgs, type FillMode, type Interpolation,
} from './preprocessing.js';
export { MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D } from './pooling.js';
export * as initializers from './initializers.js';
export { l1, l2, l1l2, L1L2 } from './regularizers.js';
