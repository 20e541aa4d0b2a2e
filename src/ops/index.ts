// The `ops` namespace: tensor-level operations over the kernels, each checking its inputs'
// shapes before any pointer crosses into WebAssembly.
export { matmul, type MatmulOptions } from './matmul.js';
export {
  conv2d, conv2dBackpropInput, conv2dBackpropFilter, depthwiseConv2d,
  depthwiseConv2dBackpropInput, depthwiseConv2dBackpropFilter, type Conv2DOptions,
} from './conv.js';
export { maxPool, avgPool, maxPoolGrad, avgPoolGrad, type Pool2DOptions } from './pool.js';
export {
  relu, leakyRelu, elu, sigmoid, tanh, gelu, swish, exp, log, neg, abs, sqrt, square,
  reciprocal, softplus, add, sub, mul, div, maximum, minimum, squaredDifference, scaleShift,
  softmax, softmaxGrad, fill, zeros, ones,
} from './elementwise.js';
export {
  sum, mean, max, min, softmaxCrossEntropy, sparseSoftmaxCrossEntropy, globalNorm,
  clipByGlobalNorm, type ReduceOptions,
} from './reduce.js';
export { sgdUpdate, adamUpdate, rmspropUpdate, adagradUpdate } from './optim.js';
export {
  transpose, slice, split, pad, concat, stack, unstack, expandDims, squeeze, broadcastTo, tile,
  upSampling2d, gather, weightedGather, oneHot,
} from './movement.js';
export type { ActivationName } from './activations.js';
