// Numeric codes shared by the AssemblyScript kernels and the TypeScript front end.
//
// This file is compiled twice: by asc (imported from assembly/) and by tsc. It must stay
// inside the common subset of both languages: plain `export const NAME = <integer>;` lines.
// A code is a number that crosses the WebAssembly boundary, so changing one is an ABI change.

// Unary elementwise ops (f32_unary, f32_unary_backward). Also the activation codes of the
// fused GEMM/conv epilogues, where only ACT_LINEAR..ACT_SWISH are meaningful.
export const ACT_LINEAR = 0; // y = x
export const ACT_RELU = 1; // y = max(x, 0)
export const ACT_LEAKY_RELU = 2; // y = x > 0 ? x : alpha * x
export const ACT_ELU = 3; // y = x > 0 ? x : alpha * (exp(x) - 1)
export const ACT_SIGMOID = 4; // y = 1 / (1 + exp(-x))
export const ACT_TANH = 5; // y = tanh(x)
export const ACT_GELU = 6; // y = x * Phi(x), the exact (erf) form, as Keras' default
export const ACT_SWISH = 7; // y = x * sigmoid(x)
export const UNARY_EXP = 8;
export const UNARY_LOG = 9;
export const UNARY_NEG = 10;
export const UNARY_ABS = 11;
export const UNARY_SQRT = 12;
export const UNARY_SQUARE = 13;
export const UNARY_RECIPROCAL = 14;
export const UNARY_SOFTPLUS = 15; // log(1 + exp(x)), computed without overflow
export const UNARY_COUNT = 16;

// Binary elementwise ops (f32_binary, f32_binary_backward).
export const BINARY_ADD = 0;
export const BINARY_SUB = 1;
export const BINARY_MUL = 2;
export const BINARY_DIV = 3;
export const BINARY_MAX = 4; // ties: the gradient goes to a
export const BINARY_MIN = 5; // ties: the gradient goes to a
export const BINARY_SQUARED_DIFFERENCE = 6; // (a - b)^2
export const BINARY_COUNT = 7;

// Reductions over the middle axis of a [outer, axis, inner] view (f32_reduce, f32_reduce_backward).
export const REDUCE_SUM = 0;
export const REDUCE_MEAN = 1;
export const REDUCE_MAX = 2; // ties: the gradient goes to the first maximum
export const REDUCE_MIN = 3; // ties: the gradient goes to the first minimum
export const REDUCE_COUNT = 4;
