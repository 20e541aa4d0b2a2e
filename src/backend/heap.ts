// The kernel heap: one WebAssembly.Memory, and the allocator that hands out its bytes.
//
// TypeScript decides where every buffer lives; kernels only see pointers. The memory is
// created here and imported by the wasm module, so the same object can later become shared
// memory for multi-threaded kernels without changing the kernels.
//
// Layout:
//   [0, base)            the module's static data (and the null pointer 0, never handed out)
//   [base, top)          blocks, each ALIGN-aligned; free ones are kept in `freeList`
//   [top, byteLength)    untouched; memory grows when a request does not fit

import type { Ptr } from './kernels.js';

const PAGE = 65536;
/** Block alignment: a cache line, so SIMD loads of a fresh buffer never straddle one. */
export const ALIGN = 64;
/** wasm32 cannot address more than 4 GiB. */
export const MAX_PAGES = 65536;

interface Block { ptr: Ptr; bytes: number }

/** Thrown when a request cannot be met even after growing memory to its limit. */
export class OutOfMemoryError extends Error {
  constructor(requested: number, inUse: number, limit: number) {
    super(
      `kerasm: out of WebAssembly memory: requested ${formatBytes(requested)} with ` +
        `${formatBytes(inUse)} in use, but the heap cannot grow past ${formatBytes(limit)}`,
    );
    this.name = 'OutOfMemoryError';
  }
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  private readonly maxPages: number;
  private top: number;
  private readonly freeList: Block[] = []; // sorted by ptr, adjacent blocks merged
  private readonly sizes = new Map<Ptr, number>();
  private inUse = 0;
  private cachedBuffer: ArrayBuffer | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);

  /**
   * @param base first byte free for allocation (after the module's static data)
   * @param options.initialPages pages to start with; options.maxPages the growth limit
   */
  constructor(base: number, options: { initialPages?: number; maxPages?: number } = {}) {
    this.maxPages = Math.min(options.maxPages ?? MAX_PAGES, MAX_PAGES);
    const initial = Math.max(options.initialPages ?? 16, Math.ceil((base + ALIGN) / PAGE));
    this.memory = new WebAssembly.Memory({ initial, maximum: this.maxPages });
    this.top = alignUp(Math.max(base, ALIGN), ALIGN);
  }

  /** Bytes currently handed out. */
  get bytesInUse(): number {
    return this.inUse;
  }

  /** Current size of the memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A view of the whole heap as f32; refreshed after the memory grows. Index = ptr >> 2. */
  get f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  /** A view of the whole heap as i32. Index = ptr >> 2. */
  get i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }

  /** Returns an ALIGN-aligned block of at least `bytes` bytes (its contents are undefined). */
  alloc(bytes: number): Ptr {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`kerasm: Heap.alloc expected a byte count >= 0, got ${bytes}`);
    }
    const size = Math.max(ALIGN, alignUp(bytes, ALIGN));
    const ptr = this.takeFree(size) ?? this.takeTop(size, bytes);
    this.sizes.set(ptr, size);
    this.inUse += size;
    return ptr;
  }

  /** Returns a block to the heap. Freeing 0 does nothing; freeing twice throws. */
  free(ptr: Ptr): void {
    if (ptr === 0) return;
    const size = this.sizes.get(ptr);
    if (size === undefined) {
      throw new Error(`kerasm: Heap.free expected a live block, got pointer ${ptr}`);
    }
    this.sizes.delete(ptr);
    this.inUse -= size;
    this.insertFree({ ptr, bytes: size });
  }

  /** Copies `data` into the heap at `ptr`. */
  write(ptr: Ptr, data: Float32Array | Int32Array): void {
    new Uint8Array(this.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }

  /** A copy of `length` f32 values at `ptr`. */
  readF32(ptr: Ptr, length: number): Float32Array {
    return this.f32.slice(ptr >> 2, (ptr >> 2) + length);
  }

  private refresh(): void {
    if (this.memory.buffer !== this.cachedBuffer) this.remakeViews();
  }

  private remakeViews(): void {
    const buffer = this.memory.buffer;
    this.cachedBuffer = buffer;
    this.f32View = new Float32Array(buffer);
    this.i32View = new Int32Array(buffer);
  }

  private takeFree(size: number): Ptr | null {
    // First fit: blocks are reused in address order, which keeps the heap compact.
    for (let i = 0; i < this.freeList.length; i++) {
      const block = this.freeList[i];
      if (block.bytes < size) continue;
      const ptr = block.ptr;
      if (block.bytes === size) this.freeList.splice(i, 1);
      else {
        block.ptr += size;
        block.bytes -= size;
      }
      return ptr;
    }
    return null;
  }

  private takeTop(size: number, requested: number): Ptr {
    const end = this.top + size;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      const current = this.memory.buffer.byteLength / PAGE;
      // Grow geometrically so that many small requests do not grow page by page.
      const want = Math.min(this.maxPages - current, Math.max(pages, current >> 1));
      if (want < pages) throw new OutOfMemoryError(requested, this.inUse, this.maxPages * PAGE);
      try {
        this.memory.grow(want);
      } catch {
        try {
          this.memory.grow(pages);
        } catch {
          throw new OutOfMemoryError(requested, this.inUse, this.memory.buffer.byteLength);
        }
      }
      // The views are remade here, where the memory grows, so that the getters' check (kept
      // for memory grown elsewhere) does not fail in code that was optimized while it held:
      // that would deoptimize every function the getters are inlined into.
      this.remakeViews();
    }
    const ptr = this.top;
    this.top = end;
    return ptr;
  }

  private insertFree(block: Block): void {
    const list = this.freeList;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].ptr < block.ptr) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, block);
    // Merge with the next block, then with the previous one.
    if (lo + 1 < list.length && block.ptr + block.bytes === list[lo + 1].ptr) {
      block.bytes += list[lo + 1].bytes;
      list.splice(lo + 1, 1);
    }
    if (lo > 0 && list[lo - 1].ptr + list[lo - 1].bytes === block.ptr) {
      list[lo - 1].bytes += block.bytes;
      list.splice(lo, 1);
      lo--;
    }
    // A free block that ends at the top gives its bytes back to the unused tail.
    const last = list[list.length - 1];
    if (last && last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      list.pop();
    }
  }
}

export function alignUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
