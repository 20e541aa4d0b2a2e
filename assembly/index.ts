// The kernel module: every export is a kernel listed in src/backend/kernels.ts.

export { kernels_heap_base } from './heap';
export * from './gemm';
export * from './conv';
export * from './pool';
export * from './elementwise';
export * from './reduce';
export * from './optim';
