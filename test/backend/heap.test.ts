import { describe, expect, it } from 'vitest';
import { ALIGN, Heap, OutOfMemoryError } from '../../src/backend/heap.js';

describe('Heap', () => {
  it('hands out aligned, disjoint blocks and never pointer 0', () => {
    const heap = new Heap(ALIGN, { initialPages: 1 });
    const blocks = [1, 4, 63, 64, 65, 1000, 70_000].map((bytes) => ({ bytes, ptr: heap.alloc(bytes) }));
    for (const b of blocks) {
      expect(b.ptr).toBeGreaterThan(0);
      expect(b.ptr % ALIGN).toBe(0);
    }
    const sorted = [...blocks].sort((a, b) => a.ptr - b.ptr);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i].ptr).toBeGreaterThanOrEqual(sorted[i - 1].ptr + sorted[i - 1].bytes);
    }
    expect(heap.byteLength).toBeGreaterThanOrEqual(sorted.at(-1)!.ptr + 70_000);
  });

  it('reuses freed blocks so alloc/free cycles keep the memory flat', () => {
    const heap = new Heap(ALIGN, { initialPages: 1 });
    for (let i = 0; i < 10; i++) heap.free(heap.alloc(100_000));
    const size = heap.byteLength;
    for (let i = 0; i < 1000; i++) {
      const a = heap.alloc(1000 + (i % 7) * 4096);
      const b = heap.alloc(30_000);
      heap.free(a);
      heap.free(b);
    }
    expect(heap.byteLength).toBe(size);
    expect(heap.bytesInUse).toBe(0);
  });

  it('merges neighbouring free blocks', () => {
    const heap = new Heap(ALIGN, { initialPages: 4 });
    const keep = heap.alloc(64);
    const a = heap.alloc(1024);
    const b = heap.alloc(1024);
    const c = heap.alloc(64);
    heap.free(a);
    heap.free(b);
    // a and b together now hold a 2048-byte block at a's address.
    expect(heap.alloc(2048)).toBe(a);
    heap.free(keep);
    heap.free(c);
  });

  it('keeps data across growth and refreshes its views', () => {
    const heap = new Heap(ALIGN, { initialPages: 1 });
    const p = heap.alloc(16);
    heap.write(p, new Float32Array([1, 2, 3, 4]));
    heap.alloc(4 * 65536);
    expect(Array.from(heap.readF32(p, 4))).toEqual([1, 2, 3, 4]);
    expect(heap.f32.length * 4).toBe(heap.byteLength);
  });

  it('throws a clear OutOfMemoryError past its limit and stays usable', () => {
    const heap = new Heap(ALIGN, { initialPages: 1, maxPages: 4 });
    const p = heap.alloc(1000);
    expect(() => heap.alloc(10 * 65536)).toThrow(OutOfMemoryError);
    expect(() => heap.alloc(10 * 65536)).toThrow(/requested 640\.0 KiB .* cannot grow past 256\.0 KiB/);
    heap.free(p);
    expect(heap.alloc(1000)).toBe(p);
  });

  it('rejects double frees and bad sizes', () => {
    const heap = new Heap(ALIGN);
    const p = heap.alloc(8);
    heap.free(p);
    expect(() => heap.free(p)).toThrow(/expected a live block, got pointer/);
    expect(() => heap.alloc(-1)).toThrow(/expected a byte count >= 0, got -1/);
  });
});
