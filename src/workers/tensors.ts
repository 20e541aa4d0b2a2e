// Training data on its way to workers. A tensor lives in one thread's WebAssembly heap, so what
// crosses is its values: copied once into a SharedArrayBuffer that every worker reads (where
// shared memory is allowed), or else into one ArrayBuffer per worker, transferred rather than
// cloned. Either way the data crosses once per worker, never once per task.

import { Tensor, tensor, type DType } from '../tensor.js';
import type { Data } from '../training/fit.js';

export interface PackedTensor {
  shape: number[];
  dtype: DType;
  buffer: ArrayBuffer | SharedArrayBuffer;
}

/** Data as it crosses threads: one tensor, or a list (several inputs or outputs). */
export interface PackedData {
  list: boolean;
  tensors: PackedTensor[];
}

/**
 * Whether this thread may share memory with workers. Browsers allow SharedArrayBuffer only on
 * cross-origin isolated pages (COOP and COEP headers).
 */
export function canShareMemory(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return isolated !== false;
}

function toTensorList(data: Data, what: string): { list: boolean; tensors: Tensor[] } {
  if (data instanceof Tensor) return { list: false, tensors: [data] };
  if (Array.isArray(data) && data.length > 0 && data.every((d) => d instanceof Tensor)) return { list: true, tensors: data as Tensor[] };
  if (Array.isArray(data)) return { list: false, tensors: [tensor(data as number[])] };
  throw new Error(`kerasm.Tuner: expected ${what} as a Tensor, an array of Tensors or nested number arrays, got ${typeof data}`);
}

/** One copy of the values of `data`, in shared memory when `shared`. */
export function packData(data: Data, shared: boolean, what: string): PackedData {
  const { list, tensors } = toTensorList(data, what);
  return {
    list,
    tensors: tensors.map((t) => {
      const values = t.dataSync();
      const buffer = shared ? new SharedArrayBuffer(values.byteLength) : new ArrayBuffer(values.byteLength);
      new Uint8Array(buffer).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      return { shape: [...t.shape], dtype: t.dtype, buffer };
    }),
  };
}

/**
 * What to post to one worker: shared buffers as they are, others copied (the copy is then
 * transferred, so `packed` stays usable for the next worker).
 */
export function forOneWorker(packed: PackedData): { packed: PackedData; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const tensors = packed.tensors.map((t) => {
    if (!(t.buffer instanceof ArrayBuffer)) return t;
    const buffer = t.buffer.slice(0);
    transfer.push(buffer);
    return { ...t, buffer };
  });
  return { packed: { list: packed.list, tensors }, transfer };
}

/** Tensors in this thread's heap holding the packed values. */
export function unpackData(packed: PackedData): Data {
  const tensors = packed.tensors.map((t) =>
    tensor(t.dtype === 'int32' ? new Int32Array(t.buffer) : new Float32Array(t.buffer), t.shape, t.dtype));
  return packed.list ? tensors : tensors[0];
}

/** Whether every buffer of `packed` is shared memory. */
export function isShared(packed: PackedData): boolean {
  return packed.tensors.every((t) => typeof SharedArrayBuffer !== 'undefined' && t.buffer instanceof SharedArrayBuffer);
}
