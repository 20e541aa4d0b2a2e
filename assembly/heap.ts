// The module's static data (constants, lookup tables) ends here; TypeScript allocates the rest.
export function kernels_heap_base(): usize {
  return __heap_base;
}
