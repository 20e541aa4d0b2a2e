// kerasm: Keras-style deep learning for TypeScript, computed by WebAssembly SIMD kernels.

export { init, getBackend, setBackend, createBackend, createBackendAsync, createReferenceBackend } from './backend/backend.js';
export type { Backend, BackendFlavor, BackendOptions } from './backend/backend.js';
export { OutOfMemoryError } from './backend/heap.js';
export { Tensor, tensor, type DType, type Shape } from './tensor.js';
export { zeros, ones, fill } from './ops/elementwise.js';
export * as ops from './ops/index.js';
