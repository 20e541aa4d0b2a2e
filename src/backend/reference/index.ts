// The reference kernels: obvious loops over the heap, accumulating in float64. Each family
// lives in its own file, mirroring assembly/. The spread below is typed as Kernels, so a
// family that forgets a kernel does not compile.

import type { Heap } from '../heap.js';
import type { Kernels } from '../kernels.js';
import { convReference } from './conv.js';
import { elementwiseReference } from './elementwise.js';
import { gemmReference } from './gemm.js';
import { optimReference } from './optim.js';
import { poolReference } from './pool.js';
import { reduceReference } from './reduce.js';

export function referenceKernels(heap: Heap): Kernels {
  return {
    ...gemmReference(heap),
    ...convReference(heap),
    ...poolReference(heap),
    ...elementwiseReference(heap),
    ...reduceReference(heap),
    ...optimReference(heap),
  };
}
