// Every layer class. The typed table at the bottom maps saved class names to constructors
// (used by model loading); a layer missing from it cannot be loaded, and the test of the
// table fails.
export { Layer, Variable, SymbolicTensor, type LayerArgs, type CallContext, type SymbolicShape } from './layer.js';
export { Input, InputLayer, Dense, Flatten, Reshape, Dropout, ActivationLayer as Activation } from './core.js';
export { Conv2D, Conv1D, DepthwiseConv2D, SeparableConv2D } from './convolutional.js';
export { BatchNormalization } from './normalization.js';
export { Add, Multiply } from './merge.js';
export { MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D } from './pooling.js';
export * as initializers from './initializers.js';
export { l1, l2, l1l2, L1L2 } from './regularizers.js';
