// A bump arena for everything a call allocates: the host's input (through cabi_realloc)
// and the lists the call returns. The post-return function of every export resets it, so
// memory use is bounded by the largest single call and nothing is ever freed one by one.

// Room past every allocation, so 16-byte SIMD loads near the end of an input stay inside
// memory (their extra lanes are never used).
const SIMD_SLACK: usize = 16;

let top: usize = 0;

function base(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** Allocates `size` bytes aligned to `align` (a power of two). */
export function alloc(size: usize, align: usize): usize {
  if (top == 0) top = base();
  const ptr = (top + align - 1) & ~(align - 1);
  const end = ptr + size + SIMD_SLACK;
  const have = (<usize>memory.size()) << 16;
  if (end > have) {
    const pages = <i32>((end - have + 0xffff) >> 16);
    // Out of memory is the host's doing (inputs beyond its own limits): trap, and the
    // host's guard re-instantiates the core.
    if (memory.grow(pages) < 0) unreachable();
  }
  top = ptr + size;
  return ptr;
}

/** Forgets every allocation: called by each export's post-return function. */
export function reset(): void {
  top = base();
}

/** The canonical ABI allocator (`cabi_realloc`). */
export function realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  const ptr = alloc(newSize, align);
  if (oldPtr != 0) memory.copy(ptr, oldPtr, oldSize < newSize ? oldSize : newSize);
  return ptr;
}
